//! A hand-written frame builder for fixtures and generated traffic.
//!
//! Independent of the `classify` crate on purpose: these frames are the outside
//! reference its parser is tested against. Every checksum is computed here
//! (RFC 1071 one's complement sum, with the RFC 793 / RFC 8200 §8.1 pseudo-headers).

use std::net::{Ipv4Addr, Ipv6Addr};

pub const ETH_IPV4: u16 = 0x0800;
pub const ETH_IPV6: u16 = 0x86DD;
pub const ETH_ARP: u16 = 0x0806;
pub const ETH_VLAN: u16 = 0x8100;
pub const ETH_QINQ: u16 = 0x88A8;
pub const ETH_QINQ_OLD: u16 = 0x9100;
pub const ETH_PPPOE_DISC: u16 = 0x8863;
pub const ETH_PPPOE_SESS: u16 = 0x8864;
pub const PPP_IPV4: u16 = 0x0021;
pub const PPP_IPV6: u16 = 0x0057;

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// Layer 2 of a frame: addresses, stacked tags (outermost first) and PPPoE session.
#[derive(Debug, Clone)]
pub struct L2 {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// (TPID, TCI) pairs, outermost first.
    pub tags: Vec<(u16, u16)>,
    /// PPPoE session id, when the frame is a PPPoE session frame.
    pub pppoe: Option<u16>,
}

impl Default for L2 {
    fn default() -> Self {
        Self {
            dst: [0x02, 0, 0, 0, 0, 0x02],
            src: [0x02, 0, 0, 0, 0, 0x01],
            tags: Vec::new(),
            pppoe: None,
        }
    }
}

/// Layer 3.
#[derive(Debug, Clone)]
pub enum L3 {
    V4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        id: u16,
        dont_fragment: bool,
        more_fragments: bool,
        /// Fragment offset in 8-byte units.
        frag_offset: u16,
        /// Options, padded here to a multiple of 4 bytes.
        options: Vec<u8>,
    },
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        /// Extension headers in order: (next-header value identifying this header, body
        /// after the first two bytes). Fragment headers (44) take an 6-byte body.
        ext: Vec<(u8, Vec<u8>)>,
    },
}

impl L3 {
    pub fn v4(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        L3::V4 {
            src,
            dst,
            ttl: 64,
            id: 0x1234,
            dont_fragment: true,
            more_fragments: false,
            frag_offset: 0,
            options: Vec::new(),
        }
    }

    pub fn v6(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        L3::V6 {
            src,
            dst,
            hop_limit: 64,
            ext: Vec::new(),
        }
    }
}

/// Layer 4 (what follows the IP header chain).
#[derive(Debug, Clone)]
pub enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        options: Vec<u8>,
        payload: Vec<u8>,
    },
    Udp {
        sport: u16,
        dport: u16,
        payload: Vec<u8>,
    },
    /// ICMPv4 or ICMPv6 (chosen by the L3 family): type, code, rest of header + body.
    Icmp { ty: u8, code: u8, body: Vec<u8> },
    /// Any protocol number with raw bytes (for fragments and odd protocols).
    Raw { proto: u8, bytes: Vec<u8> },
}

impl L4 {
    pub fn tcp(sport: u16, dport: u16, flags: u8) -> Self {
        L4::Tcp {
            sport,
            dport,
            seq: 0x1000_0000,
            ack: if flags & TCP_ACK != 0 { 0x2000_0000 } else { 0 },
            flags,
            window: 64240,
            options: Vec::new(),
            payload: Vec::new(),
        }
    }

    pub fn syn(sport: u16, dport: u16) -> Self {
        // A SYN as Linux sends it: MSS, SACK permitted, timestamps, window scale.
        let mut t = Self::tcp(sport, dport, TCP_SYN);
        if let L4::Tcp { options, .. } = &mut t {
            *options = vec![
                2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
            ];
        }
        t
    }

    fn proto(&self, v6: bool) -> u8 {
        match self {
            L4::Tcp { .. } => PROTO_TCP,
            L4::Udp { .. } => PROTO_UDP,
            L4::Icmp { .. } if v6 => PROTO_ICMPV6,
            L4::Icmp { .. } => PROTO_ICMP,
            L4::Raw { proto, .. } => *proto,
        }
    }
}

