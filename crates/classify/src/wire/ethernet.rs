//! Ethernet II frames (IEEE 802.3 clause 3.2.6 "Length/Type") and the 4-byte
//! VLAN tags of IEEE 802.1Q (C-tag, TPID 0x8100), IEEE 802.1ad (S-tag, TPID
//! 0x88A8) and the pre-standard QinQ TPID 0x9100.

use super::{read_u16, write_u16, Error};

/// EtherType values (IEEE "EtherType" registry) op25b cares about.
pub mod ethertype {
    /// IPv4 (RFC 894).
    pub const IPV4: u16 = 0x0800;
    /// ARP (RFC 826).
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IPv6 (RFC 2464).
    pub const IPV6: u16 = 0x86DD;
    /// PPPoE discovery stage (RFC 2516 §5).
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPPoE session stage (RFC 2516 §6).
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ad service VLAN tag (QinQ).
    pub const QINQ: u16 = 0x88A8;
    /// Pre-802.1ad QinQ tag used by older switches.
    pub const QINQ_LEGACY: u16 = 0x9100;
}

/// True for the TPIDs of a VLAN tag this crate walks through: 0x8100, 0x88A8, 0x9100.
#[inline]
pub fn is_vlan_tpid(ethertype: u16) -> bool {
    matches!(
        ethertype,
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_LEGACY
    )
}

/// True when the Individual/Group bit of a MAC address is set (IEEE 802
/// §8.2): multicast, and the broadcast address ff:ff:ff:ff:ff:ff.
#[inline]
pub fn is_group_address(mac: [u8; 6]) -> bool {
    mac[0] & 0x01 != 0
}

mod field {
    use core::ops::{Range, RangeFrom};
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
    pub const PAYLOAD: RangeFrom<usize> = 14..;
}

/// A view over an Ethernet II frame (without FCS).
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Length of the Ethernet II header: two MACs and the EtherType.
    pub const HEADER_LEN: usize = 14;

    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps a buffer, failing with [`Error::Truncated`] when it cannot hold the header.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that every accessor can be called without panicking.
    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < Self::HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination MAC address.
    pub fn dst_addr(&self) -> [u8; 6] {
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::DESTINATION]);
        mac
    }

    /// Source MAC address.
    pub fn src_addr(&self) -> [u8; 6] {
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::SOURCE]);
        mac
    }

    /// The EtherType (or the TPID of the first VLAN tag).
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ETHERTYPE)
    }

    /// Everything after the 14-byte header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination MAC address.
    pub fn set_dst_addr(&mut self, mac: [u8; 6]) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&mac);
    }

    /// Sets the source MAC address.
    pub fn set_src_addr(&mut self, mac: [u8; 6]) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&mac);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::ETHERTYPE, value);
    }

    /// Swaps source and destination MAC addresses in place.
    pub fn swap_addrs(&mut self) {
        let (dst, src) = (self.dst_addr(), self.src_addr());
        self.set_dst_addr(src);
        self.set_src_addr(dst);
    }
}

mod tag_field {
    pub const TCI: usize = 0;
    pub const ETHERTYPE: usize = 2;
    pub const PAYLOAD: core::ops::RangeFrom<usize> = 4..;
}

/// A view over the 4 bytes that follow a VLAN TPID: the Tag Control
/// Information (IEEE 802.1Q §9.6: PCP, DEI, VID) and the EtherType of what the
/// tag encapsulates (which may be the TPID of a further tag).
#[derive(Debug, Clone)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    /// Length of the tag body (TCI + EtherType).
    pub const HEADER_LEN: usize = 4;

    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        VlanTag { buffer }
    }

    /// Wraps a buffer, failing with [`Error::Truncated`] when it holds fewer than 4 bytes.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let tag = Self::new_unchecked(buffer);
        if tag.buffer.as_ref().len() < Self::HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(tag)
    }

    /// The whole Tag Control Information.
    pub fn tci(&self) -> u16 {
        read_u16(self.buffer.as_ref(), tag_field::TCI)
    }

    /// Priority Code Point.
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop Eligible Indicator.
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// VLAN identifier (12 bits).
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }

    /// EtherType of the encapsulated payload.
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer.as_ref(), tag_field::ETHERTYPE)
    }

    /// Everything after the tag.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[tag_field::PAYLOAD]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 18] = [
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0xa0, 0x64, 0x08, 0x00,
    ];

    #[test]
    fn short_buffers_are_rejected_before_any_accessor_runs() {
        assert_eq!(
            EthernetFrame::new_checked(&FRAME[..13]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            VlanTag::new_checked(&FRAME[14..17]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn fields_read_from_their_documented_offsets() {
        let frame = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(frame.dst_addr(), [2, 0, 0, 0, 0, 2]);
        assert_eq!(frame.src_addr(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(frame.ethertype(), ethertype::VLAN);
        let tag = VlanTag::new_checked(frame.payload()).unwrap();
        assert_eq!(tag.pcp(), 5);
        assert!(!tag.dei());
        assert_eq!(tag.vid(), 100);
        assert_eq!(tag.ethertype(), ethertype::IPV4);
    }

    #[test]
    fn swapping_addresses_exchanges_the_two_macs() {
        let mut bytes = FRAME;
        let mut frame = EthernetFrame::new_checked(&mut bytes[..]).unwrap();
        frame.swap_addrs();
        assert_eq!(frame.dst_addr(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(frame.src_addr(), [2, 0, 0, 0, 0, 2]);
    }

    #[test]
    fn group_bit_covers_broadcast_and_multicast_only() {
        assert!(is_group_address([0xff; 6]));
        assert!(is_group_address([0x01, 0x00, 0x5e, 0, 0, 1]));
        assert!(is_group_address([0x33, 0x33, 0, 0, 0, 1]));
        assert!(!is_group_address([0x02, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn every_qinq_tpid_is_a_vlan_tag() {
        assert!(is_vlan_tpid(0x8100) && is_vlan_tpid(0x88a8) && is_vlan_tpid(0x9100));
        assert!(!is_vlan_tpid(ethertype::IPV4) && !is_vlan_tpid(ethertype::PPPOE_SESSION));
    }
}
