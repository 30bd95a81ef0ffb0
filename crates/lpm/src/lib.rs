//! Longest-prefix-match (LPM) maps for IPv4 and IPv6 source/destination lookups.
//!
//! [`Lpm4`] and [`Lpm6`] map prefixes to small `Copy` values. They are built once
//! from a slice of entries, are immutable afterwards, and answer "which value belongs
//! to the longest prefix containing this address?" without allocating.
//!
//! Addresses are host-order integers: `u32::from(Ipv4Addr)` and `u128::from(Ipv6Addr)`.
//!
//! # Implementation
//!
//! Three layouts, chosen by measurement (`bench/LPM.md`), each answering every
//! lookup without allocating:
//!
//! - **IPv4 tables of 32,768 prefixes or more: DIR-24-8** with 16-bit entries, as in
//!   DPDK's `rte_fib`, but with the table's *distinct values* numbered (so entries
//!   stay two bytes whatever `V` is; this is why [`Lpm4::build`] needs `V: Eq + Hash`)
//!   and the 32 MiB `tbl24` in transparent huge pages (asked for with
//!   `madvise`), so a lookup is one random access without a TLB miss. 1M prefixes
//!   take about 39 MiB; lookups run at 1.1x `rte_fib`'s rate on this project's
//!   benchmark machine. A large table with more than 32,767 distinct values or more
//!   than 32,768 /24s holding longer prefixes (beyond 15-bit indices) falls back to
//!   the poptrie with 2^18 roots (about 17 MiB, 0.9x `rte_fib`).
//! - **Smaller IPv4 tables and all IPv6 tables: poptries** (Asai & Ohara, SIGCOMM
//!   2015) with cache-line roots: an array of root nodes over the top bits (12 for
//!   a small IPv4 table, 16 for IPv6; 10 for an IPv6 table under 16,384 prefixes), then nodes of 6-bit strides made of two
//!   64-bit bitmaps whose population counts index contiguous children and
//!   run-length-compressed leaves; a root holds its leaves in its own 64-byte line
//!   when they fit. A policy table of a few thousand prefixes takes a few hundred
//!   KiB and stays in the caches; 200k IPv6 prefixes take about 16 MiB and look up
//!   at 1.7x `rte_fib6`'s rate. The IPv6 trie covers the top 64 bits; /64s that
//!   contain longer prefixes are resolved by a binary search over that /64's own
//!   answers.
//!
//! Every layout is built from the *answer function* of the table (sorted runs of
//! equal answers), so equal neighbours never cost a node. The bulk lookups are
//! software pipelines that prefetch (through the `prefetch` crate) each address's
//! first access 16-24 addresses ahead. [`Lpm4::layout`] names the layout a table got.
//!
//! [`reference`](mod@reference) holds a linear-scan model used by the property tests.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

mod dir24;
mod poptrie;
pub mod reference;
mod runs;
mod v4;
mod v6;

use v4::Map4;
use v6::Map6;

/// Why a set of entries could not be built into a map.
///
/// `index` is the position of the offending entry in the slice given to `build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LpmError {
    /// The address has bits set beyond the prefix length (e.g. `198.51.100.1/24`).
    HostBits { index: usize, addr: IpAddr, len: u8 },
    /// The same prefix (address and length) appears twice.
    Duplicate {
        index: usize,
        first_index: usize,
        addr: IpAddr,
        len: u8,
    },
    /// The prefix length exceeds the address width (32 for IPv4, 128 for IPv6).
    BadLength { index: usize, len: u8, max: u8 },
}

impl fmt::Display for LpmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LpmError::HostBits { index, addr, len } => {
                write!(f, "entry {index}: host bits set in {addr}/{len}")
            }
            LpmError::Duplicate {
                index,
                first_index,
                addr,
                len,
            } => write!(
                f,
                "entry {index}: duplicate prefix {addr}/{len} (first at entry {first_index})"
            ),
            LpmError::BadLength { index, len, max } => {
                write!(
                    f,
                    "entry {index}: prefix length {len} is greater than {max}"
                )
            }
        }
    }
}

impl std::error::Error for LpmError {}

/// An unsigned integer used as an address.
trait Addr: Copy + Ord + fmt::Debug {
    const BITS: u8;
    /// The network mask for a prefix length `0..=BITS`.
    fn mask(len: u8) -> Self;
    fn and(self, other: Self) -> Self;
    fn to_ip(self) -> IpAddr;
}

