//! RST and ICMP replies to a blocked TCP segment, built into a buffer the
//! caller provides (the dataplane hands in a fresh mbuf's data room).
//!
//! The reply goes back out of the port the segment came in on and appears to
//! come from the segment's destination:
//!
//! - Layer 2: MACs swapped; the original VLAN tags (TPIDs and TCIs, in order)
//!   and PPPoE session header copied, with the PPPoE LENGTH recomputed for the
//!   reply; frames shorter than the Ethernet minimum padded with zeros to 60
//!   octets (PPPoE LENGTH excludes the padding, RFC 2516 §4).
//! - IPv4: no options, TTL 64, DF set, ID 0 (RFC 6864 §4.1 allows a constant
//!   ID for atomic datagrams), header checksum valid.
//! - IPv6: hop limit 64, no extension headers, traffic class and flow label 0.
//! - RST (RFC 9293 §3.10.7.1 "If the connection does not exist (CLOSED)"):
//!   to a segment without ACK, `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`
//!   where SEG.LEN counts the data plus one for SYN and one for FIN, modulo
//!   2^32; to a segment with ACK, `<SEQ=SEG.ACK><CTL=RST>` with ACK field 0.
//!   Window 0, no options, checksum valid.
//! - ICMPv4 type 3 code 13 (RFC 1812 §5.2.7.1) quoting the original IP header
//!   and as much of the datagram as keeps the ICMP datagram within 576 octets
//!   (RFC 1812 §4.3.2.3, more than RFC 792's header + 8 octets).
//! - ICMPv6 type 1 code 1 (RFC 4443 §3.1) quoting as much of the packet as
//!   keeps the reply within the minimum MTU, 1280 octets (RFC 4443 §2.4(c)).
//!
//! Never sent ([`reply_allowed`]): to anything but a parsed TCP segment (so
//! never to a non-first fragment or an ICMP error), to a segment with RST
//! set, to a frame addressed to a broadcast or multicast MAC, or between
//! addresses that are not unicast (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e)); and
//! not to an IPv6 packet whose Routing header still has segments to visit
//! (its destination field is not the final destination the reply must come
//! from).

use crate::parse::{Family, Outcome, Parsed, MAX_VLAN_TAGS};
use crate::wire::icmp::{
    ICMPV4_CODE_ADMIN_PROHIBITED, ICMPV4_DEST_UNREACHABLE, ICMPV6_CODE_ADMIN_PROHIBITED,
    ICMPV6_DEST_UNREACHABLE,
};
use crate::wire::tcp::flags;
use crate::wire::{
    checksum, ip_protocol, EthernetFrame, IcmpMessage, Ipv4Packet, Ipv6Packet, PppoeHeader,
    TcpSegment,
};
use core::fmt;

/// The kind of reply an enforce pool's action asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplyKind {
    /// A TCP reset.
    Rst,
    /// ICMP (v4: 3/13, v6: 1/1) administratively prohibited.
    Icmp,
}

/// Why a segment may not be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoReply {
    /// Not a parsed TCP segment (not TCP, a fragment without ports, malformed).
    NotTcp,
    /// The segment is itself a reset.
    Rst,
    /// Sent to a broadcast or multicast MAC address.
    GroupMac,
    /// Source or destination is not a unicast address.
    NotUnicast,
    /// IPv6 Routing header with segments left: the final destination is elsewhere.
    Ipv6Routed,
}

impl fmt::Display for NoReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoReply::NotTcp => "not a TCP segment with ports",
            NoReply::Rst => "segment is a reset",
            NoReply::GroupMac => "sent to a broadcast or multicast MAC",
            NoReply::NotUnicast => "source or destination address is not unicast",
            NoReply::Ipv6Routed => "IPv6 routing header with segments left",
        })
    }
}

