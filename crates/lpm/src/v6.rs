//! The IPv6 map: a poptrie over the top 64 bits of the address, plus an exact
//! fallback for the rare /64s that contain longer prefixes.
//!
//! Routing and policy tables are made of prefixes up to /64, so the trie resolves
//! every address by its first 64 bits. A /64 inside which the answer is not constant
//! (it holds a /65../128 prefix, e.g. a relay's /128) gets a `Window` leaf: it names
//! the sorted runs of answers over that /64's low 64 bits, searched by binary search.
//! Only addresses inside such a /64 pay for it.

use crate::poptrie::{Answers, Poptrie, Ranges};
use crate::runs::Runs;

/// Key bits resolved by the direct-pointing array (chosen by measurement, bench/LPM.md).
pub(crate) const DIRECT_BITS: u32 = 16;

/// The top 64 bits of an address: the poptrie key.
#[inline(always)]
fn key(addr: u128) -> u64 {
    (addr >> 64) as u64
}

fn interval(addr: u128, len: u8) -> (u128, u128) {
    let span = 128 - u32::from(len);
    let host = if span == 0 {
        0
    } else {
        u128::MAX >> (128 - span)
    };
    (addr, addr | host)
}

/// What a trie leaf holds: the answer, or the window that has it.
#[derive(Debug, Clone, Copy)]
enum Leaf<V> {
    Value(Option<V>),
    Window(u32),
}

impl<V> Default for Leaf<V> {
    fn default() -> Self {
        Leaf::Value(None)
    }
}

/// The answers inside the /64 windows that hold prefixes longer than /64.
#[derive(Debug, Clone)]
struct Windows<V> {
    /// Window `k`'s runs are `starts[offsets[k]..offsets[k + 1]]` (low 64 bits, the
    /// first one 0) with the answers `values[..]` at the same positions.
    offsets: Box<[u32]>,
    starts: Box<[u64]>,
    values: Box<[Option<V>]>,
}

