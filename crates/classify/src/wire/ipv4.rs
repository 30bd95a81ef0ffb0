//! IPv4 headers (RFC 791 §3.1), including options and fragmentation fields.

use super::{checksum, read_u16, read_u32, write_u16, write_u32, Error};

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: usize = 12;
    pub const DST_ADDR: usize = 16;
}

/// A view over an IPv4 packet.
///
/// `new_checked` enforces RFC 791: version 4, IHL ≥ 5 (20 octets), Total
/// Length ≥ the header length, and Total Length within the buffer. Octets after
/// Total Length (Ethernet padding) are allowed and ignored by [`payload`].
///
/// [`payload`]: Ipv4Packet::payload
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Length of a header without options.
    pub const MIN_HEADER_LEN: usize = 20;
    /// The Don't Fragment flag in the flags/fragment-offset word.
    pub const FLAG_DF: u16 = 0x4000;
    /// The More Fragments flag in the flags/fragment-offset word.
    pub const FLAG_MF: u16 = 0x2000;

    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer and validates the header (see the type's documentation).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    fn check(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < Self::MIN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 {
            return Err(Error::BadVersion);
        }
        let header_len = self.header_len();
        if header_len < Self::MIN_HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        let total = usize::from(self.total_len());
        if total < header_len {
            return Err(Error::BadLength);
        }
        if total > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version field.
    pub fn version(&self) -> u8 {
        self.data()[field::VER_IHL] >> 4
    }

    /// The header length in octets (IHL × 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.data()[field::VER_IHL] & 0x0f) * 4
    }

    /// The DSCP/ECN octet (formerly Type of Service).
    pub fn dscp_ecn(&self) -> u8 {
        self.data()[field::DSCP_ECN]
    }

    /// Total Length: header plus data, in octets.
    pub fn total_len(&self) -> u16 {
        read_u16(self.data(), field::LENGTH)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        read_u16(self.data(), field::IDENT)
    }

    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        read_u16(self.data(), field::FLG_OFF) & Self::FLAG_DF != 0
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        read_u16(self.data(), field::FLG_OFF) & Self::FLAG_MF != 0
    }

    /// Fragment Offset in units of 8 octets.
    pub fn frag_offset_units(&self) -> u16 {
        read_u16(self.data(), field::FLG_OFF) & 0x1fff
    }

    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.data()[field::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.data()[field::PROTOCOL]
    }

    /// Header Checksum as carried.
    pub fn checksum(&self) -> u16 {
        read_u16(self.data(), field::CHECKSUM.start)
    }

    /// Source address, host order.
    pub fn src_addr(&self) -> u32 {
        read_u32(self.data(), field::SRC_ADDR)
    }

    /// Destination address, host order.
    pub fn dst_addr(&self) -> u32 {
        read_u32(self.data(), field::DST_ADDR)
    }

    /// True when the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.data()[..self.header_len()]) == 0
    }

    /// The header, options included.
    pub fn header(&self) -> &[u8] {
        &self.data()[..self.header_len()]
    }

    /// The data after the header, up to Total Length.
    pub fn payload(&self) -> &[u8] {
        &self.data()[self.header_len()..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Writes the fixed 20-octet header of a locally originated, unfragmented
    /// datagram with no options: version 4, IHL 5, DSCP/ECN 0, ID 0, DF set,
    /// the given TTL, protocol, Total Length and addresses, and a valid
    /// checksum over exactly these 20 octets.
    pub fn emit_header(&mut self, total_len: u16, ttl: u8, protocol: u8, src: u32, dst: u32) {
        let data = self.buffer.as_mut();
        data[field::VER_IHL] = 0x45;
        data[field::DSCP_ECN] = 0;
        write_u16(data, field::LENGTH, total_len);
        write_u16(data, field::IDENT, 0);
        write_u16(data, field::FLG_OFF, Self::FLAG_DF);
        data[field::TTL] = ttl;
        data[field::PROTOCOL] = protocol;
        write_u16(data, field::CHECKSUM.start, 0);
        write_u32(data, field::SRC_ADDR, src);
        write_u32(data, field::DST_ADDR, dst);
        let sum = checksum::checksum(&data[..Self::MIN_HEADER_LEN]);
        write_u16(data, field::CHECKSUM.start, sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ver_ihl: u8, total: u16, flg_off: u16) -> Vec<u8> {
        let mut v = vec![0u8; usize::from(total).max(20)];
        v[0] = ver_ihl;
        v[2..4].copy_from_slice(&total.to_be_bytes());
        v[6..8].copy_from_slice(&flg_off.to_be_bytes());
        v[8] = 64;
        v[9] = 6;
        v[12..16].copy_from_slice(&[192, 0, 2, 1]);
        v[16..20].copy_from_slice(&[198, 51, 100, 9]);
        v
    }

    #[test]
    fn lying_lengths_are_rejected() {
        assert_eq!(
            Ipv4Packet::new_checked(&[0x45u8; 19][..]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&header(0x44, 40, 0)[..]).err(),
            Some(Error::BadHeaderLength)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&header(0x65, 40, 0)[..]).err(),
            Some(Error::BadVersion)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&header(0x46, 20, 0)[..]).err(),
            Some(Error::BadLength)
        );
        let mut long = header(0x45, 40, 0);
        long[2..4].copy_from_slice(&41u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&long[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn padding_after_total_length_is_not_payload() {
        let mut bytes = header(0x45, 24, 0);
        bytes.extend_from_slice(&[0xee; 6]);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.payload().len(), 4);
    }

    #[test]
    fn fragment_fields_decode() {
        let bytes = header(0x45, 28, Ipv4Packet::<&[u8]>::FLAG_MF | 3);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.more_frags());
        assert!(!packet.dont_frag());
        assert_eq!(packet.frag_offset_units(), 3);
        assert_eq!(packet.src_addr(), 0xc000_0201);
        assert_eq!(packet.dst_addr(), 0xc633_6409);
    }

    #[test]
    fn emitted_header_has_a_valid_checksum_and_the_fixed_fields() {
        let mut bytes = [0xffu8; 40];
        let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
        packet.emit_header(40, 64, 6, 0xc633_6409, 0xc000_0201);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum());
        assert!(packet.dont_frag());
        assert_eq!(
            (packet.ident(), packet.ttl(), packet.header_len()),
            (0, 64, 20)
        );
    }
}
