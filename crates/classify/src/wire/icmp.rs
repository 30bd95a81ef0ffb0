//! The first eight octets shared by ICMPv4 error messages (RFC 792) and
//! ICMPv6 error messages (RFC 4443 §2.1): type, code, checksum and four
//! octets that are unused (or type-specific) for the messages built here.

use super::{write_u16, Error};

/// ICMPv4 Destination Unreachable (RFC 792).
pub const ICMPV4_DEST_UNREACHABLE: u8 = 3;
/// ICMPv4 code 13, Communication Administratively Prohibited (RFC 1812 §5.2.7.1).
pub const ICMPV4_CODE_ADMIN_PROHIBITED: u8 = 13;
/// ICMPv6 Destination Unreachable (RFC 4443 §3.1).
pub const ICMPV6_DEST_UNREACHABLE: u8 = 1;
/// ICMPv6 code 1, communication with destination administratively prohibited.
pub const ICMPV6_CODE_ADMIN_PROHIBITED: u8 = 1;

/// True for ICMPv4 types that are error messages, about which no ICMP error
/// may be sent (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7): Destination Unreachable,
/// Source Quench, Redirect, Time Exceeded, Parameter Problem.
pub fn is_icmpv4_error(icmp_type: u8) -> bool {
    matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
}

/// True for ICMPv6 error messages: types 0–127 (RFC 4443 §2.1, §2.4(e)).
pub fn is_icmpv6_error(icmp_type: u8) -> bool {
    icmp_type < 128
}

/// A view over an ICMP message header (type, code, checksum, rest-of-header).
#[derive(Debug, Clone)]
pub struct IcmpMessage<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpMessage<T> {
    /// Length of the header that precedes the quoted datagram.
    pub const HEADER_LEN: usize = 8;

    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        IcmpMessage { buffer }
    }

    /// Wraps a buffer, failing when it holds fewer than 8 octets.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < Self::HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(IcmpMessage { buffer })
    }

    /// Type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The data after the 8-octet header (the quoted datagram for errors).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[Self::HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IcmpMessage<T> {
    /// Writes type and code, and zeroes the checksum and the four
    /// rest-of-header octets (unused, or a zero next-hop MTU, for the
    /// Destination Unreachable messages built here).
    pub fn emit_header(&mut self, msg_type: u8, code: u8) {
        let data = self.buffer.as_mut();
        data[0] = msg_type;
        data[1] = code;
        data[2..8].fill(0);
    }

    /// Stores the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), 2, value);
    }

    /// The data after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[Self::HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_classified_per_rfc() {
        assert!(is_icmpv4_error(3) && is_icmpv4_error(11) && is_icmpv4_error(5));
        assert!(!is_icmpv4_error(0) && !is_icmpv4_error(8));
        assert!(is_icmpv6_error(1) && is_icmpv6_error(127));
        assert!(!is_icmpv6_error(128) && !is_icmpv6_error(135));
    }

    #[test]
    fn header_emits_and_reads_back() {
        let mut bytes = [0xaau8; 10];
        let mut m = IcmpMessage::new_unchecked(&mut bytes[..]);
        m.emit_header(3, 13);
        m.payload_mut()[0] = 0x45;
        let m = IcmpMessage::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            (m.msg_type(), m.code(), m.payload()),
            (3, 13, &[0x45, 0xaa][..])
        );
        assert!(IcmpMessage::new_checked(&bytes[..7]).is_err());
    }
}
