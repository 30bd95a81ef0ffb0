//! The IPv6 map: a poptrie over the top 64 bits of the address, plus an exact
//! fallback for the rare /64s that contain longer prefixes.
//!
//! Routing and policy tables are made of prefixes up to /64, so the trie resolves
//! every address by its first 64 bits. A /64 inside which the answer is not constant
//! (it holds a /65../128 prefix, e.g. a relay's /128) gets a leaf tagged "look
//! further": the /64 is found among the windows by binary search, and its sorted runs
//! of answers over the low 64 bits by another. Only addresses inside such a /64 pay
//! for it.

use crate::poptrie::{Answers, Ranges, Tag, Trie};
use crate::runs::Runs;

/// Key bits that select a root node in a large table (chosen by measurement,
/// bench/LPM.md): 2^16 roots of 64 bytes (4 MiB).
pub(crate) const DIRECT_BITS: u32 = 16;

/// Root bits of a small table: 1,024 roots (64 KiB).
pub(crate) const SMALL_DIRECT_BITS: u32 = 10;

/// Tables with at least this many prefixes get [`DIRECT_BITS`].
pub(crate) const LARGE_TABLE: usize = 16_384;

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

/// The answers inside the /64 windows that hold prefixes longer than /64.
#[derive(Debug, Clone)]
struct Windows<V> {
    /// The top 64 bits of each window's /64, ascending.
    his: Box<[u64]>,
    /// Window `k`'s runs are `starts[offsets[k]..offsets[k + 1]]` (low 64 bits, the
    /// first one 0) with the answers `values[..]` at the same positions.
    offsets: Box<[u32]>,
    starts: Box<[u64]>,
    values: Box<[Option<V>]>,
}

impl<V: Copy> Windows<V> {
    /// The answer for an address in one of the windows.
    #[inline]
    fn lookup(&self, addr: u128) -> Option<V> {
        // Only addresses whose leaf says "look further" come here, and those /64s
        // all have a window.
        let k = self.his.binary_search(&key(addr)).ok()?;
        let lo = addr as u64;
        let (a, b) = (self.offsets[k] as usize, self.offsets[k + 1] as usize);
        let j = self.starts[a..b].partition_point(|&s| s <= lo);
        // starts[a] == 0 <= lo, so j >= 1.
        self.values[a + j - 1]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Map6<V> {
    /// `None` for a map without entries (a trie needs at least one value).
    trie: Option<Trie<V>>,
    windows: Windows<V>,
}

impl<V: Copy> Map6<V> {
    /// `prefixes`: validated `(network, length, id)` with distinct prefixes; every id
    /// in `1..values.len()`, `values[0] == None`.
    pub(crate) fn build(
        prefixes: impl ExactSizeIterator<Item = (u128, u8, u32)>,
        values: &[Option<V>],
    ) -> Self {
        let direct_bits = if prefixes.len() >= LARGE_TABLE {
            DIRECT_BITS
        } else {
            SMALL_DIRECT_BITS
        };
        Self::build_with(prefixes, values, direct_bits)
    }

    /// [`build`](Self::build) with a given number of root bits.
    pub(crate) fn build_with(
        prefixes: impl Iterator<Item = (u128, u8, u32)>,
        values: &[Option<V>],
        direct_bits: u32,
    ) -> Self {
        debug_assert!(values.first().is_some_and(Option::is_none));
        // The value stored in "no match" and "look further" leaves; none exists
        // without entries.
        let Some(filler) = values.iter().find_map(|v| *v) else {
            return Self::empty();
        };
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
            his: window_his.clone().into_boxed_slice(),
            offsets: offsets.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            values: answers.into_boxed_slice(),
        };

        // Ids past the values name windows: `values.len() + k` is window `k`.
        let n_values = values.len();
        let trie = Trie::build(
            Ranges {
                starts: &runs.starts,
                ids: &runs.ids,
            },
            direct_bits,
            64,
            Answers {
                leaf: &mut |id| match values.get(id as usize) {
                    Some(&Some(v)) => (v, Tag::Value),
                    Some(None) => (filler, Tag::NoMatch),
                    None => (filler, Tag::Further),
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
        Map6 {
            trie: Some(trie),
            windows,
        }
    }

    pub(crate) fn empty() -> Self {
        Map6 {
            trie: None,
            windows: Windows {
                his: Box::new([]),
                offsets: Box::new([0]),
                starts: Box::new([]),
                values: Box::new([]),
            },
        }
    }

    /// The answer for `addr` given the leaf of its top 64 bits.
    #[inline(always)]
    fn resolve(&self, v: V, tag: Tag, addr: u128) -> Option<V> {
        match tag {
            Tag::Value => Some(v),
            Tag::NoMatch => None,
            Tag::Further => self.windows.lookup(addr),
        }
    }

    #[inline]
    pub(crate) fn lookup(&self, addr: u128) -> Option<V> {
        let (v, tag) = self.trie.as_ref()?.lookup(key(addr));
        self.resolve(v, tag, addr)
    }

    /// `out[i] = lookup(addrs[i])`; `out` is at least as long as `addrs`.
    #[inline]
    pub(crate) fn lookup_bulk(&self, addrs: &[u128], out: &mut [Option<V>]) {
        let out = &mut out[..addrs.len()];
        match &self.trie {
            Some(trie) => trie.lookup_bulk(addrs, key, |i, v, tag| {
                out[i] = self.resolve(v, tag, addrs[i])
            }),
            None => out.fill(None),
        }
    }

    pub(crate) fn layout(&self) -> &'static str {
        match self.trie {
            None => "empty",
            Some(_) => "poptrie over the top 64 bits, per-/64 windows below",
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.trie.as_ref().map_or(0, Trie::heap_bytes)
            + self.windows.his.len() * 8
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

    fn build_with(entries: &[(u128, u8, u16)], direct_bits: u32) -> Map6<u16> {
        Map6::build_with(
            crate::ids_per_entry(entries),
            &crate::values_per_entry(entries),
            direct_bits,
        )
    }

    /// Both layouts must give the same answers; returns the large one.
    fn build(entries: &[(u128, u8, u16)]) -> Map6<u16> {
        let small = build_with(entries, SMALL_DIRECT_BITS);
        let large = build_with(entries, DIRECT_BITS);
        for &(a, len, _) in entries {
            let host = if len == 0 {
                u128::MAX
            } else {
                (1u128 << (128 - u32::from(len))).wrapping_sub(1)
            };
            for probe in [a, a | host, a.wrapping_sub(1), (a | host).wrapping_add(1)] {
                assert_eq!(small.lookup(probe), large.lookup(probe), "{probe:#x}");
            }
        }
        large
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
