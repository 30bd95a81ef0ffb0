//! Inputs and bookkeeping of the LPM benchmark (`lpm-bench`): deterministic routing
//! tables with a real-router prefix-length mix, lookup keys that both hit and miss,
//! the `rte_fib` sizing they need, medians and the JSON record.
//!
//! The tables are synthetic and spread over the real unicast space (they cannot fit
//! in the documentation ranges): IPv4 over 1.0.0.0-223.255.255.255 without 10/8 and
//! 127/8, IPv6 inside the RIR blocks of 2000::/3. Every generator is a pure function
//! of its seed, so every run and every machine measures the same tables and keys.

use crate::rng::SplitMix64;
use std::collections::HashSet;
use std::fmt::Write as _;

/// Next hops are drawn from `1..=NEXT_HOPS`; 0 means "no route" on the DPDK side.
pub const NEXT_HOPS: u64 = 1024;

/// IPv4 prefix lengths per million, after the public BGP table (CIDR report, 2024):
/// about 62 % /24, then /22, /23, /16-/21, a little /8-/15 and a few more-specifics
/// beyond /24.
pub const V4_LENGTH_MIX: &[(u8, u32)] = &[
    (8, 16),
    (9, 13),
    (10, 38),
    (11, 100),
    (12, 300),
    (13, 600),
    (14, 1_200),
    (15, 2_000),
    (16, 13_000),
    (17, 8_000),
    (18, 14_000),
    (19, 25_000),
    (20, 40_000),
    (21, 45_000),
    (22, 115_000),
    (23, 100_000),
    (24, 622_433),
    (25, 3_000),
    (26, 3_000),
    (27, 2_000),
    (28, 1_500),
    (29, 1_500),
    (30, 1_000),
    (31, 300),
    (32, 1_000),
];

/// IPv6 prefix lengths per thousand: about half /48, allocations at /28-/32, the rest
/// /33-/64 and a few /128 host routes.
pub const V6_LENGTH_MIX: &[(u8, u32)] = &[
    (28, 8),
    (29, 30),
    (30, 6),
    (31, 6),
    (32, 120),
    (33, 5),
    (34, 5),
    (35, 5),
    (36, 25),
    (37, 3),
    (38, 3),
    (39, 3),
    (40, 50),
    (41, 3),
    (42, 5),
    (43, 3),
    (44, 70),
    (45, 5),
    (46, 20),
    (47, 15),
    (48, 530),
    (49, 3),
    (50, 3),
    (52, 8),
    (56, 30),
    (60, 8),
    (64, 20),
    (128, 2),
];

/// Where IPv6 allocations live: `(block, block length, weight)`, after the RIRs'
/// shares of the routed table (RIPE NCC, ARIN, APNIC, LACNIC, AFRINIC, 2001::/16).
const V6_BLOCKS: &[(u128, u8, u64)] = &[
    (0x2001 << 112, 16, 10),
    (0x2400 << 112, 12, 25),
    (0x2600 << 112, 12, 25),
    (0x2800 << 112, 12, 4),
    (0x2a00 << 112, 12, 35),
    (0x2c00 << 112, 12, 1),
];

/// Exact counts per length for `n` prefixes: `n * weight / total` (weights in any
/// unit), rounding remainders onto the most common length.
fn counts(n: usize, mix: &[(u8, u32)]) -> Vec<(u8, usize)> {
    let total: u64 = mix.iter().map(|&(_, w)| u64::from(w)).sum();
    let mut out: Vec<(u8, usize)> = mix
        .iter()
        .map(|&(l, w)| (l, (n as u64 * u64::from(w) / total) as usize))
        .collect();
    let assigned: usize = out.iter().map(|&(_, c)| c).sum();
    if let Some(top) = out.iter_mut().max_by_key(|(_, c)| *c) {
        top.1 += n - assigned;
    }
    out
}

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

fn random_u128(rng: &mut SplitMix64) -> u128 {
    (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())
}

/// Random draws allowed per prefix of a length before the rest of that length's
/// quota moves on to the next (longer) length: short lengths have few distinct
/// prefixes (there are only ~220 unicast /8s), so a small table may exhaust them.
/// The table then still has exactly `n` prefixes unless even the longest length runs
/// out of room.
const MAX_TRIES_PER_PREFIX: usize = 64;

/// Percentage of prefixes placed inside an existing shorter prefix (more-specifics).
const NESTED_PERCENT: u64 = 50;

