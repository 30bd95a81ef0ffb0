//! The generated wrappers and the shim link and agree with the C compiler.
//! None of this needs the EAL.

use dpdk_sys as sys;

#[test]
fn version_is_22_11() {
    // SAFETY: rte_version returns a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(sys::rte_version()) }
        .to_str()
        .unwrap()
        .to_owned();
    assert!(v.starts_with("DPDK 22.11"), "{v}");
}

#[test]
fn mbuf_layout_matches_the_c_compiler() {
    // SAFETY: no preconditions.
    let c_size = unsafe { sys::dpdk_shim_sizeof_mbuf() } as usize;
    assert_eq!(c_size, std::mem::size_of::<sys::rte_mbuf>());
    assert_eq!(
        std::mem::align_of::<sys::rte_mbuf>(),
        sys::RTE_CACHE_LINE_SIZE as usize
    );
}

#[test]
fn rte_errno_shim_is_per_thread() {
    // SAFETY: the shim reads/writes this thread's rte_errno.
    unsafe {
        sys::dpdk_shim_set_errno(42);
        assert_eq!(sys::dpdk_shim_errno(), 42);
        let other = std::thread::spawn(|| sys::dpdk_shim_errno())
            .join()
            .unwrap();
        assert_eq!(other, 0);
        sys::dpdk_shim_set_errno(0);
    }
}

#[test]
fn static_inline_wrappers_link_and_run() {
    // SAFETY: rte_lcore_id reads a thread-local; rte_is_power_of_2 and
    // rte_align32pow2 are pure.
    unsafe {
        assert_eq!(sys::rte_lcore_id(), sys::dpdk_shim_LCORE_ID_ANY);
        assert_eq!(sys::rte_is_power_of_2(64), 1);
        assert_eq!(sys::rte_align32pow2(1000), 1024);
    }
}

#[test]
fn shim_constants_are_the_header_values() {
    // SAFETY: reading immutable C constants.
    unsafe {
        assert_eq!(sys::dpdk_shim_LCORE_ID_ANY, u32::MAX);
        assert_eq!(sys::dpdk_shim_ETH_RSS_IPV4, 1 << 2);
        assert_eq!(sys::dpdk_shim_ETH_RSS_NONFRAG_IPV4_TCP, 1 << 4);
        assert_ne!(sys::dpdk_shim_ETH_RSS_IP & sys::dpdk_shim_ETH_RSS_IPV6, 0);
        assert_ne!(
            sys::dpdk_shim_ETH_RSS_TCP & sys::dpdk_shim_ETH_RSS_NONFRAG_IPV6_TCP,
            0
        );
        assert_eq!(sys::dpdk_shim_MEMPOOL_NAMESIZE, 26);
        assert_eq!(sys::dpdk_shim_RING_NAMESIZE, 29);
    }
    assert_eq!(
        sys::RTE_EAL_PMD_PATH,
        b"/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0\0"
    );
}

#[test]
fn rss_bits_for_ip_tcp_udp_hashing() {
    // SAFETY: reading immutable C constants.
    let (ip, tcp, udp) = unsafe {
        (
            sys::dpdk_shim_ETH_RSS_IP,
            sys::dpdk_shim_ETH_RSS_TCP,
            sys::dpdk_shim_ETH_RSS_UDP,
        )
    };
    assert_eq!(ip & tcp, 0);
    assert_eq!(tcp & udp, 0);
}
