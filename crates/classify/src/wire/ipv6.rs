//! IPv6 headers (RFC 8200 §3) and the extension headers op25b walks through
//! (RFC 8200 §4: Hop-by-Hop Options, Routing, Fragment, Destination Options).

use super::{read_u16, write_u16, Error};

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: usize = 8;
    pub const DST_ADDR: usize = 24;
    pub const PAYLOAD: usize = 40;
}

/// A view over an IPv6 packet.
///
/// `new_checked` enforces version 6 and that the 40-octet header plus Payload
/// Length fits in the buffer; octets beyond (Ethernet padding) are ignored.
/// A jumbogram (RFC 2675, Payload Length 0 with a Jumbo option) is seen as a
/// packet with an empty payload; the extension-header walk then runs off its end.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Length of the fixed header.
    pub const HEADER_LEN: usize = 40;

    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer and validates the header (see the type's documentation).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let packet = Self::new_unchecked(buffer);
        let len = packet.buffer.as_ref().len();
        if len < Self::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if packet.version() != 6 {
            return Err(Error::BadVersion);
        }
        if Self::HEADER_LEN + usize::from(packet.payload_len()) > len {
            return Err(Error::Truncated);
        }
        Ok(packet)
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version field.
    pub fn version(&self) -> u8 {
        self.data()[field::VER_TC_FLOW] >> 4
    }

    /// Payload Length: octets after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        read_u16(self.data(), field::PAYLOAD_LEN)
    }

    /// Next Header of the fixed header.
    pub fn next_header(&self) -> u8 {
        self.data()[field::NEXT_HEADER]
    }

    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.data()[field::HOP_LIMIT]
    }

    /// Source address, host order.
    pub fn src_addr(&self) -> u128 {
        read_u128(self.data(), field::SRC_ADDR)
    }

    /// Destination address, host order.
    pub fn dst_addr(&self) -> u128 {
        read_u128(self.data(), field::DST_ADDR)
    }

    /// Everything after the fixed header up to Payload Length.
    pub fn payload(&self) -> &[u8] {
        &self.data()[field::PAYLOAD..field::PAYLOAD + usize::from(self.payload_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Writes a fixed header with traffic class 0 and flow label 0 (RFC 8200 §3).
    pub fn emit_header(
        &mut self,
        payload_len: u16,
        next_header: u8,
        hop_limit: u8,
        src: u128,
        dst: u128,
    ) {
        let data = self.buffer.as_mut();
        data[field::VER_TC_FLOW..field::VER_TC_FLOW + 4].copy_from_slice(&[0x60, 0, 0, 0]);
        write_u16(data, field::PAYLOAD_LEN, payload_len);
        data[field::NEXT_HEADER] = next_header;
        data[field::HOP_LIMIT] = hop_limit;
        data[field::SRC_ADDR..field::SRC_ADDR + 16].copy_from_slice(&src.to_be_bytes());
        data[field::DST_ADDR..field::DST_ADDR + 16].copy_from_slice(&dst.to_be_bytes());
    }
}

fn read_u128(data: &[u8], at: usize) -> u128 {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&data[at..at + 16]);
    u128::from_be_bytes(bytes)
}

/// A view over an extension header in the generic format of RFC 8200 §4
/// (Next Header, Hdr Ext Len in 8-octet units not counting the first 8):
/// Hop-by-Hop Options, Routing and Destination Options share it.
#[derive(Debug, Clone)]
pub struct Ipv6ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6ExtHeader<T> {
    /// Minimum length of an extension header.
    pub const MIN_LEN: usize = 8;

    /// Wraps a buffer, failing when it cannot hold the whole header its length field declares.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let header = Ipv6ExtHeader { buffer };
        let data = header.buffer.as_ref();
        if data.len() < Self::MIN_LEN || header.header_len() > data.len() {
            return Err(Error::Truncated);
        }
        Ok(header)
    }

    /// Next Header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The whole header's length in octets: (Hdr Ext Len + 1) × 8.
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[1]) + 1) * 8
    }
}