impl Addr for u32 {
    const BITS: u8 = 32;
    #[inline]
    fn mask(len: u8) -> Self {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(len))
        }
    }
    #[inline]
    fn and(self, other: Self) -> Self {
        self & other
    }
    fn to_ip(self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(self))
    }
}

impl Addr for u128 {
    const BITS: u8 = 128;
    #[inline]
    fn mask(len: u8) -> Self {
        if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len))
        }
    }
    #[inline]
    fn and(self, other: Self) -> Self {
        self & other
    }
    fn to_ip(self) -> IpAddr {
        IpAddr::V6(Ipv6Addr::from(self))
    }
}

/// Checks every entry (length, host bits, duplicates) and returns the distinct
/// prefix lengths present, longest first. Errors are reported in entry order; for
/// duplicates, the one whose second occurrence comes first.
fn validate<A: Addr, V: Copy>(entries: &[(A, u8, V)]) -> Result<Box<[u8]>, LpmError> {
    for (index, &(addr, len, _)) in entries.iter().enumerate() {
        if len > A::BITS {
            return Err(LpmError::BadLength {
                index,
                len,
                max: A::BITS,
            });
        }
        if addr.and(A::mask(len)) != addr {
            return Err(LpmError::HostBits {
                index,
                addr: addr.to_ip(),
                len,
            });
        }
    }
    // Sort entry indices by (length descending, address); stable so the first
    // occurrence of a duplicate comes first.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        let (aa, al, _) = entries[a];
        let (ba, bl, _) = entries[b];
        bl.cmp(&al).then(aa.cmp(&ba))
    });
    let mut dup: Option<(usize, usize)> = None;
    for pair in order.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        if entries[first].0 == entries[second].0 && entries[first].1 == entries[second].1 {
            let (lo, hi) = if first < second {
                (first, second)
            } else {
                (second, first)
            };
            if dup.map_or(true, |(_, h)| hi < h) {
                dup = Some((lo, hi));
            }
        }
    }
    if let Some((first_index, index)) = dup {
        let (addr, len, _) = entries[index];
        return Err(LpmError::Duplicate {
            index,
            first_index,
            addr: addr.to_ip(),
            len,
        });
    }
    let mut lengths: Vec<u8> = order.iter().map(|&i| entries[i].1).collect();
    lengths.dedup();
    Ok(lengths.into_boxed_slice())
}

/// Leaf ids are `u32` below 2^31 and id 0 means "no match", so a map holds fewer
/// than 2^31 - 1 entries (an input slice of that size would need over 16 GiB).
const MAX_ENTRIES: usize = (1 << 31) - 2;

/// The value table of a map built with one id per entry: `values[0] = None`,
/// `values[i + 1] = Some(entries[i].2)`.
fn values_per_entry<A, V: Copy>(entries: &[(A, u8, V)]) -> Box<[Option<V>]> {
    assert!(
        entries.len() <= MAX_ENTRIES,
        "an LPM map holds at most {MAX_ENTRIES} entries, got {}",
        entries.len()
    );
    std::iter::once(None)
        .chain(entries.iter().map(|e| Some(e.2)))
        .collect()
}

/// The `(address, length, id)` of every entry, id `i + 1` for `entries[i]` (the
/// index of its value in [`values_per_entry`]).
fn ids_per_entry<A: Copy, V>(
    entries: &[(A, u8, V)],
) -> impl ExactSizeIterator<Item = (A, u8, u32)> + '_ {
    entries
        .iter()
        .enumerate()
        .map(|(i, &(addr, len, _))| (addr, len, i as u32 + 1))
}

