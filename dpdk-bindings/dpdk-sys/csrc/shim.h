/*
 * Hand-written shim for what bindgen cannot see: macros that expand to
 * thread-local lvalues or to expressions (rte_errno, rte_pktmbuf_mtod) and
 * constants built with function-like macros (RTE_BIT64). Everything here is
 * prefixed dpdk_shim_ and defined in shim.c.
 */
#ifndef DPDK_SYS_SHIM_H
#define DPDK_SYS_SHIM_H

#include <stdint.h>

struct rte_mbuf;

/* The calling thread's rte_errno (a per-lcore TLS variable behind a macro). */
int dpdk_shim_errno(void);
/* Sets the calling thread's rte_errno. */
void dpdk_shim_set_errno(int value);

/* rte_pktmbuf_mtod(m, void *): start of the data in the first segment. */
void *dpdk_shim_pktmbuf_mtod(struct rte_mbuf *m);

/* Size of struct rte_mbuf as the C compiler sees it (checked against bindgen's). */
uint32_t dpdk_shim_sizeof_mbuf(void);

/* Name buffer sizes (NUL included) defined with sizeof() in the headers. */
extern const uint32_t dpdk_shim_MEMPOOL_NAMESIZE;
extern const uint32_t dpdk_shim_RING_NAMESIZE;

/* LCORE_ID_ANY and the RSS hash-field bits of rte_ethdev.h (RTE_BIT64 macros). */
extern const uint32_t dpdk_shim_LCORE_ID_ANY;
extern const uint64_t dpdk_shim_ETH_RSS_IPV4;
extern const uint64_t dpdk_shim_ETH_RSS_FRAG_IPV4;
extern const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV4_TCP;
extern const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV4_UDP;
extern const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV4_OTHER;
extern const uint64_t dpdk_shim_ETH_RSS_IPV6;
extern const uint64_t dpdk_shim_ETH_RSS_FRAG_IPV6;
extern const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV6_TCP;
extern const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV6_UDP;
extern const uint64_t dpdk_shim_ETH_RSS_NONFRAG_IPV6_OTHER;
extern const uint64_t dpdk_shim_ETH_RSS_IPV6_EX;
extern const uint64_t dpdk_shim_ETH_RSS_IPV6_TCP_EX;
extern const uint64_t dpdk_shim_ETH_RSS_IP;
extern const uint64_t dpdk_shim_ETH_RSS_TCP;
extern const uint64_t dpdk_shim_ETH_RSS_UDP;

#endif
