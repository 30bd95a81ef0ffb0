//! Raw bindings to the system DPDK 22.11, generated at build time.
//!
//! Nothing here is safe to call without reading the DPDK documentation of the
//! function; the safe layer is the `dpdk` crate next to this one.
//!
//! # How the build works
//!
//! `build.rs` does five things:
//!
//! 1. **Find DPDK** with pkg-config (`libdpdk`), pinned to `>= 22.11, < 22.12`.
//!    If it is missing, the build stops with "install libdpdk-dev".
//! 2. **Take every token** of `pkg-config --cflags libdpdk`. On Debian bookworm the
//!    headers are split over `/usr/include/dpdk` and
//!    `/usr/include/x86_64-linux-gnu/dpdk`, and the flags carry
//!    `-include rte_config.h` and `-march=corei7`; without them `rte_memcpy.h`
//!    does not compile. The same tokens go to bindgen (clang) and to `cc`.
//! 3. **Generate** `bindings.rs` with bindgen from `csrc/wrapper.h`: functions
//!    and types matching `rte_.*`, variables matching `RTE_.*` (plus `RING_F_*`,
//!    `MEMPOOL_F_*`, `SOCKET_ID_ANY`), with C enums as plain constants
//!    (`RTE_ETH_MQ_RX_RSS`, `RTE_FIB_DIR24_8`, ...). `rte_arp_hdr`,
//!    `rte_arp_ipv4`, `rte_l2tpv2_combined_msg_hdr` and `rte_gtp_psc_generic_hdr`
//!    are opaque: they are packed *and* aligned, which Rust cannot express.
//!    `ALLOW_EXPERIMENTAL_API` is defined (rte_fib, rte_telemetry data helpers
//!    and some mbuf helpers are experimental in 22.11).
//! 4. **Wrap the static-inline functions.** DPDK's fast path (`rte_eth_rx_burst`,
//!    `rte_eth_tx_burst`, `rte_pktmbuf_alloc`, `rte_pktmbuf_free`, `rte_lcore_id`,
//!    `rte_rcu_qsbr_quiescent`, `rte_ring_*_burst`, `rte_lpm_lookup`, ...) is
//!    `static inline` and has no symbol in any library. bindgen's
//!    `wrap_static_fns` writes `static_fns.c` with one exported wrapper per such
//!    function (`<name>__extern`) and links the Rust declaration to it; `cc`
//!    compiles it together with `csrc/shim.c`.
//! 5. **Link the shared libraries** named by `pkg-config --libs libdpdk`
//!    (`-lrte_ethdev -lrte_mbuf ...`), never the static archives.
//!
//! The shim (`csrc/shim.h`) covers what bindgen cannot see: [`dpdk_shim_errno`]
//! for the thread-local `rte_errno` macro, [`dpdk_shim_pktmbuf_mtod`] for
//! `rte_pktmbuf_mtod`, `LCORE_ID_ANY` and the `RTE_ETH_RSS_*` bits (built with the
//! function-like `RTE_BIT64`).
//!
//! # Poll-mode drivers
//!
//! Because the shared `librte_eal.so` is linked, Debian's EAL loads every driver
//! in its plugin directory `/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0`
//! (`RTE_EAL_PMD_PATH`, exported here as [`RTE_EAL_PMD_PATH`]) during
//! `rte_eal_init`; nothing needs to be linked for `--vdev net_ring0`,
//! `net_null0`, `net_pcap0,...` or `net_af_packet0,...` to work (checked by the
//! `dpdk` crate's tests). On a DPDK built without a default plugin directory,
//! pass `-d <dir>` to the EAL explicitly.
//!
//! # Cost of the wrappers
//!
//! A wrapped static-inline function costs one direct call more than in C, and
//! (cross-language) LTO does not inline across it. For burst functions that is
//! negligible next to the work they do; the `dpdk` crate reads trivial `rte_mbuf`
//! fields (data offset, lengths) directly from the struct instead.

#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code
)]
#![allow(clippy::all)]
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