macro_rules! lpm_type {
    ($name:ident, $map:ident, $addr:ty, $bits:literal, [$($bound:tt)+], $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name<V> {
            map: $map<V>,
            len: usize,
            /// Distinct prefix lengths, longest first.
            lengths: Box<[u8]>,
        }

        impl<V: $($bound)+> $name<V> {
            #[doc = concat!("Builds the map from `(network address, prefix length 0..=", $bits, ", value)` entries.")]
            ///
            /// Entries may nest (a longer prefix inside a shorter one); the longest wins at
            /// lookup. Errors: an address with host bits set ([`LpmError::HostBits`]), the
            /// same prefix twice ([`LpmError::Duplicate`], pointing at the second
            /// occurrence), a length beyond the address width ([`LpmError::BadLength`]).
            ///
            /// A large IPv4 table stores each distinct value once, found by `Eq` and
            /// `Hash`: values that compare equal must be interchangeable (a lookup may
            /// return any of them), as they are for integers and ids.
            ///
            /// # Panics
            /// With 2^31 - 1 entries or more (over 16 GiB of input).
            pub fn build(entries: &[($addr, u8, V)]) -> Result<Self, LpmError> {
                let lengths = validate(entries)?;
                let values = values_per_entry(entries);
                let map = $map::build(ids_per_entry(entries), &values);
                Ok(Self {
                    map,
                    len: entries.len(),
                    lengths,
                })
            }
        }

        impl<V: Copy> $name<V> {

            /// The value of the longest prefix containing `addr` (host order), if any.
            /// Never allocates.
            #[inline]
            pub fn lookup(&self, addr: $addr) -> Option<V> {
                self.map.lookup(addr)
            }

            /// [`lookup`](Self::lookup) for a burst: `out[i] = lookup(addrs[i])`.
            ///
            /// # Panics
            /// If `out` is shorter than `addrs` (a caller bug, not a data condition).
            pub fn lookup_bulk(&self, addrs: &[$addr], out: &mut [Option<V>]) {
                assert!(
                    out.len() >= addrs.len(),
                    "lookup_bulk: output slice ({}) shorter than input ({})",
                    out.len(),
                    addrs.len()
                );
                self.map.lookup_bulk(addrs, out)
            }

            /// Number of prefixes in the map.
            pub fn len(&self) -> usize {
                self.len
            }

            /// True when the map holds no prefix.
            pub fn is_empty(&self) -> bool {
                self.len == 0
            }

            /// Approximate heap and inline memory used by the lookup structure, in bytes.
            pub fn memory_bytes(&self) -> usize {
                std::mem::size_of::<Self>() - std::mem::size_of::<$map<V>>()
                    + self.map.memory_bytes()
                    + self.lengths.len()
            }

            /// The lookup structure chosen for this table, for logs and benchmarks
            /// (e.g. `"DIR-24-8, 16-bit entries, deduplicated values"`).
            pub fn layout(&self) -> &'static str {
                self.map.layout()
            }

            /// The distinct prefix lengths present, longest first.
            pub fn prefix_lengths(&self) -> impl Iterator<Item = u8> + '_ {
                self.lengths.iter().copied()
            }
        }

        impl<V: Copy> Default for $name<V> {
            fn default() -> Self {
                Self {
                    map: $map::empty(),
                    len: 0,
                    lengths: Box::new([]),
                }
            }
        }
    };
}