/// `n` distinct IPv4 prefixes `(network, length, next hop)` with [`V4_LENGTH_MIX`]
/// (see [`MAX_TRIES_PER_PREFIX`] for lengths that run out of room).
/// Lengths are generated shortest first; half of the prefixes are more-specifics of
/// an earlier (shorter) one, the rest fall anywhere in unicast space.
pub fn table_v4(n: usize, seed: u64) -> Vec<(u32, u8, u32)> {
    table_v4_with(n, seed, V4_LENGTH_MIX)
}

/// [`table_v4`] with another length mix (lengths ascending).
pub fn table_v4_with(n: usize, seed: u64, mix: &[(u8, u32)]) -> Vec<(u32, u8, u32)> {
    let mut rng = SplitMix64::new(seed);
    let mut seen = HashSet::with_capacity(n);
    let mut out: Vec<(u32, u8, u32)> = Vec::with_capacity(n);
    let mut carry = 0;
    for (len, count) in counts(n, mix) {
        let shorter = out.len();
        let (mut made, mut tries, count) = (0, 0, count + carry);
        while made < count && tries < MAX_TRIES_PER_PREFIX * count {
            tries += 1;
            let addr = if shorter > 0 && rng.chance(NESTED_PERCENT) {
                let (parent, plen, _) = out[rng.below(shorter as u64) as usize];
                (parent | (rng.next_u32() & !mask4(plen))) & mask4(len)
            } else {
                loop {
                    let a = rng.next_u32();
                    let first = a >> 24;
                    if (1..=223).contains(&first) && first != 10 && first != 127 {
                        break a & mask4(len);
                    }
                }
            };
            if seen.insert((addr, len)) {
                out.push((addr, len, 1 + rng.below(NEXT_HOPS) as u32));
                made += 1;
            }
        }
        carry = count - made;
    }
    out
}

/// `n` distinct IPv6 prefixes with [`V6_LENGTH_MIX`]: allocations (/28-/32) inside
/// the RIR blocks, more-specifics half nested in an earlier prefix and half
/// independent (provider-independent space), /128s always inside an earlier prefix.
pub fn table_v6(n: usize, seed: u64) -> Vec<(u128, u8, u32)> {
    let mut rng = SplitMix64::new(seed);
    let weight_total: u64 = V6_BLOCKS.iter().map(|b| b.2).sum();
    let mut seen = HashSet::with_capacity(n);
    let mut out: Vec<(u128, u8, u32)> = Vec::with_capacity(n);
    let mut carry = 0;
    for (len, count) in counts(n, V6_LENGTH_MIX) {
        let shorter = out.len();
        let (mut made, mut tries, count) = (0, 0, count + carry);
        while made < count && tries < MAX_TRIES_PER_PREFIX * count {
            tries += 1;
            let nested = shorter > 0 && len > 32 && (len == 128 || rng.chance(NESTED_PERCENT));
            let addr = if nested {
                let (parent, plen, _) = out[rng.below(shorter as u64) as usize];
                (parent | (random_u128(&mut rng) & !mask6(plen))) & mask6(len)
            } else {
                let mut w = rng.below(weight_total);
                let &(block, blen, _) = V6_BLOCKS
                    .iter()
                    .find(|b| {
                        let hit = w < b.2;
                        w = w.saturating_sub(b.2);
                        hit
                    })
                    .unwrap_or(&V6_BLOCKS[0]);
                (block | (random_u128(&mut rng) & !mask6(blen))) & mask6(len)
            };
            if seen.insert((addr, len)) {
                out.push((addr, len, 1 + rng.below(NEXT_HOPS) as u32));
                made += 1;
            }
        }
        carry = count - made;
    }
    out
}

/// `n` IPv4 lookup keys: each one, with even odds, uniformly random over the whole
/// address space or a random address inside a random prefix of `table`.
pub fn keys_v4(table: &[(u32, u8, u32)], n: usize, seed: u64) -> Vec<u32> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            if table.is_empty() || rng.chance(50) {
                rng.next_u32()
            } else {
                let (net, len, _) = *rng.pick(table);
                net | (rng.next_u32() & !mask4(len))
            }
        })
        .collect()
}

/// `n` IPv6 lookup keys: with even odds uniformly random over global unicast
/// 2000::/3 (where every table prefix lies) or inside a random prefix of `table`.
pub fn keys_v6(table: &[(u128, u8, u32)], n: usize, seed: u64) -> Vec<u128> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            if table.is_empty() || rng.chance(50) {
                (0x2000 << 112) | (random_u128(&mut rng) & !mask6(3))
            } else {
                let (net, len, _) = *rng.pick(table);
                net | (random_u128(&mut rng) & !mask6(len))
            }
        })
        .collect()
}