/// A view over a Routing header (RFC 8200 §4.4).
#[derive(Debug, Clone)]
pub struct Ipv6RoutingHeader<T: AsRef<[u8]>> {
    header: Ipv6ExtHeader<T>,
}

impl<T: AsRef<[u8]>> Ipv6RoutingHeader<T> {
    /// Wraps a buffer, failing when it cannot hold the whole header.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        Ok(Ipv6RoutingHeader {
            header: Ipv6ExtHeader::new_checked(buffer)?,
        })
    }

    /// The generic part.
    pub fn ext(&self) -> &Ipv6ExtHeader<T> {
        &self.header
    }

    /// Routing Type.
    pub fn routing_type(&self) -> u8 {
        self.header.buffer.as_ref()[2]
    }

    /// Segments Left: route segments still to visit before the final destination.
    pub fn segments_left(&self) -> u8 {
        self.header.buffer.as_ref()[3]
    }
}

/// A view over a Fragment header (RFC 8200 §4.5), always 8 octets.
#[derive(Debug, Clone)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    /// Length of the header.
    pub const HEADER_LEN: usize = 8;

    /// Wraps a buffer, failing when it holds fewer than 8 octets.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < Self::HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Ipv6FragmentHeader { buffer })
    }

    /// Next Header: the first header of the fragmentable part.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Fragment Offset in units of 8 octets.
    pub fn frag_offset_units(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 2) >> 3
    }

    /// The M flag: more fragments follow.
    pub fn more_frags(&self) -> bool {
        read_u16(self.buffer.as_ref(), 2) & 1 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(payload_len: u16, next_header: u8, extra: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 40];
        v[0] = 0x60;
        v[4..6].copy_from_slice(&payload_len.to_be_bytes());
        v[6] = next_header;
        v[7] = 64;
        v[8..10].copy_from_slice(&[0x20, 0x01]);
        v[10..12].copy_from_slice(&[0x0d, 0xb8]);
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn payload_length_past_the_buffer_is_truncated() {
        assert_eq!(
            Ipv6Packet::new_checked(&packet(1, 6, &[])[..]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Ipv6Packet::new_checked(&[0x60u8; 39][..]).err(),
            Some(Error::Truncated)
        );
        let mut v4 = packet(0, 6, &[]);
        v4[0] = 0x45;
        assert_eq!(
            Ipv6Packet::new_checked(&v4[..]).err(),
            Some(Error::BadVersion)
        );
    }

    #[test]
    fn fields_decode_and_padding_is_excluded() {
        let bytes = packet(2, 59, &[1, 2, 3, 4]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload(), &[1, 2]);
        assert_eq!(p.src_addr() >> 96, 0x2001_0db8);
        assert_eq!((p.next_header(), p.hop_limit()), (59, 64));
    }

    #[test]
    fn extension_header_lengths_count_eight_octet_units() {
        let ext = [6u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            Ipv6ExtHeader::new_checked(&ext[..]).unwrap().header_len(),
            16
        );
        assert_eq!(
            Ipv6ExtHeader::new_checked(&ext[..15]).err(),
            Some(Error::Truncated)
        );
        let routing = [6u8, 0, 4, 2, 0, 0, 0, 0];
        let r = Ipv6RoutingHeader::new_checked(&routing[..]).unwrap();
        assert_eq!(
            (r.routing_type(), r.segments_left(), r.ext().next_header()),
            (4, 2, 6)
        );
    }

    #[test]
    fn fragment_header_decodes_offset_and_m_flag() {
        let frag = [6u8, 0, 0x00, 0x19, 0, 0, 0, 1];
        let f = Ipv6FragmentHeader::new_checked(&frag[..]).unwrap();
        assert_eq!(
            (f.next_header(), f.frag_offset_units(), f.more_frags()),
            (6, 3, true)
        );
        assert!(Ipv6FragmentHeader::new_checked(&frag[..7]).is_err());
    }
}
