//! The IPv4 map, in one of three layouts chosen by the table's size:
//!
//! - fewer than [`LARGE_TABLE`] prefixes: a poptrie with 2^12 roots (256 KiB of
//!   roots; a few hundred KiB in all, so a policy table stays in the caches);
//! - [`LARGE_TABLE`] prefixes or more: DIR-24-8 with 16-bit entries
//!   ([`Dir24`](crate::dir24::Dir24): 32 MiB in transparent huge pages, one random
//!   access per lookup), 1.1-1.3x the lookups per second of DPDK's `rte_fib` in
//!   bench/LPM.md;
//! - a large table with more distinct values or more /24s holding longer prefixes
//!   than 16-bit entries address (32,767 and 32,768): a poptrie with 2^18 roots, in
//!   which a /24 is one slot of its root and the root's line usually holds the
//!   answer (about 17 MiB for 1M prefixes with `u16` values).

use std::hash::Hash;

use crate::dir24::Dir24;
use crate::poptrie::{Answers, Ranges, Tag, Trie};
use crate::runs::Runs;

/// Key bits that select a root in a large table that does not fit [`Dir24`]
/// (bench/LPM.md): 2^18 roots of 64 bytes (16 MiB) resolve a /24 at the root.
pub(crate) const DIRECT_BITS: u32 = 18;

/// Root bits of a small table: 4,096 roots (256 KiB), a /24 two nodes down. The
/// whole trie then stays in the caches; 16 MiB of mostly identical roots would only
/// cost memory (policy tables are built per destination set and kept twice during
/// a swap) and TLB misses.
pub(crate) const SMALL_DIRECT_BITS: u32 = 12;

/// Tables with at least this many prefixes get [`Dir24`] (or [`DIRECT_BITS`] when
/// they do not fit it). Below it the small poptrie is 0.83-0.90x `rte_fib`'s speed
/// in 1/100 of the memory; at and above it DIR-24-8 is 1.2-1.3x (bench/LPM.md).
pub(crate) const LARGE_TABLE: usize = 32_768;

/// An IPv4 address as a poptrie key (aligned to the most significant bit).
#[inline(always)]
fn key(addr: u32) -> u64 {
    u64::from(addr) << 32
}

/// Builds the position-space interval of `addr/len`.
fn interval(addr: u32, len: u8) -> (u128, u128) {
    let lo = u128::from(addr) << 96;
    let span = 128 - u32::from(len);
    (lo, lo | (u128::MAX >> (128 - span)))
}

#[derive(Debug, Clone)]
pub(crate) enum Map4<V> {
    /// A map without entries (a trie needs at least one value).
    Empty,
    Trie(Trie<V>),
    /// The layout of large tables that fit 16-bit entries.
    Dir24(Box<Dir24<V>>),
}

impl<V: Copy + Eq + Hash> Map4<V> {
    /// `prefixes`: validated `(network, length, id)` with distinct prefixes; every id
    /// in `1..values.len()`, `values[0] == None`.
    pub(crate) fn build(
        prefixes: impl ExactSizeIterator<Item = (u32, u8, u32)>,
        values: &[Option<V>],
    ) -> Self {
        if prefixes.len() < LARGE_TABLE {
            return Self::build_with(prefixes, values, SMALL_DIRECT_BITS);
        }
        let runs = runs(prefixes);
        match Dir24::build(&runs, values) {
            Some(d) => Map4::Dir24(Box::new(d)),
            // More distinct values or split /24s than 16-bit entries address.
            None => Self::from_runs(&runs, values, DIRECT_BITS),
        }
    }
}

/// The answer function of validated IPv4 prefixes.
pub(crate) fn runs(prefixes: impl Iterator<Item = (u32, u8, u32)>) -> Runs {
    Runs::from_prefixes(
        prefixes
            .map(|(addr, len, id)| {
                let (lo, end) = interval(addr, len);
                (lo, end, id)
            })
            .collect(),
    )
}

impl<V: Copy> Map4<V> {
    /// [`build`](Self::build) with a given number of root bits.
    pub(crate) fn build_with(
        prefixes: impl Iterator<Item = (u32, u8, u32)>,
        values: &[Option<V>],
        direct_bits: u32,
    ) -> Self {
        Self::from_runs(&runs(prefixes), values, direct_bits)
    }

    /// The poptrie layout of an answer function.
    fn from_runs(runs: &Runs, values: &[Option<V>], direct_bits: u32) -> Self {
        debug_assert!(values.first().is_some_and(Option::is_none));
        // The value stored in "no match" leaves; none exists without entries.
        let Some(filler) = values.iter().find_map(|v| *v) else {
            return Self::empty();
        };
        // All boundaries sit on whole addresses, so no slot past the last key bit can
        // be split and the fallback is never used.
        let trie = Trie::build(
            Ranges {
                starts: &runs.starts,
                ids: &runs.ids,
            },
            direct_bits,
            32,
            Answers {
                leaf: &mut |id| match values[id as usize] {
                    Some(v) => (v, Tag::Value),
                    None => (filler, Tag::NoMatch),
                },
                fallback: &mut |_| unreachable!("IPv4 runs are aligned to whole addresses"),
            },
        );
        Map4::Trie(trie)
    }