/// tbl8 groups a DPDK DIR-24-8 table needs: one per /24 that holds a longer prefix.
pub fn tbl8_needed_v4(table: &[(u32, u8, u32)]) -> usize {
    table
        .iter()
        .filter(|e| e.1 > 24)
        .map(|e| e.0 >> 8)
        .collect::<HashSet<_>>()
        .len()
}

/// tbl8 groups DPDK's IPv6 trie needs: after its 24-bit first level, one group per
/// distinct (address bits, byte boundary) on the way to every prefix longer than
/// that boundary.
pub fn tbl8_needed_v6(table: &[(u128, u8, u32)]) -> usize {
    let mut groups = HashSet::new();
    for &(net, len, _) in table {
        let mut b = 24u8;
        while b < len {
            groups.insert((net & mask6(b), b));
            b += 8;
        }
    }
    groups.len()
}

/// The median of `xs` (the mean of the middle two for an even count); 0 when empty.
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Million lookups per second for `lookups` done in `secs`.
pub fn mlps(lookups: usize, secs: f64) -> f64 {
    if secs > 0.0 {
        lookups as f64 / secs / 1e6
    } else {
        0.0
    }
}

/// One address family's result, as written to `latest.json` under `lpm.v4`/`lpm.v6`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FamilyResult {
    pub prefixes: usize,
    pub keys: usize,
    /// Median over the rounds of ours, in million lookups per second.
    pub ours_mlps: f64,
    /// Median over the rounds of DPDK's `rte_fib`/`rte_fib6`.
    pub rte_fib_mlps: f64,
    /// `ours_mlps / rte_fib_mlps`.
    pub ratio: f64,
    /// The median of the per-round ratios (ours / rte_fib in the same round): the
    /// figure to compare on a loaded machine, where both sides of a round see the
    /// same load.
    pub ratio_paired: f64,
    /// DPDK's `nh_size` in bytes. Ours uses the same width (`u16` or `u32`), except
    /// that `--next-hop-bytes 2` keeps `rte_fib6` at 4 (see lpm-bench).
    pub next_hop_bytes: usize,
    /// Memory of our lookup structure.
    pub ours_bytes: usize,
    /// Memory of DPDK's lookup tables (tbl24 + configured tbl8 groups; its RIB not included).
    pub rte_fib_bytes: usize,
    pub build_ms_ours: f64,
    pub build_ms_rte_fib: f64,
    /// Every round's figures, in run order.
    pub ours_rounds: Vec<f64>,
    pub rte_fib_rounds: Vec<f64>,
}

fn json_f64(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "null".to_owned()
    }
}

impl FamilyResult {
    /// A JSON object with the fields above.
    pub fn to_json(&self) -> String {
        let list = |xs: &[f64]| {
            let parts: Vec<String> = xs.iter().map(|&x| json_f64(x)).collect();
            format!("[{}]", parts.join(", "))
        };
        let mut s = String::from("{");
        let _ = write!(
            s,
            "\"ours_mlps\": {}, \"rte_fib_mlps\": {}, \"ratio\": {}, \"ratio_paired\": {}, \
             \"next_hop_bytes\": {}, \"prefixes\": {}, \"keys\": {}, \
             \"ours_bytes\": {}, \"rte_fib_bytes\": {}, \"build_ms_ours\": {}, \"build_ms_rte_fib\": {}, \
             \"ours_rounds_mlps\": {}, \"rte_fib_rounds_mlps\": {}",
            json_f64(self.ours_mlps),
            json_f64(self.rte_fib_mlps),
            json_f64(self.ratio),
            json_f64(self.ratio_paired),
            self.next_hop_bytes,
            self.prefixes,
            self.keys,
            self.ours_bytes,
            self.rte_fib_bytes,
            json_f64(self.build_ms_ours),
            json_f64(self.build_ms_rte_fib),
            list(&self.ours_rounds),
            list(&self.rte_fib_rounds),
        );
        s.push('}');
        s
    }
}