/// TTL of IPv4 replies and hop limit of IPv6 replies.
pub const REPLY_HOP_LIMIT: u8 = 64;
/// Smallest Ethernet frame without FCS; shorter replies are zero-padded.
pub const MIN_FRAME_LEN: usize = 60;
/// Largest layer-2 header a reply can carry: Ethernet, [`MAX_VLAN_TAGS`] tags,
/// PPPoE and a 2-octet PPP protocol field.
pub const MAX_L2_HEADER_LEN: usize = 14 + 4 * MAX_VLAN_TAGS + 6 + 2;
/// Largest ICMPv4 reply datagram (RFC 1812 §4.3.2.3).
pub const MAX_ICMPV4_DATAGRAM: usize = 576;
/// Largest ICMPv6 reply packet (RFC 4443 §2.4(c): the IPv6 minimum MTU).
pub const MAX_ICMPV6_PACKET: usize = 1280;
/// A buffer this large always holds any reply.
pub const MAX_REPLY_LEN: usize = MAX_L2_HEADER_LEN + MAX_ICMPV6_PACKET;

const TCP_LEN: usize = 20;
const V4_LEN: usize = 20;
const V6_LEN: usize = 40;
const ICMP_HEADER_LEN: usize = 8;

/// Whether any reply may be sent for this parsed frame (see the module documentation).
pub fn reply_allowed(parsed: &Parsed) -> Result<(), NoReply> {
    if parsed.outcome != Outcome::Tcp {
        return Err(NoReply::NotTcp);
    }
    if parsed.tcp.flags & flags::RST != 0 {
        return Err(NoReply::Rst);
    }
    if parsed.dst_mac_group {
        return Err(NoReply::GroupMac);
    }
    let unicast = match parsed.family {
        Family::V4 => is_unicast_v4(parsed.src as u32) && is_unicast_v4(parsed.dst as u32),
        Family::V6 => is_unicast_v6(parsed.src) && is_unicast_v6(parsed.dst),
        Family::None => false,
    };
    if !unicast {
        return Err(NoReply::NotUnicast);
    }
    if parsed.ipv6_routed {
        return Err(NoReply::Ipv6Routed);
    }
    Ok(())
}

/// Not "this network" 0/8, loopback 127/8, multicast 224/4, reserved 240/4 or
/// limited broadcast (RFC 1812 §4.3.2.7, RFC 6890).
fn is_unicast_v4(addr: u32) -> bool {
    let first = addr >> 24;
    first != 0 && first != 127 && first < 224
}

/// Not unspecified ::, loopback ::1 or multicast ff00::/8 (RFC 4291 §2.5, §2.7).
fn is_unicast_v6(addr: u128) -> bool {
    addr > 1 && (addr >> 120) != 0xff
}

/// Octets the reply of `kind` to `parsed` takes, Ethernet padding included,
/// or `None` when no reply may be sent or `frame` is not the one `parsed` came from.
pub fn reply_len(kind: ReplyKind, frame: &[u8], parsed: &Parsed) -> Option<usize> {
    reply_allowed(parsed).ok()?;
    let (l3, ip_end) = bounds(frame, parsed)?;
    let l3_len = match (kind, parsed.family) {
        (ReplyKind::Rst, Family::V4) => V4_LEN + TCP_LEN,
        (ReplyKind::Rst, _) => V6_LEN + TCP_LEN,
        (ReplyKind::Icmp, Family::V4) => V4_LEN + ICMP_HEADER_LEN + icmpv4_quote_len(ip_end - l3),
        (ReplyKind::Icmp, _) => V6_LEN + ICMP_HEADER_LEN + icmpv6_quote_len(ip_end - l3),
    };
    Some((l3 + l3_len).max(MIN_FRAME_LEN))
}

fn icmpv4_quote_len(original: usize) -> usize {
    original.min(MAX_ICMPV4_DATAGRAM - V4_LEN - ICMP_HEADER_LEN)
}

fn icmpv6_quote_len(original: usize) -> usize {
    original.min(MAX_ICMPV6_PACKET - V6_LEN - ICMP_HEADER_LEN)
}

