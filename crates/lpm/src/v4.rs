//! The IPv4 map: one poptrie over the 32-bit address, the top 18 bits direct-pointed.
//!
//! With 18 direct bits a /24 is resolved by one node below the direct array, so the
//! common case of a full routing table costs three dependent loads (direct entry,
//! node, leaf) in a structure of a few MiB instead of DIR-24-8's 32-64 MiB.

use crate::poptrie::{Answers, Poptrie, Ranges};
use crate::runs::Runs;

/// Key bits resolved by the direct-pointing array (chosen by measurement, bench/LPM.md).
pub(crate) const DIRECT_BITS: u32 = 18;

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
pub(crate) struct Map4<V> {
    trie: Poptrie<Option<V>>,
}

impl<V: Copy> Map4<V> {
    /// `prefixes`: validated `(network, length, id)` with distinct prefixes; every id
    /// in `1..values.len()`, `values[0] == None`.
    pub(crate) fn build(
        prefixes: impl Iterator<Item = (u32, u8, u32)>,
        values: &[Option<V>],
    ) -> Self {
        debug_assert!(values.first().is_some_and(Option::is_none));
        let runs = Runs::from_prefixes(
            prefixes
                .map(|(addr, len, id)| {
                    let (lo, end) = interval(addr, len);
                    (lo, end, id)
                })
                .collect(),
        );
        // All boundaries sit on whole addresses, so no slot past the last key bit can
        // be split and the fallback is never used.
        let trie = Poptrie::build(
            Ranges {
                starts: &runs.starts,
                ids: &runs.ids,
            },
            DIRECT_BITS,
            32,
            Answers {
                leaf: &mut |id| values[id as usize],
                fallback: &mut |_| unreachable!("IPv4 runs are aligned to whole addresses"),
            },
        );
        Map4 { trie }
    }

    pub(crate) fn empty() -> Self {
        Map4 {
            trie: Poptrie::empty(None),
        }
    }

    #[inline]
    pub(crate) fn lookup(&self, addr: u32) -> Option<V> {
        self.trie.lookup(key(addr))
    }

    /// `out[i] = lookup(addrs[i])`; `out` is at least as long as `addrs`.
    #[inline]
    pub(crate) fn lookup_bulk(&self, addrs: &[u32], out: &mut [Option<V>]) {
        let out = &mut out[..addrs.len()];
        self.trie.lookup_bulk(addrs, key, |i, v| out[i] = v);
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() - std::mem::size_of::<Poptrie<Option<V>>>()
            + self.trie.memory_bytes()
    }

    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.trie.node_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(u32, u8, u16)]) -> Map4<u16> {
        let values: Vec<_> = std::iter::once(None)
            .chain(entries.iter().map(|e| Some(e.2)))
            .collect();
        Map4::build(
            entries
                .iter()
                .enumerate()
                .map(|(i, &(a, l, _))| (a, l, i as u32 + 1)),
            &values,
        )
    }

    #[test]
    fn a_prefix_covering_whole_direct_regions_needs_no_node() {
        // 198.51.0.0/16 spans four /18 regions: each is a direct leaf.
        let m = build(&[(0xC633_0000, 16, 5)]);
        assert_eq!(m.node_count(), 0);
        assert_eq!(m.lookup(0xC633_FFFF), Some(5));
        assert_eq!(m.lookup(0xC634_0000), None);
    }

    #[test]
    fn a_slash_24_costs_one_node_and_a_host_route_three() {
        let m = build(&[(0xC000_0200, 24, 1)]);
        assert_eq!(m.node_count(), 1);
        let m = build(&[(0xC000_0201, 32, 1)]);
        assert_eq!(m.node_count(), 3);
        assert_eq!(m.lookup(0xC000_0201), Some(1));
        assert_eq!(m.lookup(0xC000_0200), None);
        assert_eq!(m.lookup(0xC000_0202), None);
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
