//! TCP headers (RFC 9293 §3.1).

use super::{read_u16, read_u32, write_u16, write_u32, Error};

/// TCP control bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN-Echo.
    pub const ECE: u8 = 0x40;
    /// Congestion Window Reduced.
    pub const CWR: u8 = 0x80;
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ_NUM: usize = 4;
    pub const ACK_NUM: usize = 8;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// A view over a TCP segment.
///
/// `new_checked` requires the 20-octet fixed header and a Data Offset of at
/// least 5; it does *not* require the options to be present, because a first
/// fragment may end inside them. [`header_len`] may therefore exceed the
/// buffer; [`payload`] is empty then. Callers that see a whole segment check
/// [`is_complete`].
///
/// [`header_len`]: TcpSegment::header_len
/// [`payload`]: TcpSegment::payload
/// [`is_complete`]: TcpSegment::is_complete
#[derive(Debug, Clone)]
pub struct TcpSegment<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpSegment<T> {
    /// Length of the fixed header.
    pub const MIN_HEADER_LEN: usize = 20;

    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        TcpSegment { buffer }
    }

    /// Wraps a buffer and validates the fixed header (see the type's documentation).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let segment = Self::new_unchecked(buffer);
        if segment.buffer.as_ref().len() < Self::MIN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if segment.header_len() < Self::MIN_HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        Ok(segment)
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read_u16(self.data(), field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(self.data(), field::DST_PORT)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        read_u32(self.data(), field::SEQ_NUM)
    }

    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        read_u32(self.data(), field::ACK_NUM)
    }

    /// Header length in octets (Data Offset × 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.data()[field::DATA_OFFSET] >> 4) * 4
    }

    /// The eight control bits (see [`flags`]).
    pub fn flags(&self) -> u8 {
        self.data()[field::FLAGS]
    }

    /// Window.
    pub fn window(&self) -> u16 {
        read_u16(self.data(), field::WINDOW)
    }

    /// Checksum as carried.
    pub fn checksum(&self) -> u16 {
        read_u16(self.data(), field::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        read_u16(self.data(), field::URGENT)
    }

    /// True when the whole header, options included, is in the buffer.
    pub fn is_complete(&self) -> bool {
        self.header_len() <= self.data().len()
    }

    /// Data after the header (empty when the header runs past the buffer).
    pub fn payload(&self) -> &[u8] {
        let data = self.data();
        &data[self.header_len().min(data.len())..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpSegment<T> {
    /// Writes a 20-octet header without options, with a zero checksum and
    /// urgent pointer; [`set_checksum`](TcpSegment::set_checksum) follows.
    pub fn emit_header(
        &mut self,
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
    ) {
        let data = self.buffer.as_mut();
        write_u16(data, field::SRC_PORT, src_port);
        write_u16(data, field::DST_PORT, dst_port);
        write_u32(data, field::SEQ_NUM, seq);
        write_u32(data, field::ACK_NUM, ack);
        data[field::DATA_OFFSET] = 5 << 4;
        data[field::FLAGS] = flags;
        write_u16(data, field::WINDOW, window);
        write_u16(data, field::CHECKSUM, 0);
        write_u16(data, field::URGENT, 0);
    }

    /// Stores the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_header_is_required_but_options_may_be_cut() {
        assert_eq!(
            TcpSegment::new_checked(&[0u8; 19][..]).err(),
            Some(Error::Truncated)
        );
        let mut bytes = [0u8; 20];
        bytes[12] = 4 << 4;
        assert_eq!(
            TcpSegment::new_checked(&bytes[..]).err(),
            Some(Error::BadHeaderLength)
        );
        bytes[12] = 15 << 4;
        let segment = TcpSegment::new_checked(&bytes[..]).unwrap();
        assert!(!segment.is_complete());
        assert!(segment.payload().is_empty());
    }

    #[test]
    fn emitted_fields_read_back() {
        let mut bytes = [0xffu8; 24];
        TcpSegment::new_unchecked(&mut bytes[..]).emit_header(
            25,
            40000,
            7,
            0xffff_ffff,
            flags::RST | flags::ACK,
            0,
        );
        let s = TcpSegment::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            (s.src_port(), s.dst_port(), s.seq_number(), s.ack_number()),
            (25, 40000, 7, u32::MAX)
        );
        assert_eq!(
            (s.flags(), s.window(), s.urgent(), s.header_len()),
            (0x14, 0, 0, 20)
        );
        assert_eq!(s.payload(), &[0xff; 4]);
    }
}
