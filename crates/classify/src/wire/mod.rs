//! Checked, zero-copy views over the headers op25b reads and writes.
//!
//! Modelled on smoltcp's `wire` module: every header is a `View<T: AsRef<[u8]>>`
//! over a byte buffer, the byte offsets of its fields live in one small `field`
//! module of named ranges, and `new_checked` validates the lengths once so that
//! no accessor can panic afterwards. Untrusted input always enters through
//! `new_checked`; `new_unchecked` exists for buffers this crate has sized itself
//! (the reply builders), where every setter is still bounds-checked by slicing.
//!
//! Setters are available when `T: AsMut<[u8]>`; the reply builders use them to
//! emit headers straight into the caller's buffer.

pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod pppoe;
pub mod tcp;

pub use ethernet::{EthernetFrame, VlanTag};
pub use icmp::IcmpMessage;
pub use ipv4::Ipv4Packet;
pub use ipv6::{Ipv6ExtHeader, Ipv6FragmentHeader, Ipv6Packet, Ipv6RoutingHeader};
pub use pppoe::PppoeHeader;
pub use tcp::TcpSegment;

use core::fmt;

/// Why a header could not be viewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer ends before the header (or the length it declares) does.
    Truncated,
    /// A version, type or code field holds a value this header cannot have.
    BadVersion,
    /// A header-length field is below the header's minimum.
    BadHeaderLength,
    /// A total-length field is inconsistent with the header length.
    BadLength,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "buffer shorter than the header or its declared length",
            Error::BadVersion => "unexpected version, type or code",
            Error::BadHeaderLength => "header length field below the minimum",
            Error::BadLength => "length field inconsistent with the header length",
        })
    }
}

impl std::error::Error for Error {}

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers") used here.
pub mod ip_protocol {
    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: u8 = 0;
    /// ICMP for IPv4 (RFC 792).
    pub const ICMP: u8 = 1;
    /// TCP (RFC 9293).
    pub const TCP: u8 = 6;
    /// IPv6 Routing header (RFC 8200 §4.4).
    pub const IPV6_ROUTING: u8 = 43;
    /// IPv6 Fragment header (RFC 8200 §4.5).
    pub const IPV6_FRAGMENT: u8 = 44;
    /// ICMP for IPv6 (RFC 4443).
    pub const ICMPV6: u8 = 58;
    /// IPv6 No Next Header (RFC 8200 §4.7).
    pub const IPV6_NO_NEXT_HEADER: u8 = 59;
    /// IPv6 Destination Options (RFC 8200 §4.6).
    pub const IPV6_DEST_OPTIONS: u8 = 60;
}

#[inline]
pub(crate) fn read_u16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

#[inline]
pub(crate) fn read_u32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

#[inline]
pub(crate) fn write_u16(data: &mut [u8], at: usize, value: u16) {
    data[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

#[inline]
pub(crate) fn write_u32(data: &mut [u8], at: usize, value: u32) {
    data[at..at + 4].copy_from_slice(&value.to_be_bytes());
}
