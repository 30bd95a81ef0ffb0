//! The independent reference: re-parses a reply frame with etherparse (plus
//! a hand-written PPPoE step, which etherparse lacks) and verifies every
//! checksum. Shared by the integration tests and the cargo-fuzz target.

#![allow(dead_code)]

use etherparse::{
    Ethernet2HeaderSlice, Icmpv4Slice, Icmpv6Slice, NetSlice, SingleVlanHeaderSlice, SlicedPacket,
    TcpHeader, TransportSlice,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The transport part of a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyL4 {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        syn: bool,
        ack_flag: bool,
        rst: bool,
        fin: bool,
        psh: bool,
        window: u16,
        data_offset: u8,
        urgent: u16,
        payload_len: usize,
    },
    Icmp {
        icmp_type: u8,
        code: u8,
        rest_of_header: [u8; 4],
        quote: Vec<u8>,
    },
}

/// A reply frame as etherparse sees it.
#[derive(Clone, Debug)]
pub struct ReplyView {
    pub frame_len: usize,
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    /// (TPID, TCI) of each VLAN tag, outermost first.
    pub tags: Vec<(u16, u16)>,
    /// (session id, LENGTH) of the PPPoE header.
    pub pppoe: Option<(u16, u16)>,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub hop_limit: u8,
    /// IPv4: (DF, MF, ID, header length); IPv6: extension headers present.
    pub ipv4_fields: Option<(bool, bool, u16, usize)>,
    pub ipv6_has_extensions: bool,
    /// Length of the IP packet (total length / 40 + payload length).
    pub ip_len: usize,
    pub l4: ReplyL4,
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// Re-parses `frame` and checks it: Ethernet minimum size, PPPoE LENGTH, IP
/// lengths, all checksums. Returns what it found or a description of the defect.
pub fn check_reply(frame: &[u8]) -> Result<ReplyView, String> {
    if frame.len() < 60 {
        return Err(format!(
            "frame of {} octets is below the Ethernet minimum",
            frame.len()
        ));
    }
    let eth = Ethernet2HeaderSlice::from_slice(frame).map_err(|e| format!("ethernet: {e}"))?;
    let mut ether_type = eth.ether_type().0;
    let mut rest = &frame[14..];
    let mut tags = Vec::new();
    while matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
        let tag = SingleVlanHeaderSlice::from_slice(rest).map_err(|e| format!("vlan: {e}"))?;
        let bytes = tag.slice();
        tags.push((ether_type, be16(&bytes[0..2])));
        ether_type = tag.ether_type().0;
        rest = &rest[4..];
    }
    let mut pppoe = None;
    let mut ppp_proto_len = 0usize;
    let ip_bytes: &[u8] = match ether_type {
        0x0800 | 0x86dd => rest,
        0x8864 => {
            if rest.len() < 8 || rest[0] != 0x11 || rest[1] != 0 {
                return Err("bad PPPoE session header".into());
            }
            let session = be16(&rest[2..4]);
            let length = be16(&rest[4..6]);
            if 6 + usize::from(length) > rest.len() {
                return Err(format!("PPPoE LENGTH {length} runs past the frame"));
            }
            pppoe = Some((session, length));
            let ppp = &rest[6..6 + usize::from(length)];
            let Some(first) = ppp.first() else {
                return Err("empty PPPoE payload".into());
            };
            ppp_proto_len = if first & 1 == 1 { 1 } else { 2 };
            &ppp[ppp_proto_len..]
        }
        other => return Err(format!("unexpected ethertype {other:#06x}")),
    };
    let sliced = SlicedPacket::from_ip(ip_bytes).map_err(|e| format!("ip: {e}"))?;
    let (src, dst, hop_limit, ipv4_fields, ipv6_has_extensions, ip_len, l4_pseudo) =
        match &sliced.net {
            Some(NetSlice::Ipv4(v4)) => {
                let header = v4.header().to_header();
                if header.calc_header_checksum() != header.header_checksum {
                    return Err("IPv4 header checksum invalid".into());
                }
                let fields = (
                    header.dont_fragment,
                    header.more_fragments,
                    header.identification,
                    header.header_len(),
                );
                (
                    IpAddr::V4(Ipv4Addr::from(header.source)),
                    IpAddr::V4(Ipv4Addr::from(header.destination)),
                    header.time_to_live,
                    Some(fields),
                    false,
                    usize::from(header.total_len),
                    Pseudo::V4(header.source, header.destination),
                )
            }
            Some(NetSlice::Ipv6(v6)) => {
                let header = v6.header().to_header();
                let has_ext = !v6.extensions().is_empty();
                (
                    IpAddr::V6(Ipv6Addr::from(header.source)),
                    IpAddr::V6(Ipv6Addr::from(header.destination)),
                    header.hop_limit,
                    None,
                    has_ext,
                    40 + usize::from(header.payload_length),
                    Pseudo::V6(header.source, header.destination),
                )
            }
            _ => return Err("no IP layer".into()),
        };
    if let Some((_, length)) = pppoe {
        if usize::from(length) != ppp_proto_len + ip_len {
            return Err(format!(
                "PPPoE LENGTH {length} does not match IP length {ip_len}"
            ));
        }
    }
    let l4 = match sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let (header, payload) =
                TcpHeader::from_slice(tcp.slice()).map_err(|e| format!("tcp: {e}"))?;
            let expected = match l4_pseudo {
                Pseudo::V4(s, d) => header.calc_checksum_ipv4_raw(s, d, payload),
                Pseudo::V6(s, d) => header.calc_checksum_ipv6_raw(s, d, payload),
            }
            .map_err(|e| format!("tcp checksum: {e}"))?;
            if expected != header.checksum {
                return Err("TCP checksum invalid".into());
            }
            ReplyL4::Tcp {
                src_port: header.source_port,
                dst_port: header.destination_port,
                seq: header.sequence_number,
                ack: header.acknowledgment_number,
                syn: header.syn,
                ack_flag: header.ack,
                rst: header.rst,
                fin: header.fin,
                psh: header.psh,
                window: header.window_size,
                data_offset: header.data_offset(),
                urgent: header.urgent_pointer,
                payload_len: payload.len(),
            }
        }
        Some(TransportSlice::Icmpv4(icmp)) => icmpv4(&icmp)?,
        Some(TransportSlice::Icmpv6(icmp)) => {
            let Pseudo::V6(s, d) = l4_pseudo else {
                return Err("ICMPv6 in IPv4".into());
            };
            icmpv6(&icmp, s, d)?
        }
        _ => return Err("no TCP or ICMP layer".into()),
    };
    Ok(ReplyView {
        frame_len: frame.len(),
        dst_mac: eth.destination(),
        src_mac: eth.source(),
        tags,
        pppoe,
        src,
        dst,
        hop_limit,
        ipv4_fields,
        ipv6_has_extensions,
        ip_len,
        l4,
    })
}

enum Pseudo {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

fn icmpv4(icmp: &Icmpv4Slice<'_>) -> Result<ReplyL4, String> {
    let header = icmp.header();
    if header.icmp_type.calc_checksum(icmp.payload()) != header.checksum {
        return Err("ICMPv4 checksum invalid".into());
    }
    Ok(ReplyL4::Icmp {
        icmp_type: icmp.type_u8(),
        code: icmp.code_u8(),
        rest_of_header: icmp.bytes5to8(),
        quote: icmp.payload().to_vec(),
    })
}

fn icmpv6(icmp: &Icmpv6Slice<'_>, src: [u8; 16], dst: [u8; 16]) -> Result<ReplyL4, String> {
    if !icmp.is_checksum_valid(src, dst) {
        return Err("ICMPv6 checksum invalid".into());
    }
    Ok(ReplyL4::Icmp {
        icmp_type: icmp.type_u8(),
        code: icmp.code_u8(),
        rest_of_header: icmp.bytes5to8(),
        quote: icmp.payload().to_vec(),
    })
}
