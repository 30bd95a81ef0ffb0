//! The Internet checksum (RFC 1071) and the TCP/ICMPv6 pseudo-headers
//! (RFC 9293 §3.1, RFC 8200 §8.1).

/// Adds `data` to a running one's-complement sum (not yet folded).
///
/// Bytes are summed as big-endian 16-bit words; an odd trailing byte is padded
/// with a zero octet on the right, as RFC 1071 §4.1 does.
pub fn accumulate(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_be_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        // Sum the four 16-bit words of the 64-bit word.
        sum += (word >> 48) + ((word >> 32) & 0xffff) + ((word >> 16) & 0xffff) + (word & 0xffff);
    }
    let mut rest = chunks.remainder().chunks_exact(2);
    for pair in &mut rest {
        sum += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = rest.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds a running sum to 16 bits and complements it: the value to store in a
/// checksum field.
pub fn finish(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The checksum of `data` alone (IPv4 header, ICMPv4 message).
pub fn checksum(data: &[u8]) -> u16 {
    finish(accumulate(0, data))
}

/// The IPv4 pseudo-header sum for an upper-layer protocol (RFC 9293 §3.1).
pub fn pseudo_header_v4(src: u32, dst: u32, protocol: u8, length: u16) -> u64 {
    let mut sum = accumulate(0, &src.to_be_bytes());
    sum = accumulate(sum, &dst.to_be_bytes());
    sum + u64::from(protocol) + u64::from(length)
}

/// The IPv6 pseudo-header sum for an upper-layer protocol (RFC 8200 §8.1).
pub fn pseudo_header_v6(src: u128, dst: u128, next_header: u8, length: u32) -> u64 {
    let mut sum = accumulate(0, &src.to_be_bytes());
    sum = accumulate(sum, &dst.to_be_bytes());
    sum + u64::from(length) + u64::from(next_header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_to_the_documented_value() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_the_last_byte_on_the_right() {
        assert_eq!(checksum(&[0x12]), !0x1200);
        assert_eq!(checksum(&[0x00, 0x01, 0x02]), !0x0201);
    }

    #[test]
    fn a_buffer_including_its_own_checksum_verifies_to_zero() {
        let mut data = [
            0x45, 0x00, 0x00, 0x28, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
        ];
        let sum = checksum(&data);
        data[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn long_buffers_agree_with_a_word_by_word_sum() {
        let data: Vec<u8> = (0..1001u32).map(|i| (i * 37 % 251) as u8).collect();
        let mut reference: u64 = 0;
        for pair in data.chunks(2) {
            let hi = u64::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map_or(0, u64::from);
            reference += hi | lo;
        }
        assert_eq!(checksum(&data), finish(reference));
    }
}
