//! Test frames: IP packets from etherparse's PacketBuilder, wrapped in every
//! access encapsulation (the L2 wrapping is by hand so that every TPID and
//! PPPoE can be chosen).

#![allow(dead_code)]

use etherparse::PacketBuilder;
use std::net::IpAddr;

pub const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
pub const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xfe];

/// Layer-2 encapsulations seen on access networks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encap {
    Untagged,
    /// 802.1Q C-tag with this TCI.
    Dot1q(u16),
    /// Stacked tags: (TPID, TCI) outermost first, the last tag's type is the payload's.
    Tags(Vec<(u16, u16)>),
    /// PPPoE session, untagged.
    Pppoe(u16),
    /// PPPoE session inside these tags.
    PppoeIn(Vec<(u16, u16)>, u16),
}

impl Encap {
    /// One of each encapsulation the issue lists.
    pub fn all() -> Vec<(&'static str, Encap)> {
        vec![
            ("untagged", Encap::Untagged),
            ("dot1q", Encap::Dot1q(0x2064)),
            (
                "qinq_88a8",
                Encap::Tags(vec![(0x88a8, 0x0010), (0x8100, 0x0064)]),
            ),
            (
                "qinq_9100",
                Encap::Tags(vec![(0x9100, 0x0011), (0x8100, 0x0065)]),
            ),
            ("pppoe", Encap::Pppoe(0x1234)),
            (
                "pppoe_in_vlan",
                Encap::PppoeIn(vec![(0x8100, 0x0300)], 0x4321),
            ),
            (
                "pppoe_in_qinq",
                Encap::PppoeIn(vec![(0x88a8, 0x0020), (0x8100, 0x0301)], 0x0001),
            ),
        ]
    }

    pub fn tags(&self) -> Vec<(u16, u16)> {
        match self {
            Encap::Untagged | Encap::Pppoe(_) => vec![],
            Encap::Dot1q(tci) => vec![(0x8100, *tci)],
            Encap::Tags(t) | Encap::PppoeIn(t, _) => t.clone(),
        }
    }

    pub fn pppoe_session(&self) -> Option<u16> {
        match self {
            Encap::Pppoe(s) | Encap::PppoeIn(_, s) => Some(*s),
            _ => None,
        }
    }
}

/// Wraps an IP packet (`v6` selects the EtherType / PPP protocol).
pub fn wrap(encap: &Encap, dst_mac: [u8; 6], ip: &[u8], v6: bool) -> Vec<u8> {
    let mut frame = Vec::with_capacity(ip.len() + 64);
    frame.extend_from_slice(&dst_mac);
    frame.extend_from_slice(&CLIENT_MAC);
    for (tpid, tci) in encap.tags() {
        frame.extend_from_slice(&tpid.to_be_bytes());
        frame.extend_from_slice(&tci.to_be_bytes());
    }
    match encap.pppoe_session() {
        Some(session) => {
            frame.extend_from_slice(&0x8864u16.to_be_bytes());
            frame.extend_from_slice(&[0x11, 0x00]);
            frame.extend_from_slice(&session.to_be_bytes());
            frame.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
            frame.extend_from_slice(if v6 { &[0x00, 0x57] } else { &[0x00, 0x21] });
        }
        None => frame.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] }),
    }
    frame.extend_from_slice(ip);
    // Pad like a NIC would, so that padding after the IP packet is exercised.
    if frame.len() < 60 {
        frame.resize(60, 0);
    }
    frame
}

/// A TCP segment to build.
#[derive(Clone, Debug)]
pub struct Seg {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    pub payload: Vec<u8>,
}

impl Seg {
    /// A SYN from `src` to `dst:dport`.
    pub fn syn(src: &str, dst: &str, dport: u16) -> Seg {
        Seg {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            sport: 49152,
            dport,
            seq: 0x1000_0000,
            ack: None,
            syn: true,
            fin: false,
            rst: false,
            psh: false,
            payload: vec![],
        }
    }

    pub fn ports(mut self, sport: u16, dport: u16) -> Seg {
        self.sport = sport;
        self.dport = dport;
        self
    }

    pub fn seq(mut self, seq: u32) -> Seg {
        self.seq = seq;
        self
    }

    pub fn ack(mut self, ack: u32) -> Seg {
        self.ack = Some(ack);
        self
    }

    pub fn no_syn(mut self) -> Seg {
        self.syn = false;
        self
    }

    pub fn fin(mut self) -> Seg {
        self.fin = true;
        self
    }

    pub fn rst(mut self) -> Seg {
        self.rst = true;
        self
    }

    pub fn data(mut self, payload: &[u8]) -> Seg {
        self.payload = payload.to_vec();
        self.psh = !payload.is_empty();
        self
    }

    pub fn is_v6(&self) -> bool {
        self.src.is_ipv6()
    }

    /// The IP packet, built by etherparse.
    pub fn ip_packet(&self) -> Vec<u8> {
        let builder = match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 61),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 61),
            _ => panic!("mixed address families"),
        };
        let mut tcp = builder.tcp(self.sport, self.dport, self.seq, 64240);
        if self.syn {
            tcp = tcp.syn();
        }
        if let Some(ack) = self.ack {
            tcp = tcp.ack(ack);
        }
        if self.fin {
            tcp = tcp.fin();
        }
        if self.rst {
            tcp = tcp.rst();
        }
        if self.psh {
            tcp = tcp.psh();
        }
        let mut out = Vec::new();
        tcp.write(&mut out, &self.payload).unwrap();
        out
    }

    /// The whole frame in `encap`, sent to the router's unicast MAC.
    pub fn frame(&self, encap: &Encap) -> Vec<u8> {
        wrap(encap, ROUTER_MAC, &self.ip_packet(), self.is_v6())
    }
}

/// A UDP datagram frame (not TCP).
pub fn udp_frame(encap: &Encap, src: &str, dst: &str, dport: u16) -> Vec<u8> {
    let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    let builder = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
        _ => panic!("mixed address families"),
    };
    let mut out = Vec::new();
    builder.udp(5353, dport).write(&mut out, b"hello").unwrap();
    wrap(encap, ROUTER_MAC, &out, src.is_ipv6())
}

/// An ICMP echo request or an ICMP error (destination unreachable) frame.
pub fn icmp_frame(encap: &Encap, src: &str, dst: &str, error: bool) -> Vec<u8> {
    let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    let mut out = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let b = PacketBuilder::ipv4(s.octets(), d.octets(), 64);
            let b = if error {
                b.icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(
                    etherparse::icmpv4::DestUnreachableHeader::Port,
                ))
            } else {
                b.icmpv4_echo_request(1, 1)
            };
            b.write(&mut out, &[0u8; 28]).unwrap();
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let b = PacketBuilder::ipv6(s.octets(), d.octets(), 64);
            let b = if error {
                b.icmpv6(etherparse::Icmpv6Type::DestinationUnreachable(
                    etherparse::icmpv6::DestUnreachableCode::Port,
                ))
            } else {
                b.icmpv6_echo_request(1, 1)
            };
            b.write(&mut out, &[0u8; 48]).unwrap();
        }
        _ => panic!("mixed address families"),
    }
    wrap(encap, ROUTER_MAC, &out, src.is_ipv6())
}
