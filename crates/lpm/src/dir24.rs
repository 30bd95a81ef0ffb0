//! DIR-24-8 with 16-bit entries for very large IPv4 tables.
//!
//! `tbl24` has one entry per /24 (2^24 entries, 32 MiB); an entry is either the
//! index of the /24's answer in a small table of distinct answers (`leaves`), or,
//! with [`EXT`] set, the number of a 256-entry group in `tbl8` that answers each
//! address of a /24 holding longer prefixes. Almost every lookup is one random
//! access into `tbl24` plus a read of `leaves`, the table's distinct values rather
//! than its prefixes (4 KiB for 1,024 `u16` next hops, which stays in L1; at most
//! 32,767 values). The layout is DPDK's
//! `rte_fib` DIR-24-8; what differs is that answers are deduplicated so entries are
//! two bytes whatever the value type, and that `tbl24` asks for transparent huge
//! pages, so that its random accesses do not each miss the TLB (bench/LPM.md has
//! the measurements that chose it over the poptrie for tables of
//! [`LARGE_TABLE`](crate::v4::LARGE_TABLE) prefixes or more).

use std::collections::HashMap;
use std::hash::Hash;

use crate::runs::Runs;

/// An entry with this bit set names a `tbl8` group; without it, a leaf.
const EXT: u16 = 0x8000;

/// Leaf indices and group numbers are 15 bits.
pub(crate) const MAX_LEAVES: usize = EXT as usize;
pub(crate) const MAX_GROUPS: usize = EXT as usize;

const SLOTS: usize = 1 << 24;

/// How far ahead [`Dir24::lookup_bulk`] prefetches `tbl24` entries (bench/LPM.md).
const AHEAD: usize = 16;

#[derive(Clone)]
pub(crate) struct Dir24<V> {
    tbl24: Box<[u16; SLOTS]>,
    tbl8: Box<[u16]>,
    /// `leaves[0]` is `None` ("no match").
    leaves: Box<[Option<V>]>,
}

impl<V> std::fmt::Debug for Dir24<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dir24")
            .field("tbl8_groups", &(self.tbl8.len() / 256))
            .field("leaves", &self.leaves.len())
            .finish()
    }
}

impl<V: Copy + Eq + Hash> Dir24<V> {
    /// Builds from the answer function of an IPv4 table (`runs` over the position
    /// space, an address `a` at `a << 96`) and the value of each id (`values[0]` is
    /// `None`). `None` when the table has more than [`MAX_LEAVES`] - 1 distinct
    /// values or more than [`MAX_GROUPS`] /24s holding longer prefixes.
    pub(crate) fn build(runs: &Runs, values: &[Option<V>]) -> Option<Self> {
        // Leaf index of every id, distinct values numbered in order of appearance.
        let mut leaves: Vec<Option<V>> = vec![None];
        let mut index: HashMap<V, u16> = HashMap::new();
        let mut leaf_of_id = Vec::with_capacity(values.len());
        for v in values {
            let leaf = match v {
                None => 0,
                Some(v) => match index.get(v) {
                    Some(&l) => l,
                    None => {
                        if leaves.len() == MAX_LEAVES {
                            return None;
                        }
                        let l = leaves.len() as u16;
                        leaves.push(Some(*v));
                        index.insert(*v, l);
                        l
                    }
                },
            };
            leaf_of_id.push(leaf);
        }
        // Run starts as addresses (u64: the end of the space is 2^32).
        let starts: Vec<u64> = runs.starts.iter().map(|&s| (s >> 96) as u64).collect();
        let leaf = |i: usize| leaf_of_id[runs.ids[i] as usize];
        let next_start = |i: usize| starts.get(i + 1).copied().unwrap_or(1 << 32);

        let mut tbl24: Vec<u16> = Vec::with_capacity(SLOTS);
        // Read at random, one entry per lookup: in 4 KiB pages nearly every lookup
        // would also miss the TLB.
        memhint::advise_huge_pages(&tbl24);
        tbl24.resize(SLOTS, 0);
        let mut tbl8: Vec<u16> = Vec::new();
        let mut run = 0;
        let mut slot = 0usize;
        while slot < SLOTS {
            let lo = (slot as u64) << 8;
            while next_start(run) <= lo {
                run += 1;
            }
            let next = next_start(run);
            if next >= lo + 256 {
                // Whole /24s up to the next run's start share this run's answer.
                let end = ((next >> 8) as usize).min(SLOTS);
                tbl24[slot..end].fill(leaf(run));
                slot = end;
            } else {
                let group = tbl8.len() / 256;
                if group == MAX_GROUPS {
                    return None;
                }
                for addr in lo..lo + 256 {
                    while next_start(run) <= addr {
                        run += 1;
                    }
                    tbl8.push(leaf(run));
                }
                tbl24[slot] = EXT | group as u16;
                slot += 1;
            }
        }
        let tbl24: Box<[u16; SLOTS]> = tbl24
            .into_boxed_slice()
            .try_into()
            .expect("tbl24 has exactly 2^24 entries");
        Some(Dir24 {
            tbl24,
            tbl8: tbl8.into_boxed_slice(),
            leaves: leaves.into_boxed_slice(),
        })
    }
}