    pub(crate) fn empty() -> Self {
        Map4::Empty
    }

    #[inline]
    pub(crate) fn lookup(&self, addr: u32) -> Option<V> {
        match self {
            Map4::Empty => None,
            Map4::Trie(trie) => {
                let (v, tag) = trie.lookup(key(addr));
                (tag == Tag::Value).then_some(v)
            }
            Map4::Dir24(d) => d.lookup(addr),
        }
    }

    /// `out[i] = lookup(addrs[i])`; `out` is at least as long as `addrs`.
    #[inline]
    pub(crate) fn lookup_bulk(&self, addrs: &[u32], out: &mut [Option<V>]) {
        let out = &mut out[..addrs.len()];
        match self {
            Map4::Empty => out.fill(None),
            Map4::Trie(trie) => trie.lookup_bulk(addrs, key, |i, v, tag| {
                out[i] = (tag == Tag::Value).then_some(v)
            }),
            Map4::Dir24(d) => d.lookup_bulk(addrs, out),
        }
    }

    pub(crate) fn layout(&self) -> &'static str {
        match self {
            Map4::Empty => "empty",
            Map4::Trie(t) if t.direct_bits() == DIRECT_BITS => "poptrie, 2^18 cache-line roots",
            Map4::Trie(_) => "poptrie, 2^12 cache-line roots",
            Map4::Dir24(_) => "DIR-24-8, 16-bit entries, deduplicated values",
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self {
                Map4::Empty => 0,
                Map4::Trie(t) => t.heap_bytes(),
                Map4::Dir24(d) => std::mem::size_of::<Dir24<V>>() + d.heap_bytes(),
            }
    }

    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        match self {
            Map4::Trie(t) => t.node_count(),
            _ => 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn leaf_count(&self) -> usize {
        match self {
            Map4::Trie(t) => t.leaf_count(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ids_per_entry, values_per_entry};

    fn build_with(entries: &[(u32, u8, u16)], direct_bits: u32) -> Map4<u16> {
        Map4::build_with(
            ids_per_entry(entries),
            &values_per_entry(entries),
            direct_bits,
        )
    }

    /// The layout of a large table, whatever the size of `entries`.
    fn build(entries: &[(u32, u8, u16)]) -> Map4<u16> {
        build_with(entries, DIRECT_BITS)
    }

    #[test]
    fn small_tables_get_small_roots_and_large_ones_dir_24_8() {
        let entries: Vec<(u32, u8, u16)> = (0..LARGE_TABLE as u32)
            .map(|i| (0xC000_0000 | (i << 8), 24, (i % 1000) as u16))
            .collect();
        let values = values_per_entry(&entries);
        let ids = |n: usize| ids_per_entry(&entries[..n]);
        let small = Map4::build(ids(LARGE_TABLE - 1), &values);
        assert!(!matches!(small, Map4::Dir24(_)));
        assert!(small.memory_bytes() < 4 << 20, "{}", small.memory_bytes());
        // 4,096 roots; every /18 holding /24s is one node below its root.
        assert_eq!(small.node_count(), (LARGE_TABLE - 1).div_ceil(64));
        let large = Map4::build(ids(LARGE_TABLE), &values);
        assert!(matches!(large, Map4::Dir24(_)));
        assert_eq!(
            large.layout(),
            "DIR-24-8, 16-bit entries, deduplicated values"
        );
        assert_eq!(small.layout(), "poptrie, 2^12 cache-line roots");
        assert!(large.memory_bytes() >= 32 << 20, "{}", large.memory_bytes());
        for &(a, _, v) in &entries[..LARGE_TABLE - 1] {
            assert_eq!(small.lookup(a | 0x7f), Some(v));
            assert_eq!(large.lookup(a | 0x7f), Some(v));
        }
        let last = 0xC000_0000 + ((LARGE_TABLE as u32 - 1) << 8);
        assert_eq!(small.lookup(last), None);
        assert_eq!(large.lookup(last), Some(767));
        assert_eq!(large.lookup(last + 0x100), None);
        let addrs: Vec<u32> = (0..100u32).map(|i| 0xC000_0000 + i * 0x1_0101).collect();
        let mut out = vec![None; addrs.len()];
        large.lookup_bulk(&addrs, &mut out);
        for (a, o) in addrs.iter().zip(&out) {
            assert_eq!(*o, small.lookup(*a).or(large.lookup(*a)));
            assert_eq!(*o, large.lookup(*a));
        }
    }

    #[test]
    fn a_large_table_with_more_distinct_values_than_dir_24_8_holds_is_a_poptrie() {
        // One value per /24: 32,768 distinct values, one more than 15-bit leaf
        // indices leave beside "no match".
        let entries: Vec<(u32, u8, u16)> = (0..LARGE_TABLE as u32)
            .map(|i| (0xC000_0000 | (i << 8), 24, i as u16))
            .collect();
        let m = Map4::build(ids_per_entry(&entries), &values_per_entry(&entries));
        assert!(!matches!(m, Map4::Dir24(_)));
        assert_eq!(m.layout(), "poptrie, 2^18 cache-line roots");
        // The 18-bit roots resolve every /24 at the root.
        assert_eq!(m.node_count(), 0);
        for &(a, _, v) in &entries {
            assert_eq!(m.lookup(a | 0x80), Some(v));
        }
        assert_eq!(m.lookup(0xBFFF_FFFF), None);
    }

    #[test]
    fn a_prefix_covering_whole_root_regions_needs_no_node() {
        // 198.51.0.0/16 spans four /18 regions: each is a root with one leaf run.
        let m = build(&[(0xC633_0000, 16, 5)]);
        assert_eq!(m.node_count(), 0);
        assert_eq!(m.lookup(0xC633_FFFF), Some(5));
        assert_eq!(m.lookup(0xC634_0000), None);
    }

    #[test]
    fn a_slash_24_is_resolved_by_its_root_and_a_host_route_needs_two_nodes() {
        let m = build(&[(0xC000_0200, 24, 1)]);
        assert_eq!(m.node_count(), 0);
        let m = build(&[(0xC000_0201, 32, 1)]);
        assert_eq!(m.node_count(), 2);
        assert_eq!(m.lookup(0xC000_0201), Some(1));
        assert_eq!(m.lookup(0xC000_0200), None);
        assert_eq!(m.lookup(0xC000_0202), None);
    }

    #[test]
    fn roots_hold_their_leaves_and_equal_neighbouring_external_leaves_are_stored_once() {
        // A /24 and its neighbours: the background ("no match") and the /24's
        // answer, inline in the root.
        let m = build(&[(0xC000_0200, 24, 7)]);
        assert_eq!((m.node_count(), m.leaf_count()), (0, 0));
        // A host route: the root holds one run ("no match") and a child; the /24
        // node's run is "no match" (one leaf), the /30 node's runs are "no match",
        // 7, "no match", and its first shares the /24 node's leaf: three leaves.
        let m = build(&[(0xC000_0201, 32, 7)]);
        assert_eq!((m.node_count(), m.leaf_count()), (2, 3));
        let m = build(&[(0, 0, 1), (0xC000_0201, 32, 7)]);
        assert_eq!((m.node_count(), m.leaf_count()), (2, 3));
        assert_eq!(m.lookup(0xC000_0201), Some(7));
        assert_eq!(m.lookup(0xC000_0200), Some(1));
        assert_eq!(m.lookup(0), Some(1));
    }

    #[test]
    fn a_root_with_more_runs_than_it_holds_inline_keeps_them_outside() {
        // 16 /24s spaced out from the start of one /18: 16 runs besides the
        // background ("no match"), over the 13 a u16 root holds, so all 32 runs are
        // stored outside.
        let entries: Vec<(u32, u8, u16)> = (0..16u32)
            .map(|i| (0xC633_0000 + (i << 9), 24, i as u16 + 1))
            .collect();
        let m = build(&entries);
        assert_eq!((m.node_count(), m.leaf_count()), (0, 32));
        // 13 fit: the background and the 13 others inline.
        let m13 = build(&entries[..13]);
        assert_eq!((m13.node_count(), m13.leaf_count()), (0, 0));
        for &(a, _, v) in &entries[..13] {
            assert_eq!(m13.lookup(a), Some(v));
            assert_eq!(m13.lookup(a + 0x100), None);
        }
        for (i, &(a, _, v)) in entries.iter().enumerate() {
            assert_eq!(m.lookup(a | 0xff), Some(v), "{i}");
            assert_eq!(m.lookup(a + 0x100), None, "{i}");
        }
        let addrs: Vec<u32> = (0..64u32).map(|i| 0xC633_0000 + (i << 8) + i).collect();
        let mut out = vec![None; 64];
        m.lookup_bulk(&addrs, &mut out);
        for (a, o) in addrs.iter().zip(&out) {
            assert_eq!(*o, m.lookup(*a));
        }
    }

    #[test]
    fn a_map_without_entries_answers_none_in_bulk() {
        let m = build(&[]);
        let mut out = [Some(1); 3];
        m.lookup_bulk(&[0, 1, u32::MAX], &mut out);
        assert_eq!(out, [None; 3]);
        assert_eq!(m.lookup(5), None);
    }

    #[test]
    fn bulk_lookup_covers_full_groups_and_the_remainder() {
        let m = build(&[(0xCB00_7100, 24, 1), (0xCB00_7180, 25, 2), (0, 0, 3)]);
        let addrs: Vec<u32> = (0..37u32).map(|i| 0xCB00_7100 + i * 7).collect();
        let mut out = vec![None; addrs.len()];
        m.lookup_bulk(&addrs, &mut out);
        for (a, o) in addrs.iter().zip(&out) {
            assert_eq!(*o, m.lookup(*a));
        }
        assert_eq!(out[0], Some(1));
        assert_eq!(out[36], Some(2));
    }
}
