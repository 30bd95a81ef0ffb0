//! PPPoE session-stage headers (RFC 2516 §4 and §6) and the PPP protocol
//! field they carry (RFC 1661 §2).

use super::{read_u16, write_u16, Error};

/// PPP protocol numbers (RFC 1661 §2, IANA "PPP DLL Protocol Numbers").
pub mod ppp_protocol {
    /// Internet Protocol version 4 (RFC 1332).
    pub const IPV4: u16 = 0x0021;
    /// Internet Protocol version 6 (RFC 5072).
    pub const IPV6: u16 = 0x0057;
    /// Link Control Protocol.
    pub const LCP: u16 = 0xc021;
}

mod field {
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const SESSION_ID: usize = 2;
    pub const LENGTH: usize = 4;
    pub const PAYLOAD: usize = 6;
}

/// A view over a PPPoE session-stage header and the PPP frame it carries.
///
/// `new_checked` enforces RFC 2516 §4: VER = 1, TYPE = 1, and for the session
/// stage CODE = 0x00; and that the LENGTH field (the PPPoE payload, i.e. the
/// PPP protocol field plus the PPP payload, not counting Ethernet padding)
/// does not run past the buffer.
#[derive(Debug, Clone)]
pub struct PppoeHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PppoeHeader<T> {
    /// Length of the PPPoE header (VER/TYPE, CODE, SESSION_ID, LENGTH).
    pub const HEADER_LEN: usize = 6;
    /// VER and TYPE, both 1, as one octet.
    pub const VER_TYPE: u8 = 0x11;
    /// CODE of every session-stage frame.
    pub const CODE_SESSION_DATA: u8 = 0x00;

    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        PppoeHeader { buffer }
    }

    /// Wraps a buffer and validates the header (see the type's documentation).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let header = Self::new_unchecked(buffer);
        header.check()?;
        Ok(header)
    }

    fn check(&self) -> Result<(), Error> {
        let data = self.buffer.as_ref();
        if data.len() < Self::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if data[field::VER_TYPE] != Self::VER_TYPE || data[field::CODE] != Self::CODE_SESSION_DATA {
            return Err(Error::BadVersion);
        }
        if Self::HEADER_LEN + usize::from(self.length()) > data.len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The session identifier.
    pub fn session_id(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::SESSION_ID)
    }

    /// The LENGTH field: octets of PPPoE payload after this header.
    pub fn length(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The PPPoE payload: exactly `length()` octets (Ethernet padding excluded).
    pub fn payload(&self) -> &[u8] {
        let end = Self::HEADER_LEN + usize::from(self.length());
        &self.buffer.as_ref()[field::PAYLOAD..end]
    }

    /// The PPP protocol field and its size in octets (2, or 1 when the peer
    /// negotiated Protocol-Field-Compression: RFC 1661 §6.5, a compressed
    /// field is a single octet with its least significant bit set).
    /// `None` when the payload is empty or too short for the field.
    pub fn ppp_protocol(&self) -> Option<(u16, usize)> {
        match self.payload() {
            [first, ..] if first & 1 == 1 => Some((u16::from(*first), 1)),
            [hi, lo, ..] => Some((u16::from_be_bytes([*hi, *lo]), 2)),
            _ => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> PppoeHeader<T> {
    /// Sets the LENGTH field.
    pub fn set_length(&mut self, length: u16) {
        write_u16(self.buffer.as_mut(), field::LENGTH, length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(length: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x11, 0x00, 0x12, 0x34];
        v.extend_from_slice(&length.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn length_past_the_buffer_is_truncated() {
        let bytes = session(10, &[0x00, 0x21, 0x45]);
        assert_eq!(
            PppoeHeader::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn discovery_codes_and_other_versions_are_not_session_frames() {
        let mut bytes = session(2, &[0x00, 0x21]);
        bytes[1] = 0x09; // PADI
        assert_eq!(
            PppoeHeader::new_checked(&bytes[..]).err(),
            Some(Error::BadVersion)
        );
        let mut bytes = session(2, &[0x00, 0x21]);
        bytes[0] = 0x21;
        assert_eq!(
            PppoeHeader::new_checked(&bytes[..]).err(),
            Some(Error::BadVersion)
        );
    }

    #[test]
    fn payload_stops_at_the_length_field_not_at_the_padding() {
        let bytes = session(3, &[0x00, 0x57, 0x60, 0, 0, 0]);
        let header = PppoeHeader::new_checked(&bytes[..]).unwrap();
        assert_eq!(header.session_id(), 0x1234);
        assert_eq!(header.payload(), &[0x00, 0x57, 0x60]);
        assert_eq!(header.ppp_protocol(), Some((ppp_protocol::IPV6, 2)));
    }

    #[test]
    fn compressed_protocol_field_is_one_octet() {
        let bytes = session(2, &[0x21, 0x45]);
        let header = PppoeHeader::new_checked(&bytes[..]).unwrap();
        assert_eq!(header.ppp_protocol(), Some((ppp_protocol::IPV4, 1)));
        let bytes = session(1, &[0x00]);
        assert_eq!(
            PppoeHeader::new_checked(&bytes[..]).unwrap().ppp_protocol(),
            None
        );
    }
}