impl<V: Copy> Windows<V> {
    /// The answer for low bits `lo` in window `k`.
    #[inline]
    fn lookup(&self, k: usize, lo: u64) -> Option<V> {
        let (a, b) = (self.offsets[k] as usize, self.offsets[k + 1] as usize);
        let j = self.starts[a..b].partition_point(|&s| s <= lo);
        // starts[a] == 0 <= lo, so j >= 1.
        self.values[a + j - 1]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Map6<V> {
    trie: Poptrie<Leaf<V>>,
    windows: Windows<V>,
}

impl<V: Copy> Map6<V> {
    /// `prefixes`: validated `(network, length, id)` with distinct prefixes; every id
    /// in `1..values.len()`, `values[0] == None`.
    pub(crate) fn build(
        prefixes: impl Iterator<Item = (u128, u8, u32)>,
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
        // A /64 needs a window exactly when a run starts strictly inside it.
        let mut window_his: Vec<u64> = runs
            .starts
            .iter()
            .filter(|&&s| s as u64 != 0)
            .map(|&s| (s >> 64) as u64)
            .collect();
        window_his.dedup();
        let (mut offsets, mut starts, mut answers) = (vec![0u32], Vec::new(), Vec::new());
        for &hi in &window_his {
            let lo = u128::from(hi) << 64;
            let mut i = runs.find(lo);
            starts.push(0u64);
            answers.push(values[runs.ids[i] as usize]);
            i += 1;
            while i < runs.starts.len() && (runs.starts[i] >> 64) as u64 == hi {
                starts.push(runs.starts[i] as u64);
                answers.push(values[runs.ids[i] as usize]);
                i += 1;
            }
            offsets.push(u32::try_from(starts.len()).expect("window runs exceed 2^32"));
        }
        let windows = Windows {
            offsets: offsets.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            values: answers.into_boxed_slice(),
        };

        // Ids past the values name windows: `values.len() + k` is window `k`.
        let n_values = values.len();
        let trie = Poptrie::build(
            Ranges {
                starts: &runs.starts,
                ids: &runs.ids,
            },
            DIRECT_BITS,
            64,
            Answers {
                leaf: &mut |id| match values.get(id as usize) {
                    Some(&v) => Leaf::Value(v),
                    None => Leaf::Window(id - n_values as u32),
                },
                fallback: &mut |slot_lo| {
                    let hi = (slot_lo >> 64) as u64;
                    let k = window_his
                        .binary_search(&hi)
                        .expect("a split /64 slot always has a window");
                    u32::try_from(n_values + k).expect("fewer than 2^32 values and windows")
                },
            },
        );
        Map6 { trie, windows }
    }

    pub(crate) fn empty() -> Self {
        Map6 {
            trie: Poptrie::empty(Leaf::Value(None)),
            windows: Windows {
                offsets: Box::new([0]),
                starts: Box::new([]),
                values: Box::new([]),
            },
        }
    }

    /// The answer for `addr` given the leaf of its top 64 bits.
    #[inline(always)]
    fn resolve(&self, leaf: Leaf<V>, addr: u128) -> Option<V> {
        match leaf {
            Leaf::Value(v) => v,
            Leaf::Window(k) => self.windows.lookup(k as usize, addr as u64),
        }
    }

    #[inline]
    pub(crate) fn lookup(&self, addr: u128) -> Option<V> {
        self.resolve(self.trie.lookup(key(addr)), addr)
    }

    /// `out[i] = lookup(addrs[i])`; `out` is at least as long as `addrs`.
    #[inline]
    pub(crate) fn lookup_bulk(&self, addrs: &[u128], out: &mut [Option<V>]) {
        let out = &mut out[..addrs.len()];
        self.trie
            .lookup_bulk(addrs, key, |i, leaf| out[i] = self.resolve(leaf, addrs[i]));
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() - std::mem::size_of::<Poptrie<Leaf<V>>>()
            + self.trie.memory_bytes()
            + self.windows.offsets.len() * 4
            + self.windows.starts.len() * 8
            + self.windows.values.len() * std::mem::size_of::<Option<V>>()
    }

    #[cfg(test)]
    pub(crate) fn window_count(&self) -> usize {
        self.windows.offsets.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(u128, u8, u16)]) -> Map6<u16> {
        let values: Vec<_> = std::iter::once(None)
            .chain(entries.iter().map(|e| Some(e.2)))
            .collect();
        Map6::build(
            entries
                .iter()
                .enumerate()
                .map(|(i, &(a, l, _))| (a, l, i as u32 + 1)),
            &values,
        )
    }

    const DOC: u128 = 0x2001_0db8 << 96;

    #[test]
    fn prefixes_up_to_slash_64_need_no_window() {
        let m = build(&[(DOC, 32, 1), (DOC | (0xff << 64), 64, 2)]);
        assert_eq!(m.window_count(), 0);
        assert_eq!(m.lookup(DOC | (0xff << 64) | 0x25), Some(2));
        assert_eq!(m.lookup(DOC | (0xfe << 64)), Some(1));
    }

    #[test]
    fn a_host_route_gets_one_window_for_its_slash_64() {
        let relay = DOC | (0xff << 80) | 0x25;
        let m = build(&[(DOC, 32, 1), (relay, 128, 2), (relay + 1, 128, 3)]);
        assert_eq!(m.window_count(), 1);
        assert_eq!(m.lookup(relay), Some(2));
        assert_eq!(m.lookup(relay + 1), Some(3));
        assert_eq!(m.lookup(relay - 1), Some(1));
        assert_eq!(m.lookup(relay + 2), Some(1));
        assert_eq!(m.lookup(DOC | (0xff << 80) | (1 << 64)), Some(1));
        assert_eq!(m.lookup(0x2001_0db9 << 96), None);
        let addrs = [relay, relay + 1, relay + 2, DOC];
        let mut out = [None; 4];
        m.lookup_bulk(&addrs, &mut out);
        assert_eq!(out, [Some(2), Some(3), Some(1), Some(1)]);
    }

    #[test]
    fn the_highest_address_and_the_default_route() {
        let m = build(&[(0, 0, 1), (u128::MAX, 128, 2), (u128::MAX << 64, 64, 3)]);
        assert_eq!(m.lookup(u128::MAX), Some(2));
        assert_eq!(m.lookup(u128::MAX - 1), Some(3));
        assert_eq!(m.lookup(u128::MAX << 64 >> 1), Some(1));
        assert_eq!(m.window_count(), 1);
    }
}
