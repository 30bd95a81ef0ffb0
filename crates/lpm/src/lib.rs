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
//! This is the simple, obviously-correct version: one sorted table per prefix length
//! that is actually used, probed from the longest length down with a binary search.
//! A lookup costs at most one binary search per distinct prefix length in the table
//! (at most 33 for IPv4, 129 for IPv6; real configurations use a handful). The API is
//! deliberately small so a faster structure (poptrie, DXR) can replace the internals.
//!
//! [`reference`] holds a linear-scan model used by the property tests.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub mod reference;

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

/// All prefixes of one length, sorted by network address.
#[derive(Debug, Clone)]
struct Level<A, V> {
    len: u8,
    mask: A,
    keys: Box<[A]>,
    values: Box<[V]>,
}

/// The shared implementation behind [`Lpm4`] and [`Lpm6`].
#[derive(Debug, Clone)]
struct Table<A, V> {
    /// Non-empty levels, longest prefix length first.
    levels: Box<[Level<A, V>]>,
    len: usize,
}

impl<A: Addr, V: Copy> Table<A, V> {
    fn build(entries: &[(A, u8, V)]) -> Result<Self, LpmError> {
        // Validate every entry first, so errors are reported in entry order.
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
        // Report the duplicate whose second occurrence comes earliest in the input.
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
        let mut levels = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let len = entries[order[start]].1;
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| entries[i].1 == len)
                    .count();
            let keys = order[start..end].iter().map(|&i| entries[i].0).collect();
            let values = order[start..end].iter().map(|&i| entries[i].2).collect();
            levels.push(Level {
                len,
                mask: A::mask(len),
                keys,
                values,
            });
            start = end;
        }
        Ok(Table {
            levels: levels.into_boxed_slice(),
            len: entries.len(),
        })
    }

    #[inline]
    fn lookup(&self, addr: A) -> Option<V> {
        for level in self.levels.iter() {
            if let Ok(i) = level.keys.binary_search(&addr.and(level.mask)) {
                return Some(level.values[i]);
            }
        }
        None
    }

    fn lookup_bulk(&self, addrs: &[A], out: &mut [Option<V>]) {
        assert!(
            out.len() >= addrs.len(),
            "lookup_bulk: output slice ({}) shorter than input ({})",
            out.len(),
            addrs.len()
        );
        for (addr, slot) in addrs.iter().zip(out.iter_mut()) {
            *slot = self.lookup(*addr);
        }
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .levels
                .iter()
                .map(|l| {
                    std::mem::size_of::<Level<A, V>>()
                        + l.keys.len() * std::mem::size_of::<A>()
                        + l.values.len() * std::mem::size_of::<V>()
                })
                .sum::<usize>()
    }

    fn prefix_lengths(&self) -> impl Iterator<Item = u8> + '_ {
        self.levels.iter().map(|l| l.len)
    }
}

macro_rules! lpm_type {
    ($name:ident, $addr:ty, $bits:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name<V> {
            table: Table<$addr, V>,
        }

        impl<V: Copy> $name<V> {
            #[doc = concat!("Builds the map from `(network address, prefix length 0..=", $bits, ", value)` entries.")]
            ///
            /// Entries may nest (a longer prefix inside a shorter one); the longest wins at
            /// lookup. Errors: an address with host bits set ([`LpmError::HostBits`]), the
            /// same prefix twice ([`LpmError::Duplicate`], pointing at the second
            /// occurrence), a length beyond the address width ([`LpmError::BadLength`]).
            pub fn build(entries: &[($addr, u8, V)]) -> Result<Self, LpmError> {
                Ok(Self {
                    table: Table::build(entries)?,
                })
            }

            /// The value of the longest prefix containing `addr` (host order), if any.
            /// Never allocates.
            #[inline]
            pub fn lookup(&self, addr: $addr) -> Option<V> {
                self.table.lookup(addr)
            }

            /// [`lookup`](Self::lookup) for a burst: `out[i] = lookup(addrs[i])`.
            ///
            /// # Panics
            /// If `out` is shorter than `addrs` (a caller bug, not a data condition).
            pub fn lookup_bulk(&self, addrs: &[$addr], out: &mut [Option<V>]) {
                self.table.lookup_bulk(addrs, out)
            }

            /// Number of prefixes in the map.
            pub fn len(&self) -> usize {
                self.table.len
            }

            /// True when the map holds no prefix.
            pub fn is_empty(&self) -> bool {
                self.table.len == 0
            }

            /// Approximate heap and inline memory used by the lookup structure, in bytes.
            pub fn memory_bytes(&self) -> usize {
                self.table.memory_bytes()
            }

            /// The distinct prefix lengths present, longest first.
            pub fn prefix_lengths(&self) -> impl Iterator<Item = u8> + '_ {
                self.table.prefix_lengths()
            }
        }

        impl<V: Copy> Default for $name<V> {
            fn default() -> Self {
                Self {
                    table: Table {
                        levels: Box::new([]),
                        len: 0,
                    },
                }
            }
        }
    };
}

lpm_type!(
    Lpm4,
    u32,
    "32",
    "An IPv4 longest-prefix-match map; addresses are host-order `u32` (`u32::from(Ipv4Addr)`)."
);
lpm_type!(
    Lpm6,
    u128,
    "128",
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
