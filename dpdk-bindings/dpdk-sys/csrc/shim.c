/* See shim.h. Compiled with every token of `pkg-config --cflags libdpdk`. */
#include "wrapper.h"

int dpdk_shim_errno(void)
{
	return rte_errno;
}

void dpdk_shim_set_errno(int value)
{
	rte_errno = value;
}

void *dpdk_shim_pktmbuf_mtod(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, void *);
}

uint32_t dpdk_shim_sizeof_mbuf(void)
{
	return (uint32_t)sizeof(struct rte_mbuf);
}

const uint32_t dpdk_shim_MEMPOOL_NAMESIZE = RTE_MEMPOOL_NAMESIZE;
const uint32_t dpdk_shim_RING_NAMESIZE = RTE_RING_NAMESIZE;
const uint32_t dpdk_shim_LCORE_ID_ANY = LCORE_ID_ANY;
const uint64_t dpdk_shim_ETH_RSS_IPV4 = RTE_ETH_RSS_IPV4;
const uint64_t dpdk_shim_ETH_RSS_FRAG_IPV4 = RTE_ETH_RSS_FRAG_IPV4;
const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV4_TCP = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV4_UDP = RTE_ETH_RSS_NONFRAG_IPV4_UDP;
const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV4_OTHER = RTE_ETH_RSS_NONFRAG_IPV4_OTHER;
const uint64_t dpdk_shim_ETH_RSS_IPV6 = RTE_ETH_RSS_IPV6;
const uint64_t dpdk_shim_ETH_RSS_FRAG_IPV6 = RTE_ETH_RSS_FRAG_IPV6;
const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV6_TCP = RTE_ETH_RSS_NONFRAG_IPV6_TCP;
const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV6_UDP = RTE_ETH_RSS_NONFRAG_IPV6_UDP;
const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV6_OTHER = RTE_ETH_RSS_NONFRAG_IPV6_OTHER;
const uint64_t dpdk_shim_ETH_RSS_IPV6_EX = RTE_ETH_RSS_IPV6_EX;
const uint64_t dpdk_shim_ETH_RSS_IPV6_TCP_EX = RTE_ETH_RSS_IPV6_TCP_EX;
const uint64_t dpdk_shim_ETH_RSS_IP = RTE_ETH_RSS_IP;
const uint64_t dpdk_shim_ETH_RSS_TCP = RTE_ETH_RSS_TCP;
const uint64_t dpdk_shim_ETH_RSS_UDP = RTE_ETH_RSS_UDP;
