//! Scale: a 1M-prefix IPv4 plus 200k-prefix IPv6 config is validated and compiled.
//! The time is reported by `cargo bench -p policy --bench compile`, never asserted here.

use policy::{load_str, synth, Decision, Direction};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[test]
fn one_million_ipv4_and_200k_ipv6_prefixes_compile() {
    let yaml = synth::big_config_yaml(1_000_000, 200_000, 1000);
    let loaded = load_str("big.yaml", yaml.as_bytes()).unwrap_or_else(|e| {
        panic!(
            "rejected: {}",
            e.to_string().lines().take(5).collect::<Vec<_>>().join("\n")
        )
    });
    let t = &loaded.tables;
    let s = t.summary();
    let v4: usize = s.pools.iter().map(|p| p.prefixes.ipv4).sum();
    let v6: usize = s.pools.iter().map(|p| p.prefixes.ipv6).sum();
    assert_eq!((v4, v6, s.pools.len()), (1_000_000, 200_000, 1000));
    // Prefix k of each family went to pool k % 1000 (IPv6 after the IPv4 ones).
    for k in [0u32, 1, 999, 123_456, 999_999] {
        let a = 0x6440_0000u32 + k * 4 + 3;
        assert_eq!(
            t.lookup_src_v4(a),
            Some((k % 1000) as u16),
            "{}",
            Ipv4Addr::from(a)
        );
    }
    assert_eq!(t.lookup_src_v4(0x6440_0000 + 1_000_000 * 4), None);
    for k in [0u128, 1, 199_999] {
        let a = (0x2001_0db8u128 << 96) | (k << 72) | 0xffff;
        assert_eq!(
            t.lookup_src_v6(a),
            Some(((k as usize + 1_000_000) % 1000) as u16),
            "{}",
            Ipv6Addr::from(a)
        );
    }
    let d = t.decide(
        Direction::Outbound,
        IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1)),
        40000,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        25,
    );
    assert!(matches!(d, Decision::Block { pool: 0, .. }), "{d:?}");
}