lpm_type!(
    Lpm4,
    Map4,
    u32,
    "32",
    [Copy + Eq + std::hash::Hash],
    "An IPv4 longest-prefix-match map; addresses are host-order `u32` (`u32::from(Ipv4Addr)`)."
);
lpm_type!(
    Lpm6,
    Map6,
    u128,
    "128",
    [Copy],
    "An IPv6 longest-prefix-match map; addresses are host-order `u128` (`u128::from(Ipv6Addr)`)."
);

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().unwrap())
    }
    fn v6(s: &str) -> u128 {
        u128::from(s.parse::<Ipv6Addr>().unwrap())
    }

    #[test]
    fn longest_prefix_wins_over_nested_shorter_ones() {
        let t = Lpm4::build(&[
            (v4("198.51.100.0"), 24, 1u16),
            (v4("198.51.100.200"), 29, 2),
            (v4("198.51.100.204"), 32, 3),
        ])
        .unwrap();
        assert_eq!(t.lookup(v4("198.51.100.1")), Some(1));
        assert_eq!(t.lookup(v4("198.51.100.201")), Some(2));
        assert_eq!(t.lookup(v4("198.51.100.204")), Some(3));
        assert_eq!(t.lookup(v4("198.51.100.208")), Some(1));
        assert_eq!(t.lookup(v4("198.51.101.1")), None);
        assert_eq!(t.len(), 3);
        assert!(!t.is_empty());
        assert_eq!(t.prefix_lengths().collect::<Vec<_>>(), vec![32, 29, 24]);
    }

    #[test]
    fn default_route_matches_everything_not_more_specific() {
        let t = Lpm4::build(&[(0, 0, 'd'), (v4("192.0.2.0"), 24, 'x')]).unwrap();
        assert_eq!(t.lookup(0), Some('d'));
        assert_eq!(t.lookup(u32::MAX), Some('d'));
        assert_eq!(t.lookup(v4("192.0.2.77")), Some('x'));
        let t6 = Lpm6::build(&[(0, 0, 0u8), (v6("2001:db8::"), 32, 1)]).unwrap();
        assert_eq!(t6.lookup(u128::MAX), Some(0));
        assert_eq!(t6.lookup(v6("2001:db8:1::1")), Some(1));
    }

    #[test]
    fn host_routes_at_full_width() {
        let t = Lpm4::build(&[(u32::MAX, 32, 1u8), (0, 32, 2)]).unwrap();
        assert_eq!(t.lookup(u32::MAX), Some(1));
        assert_eq!(t.lookup(0), Some(2));
        assert_eq!(t.lookup(1), None);
        let t6 = Lpm6::build(&[(u128::MAX, 128, 1u8)]).unwrap();
        assert_eq!(t6.lookup(u128::MAX), Some(1));
        assert_eq!(t6.lookup(u128::MAX - 1), None);
    }

    #[test]
    fn empty_map_matches_nothing() {
        let t: Lpm4<u8> = Lpm4::build(&[]).unwrap();
        assert!(t.is_empty());
        assert_eq!(t.lookup(12345), None);
        let d: Lpm6<u8> = Lpm6::default();
        assert_eq!(d.lookup(1), None);
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn host_bits_are_rejected_with_the_entry_index() {
        let err =
            Lpm4::build(&[(v4("192.0.2.0"), 24, 0u8), (v4("198.51.100.1"), 24, 0)]).unwrap_err();
        assert_eq!(
            err,
            LpmError::HostBits {
                index: 1,
                addr: "198.51.100.1".parse().unwrap(),
                len: 24
            }
        );
        assert_eq!(err.to_string(), "entry 1: host bits set in 198.51.100.1/24");
        let err6 = Lpm6::build(&[(v6("2001:db8::1"), 64, 0u8)]).unwrap_err();
        assert_eq!(err6.to_string(), "entry 0: host bits set in 2001:db8::1/64");
    }

    #[test]
    fn duplicates_are_rejected_pointing_at_the_second_occurrence() {
        let err = Lpm4::build(&[
            (v4("192.0.2.0"), 24, 0u8),
            (v4("203.0.113.0"), 24, 1),
            (v4("192.0.2.0"), 24, 2),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            LpmError::Duplicate {
                index: 2,
                first_index: 0,
                addr: "192.0.2.0".parse().unwrap(),
                len: 24
            }
        );
        assert_eq!(
            err.to_string(),
            "entry 2: duplicate prefix 192.0.2.0/24 (first at entry 0)"
        );
        // Same address, different length: not a duplicate.
        assert!(Lpm4::build(&[(v4("192.0.2.0"), 24, 0u8), (v4("192.0.2.0"), 25, 1)]).is_ok());
    }

    #[test]
    fn lengths_beyond_the_address_width_are_rejected() {
        assert_eq!(
            Lpm4::build(&[(0, 33, 0u8)]).unwrap_err(),
            LpmError::BadLength {
                index: 0,
                len: 33,
                max: 32
            }
        );
        assert_eq!(
            Lpm6::build(&[(0, 129, 0u8)]).unwrap_err().to_string(),
            "entry 0: prefix length 129 is greater than 128"
        );
    }

    #[test]
    fn bulk_lookup_matches_single_lookups() {
        let t = Lpm6::build(&[
            (v6("2001:db8:100::"), 40, 7u16),
            (v6("2001:db8:ff::25"), 128, 9),
        ])
        .unwrap();
        let addrs = [
            v6("2001:db8:100::1"),
            v6("2001:db8:ff::25"),
            v6("2001:db8:1::"),
        ];
        let mut out = [None; 3];
        t.lookup_bulk(&addrs, &mut out);
        assert_eq!(out, [Some(7), Some(9), None]);
    }

    #[test]
    #[should_panic(expected = "output slice")]
    fn bulk_lookup_with_short_output_is_a_caller_bug() {
        let t = Lpm4::build(&[(0, 0, 1u8)]).unwrap();
        t.lookup_bulk(&[1, 2], &mut [None]);
    }

    #[test]
    fn memory_grows_with_entries() {
        let small = Lpm4::build(&[(0, 0, 0u32)]).unwrap();
        let entries: Vec<_> = (0..1000u32).map(|i| (i << 8, 24, i)).collect();
        let big = Lpm4::build(&entries).unwrap();
        assert!(big.memory_bytes() > small.memory_bytes());
        assert!(big.memory_bytes() >= 1000 * 8);
    }
}