/// The L3 offset and IP end, checked against the frame and the header sizes
/// the parse promised, so that a `parsed` from another frame cannot panic us.
fn bounds(frame: &[u8], parsed: &Parsed) -> Option<(usize, usize)> {
    let l3 = parsed.l3_offset as usize;
    let l4 = parsed.l4_offset as usize;
    let ip_end = parsed.ip_end as usize;
    let min_l3 = match parsed.family {
        Family::V4 => V4_LEN,
        Family::V6 => V6_LEN,
        Family::None => return None,
    };
    let l2_ok = (EthernetFrame::<&[u8]>::HEADER_LEN..=MAX_L2_HEADER_LEN).contains(&l3);
    let pppoe_ok = parsed.pppoe_session.is_none()
        || (parsed.pppoe_offset as usize + PppoeHeader::<&[u8]>::HEADER_LEN) < l3;
    if l2_ok && pppoe_ok && l3 + min_l3 <= l4 && l4 + TCP_LEN <= ip_end && ip_end <= frame.len() {
        Some((l3, ip_end))
    } else {
        None
    }
}

/// Copies the L2 header with the MACs swapped and the PPPoE LENGTH set for a
/// reply whose IP packet is `ip_len` octets long.
fn emit_l2(frame: &[u8], parsed: &Parsed, l3: usize, ip_len: usize, out: &mut [u8]) {
    out[..l3].copy_from_slice(&frame[..l3]);
    EthernetFrame::new_unchecked(&mut out[..l3]).swap_addrs();
    if parsed.pppoe_session.is_some() {
        let at = parsed.pppoe_offset as usize;
        let ppp_field = l3 - at - PppoeHeader::<&[u8]>::HEADER_LEN;
        // ip_len ≤ 1280 here, so the sum always fits.
        let length = (ppp_field + ip_len) as u16;
        PppoeHeader::new_unchecked(&mut out[at..l3]).set_length(length);
    }
}

/// Builds the RST reply to the segment `parsed` describes (parsed from
/// `frame`) into `out`, and returns the reply's length in octets.
///
/// `None` when no reply may be sent ([`reply_allowed`]), when `parsed` does
/// not fit `frame`, or when `out` is shorter than the reply
/// ([`MAX_REPLY_LEN`] always suffices).
pub fn build_rst(frame: &[u8], parsed: &Parsed, out: &mut [u8]) -> Option<usize> {
    let total = reply_len(ReplyKind::Rst, frame, parsed)?;
    let out = out.get_mut(..total)?;
    let l3 = parsed.l3_offset as usize;
    let seg = parsed.tcp;
    let (seq, ack, ctl) = if seg.flags & flags::ACK != 0 {
        (seg.ack, 0, flags::RST)
    } else {
        let mut seg_len = seg.payload_len;
        if seg.flags & flags::SYN != 0 {
            seg_len = seg_len.wrapping_add(1);
        }
        if seg.flags & flags::FIN != 0 {
            seg_len = seg_len.wrapping_add(1);
        }
        (0, seg.seq.wrapping_add(seg_len), flags::RST | flags::ACK)
    };
    let ip_len = match parsed.family {
        Family::V4 => V4_LEN + TCP_LEN,
        _ => V6_LEN + TCP_LEN,
    };
    emit_l2(frame, parsed, l3, ip_len, out);
    let (ip, rest) = out[l3..].split_at_mut(ip_len - TCP_LEN);
    let tcp_bytes = &mut rest[..TCP_LEN];
    let mut tcp = TcpSegment::new_unchecked(&mut *tcp_bytes);
    tcp.emit_header(seg.dst_port, seg.src_port, seq, ack, ctl, 0);
    let pseudo = match parsed.family {
        Family::V4 => {
            let (src, dst) = (parsed.dst as u32, parsed.src as u32);
            Ipv4Packet::new_unchecked(&mut *ip).emit_header(
                ip_len as u16,
                REPLY_HOP_LIMIT,
                ip_protocol::TCP,
                src,
                dst,
            );
            checksum::pseudo_header_v4(src, dst, ip_protocol::TCP, TCP_LEN as u16)
        }
        _ => {
            Ipv6Packet::new_unchecked(&mut *ip).emit_header(
                TCP_LEN as u16,
                ip_protocol::TCP,
                REPLY_HOP_LIMIT,
                parsed.dst,
                parsed.src,
            );
            checksum::pseudo_header_v6(parsed.dst, parsed.src, ip_protocol::TCP, TCP_LEN as u32)
        }
    };
    let sum = checksum::finish(checksum::accumulate(pseudo, tcp_bytes));
    TcpSegment::new_unchecked(&mut *tcp_bytes).set_checksum(sum);
    out[l3 + ip_len..].fill(0);
    Some(total)
}