/// RFC 1071 sum over `data`, starting from `initial` (not yet complemented).
pub fn ones_sum(initial: u32, data: &[u8]) -> u32 {
    let mut sum = initial;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

/// Folds and complements a sum into the checksum field value.
pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn l4_bytes(l4: &L4) -> Vec<u8> {
    match l4 {
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
            options,
            payload,
        } => {
            let mut opts = options.clone();
            while opts.len() % 4 != 0 {
                opts.push(0);
            }
            let data_off = (20 + opts.len()) / 4;
            let mut b = Vec::with_capacity(20 + opts.len() + payload.len());
            b.extend_from_slice(&sport.to_be_bytes());
            b.extend_from_slice(&dport.to_be_bytes());
            b.extend_from_slice(&seq.to_be_bytes());
            b.extend_from_slice(&ack.to_be_bytes());
            b.push((data_off as u8) << 4);
            b.push(*flags);
            b.extend_from_slice(&window.to_be_bytes());
            b.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
            b.extend_from_slice(&opts);
            b.extend_from_slice(payload);
            b
        }
        L4::Udp {
            sport,
            dport,
            payload,
        } => {
            let mut b = Vec::with_capacity(8 + payload.len());
            b.extend_from_slice(&sport.to_be_bytes());
            b.extend_from_slice(&dport.to_be_bytes());
            b.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(payload);
            b
        }
        L4::Icmp { ty, code, body } => {
            let mut b = vec![*ty, *code, 0, 0];
            b.extend_from_slice(body);
            b
        }
        L4::Raw { bytes, .. } => bytes.clone(),
    }
}

/// Offset of the checksum field inside the L4 bytes, if the protocol has one.
fn l4_csum_offset(l4: &L4) -> Option<usize> {
    match l4 {
        L4::Tcp { .. } => Some(16),
        L4::Udp { .. } => Some(6),
        L4::Icmp { .. } => Some(2),
        L4::Raw { .. } => None,
    }
}

/// Builds the whole frame, with every checksum valid and padded to the 60-byte
/// Ethernet minimum (padding is not counted in the IP or PPPoE lengths).
pub fn build(l2: &L2, l3: &L3, l4: &L4) -> Vec<u8> {
    let mut l4b = l4_bytes(l4);
    let ip = match l3 {
        L3::V4 {
            src,
            dst,
            ttl,
            id,
            dont_fragment,
            more_fragments,
            frag_offset,
            options,
        } => {
            let proto = l4.proto(false);
            if let Some(off) = l4_csum_offset(l4) {
                // Only a whole (unfragmented) segment gets a checksum that covers it.
                let mut sum = 0;
                if !matches!(l4, L4::Icmp { .. }) {
                    let mut ph = Vec::with_capacity(12);
                    ph.extend_from_slice(&src.octets());
                    ph.extend_from_slice(&dst.octets());
                    ph.extend_from_slice(&[0, proto]);
                    ph.extend_from_slice(&(l4b.len() as u16).to_be_bytes());
                    sum = ones_sum(0, &ph);
                }
                let c = fold(ones_sum(sum, &l4b));
                l4b[off..off + 2].copy_from_slice(&c.to_be_bytes());
            }
            let mut opts = options.clone();
            while opts.len() % 4 != 0 {
                opts.push(0);
            }
            let ihl = (20 + opts.len()) / 4;
            let total = 20 + opts.len() + l4b.len();
            let mut h = Vec::with_capacity(total);
            h.push(0x40 | ihl as u8);
            h.push(0);
            h.extend_from_slice(&(total as u16).to_be_bytes());
            h.extend_from_slice(&id.to_be_bytes());
            let flags = (u16::from(*dont_fragment) << 14) | (u16::from(*more_fragments) << 13);
            h.extend_from_slice(&(flags | (frag_offset & 0x1fff)).to_be_bytes());
            h.push(*ttl);
            h.push(proto);
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&src.octets());
            h.extend_from_slice(&dst.octets());
            h.extend_from_slice(&opts);
            let c = fold(ones_sum(0, &h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
            h.extend_from_slice(&l4b);
            h
        }
        L3::V6 {
            src,
            dst,
            hop_limit,
            ext,
        } => {
            let proto = l4.proto(true);
            if let Some(off) = l4_csum_offset(l4) {
                let mut ph = Vec::with_capacity(40);
                ph.extend_from_slice(&src.octets());
                ph.extend_from_slice(&dst.octets());
                ph.extend_from_slice(&(l4b.len() as u32).to_be_bytes());
                ph.extend_from_slice(&[0, 0, 0, proto]);
                let c = fold(ones_sum(ones_sum(0, &ph), &l4b));
                l4b[off..off + 2].copy_from_slice(&c.to_be_bytes());
            }
            // Extension headers: each names the *next* header in its first byte.
            let mut chain = Vec::new();
            for (i, (_, body)) in ext.iter().enumerate() {
                let next = ext.get(i + 1).map(|(t, _)| *t).unwrap_or(proto);
                let mut b = body.clone();
                let is_frag = ext[i].0 == 44;
                if !is_frag {
                    while (b.len() + 2) % 8 != 0 {
                        b.push(0);
                    }
                }
                chain.push(next);
                chain.push(if is_frag {
                    0
                } else {
                    ((b.len() + 2) / 8 - 1) as u8
                });
                chain.extend_from_slice(&b);
            }
            let first = ext.first().map(|(t, _)| *t).unwrap_or(proto);
            let plen = chain.len() + l4b.len();
            let mut h = Vec::with_capacity(40 + plen);
            h.extend_from_slice(&[0x60, 0, 0, 0]);
            h.extend_from_slice(&(plen as u16).to_be_bytes());
            h.push(first);
            h.push(*hop_limit);
            h.extend_from_slice(&src.octets());
            h.extend_from_slice(&dst.octets());
            h.extend_from_slice(&chain);
            h.extend_from_slice(&l4b);
            h
        }
    };
    let (ethertype, ppp) = match l3 {
        L3::V4 { .. } => (ETH_IPV4, PPP_IPV4),
        L3::V6 { .. } => (ETH_IPV6, PPP_IPV6),
    };
    let mut f = Vec::with_capacity(ip.len() + 40);
    f.extend_from_slice(&l2.dst);
    f.extend_from_slice(&l2.src);
    for (tpid, tci) in &l2.tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    match l2.pppoe {
        Some(session) => {
            f.extend_from_slice(&ETH_PPPOE_SESS.to_be_bytes());
            f.push(0x11); // version 1, type 1 (RFC 2516 §4)
            f.push(0x00); // code 0: session data
            f.extend_from_slice(&session.to_be_bytes());
            f.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
            f.extend_from_slice(&ppp.to_be_bytes());
        }
        None => f.extend_from_slice(&ethertype.to_be_bytes()),
    }
    f.extend_from_slice(&ip);
    pad(f)
}

/// Pads to the 60-byte Ethernet minimum (without FCS).
pub fn pad(mut f: Vec<u8>) -> Vec<u8> {
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

/// An ARP request (who-has `target` tell `sender`), broadcast.
pub fn arp_request(l2: &L2, sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&l2.src);
    for (tpid, tci) in &l2.tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ETH_ARP.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&l2.src);
    f.extend_from_slice(&sender.octets());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&target.octets());
    pad(f)
}