/// The benchmark's JSON document: `{"lpm": {"v4": {...}, "v6": {...}, ...}}`.
pub fn report_json(
    v4: Option<&FamilyResult>,
    v6: Option<&FamilyResult>,
    meta: &[(&str, String)],
) -> String {
    let mut fields = Vec::new();
    if let Some(r) = v4 {
        fields.push(format!("\"v4\": {}", r.to_json()));
    }
    if let Some(r) = v6 {
        fields.push(format!("\"v6\": {}", r.to_json()));
    }
    for (k, v) in meta {
        fields.push(format!(
            "\"{}\": \"{}\"",
            k,
            v.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    format!("{{\"lpm\": {{{}}}}}\n", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_table_has_the_length_mix_no_duplicates_and_no_host_bits() {
        let t = table_v4(20_000, 1);
        assert_eq!(t.len(), 20_000);
        let distinct: HashSet<_> = t.iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(distinct.len(), t.len());
        assert!(t
            .iter()
            .all(|&(a, l, nh)| a & !mask4(l) == 0 && (1..=NEXT_HOPS as u32).contains(&nh)));
        let share24 = t.iter().filter(|e| e.1 == 24).count() as f64 / t.len() as f64;
        assert!((0.6..0.65).contains(&share24), "{share24}");
        assert!(t.iter().any(|e| e.1 == 12) && t.iter().any(|e| e.1 == 32));
        assert_eq!(t, table_v4(20_000, 1));
        assert_ne!(t, table_v4(20_000, 2));
    }

    #[test]
    fn a_length_without_room_passes_its_quota_on() {
        // Half of 1000 prefixes would be /8s: there are only 221 unicast /8s.
        let t = table_v4_with(1_000, 9, &[(8, 1), (24, 1)]);
        assert_eq!(t.len(), 1_000);
        assert_eq!(t.iter().filter(|e| e.1 == 8).count(), 221);
    }

    #[test]
    fn v4_table_nests_more_specifics() {
        let t = table_v4(20_000, 3);
        let nets: HashSet<(u32, u8)> = t.iter().map(|e| (e.0, e.1)).collect();
        let nested = t
            .iter()
            .filter(|&&(a, l, _)| (8..l).any(|pl| nets.contains(&(a & mask4(pl), pl))))
            .count();
        assert!(nested > t.len() / 4, "{nested}");
    }

    #[test]
    fn v6_table_is_mostly_slash_48_inside_global_unicast() {
        let t = table_v6(10_000, 1);
        let distinct: HashSet<_> = t.iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(distinct.len(), t.len());
        assert!(t
            .iter()
            .all(|&(a, l, _)| a & !mask6(l) == 0 && a >> 125 == 1));
        let share48 = t.iter().filter(|e| e.1 == 48).count() as f64 / t.len() as f64;
        assert!((0.5..0.56).contains(&share48), "{share48}");
        assert!(t.iter().any(|e| e.1 == 128));
    }

    #[test]
    fn keys_hit_and_miss() {
        let t = table_v4(5_000, 4);
        let keys = keys_v4(&t, 4_000, 5);
        let inside = |k: u32| t.iter().any(|&(a, l, _)| k & mask4(l) == a);
        let hits = keys.iter().filter(|&&k| inside(k)).count();
        assert!(hits > 1_800 && hits < 4_000, "{hits}");
        let t6 = table_v6(2_000, 4);
        let k6 = keys_v6(&t6, 1_000, 5);
        let hits6 = k6
            .iter()
            .filter(|&&k| t6.iter().any(|&(a, l, _)| k & mask6(l) == a))
            .count();
        assert!(hits6 > 400 && hits6 < 1_000, "{hits6}");
    }

    #[test]
    fn tbl8_counts_follow_dpdk_layouts() {
        let t = vec![
            (0xC000_0280, 25, 1),
            (0xC000_02C0, 26, 1),
            (0xC633_6400, 24, 1),
        ];
        assert_eq!(tbl8_needed_v4(&t), 1);
        let doc: u128 = 0x2001_0db8 << 96;
        // A /48 needs groups at /24, /32 and /40; a /32 in the same /24 one more at /24 (shared).
        let t6 = vec![(doc, 48, 1), (doc, 32, 1)];
        assert_eq!(tbl8_needed_v6(&t6), 3);
    }

    #[test]
    fn median_and_json() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        let r = FamilyResult {
            prefixes: 2,
            ours_rounds: vec![1.0, 2.5],
            ..FamilyResult::default()
        };
        let j = report_json(Some(&r), None, &[("cpu", "x \"y\"".into())]);
        assert!(j.starts_with("{\"lpm\": {\"v4\": {\"ours_mlps\": 0.000"));
        assert!(j.contains("\"prefixes\": 2"));
        assert!(j.contains("\"ratio_paired\": 0.000, \"next_hop_bytes\": 0,"));
        assert!(j.contains("\"ours_rounds_mlps\": [1.000, 2.500]"));
        assert!(j.contains("\"cpu\": \"x \\\"y\\\"\""));
    }
}