impl<V: Copy> Dir24<V> {
    #[inline(always)]
    pub(crate) fn lookup(&self, addr: u32) -> Option<V> {
        let e = self.tbl24[(addr >> 8) as usize];
        let leaf = if e & EXT == 0 {
            e
        } else {
            self.tbl8[(usize::from(e & !EXT) << 8) | (addr & 0xff) as usize]
        };
        self.leaves[usize::from(leaf)]
    }

    /// `out[i] = lookup(addrs[i])`, prefetching `tbl24` entries [`AHEAD`] addresses
    /// ahead; `out` is at least as long as `addrs`.
    #[inline]
    pub(crate) fn lookup_bulk(&self, addrs: &[u32], out: &mut [Option<V>]) {
        for &a in addrs.iter().take(AHEAD) {
            prefetch::prefetch_read(&self.tbl24[(a >> 8) as usize]);
        }
        for (i, (&a, o)) in addrs.iter().zip(out.iter_mut()).enumerate() {
            if let Some(&ahead) = addrs.get(i + AHEAD) {
                prefetch::prefetch_read(&self.tbl24[(ahead >> 8) as usize]);
            }
            *o = self.lookup(a);
        }
    }

    /// Heap bytes of the structure (not counting this value itself).
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.tbl24)
            + std::mem::size_of_val(&*self.tbl8)
            + std::mem::size_of_val(&*self.leaves)
    }

    #[cfg(test)]
    pub(crate) fn groups(&self) -> usize {
        self.tbl8.len() / 256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(u32, u8, u32)]) -> Option<Dir24<u32>> {
        Dir24::build(
            &crate::v4::runs(crate::ids_per_entry(entries)),
            &crate::values_per_entry(entries),
        )
    }

    #[test]
    fn answers_nested_prefixes_and_splits_only_the_slash_24s_that_need_it() {
        let d = build(&[
            (0, 0, 9),
            (0xC633_6400, 24, 1),
            (0xC633_64C8, 29, 2),
            (0xC633_64CC, 32, 3),
            (0xFFFF_FFFF, 32, 4),
        ])
        .unwrap();
        assert_eq!(d.groups(), 2);
        // Values 9, 1, 2, 3, 4 and "no match".
        assert_eq!(d.leaves.len(), 6);
        assert_eq!(d.lookup(0), Some(9));
        assert_eq!(d.lookup(0xC633_6401), Some(1));
        assert_eq!(d.lookup(0xC633_64C9), Some(2));
        assert_eq!(d.lookup(0xC633_64CC), Some(3));
        assert_eq!(d.lookup(0xC633_64D0), Some(1));
        assert_eq!(d.lookup(0xC633_6500), Some(9));
        assert_eq!(d.lookup(0xFFFF_FFFE), Some(9));
        assert_eq!(d.lookup(0xFFFF_FFFF), Some(4));
        let addrs = [0, 0xC633_64CC, 0xFFFF_FFFF, 0xC633_64D0];
        let mut out = [None; 4];
        d.lookup_bulk(&addrs, &mut out);
        assert_eq!(out, [Some(9), Some(3), Some(4), Some(1)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Against the linear-scan model, single and in bursts, with prefixes
        /// clustered in one /16 so that /24s split and nest.
        #[test]
        fn agrees_with_the_reference(
            raw in proptest::collection::vec((0u32..0x1_0000, 8u8..=32, 0u32..6), 0..40),
            probes in proptest::collection::vec(proptest::prelude::any::<u16>(), 1..200),
        ) {
            let mut table: Vec<(u32, u8, u32)> = Vec::new();
            for (low, len, v) in raw {
                let mask = u32::MAX << (32 - u32::from(len));
                let addr = (0xC633_0000 | low) & mask;
                if !table.iter().any(|e| e.0 == addr && e.1 == len) {
                    table.push((addr, len, v));
                }
            }
            let d = build(&table).unwrap();
            let addrs: Vec<u32> = probes.iter().map(|&p| 0xC633_0000 | u32::from(p)).collect();
            let mut out = vec![None; addrs.len()];
            d.lookup_bulk(&addrs, &mut out);
            for (&a, o) in addrs.iter().zip(&out) {
                let want = crate::reference::lookup4(&table, a);
                proptest::prop_assert_eq!(d.lookup(a), want);
                proptest::prop_assert_eq!(*o, want);
            }
            proptest::prop_assert_eq!(d.lookup(0), crate::reference::lookup4(&table, 0));
        }
    }

    #[test]
    fn equal_values_share_a_leaf() {
        let entries: Vec<(u32, u8, u32)> = (0..1000u32).map(|i| (i << 12, 20, i % 7)).collect();
        let d = build(&entries).unwrap();
        assert_eq!(d.leaves.len(), 8);
        assert_eq!(d.groups(), 0);
        assert_eq!(d.lookup((999 << 12) | 0xfff), Some(999 % 7));
        assert_eq!(d.lookup(1000 << 12), None);
    }

    #[test]
    fn too_many_distinct_values_or_split_slash_24s_do_not_fit() {
        let values: Vec<(u32, u8, u32)> = (0..MAX_LEAVES as u32).map(|i| (i << 8, 24, i)).collect();
        assert!(build(&values).is_none());
        assert!(build(&values[..MAX_LEAVES - 1]).is_some());
        let split: Vec<(u32, u8, u32)> = (0..=MAX_GROUPS as u32).map(|i| (i << 8, 25, 1)).collect();
        assert!(build(&split).is_none());
        assert!(build(&split[..MAX_GROUPS]).is_some());
    }
}