/// A PPPoE discovery frame (PADI), which the appliance must pass untouched.
pub fn pppoe_padi(l2: &L2) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&l2.src);
    for (tpid, tci) in &l2.tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ETH_PPPOE_DISC.to_be_bytes());
    // ver/type, code PADI (0x09), session 0, length 4, tag Service-Name (0x0101) empty.
    f.extend_from_slice(&[0x11, 0x09, 0, 0, 0, 4, 0x01, 0x01, 0, 0]);
    pad(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_tcp_checksums_verify_to_zero() {
        let f = build(
            &L2::default(),
            &L3::v4(Ipv4Addr::new(198, 51, 100, 7), Ipv4Addr::new(192, 0, 2, 25)),
            &L4::syn(40000, 25),
        );
        let ip = &f[14..];
        assert_eq!(fold(ones_sum(0, &ip[..20])), 0, "IPv4 header checksum");
        let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
        let tcp = &ip[20..total];
        let mut ph = Vec::new();
        ph.extend_from_slice(&ip[12..20]);
        ph.extend_from_slice(&[0, 6]);
        ph.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        assert_eq!(fold(ones_sum(ones_sum(0, &ph), tcp)), 0, "TCP checksum");
        assert_eq!(u16::from_be_bytes([tcp[2], tcp[3]]), 25);
    }

    #[test]
    fn pppoe_length_covers_ppp_protocol_and_ip_packet_only() {
        let l2 = L2 {
            tags: vec![(ETH_VLAN, 100)],
            pppoe: Some(0x1234),
            ..L2::default()
        };
        let f = build(
            &l2,
            &L3::v6(
                "2001:db8:100::1".parse().unwrap(),
                "2001:db8:ff::25".parse().unwrap(),
            ),
            &L4::syn(40000, 25),
        );
        assert_eq!(&f[12..14], &ETH_VLAN.to_be_bytes());
        assert_eq!(&f[16..18], &ETH_PPPOE_SESS.to_be_bytes());
        let len = u16::from_be_bytes([f[22], f[23]]) as usize;
        let ip_len = 40 + u16::from_be_bytes([f[24 + 2 + 4], f[24 + 2 + 5]]) as usize;
        assert_eq!(len, ip_len + 2);
        assert_eq!(f.len(), 24 + len);
    }

    #[test]
    fn short_frames_are_padded_to_the_ethernet_minimum() {
        let f = build(
            &L2::default(),
            &L3::v4(Ipv4Addr::new(198, 51, 100, 7), Ipv4Addr::new(192, 0, 2, 1)),
            &L4::Udp {
                sport: 1,
                dport: 2,
                payload: vec![],
            },
        );
        assert_eq!(f.len(), 60);
        assert_eq!(u16::from_be_bytes([f[16], f[17]]), 28);
    }
}
