//! Deterministic synthetic configs for scale tests and benchmarks (not for production).

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Most IPv4 prefixes [`big_config_yaml`] can produce: the /30s of 100.64.0.0/10.
pub const MAX_V4: usize = 1 << 20;
/// Most IPv6 prefixes: the /56s of 2001:db8::/32.
pub const MAX_V6: usize = 1 << 24;

/// A valid config with `v4` IPv4 /30s from 100.64.0.0/10 and `v6` IPv6 /56s from
/// 2001:db8::/32, spread round-robin over `pools` pools (every 10th exempt, every 7th
/// monitored, the rest enforced), one relay and one scope entry. Counts are clamped to
/// [`MAX_V4`] and [`MAX_V6`]; `pools` to 1..=65535.
pub fn big_config_yaml(v4: usize, v6: usize, pools: usize) -> String {
    let (v4, v6) = (v4.min(MAX_V4), v6.min(MAX_V6));
    let pools = pools.clamp(1, usize::from(u16::MAX));
    let mut lists: Vec<String> = vec![String::new(); pools];
    for k in 0..v4 {
        let a = Ipv4Addr::from(0x6440_0000u32 + (k as u32) * 4);
        let _ = writeln!(lists[k % pools], "      - {a}/30");
    }
    for k in 0..v6 {
        let a = Ipv6Addr::from((0x2001_0db8u128 << 96) | ((k as u128) << 72));
        let _ = writeln!(lists[(k + v4) % pools], "      - \"{a}/56\"");
    }
    let mut y = String::with_capacity(v4 * 24 + v6 * 36 + pools * 64 + 256);
    y.push_str("version: 1\nblocked_ports: [25]\npools:\n");
    for (i, list) in lists.iter().enumerate() {
        let mode = if i % 10 == 9 {
            "exempt"
        } else if i % 7 == 6 {
            "monitor"
        } else {
            "enforce"
        };
        if list.is_empty() {
            // Keep every pool valid even with few prefixes: a /32 of its own.
            let _ = writeln!(
                y,
                "  - name: pool-{i}\n    mode: {mode}\n    prefixes: [\"2001:db8:ffff:{i:x}::/64\"]"
            );
            continue;
        }
        let _ = writeln!(y, "  - name: pool-{i}\n    mode: {mode}\n    prefixes:");
        y.push_str(list);
    }
    y.push_str(
        "relays:\n  - name: own-relay\n    prefixes: [203.0.113.25/32, \"2001:db8:ff::25/128\"]\n\
         scope:\n  - name: everything-doc\n    prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, \"2001:db8::/32\"]\n\
         inbound:\n  enabled: true\n",
    );
    y
}