/// Builds the ICMP administratively-prohibited reply (ICMPv4 3/13 or ICMPv6
/// 1/1) to the packet `parsed` describes into `out`; returns its length.
///
/// `None` as for [`build_rst`].
pub fn build_icmp(frame: &[u8], parsed: &Parsed, out: &mut [u8]) -> Option<usize> {
    let total = reply_len(ReplyKind::Icmp, frame, parsed)?;
    let out = out.get_mut(..total)?;
    let l3 = parsed.l3_offset as usize;
    let original = &frame[l3..parsed.ip_end as usize];
    let (ip_header_len, quote_len) = match parsed.family {
        Family::V4 => (V4_LEN, icmpv4_quote_len(original.len())),
        _ => (V6_LEN, icmpv6_quote_len(original.len())),
    };
    let icmp_len = ICMP_HEADER_LEN + quote_len;
    let ip_len = ip_header_len + icmp_len;
    emit_l2(frame, parsed, l3, ip_len, out);
    let (ip, rest) = out[l3..].split_at_mut(ip_header_len);
    let icmp_bytes = &mut rest[..icmp_len];
    let mut icmp = IcmpMessage::new_unchecked(&mut *icmp_bytes);
    let pseudo = match parsed.family {
        Family::V4 => {
            icmp.emit_header(ICMPV4_DEST_UNREACHABLE, ICMPV4_CODE_ADMIN_PROHIBITED);
            Ipv4Packet::new_unchecked(&mut *ip).emit_header(
                ip_len as u16,
                REPLY_HOP_LIMIT,
                ip_protocol::ICMP,
                parsed.dst as u32,
                parsed.src as u32,
            );
            0 // ICMPv4's checksum covers the message alone (RFC 792).
        }
        _ => {
            icmp.emit_header(ICMPV6_DEST_UNREACHABLE, ICMPV6_CODE_ADMIN_PROHIBITED);
            Ipv6Packet::new_unchecked(&mut *ip).emit_header(
                icmp_len as u16,
                ip_protocol::ICMPV6,
                REPLY_HOP_LIMIT,
                parsed.dst,
                parsed.src,
            );
            // RFC 4443 §2.3: ICMPv6 includes the pseudo-header.
            checksum::pseudo_header_v6(parsed.dst, parsed.src, ip_protocol::ICMPV6, icmp_len as u32)
        }
    };
    icmp.payload_mut().copy_from_slice(&original[..quote_len]);
    let sum = checksum::finish(checksum::accumulate(pseudo, icmp_bytes));
    IcmpMessage::new_unchecked(&mut *icmp_bytes).set_checksum(sum);
    out[l3 + ip_len..].fill(0);
    Some(total)
}

/// [`build_rst`] or [`build_icmp`] by `kind`.
pub fn build_reply(
    kind: ReplyKind,
    frame: &[u8],
    parsed: &Parsed,
    out: &mut [u8],
) -> Option<usize> {
    match kind {
        ReplyKind::Rst => build_rst(frame, parsed, out),
        ReplyKind::Icmp => build_icmp(frame, parsed, out),
    }
}
