//! A plain linear-scan longest-prefix match: the model the property tests compare
//! [`Lpm4`](crate::Lpm4) and [`Lpm6`](crate::Lpm6) against. O(n) per lookup; never use
//! it on a data path.

/// The value of the longest IPv4 prefix in `entries` that contains `addr`.
/// Entries are `(network, length, value)`; host bits in `network` are ignored.
pub fn lookup4<V: Copy>(entries: &[(u32, u8, V)], addr: u32) -> Option<V> {
    let mut best: Option<(u8, V)> = None;
    for &(net, len, value) in entries {
        let mask = if len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(len.min(32)))
        };
        if addr & mask == net & mask && best.map_or(true, |(l, _)| len > l) {
            best = Some((len, value));
        }
    }
    best.map(|(_, v)| v)
}

/// The value of the longest IPv6 prefix in `entries` that contains `addr`.
pub fn lookup6<V: Copy>(entries: &[(u128, u8, V)], addr: u128) -> Option<V> {
    let mut best: Option<(u8, V)> = None;
    for &(net, len, value) in entries {
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len.min(128)))
        };
        if addr & mask == net & mask && best.map_or(true, |(l, _)| len > l) {
            best = Some((len, value));
        }
    }
    best.map(|(_, v)| v)
}
