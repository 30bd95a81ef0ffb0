//! A deterministic corpus of malformed and extreme frames, each labelled with
//! what the appliance may do with it under [`VERDICTS_CONFIG`]
//! (`pcap-fixtures/verdicts.yaml`).
//!
//! The frames start as valid segments from [`crate::frame`] and are then broken
//! by hand: truncation at every octet of every header, bad IHL and Total
//! Length, IPv6 extension-header chains that repeat or run past the packet,
//! PPPoE lengths that lie, up to nine stacked VLAN tags, runts, jumbo frames
//! (which a 2048-octet mbuf receives as a chain of segments) and zero-length
//! payloads. The labels come from how each frame was built and from
//! DESIGN.md, never from the classifier, so a replay through op25bd checks the
//! classifier against an outside reference:
//!
//! - [`Expect::Forward`]: not subject to the policy (malformed, not TCP, not a
//!   blocked port, exempt, a relay...). It must leave the other port
//!   byte-identical and in order, and is never answered.
//! - [`Expect::NoReply`]: may be forwarded or dropped but never answered (a RST,
//!   a frame to a group MAC, a tiny fragment, a drop-action pool, an IPv6
//!   source-routed segment...).
//! - [`Expect::Reply`]: a well-formed blocked segment (however odd its
//!   encapsulation or size): answered with that reply, never forwarded.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use crate::fixtures::{Side, VERDICTS_CONFIG};
use crate::frame::{self, L2, L3, L4};
use crate::rng::SplitMix64;

/// The reply a blocked segment gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Rst,
    Icmp,
}

/// What the appliance may do with a frame (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Forward,
    NoReply,
    Reply(ReplyKind),
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Forward => "forward",
            Expect::NoReply => "no-reply",
            Expect::Reply(ReplyKind::Rst) => "rst",
            Expect::Reply(ReplyKind::Icmp) => "icmp",
        }
    }

    pub fn parse(s: &str) -> Option<Expect> {
        Some(match s {
            "forward" => Expect::Forward,
            "no-reply" => Expect::NoReply,
            "rst" => Expect::Reply(ReplyKind::Rst),
            "icmp" => Expect::Reply(ReplyKind::Icmp),
            _ => return None,
        })
    }
}

/// One frame of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// What was done to it, e.g. `truncate/v4/pppoe/37`.
    pub name: String,
    pub frame: Vec<u8>,
    pub expect: Expect,
}

/// Largest frame in the corpus (a 9000-octet MTU plus Ethernet, two tags and PPPoE).
pub const MAX_FRAME: usize = 9000 + 14 + 8 + 8;

/// The subscriber addresses of [`VERDICTS_CONFIG`], by pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// `dyn-rst`: enforce, action rst.
    Rst,
    /// `dyn-icmp`: enforce, action icmp.
    Icmp,
    /// `dyn-drop`: enforce, action drop.
    Drop,
    /// `dyn-monitor`: forwarded, counted.
    Monitor,
    /// `fixed`: exempt.
    Fixed,
    /// In no pool.
    NoPool,
}

impl Who {
    fn v4(self) -> Ipv4Addr {
        let last = match self {
            Who::Rst => 10,
            Who::Icmp => 70,
            Who::Drop => 140,
            Who::Monitor => 200,
            Who::Fixed => 230,
            Who::NoPool => return Ipv4Addr::new(203, 0, 113, 77),
        };
        Ipv4Addr::new(198, 51, 100, last)
    }

    fn v6(self) -> Ipv6Addr {
        let pool = match self {
            Who::Rst => 0x100,
            Who::Icmp => 0x101,
            Who::Drop => 0x102,
            Who::Monitor => 0x103,
            Who::Fixed => 0x104,
            Who::NoPool => 0x999,
        };
        Ipv6Addr::new(0x2001, 0xdb8, pool, 0, 0, 0, 0, 0x10)
    }

    /// The verdict of a well-formed segment on a blocked port, toward a non-relay.
    fn expect(self) -> Expect {
        match self {
            Who::Rst => Expect::Reply(ReplyKind::Rst),
            Who::Icmp => Expect::Reply(ReplyKind::Icmp),
            Who::Drop => Expect::NoReply,
            Who::Monitor | Who::Fixed | Who::NoPool => Expect::Forward,
        }
    }
}

const PEER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const PEER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x200, 0, 0, 0, 0, 0x80);
const RELAY_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 25);
const RELAY_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x25);
const CPE_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x07];
const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x20, 0x00, 0x01];
/// The subscriber's ephemeral port.
const EPHEMERAL: u16 = 49152;

/// A TCP segment between a subscriber and a peer, oriented for its side: from
/// the access port the subscriber sends to `port`, from the core port the peer
/// sends from `port`.
#[derive(Debug, Clone)]
struct Seg {
    side: Side,
    v6: bool,
    who: Who,
    peer_is_relay: bool,
    port: u16,
    flags: u8,
    options: bool,
    payload: usize,
    l2: L2,
}

impl Seg {
    /// The typical blocked segment: a SYN (access) or SYN-ACK (core) with options.
    fn new(side: Side, v6: bool) -> Seg {
        let (src, dst) = match side {
            Side::Access => (CPE_MAC, ROUTER_MAC),
            Side::Core => (ROUTER_MAC, CPE_MAC),
        };
        Seg {
            side,
            v6,
            who: Who::Rst,
            peer_is_relay: false,
            port: 25,
            flags: match side {
                Side::Access => frame::TCP_SYN,
                Side::Core => frame::TCP_SYN | frame::TCP_ACK,
            },
            options: true,
            payload: 0,
            l2: L2 {
                dst,
                src,
                tags: Vec::new(),
                pppoe: None,
            },
        }
    }

    fn encap(mut self, e: Encap) -> Seg {
        self.l2.tags = e.tags();
        self.l2.pppoe = e.pppoe();
        self
    }

    fn who(mut self, who: Who) -> Seg {
        self.who = who;
        self
    }

    fn flags(mut self, flags: u8) -> Seg {
        self.flags = flags;
        self
    }

    fn bare(mut self) -> Seg {
        self.options = false;
        self
    }

    fn payload(mut self, n: usize) -> Seg {
        self.payload = n;
        self
    }

    fn port(mut self, port: u16) -> Seg {
        self.port = port;
        self
    }

    fn l3(&self) -> L3 {
        let (sub, peer) = match (self.v6, self.peer_is_relay) {
            (false, relay) => (
                IpAddr::V4(self.who.v4()),
                IpAddr::V4(if relay { RELAY_V4 } else { PEER_V4 }),
            ),
            (true, relay) => (
                IpAddr::V6(self.who.v6()),
                IpAddr::V6(if relay { RELAY_V6 } else { PEER_V6 }),
            ),
        };
        let (src, dst) = match self.side {
            Side::Access => (sub, peer),
            Side::Core => (peer, sub),
        };
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => L3::v4(s, d),
            (IpAddr::V6(s), IpAddr::V6(d)) => L3::v6(s, d),
            _ => unreachable!("one family per segment"),
        }
    }

    fn l4(&self) -> L4 {
        let (sport, dport) = match self.side {
            Side::Access => (EPHEMERAL, self.port),
            Side::Core => (self.port, EPHEMERAL),
        };
        let mut l4 = if self.options {
            let mut t = L4::syn(sport, dport);
            if let L4::Tcp { flags, ack, .. } = &mut t {
                *flags = self.flags;
                if self.flags & frame::TCP_ACK != 0 {
                    *ack = 0x2000_0000;
                }
            }
            t
        } else {
            L4::tcp(sport, dport, self.flags)
        };
        if let L4::Tcp { payload, .. } = &mut l4 {
            // Printable, and never an octet pair that reads as port 25.
            *payload = (0..self.payload).map(|i| b'A' + (i % 26) as u8).collect();
        }
        l4
    }

    fn frame(&self) -> Vec<u8> {
        frame::build(&self.l2, &self.l3(), &self.l4())
    }

    /// The frame with its IPv6 extension headers (`v6` only).
    fn frame_ext(&self, ext: Vec<(u8, Vec<u8>)>) -> Vec<u8> {
        let mut l3 = self.l3();
        if let L3::V6 { ext: e, .. } = &mut l3 {
            *e = ext;
        }
        frame::build(&self.l2, &l3, &self.l4())
    }

    /// Offset of the IP header.
    fn l3_offset(&self) -> usize {
        14 + 4 * self.l2.tags.len() + if self.l2.pppoe.is_some() { 8 } else { 0 }
    }

    /// The verdict this segment gets when it is well formed.
    fn expect(&self) -> Expect {
        let flags = self.flags;
        if self.port != 25 || self.peer_is_relay {
            return Expect::Forward;
        }
        match self.who.expect() {
            // DESIGN.md: never reply to a RST (the frame is still blocked).
            Expect::Reply(_) if flags & frame::TCP_RST != 0 => Expect::NoReply,
            e => e,
        }
    }
}

/// Layer-2 encapsulations the corpus breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encap {
    Untagged,
    Vlan,
    QinQ,
    Pppoe,
    VlanPppoe,
}

const ENCAPS: [Encap; 5] = [
    Encap::Untagged,
    Encap::Vlan,
    Encap::QinQ,
    Encap::Pppoe,
    Encap::VlanPppoe,
];

impl Encap {
    fn name(self) -> &'static str {
        match self {
            Encap::Untagged => "untagged",
            Encap::Vlan => "vlan",
            Encap::QinQ => "qinq",
            Encap::Pppoe => "pppoe",
            Encap::VlanPppoe => "vlan-pppoe",
        }
    }

    fn tags(self) -> Vec<(u16, u16)> {
        match self {
            Encap::Untagged | Encap::Pppoe => vec![],
            Encap::Vlan | Encap::VlanPppoe => vec![(frame::ETH_VLAN, 100)],
            Encap::QinQ => vec![(frame::ETH_QINQ, 10), (frame::ETH_VLAN, 20)],
        }
    }

    fn pppoe(self) -> Option<u16> {
        matches!(self, Encap::Pppoe | Encap::VlanPppoe).then_some(0x1234)
    }
}

fn fam(v6: bool) -> &'static str {
    if v6 {
        "v6"
    } else {
        "v4"
    }
}

/// Rewrites a big-endian u16 at `at`.
fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// The corpus for frames entering on `side`: deterministic, duplicates removed
/// (the first label of identical bytes wins; the generator's tests check that
/// identical bytes never get different labels).
pub fn corpus(side: Side) -> Vec<Case> {
    let mut out = all_cases(side);
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.frame.clone()));
    out
}

/// Every generated case, duplicates included.
fn all_cases(side: Side) -> Vec<Case> {
    let mut out = Vec::new();
    let mut push = |name: String, frame: Vec<u8>, expect: Expect| {
        out.push(Case {
            name,
            frame,
            expect,
        })
    };
    well_formed(side, &mut push);
    truncations(side, &mut push);
    ipv4_lengths(side, &mut push);
    ipv6_chains(side, &mut push);
    pppoe_lengths(side, &mut push);
    vlan_stacks(side, &mut push);
    runts(side, &mut push);
    sizes(side, &mut push);
    zero_length(side, &mut push);
    out
}

type Push<'a> = dyn FnMut(String, Vec<u8>, Expect) + 'a;

/// The unbroken segments the rest is derived from, in every encapsulation,
/// and the flag and address variants whose verdicts differ.
fn well_formed(side: Side, push: &mut Push<'_>) {
    for v6 in [false, true] {
        for e in ENCAPS {
            let s = Seg::new(side, v6).encap(e);
            push(
                format!("valid/{}/{}", fam(v6), e.name()),
                s.frame(),
                s.expect(),
            );
        }
        let base = Seg::new(side, v6);
        let variants: Vec<(&str, Seg)> = vec![
            ("icmp-pool", base.clone().who(Who::Icmp)),
            ("drop-pool", base.clone().who(Who::Drop)),
            ("monitor-pool", base.clone().who(Who::Monitor)),
            ("exempt-pool", base.clone().who(Who::Fixed)),
            ("no-pool", base.clone().who(Who::NoPool)),
            ("port-587", base.clone().port(587)),
            ("port-465", base.clone().port(465)),
            ("port-2525", base.clone().port(2525)),
            ("relay", {
                let mut s = base.clone();
                s.peer_is_relay = true;
                s
            }),
            ("rst", base.clone().flags(frame::TCP_RST)),
            (
                "rst-ack",
                base.clone().flags(frame::TCP_RST | frame::TCP_ACK),
            ),
            (
                "rst-icmp-pool",
                base.clone().who(Who::Icmp).flags(frame::TCP_RST),
            ),
            (
                "fin-ack",
                base.clone().flags(frame::TCP_FIN | frame::TCP_ACK),
            ),
            ("no-flags", base.clone().flags(0)),
            ("all-flags", base.clone().flags(!frame::TCP_RST)),
        ];
        for (name, s) in variants {
            push(format!("valid/{}/{name}", fam(v6)), s.frame(), s.expect());
        }
        // Never answer a frame sent to a group address (DESIGN.md, replies).
        for (name, mac) in [
            ("broadcast", [0xff; 6]),
            ("multicast", [0x01, 0x00, 0x5e, 0x00, 0x00, 0x19]),
        ] {
            let mut s = base.clone();
            s.l2.dst = mac;
            push(
                format!("valid/{}/{name}", fam(v6)),
                s.frame(),
                Expect::NoReply,
            );
        }
    }
}

/// Every prefix of every base frame: each cuts into a header or the packet
/// the lengths announce, so none is a valid segment.
fn truncations(side: Side, push: &mut Push<'_>) {
    for v6 in [false, true] {
        for e in ENCAPS {
            let f = Seg::new(side, v6).encap(e).frame();
            for k in 0..f.len() {
                push(
                    format!("truncate/{}/{}/{k}", fam(v6), e.name()),
                    f[..k].to_vec(),
                    Expect::Forward,
                );
            }
        }
    }
}

/// The ports a parser would read if it trusted a bad IHL.
fn misread_ports(f: &[u8], l4: usize) -> Option<(u16, u16)> {
    let p = f.get(l4..l4 + 4)?;
    Some((
        u16::from_be_bytes([p[0], p[1]]),
        u16::from_be_bytes([p[2], p[3]]),
    ))
}

/// IPv4 IHL and Total Length that disagree with the packet.
fn ipv4_lengths(side: Side, push: &mut Push<'_>) {
    for e in [Encap::Untagged, Encap::Pppoe] {
        let s = Seg::new(side, false).encap(e);
        let f = s.frame();
        let l3 = s.l3_offset();
        let total = f.len() - l3;
        for ihl in 0..16u8 {
            if ihl == 5 {
                continue;
            }
            let mut g = f.clone();
            g[l3] = 0x40 | ihl;
            // IHL 6-15 makes part of the TCP header look like options: the
            // "ports" behind it are other fields, none of them 25 by
            // construction; were one 25 the misread segment would be subject.
            let expect = match misread_ports(&g, l3 + 4 * usize::from(ihl)) {
                Some((a, b)) if ihl > 5 && (a == 25 || b == 25) => Expect::NoReply,
                _ => Expect::Forward,
            };
            push(format!("ihl/{}/{ihl}", e.name()), g, expect);
        }
        let lying = [
            0,
            1,
            19,
            20,
            21,
            39,
            40,
            total - 1,
            total + 1,
            total + 100,
            0xffff,
        ];
        for len in lying {
            let mut g = f.clone();
            put16(&mut g, l3 + 2, len as u16);
            push(
                format!("total-length/{}/{len}", e.name()),
                g,
                Expect::Forward,
            );
        }
        // Total Length shorter than the frame: the rest is link padding and the
        // segment itself is whole.
        let mut g = f.clone();
        g.extend_from_slice(&[0xa5; 37]);
        push(
            format!("total-length/{}/trailing-octets", e.name()),
            g,
            s.expect(),
        );
        // Version nibble other than 4 under the IPv4 EtherType / PPP protocol.
        for v in [0u8, 5, 6, 15] {
            let mut g = f.clone();
            g[l3] = (v << 4) | 5;
            push(format!("version/{}/{v}", e.name()), g, Expect::Forward);
        }
    }
    // Valid options (IHL 15: 40 octets of NOPs and an end marker) keep the
    // segment subject to the policy.
    let s = Seg::new(side, false);
    let mut l3 = s.l3();
    if let L3::V4 { options, .. } = &mut l3 {
        *options = vec![1; 39];
        options.push(0);
    }
    push(
        "ipv4-options/40".into(),
        frame::build(&s.l2, &l3, &s.l4()),
        s.expect(),
    );
    // Fragments: a non-first fragment is forwarded (rule 1); one at offset 8
    // is a tiny-fragment attack (RFC 1858) and dropped, never answered.
    let s = Seg::new(side, false).payload(64);
    for (name, offset, more, expect) in [
        ("non-first", 3u16, false, Expect::Forward),
        ("non-first-more", 100, true, Expect::Forward),
        ("offset-8", 1, true, Expect::NoReply),
        ("max-offset", 0x1fff, false, Expect::Forward),
    ] {
        let mut l3 = s.l3();
        if let L3::V4 {
            frag_offset,
            more_fragments,
            dont_fragment,
            ..
        } = &mut l3
        {
            *frag_offset = offset;
            *more_fragments = more;
            *dont_fragment = false;
        }
        push(
            format!("fragment/v4/{name}"),
            frame::build(&s.l2, &l3, &s.l4()),
            expect,
        );
    }
    // A first fragment too short for the TCP header (RFC 1858): dropped.
    let f = Seg::new(side, false).frame();
    let l3 = 14;
    let mut g = f[..l3 + 20 + 8].to_vec();
    put16(&mut g, l3 + 2, 28);
    put16(&mut g, l3 + 6, 0x2000);
    push(
        "fragment/v4/tiny-first".into(),
        frame::pad(g),
        Expect::NoReply,
    );
}

/// IPv6 extension-header chains: repeated, misplaced, too long, past the packet.
fn ipv6_chains(side: Side, push: &mut Push<'_>) {
    const HBH: u8 = 0;
    const ROUTING: u8 = 43;
    const FRAGMENT: u8 = 44;
    const DEST: u8 = 60;
    let s = Seg::new(side, true);
    let opts = || vec![1, 4, 0, 0, 0, 0]; // PadN: an 8-octet header
    let routing = |left: u8| vec![0, left, 0, 0, 0, 0]; // type 0 body, no addresses
    let atomic = || vec![0, 0, 0, 0, 0, 1]; // offset 0, M = 0
                                            // A legitimate chain keeps the segment subject to the policy.
    push(
        "ipv6-ext/legal-chain".into(),
        s.frame_ext(vec![
            (HBH, opts()),
            (DEST, opts()),
            (ROUTING, routing(0)),
            (FRAGMENT, atomic()),
            (DEST, opts()),
        ]),
        s.expect(),
    );
    // A routing header with segments left: the destination is a waypoint, so
    // no reply could carry the right source (RFC 8200 §8.1): never answered.
    push(
        "ipv6-ext/routed".into(),
        s.frame_ext(vec![(ROUTING, routing(1))]),
        Expect::NoReply,
    );
    // Chains that go on and on (what a loop amounts to in a finite packet).
    for (name, kind, n) in [
        ("dest-x9", DEST, 9),
        ("dest-x64", DEST, 64),
        ("routing-x9", ROUTING, 9),
        ("atomic-fragment-x9", FRAGMENT, 9),
    ] {
        let body = match kind {
            FRAGMENT => atomic(),
            ROUTING => routing(0),
            _ => opts(),
        };
        push(
            format!("ipv6-ext/{name}"),
            s.frame_ext(vec![(kind, body); n]),
            Expect::Forward,
        );
    }
    // Hop-by-Hop anywhere but first, or twice (RFC 8200 §4.3).
    push(
        "ipv6-ext/hbh-twice".into(),
        s.frame_ext(vec![(HBH, opts()), (HBH, opts())]),
        Expect::Forward,
    );
    push(
        "ipv6-ext/hbh-second".into(),
        s.frame_ext(vec![(DEST, opts()), (HBH, opts())]),
        Expect::Forward,
    );
    // A header whose length runs past the Payload Length, and past the frame.
    let f = s.frame_ext(vec![(DEST, opts())]);
    let ext = s.l3_offset() + 40;
    for (name, len) in [("past-packet", 9u8), ("max-length", 255)] {
        let mut g = f.clone();
        g[ext + 1] = len;
        push(format!("ipv6-ext/{name}"), g, Expect::Forward);
    }
    // The chain ends exactly at the end of the packet (no upper layer).
    let mut g = f.clone();
    let plen = 8u16;
    put16(&mut g, s.l3_offset() + 4, plen);
    g.truncate(ext + 8);
    push("ipv6-ext/ends-at-packet-end".into(), g, Expect::Forward);
    // Payload Length larger than the frame, and shorter than the TCP header.
    let f = s.frame();
    for (name, plen) in [
        ("payload-length-past-frame", 0xffffu16),
        ("payload-length-19", 19),
    ] {
        let mut g = f.clone();
        put16(&mut g, s.l3_offset() + 4, plen);
        push(format!("ipv6/{name}"), g, Expect::Forward);
    }
    // Fragments.
    let frag = |offset: u16, more: bool| {
        let v = (offset << 3) | u16::from(more);
        let [a, b] = v.to_be_bytes();
        vec![a, b, 0, 0, 0, 7]
    };
    for (name, body, expect) in [
        ("non-first", frag(3, false), Expect::Forward),
        ("offset-8", frag(1, true), Expect::NoReply),
    ] {
        push(
            format!("fragment/v6/{name}"),
            s.clone().payload(64).frame_ext(vec![(FRAGMENT, body)]),
            expect,
        );
    }
    // No Next Header (59) right after the IPv6 header: nothing to classify.
    let mut g = f.clone();
    g[s.l3_offset() + 6] = 59;
    push("ipv6/no-next-header".into(), g, Expect::Forward);
}

/// PPPoE session headers whose LENGTH, version or code lie.
fn pppoe_lengths(side: Side, push: &mut Push<'_>) {
    for v6 in [false, true] {
        for e in [Encap::Pppoe, Encap::VlanPppoe] {
            let s = Seg::new(side, v6).encap(e);
            let f = s.frame();
            let at = s.l3_offset() - 8;
            let right = (f.len() - at - 6) as u16;
            for len in [0, 1, 2, 3, 21, right - 1, right + 1, right + 100, 0xffff] {
                let mut g = f.clone();
                put16(&mut g, at + 4, len);
                push(
                    format!("pppoe-length/{}/{}/{len}", fam(v6), e.name()),
                    g,
                    Expect::Forward,
                );
            }
            // Right length, link padding after it: a valid session frame.
            let mut g = f.clone();
            g.extend_from_slice(&[0; 20]);
            push(
                format!("pppoe-length/{}/{}/padded", fam(v6), e.name()),
                g,
                s.expect(),
            );
            for (name, off, value) in [("version-2", 0, 0x21u8), ("code-padi", 1, 0x09)] {
                let mut g = f.clone();
                g[at + off] = value;
                push(
                    format!("pppoe/{}/{}/{name}", fam(v6), e.name()),
                    g,
                    Expect::Forward,
                );
            }
            // PPP protocol: LCP, and IPv6 carried under the IPv4 number.
            let mut g = f.clone();
            put16(&mut g, at + 6, 0xc021);
            push(
                format!("pppoe/{}/{}/lcp", fam(v6), e.name()),
                g,
                Expect::Forward,
            );
            let mut g = f.clone();
            put16(&mut g, at + 6, if v6 { 0x0021 } else { 0x0057 });
            push(
                format!("pppoe/{}/{}/wrong-protocol", fam(v6), e.name()),
                g,
                Expect::Forward,
            );
        }
    }
}

/// Stacks of up to nine VLAN tags in every TPID, with and without PPPoE.
fn vlan_stacks(side: Side, push: &mut Push<'_>) {
    let tpids = [frame::ETH_QINQ, frame::ETH_VLAN, frame::ETH_QINQ_OLD];
    for v6 in [false, true] {
        for n in [3usize, 8, 9, 16] {
            for pppoe in [false, true] {
                let mut s = Seg::new(side, v6);
                s.l2.tags = (0..n)
                    .map(|i| (tpids[i % tpids.len()], 100 + i as u16))
                    .collect();
                s.l2.pppoe = pppoe.then_some(0x0042);
                // Eight tags is the most the design walks; more is malformed.
                let expect = if n <= 8 { s.expect() } else { Expect::Forward };
                push(
                    format!(
                        "vlan/{}/{n}-tags{}",
                        fam(v6),
                        if pppoe { "-pppoe" } else { "" }
                    ),
                    s.frame(),
                    expect,
                );
            }
        }
        // Eight tags and the ICMP pool: the reply quotes through all of them.
        let mut s = Seg::new(side, v6).who(Who::Icmp);
        s.l2.tags = (0..8).map(|i| (frame::ETH_VLAN, 200 + i)).collect();
        push(
            format!("vlan/{}/8-tags-icmp", fam(v6)),
            s.frame(),
            s.expect(),
        );
    }
    // A tag header cut off: TPID with no TCI.
    let mut f = Seg::new(side, false).frame()[..12].to_vec();
    f.extend_from_slice(&frame::ETH_VLAN.to_be_bytes());
    f.push(0);
    push("vlan/cut-tci".into(), f, Expect::Forward);
}

/// Runt frames: shorter than an Ethernet header, or than any IP header.
fn runts(side: Side, push: &mut Push<'_>) {
    let mut rng = SplitMix64::new(match side {
        Side::Access => 0x0025_7275_6e74,
        Side::Core => 0x0026_7275_6e74,
    });
    // Random octets too short to hold Ethernet plus an IPv4 header.
    for len in 0..34usize {
        for i in 0..3 {
            let f: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            push(format!("runt/random/{len}/{i}"), f, Expect::Forward);
        }
    }
    // All zeros, all ones, and an IP EtherType with nothing after it.
    for len in [1usize, 14, 59, 60, 64] {
        push(format!("runt/zeros/{len}"), vec![0; len], Expect::Forward);
        push(format!("runt/ones/{len}"), vec![0xff; len], Expect::Forward);
    }
    for (name, et) in [
        ("ipv4", frame::ETH_IPV4),
        ("ipv6", frame::ETH_IPV6),
        ("pppoe", frame::ETH_PPPOE_SESS),
    ] {
        let mut f = Seg::new(side, false).frame()[..12].to_vec();
        f.extend_from_slice(&et.to_be_bytes());
        push(
            format!("runt/ethertype-only/{name}"),
            f.clone(),
            Expect::Forward,
        );
        push(
            format!("runt/ethertype-only/{name}/padded"),
            frame::pad(f),
            Expect::Forward,
        );
    }
}

/// Frames around the mbuf data room (2048 octets) and up to 9000-octet jumbo
/// frames, which a 2048-octet mbuf receives as a chain of segments.
fn sizes(side: Side, push: &mut Push<'_>) {
    for v6 in [false, true] {
        let base = Seg::new(side, v6)
            .bare()
            .flags(frame::TCP_ACK | frame::TCP_PSH);
        for size in [1514usize, 1518, 2047, 2048, 2049, 4096, 9000, MAX_FRAME] {
            for e in [Encap::Untagged, Encap::VlanPppoe] {
                let s = base.clone().encap(e);
                // The payload that makes the frame exactly `size` octets.
                let header = s.l3_offset() + if v6 { 40 } else { 20 } + 20;
                let Some(n) = size.checked_sub(header) else {
                    continue;
                };
                let subject = s.clone().payload(n);
                push(
                    format!("size/{}/{}/{size}/blocked", fam(v6), e.name()),
                    subject.frame(),
                    subject.expect(),
                );
                let icmp = s.clone().who(Who::Icmp).payload(n);
                push(
                    format!("size/{}/{}/{size}/icmp", fam(v6), e.name()),
                    icmp.frame(),
                    icmp.expect(),
                );
                let web = s.clone().port(80).payload(n);
                push(
                    format!("size/{}/{}/{size}/web", fam(v6), e.name()),
                    web.frame(),
                    Expect::Forward,
                );
                // The same segment, one octet short of its Total Length.
                let mut cut = subject.frame();
                cut.pop();
                push(
                    format!("size/{}/{}/{size}/cut", fam(v6), e.name()),
                    cut,
                    Expect::Forward,
                );
            }
        }
        // Big UDP and a big non-IP frame.
        let mut s = Seg::new(side, v6);
        s.l2.tags = vec![(frame::ETH_VLAN, 7)];
        let l4 = L4::Udp {
            sport: 25,
            dport: 25,
            payload: vec![0x19; 8900],
        };
        push(
            format!("size/{}/udp-25-jumbo", fam(v6)),
            frame::build(&s.l2, &s.l3(), &l4),
            Expect::Forward,
        );
    }
    let mut f = Seg::new(side, false).frame()[..12].to_vec();
    f.extend_from_slice(&0x88b5u16.to_be_bytes()); // IEEE local experimental
    f.resize(9000, 0x19);
    push("size/non-ip-jumbo".into(), f, Expect::Forward);
}

/// Zero-length payloads at every layer.
fn zero_length(side: Side, push: &mut Push<'_>) {
    for v6 in [false, true] {
        // A bare header, no options, no payload: still a blocked segment.
        let s = Seg::new(side, v6).bare();
        push(format!("zero/{}/bare-syn", fam(v6)), s.frame(), s.expect());
        let ack = Seg::new(side, v6).bare().flags(frame::TCP_ACK);
        push(
            format!("zero/{}/bare-ack", fam(v6)),
            ack.frame(),
            ack.expect(),
        );
        // IP with no upper-layer octets at all.
        let f = s.frame();
        let l3 = s.l3_offset();
        let mut g = f[..l3 + if v6 { 40 } else { 20 }].to_vec();
        if v6 {
            put16(&mut g, l3 + 4, 0);
        } else {
            put16(&mut g, l3 + 2, 20);
        }
        push(
            format!("zero/{}/tcp-no-header", fam(v6)),
            frame::pad(g),
            Expect::Forward,
        );
        // UDP to 25 with nothing in it.
        let l4 = L4::Udp {
            sport: 25,
            dport: 25,
            payload: vec![],
        };
        push(
            format!("zero/{}/udp", fam(v6)),
            frame::build(&s.l2, &s.l3(), &l4),
            Expect::Forward,
        );
        // A TCP data offset below 5, and one past the segment.
        for (name, off) in [
            ("data-offset-0", 0u8),
            ("data-offset-4", 4),
            ("data-offset-15", 15),
        ] {
            let mut g = f.clone();
            let tcp = l3 + if v6 { 40 } else { 20 };
            g[tcp + 12] = off << 4;
            push(format!("zero/{}/{name}", fam(v6)), g, Expect::Forward);
        }
    }
    // PPPoE session with an empty payload.
    let s = Seg::new(side, false).encap(Encap::Pppoe);
    let at = s.l3_offset() - 8;
    let mut g = s.frame()[..at + 6].to_vec();
    put16(&mut g, at + 4, 0);
    push("zero/pppoe-empty".into(), frame::pad(g), Expect::Forward);
}

/// Writes the labels, one per line, in corpus order.
pub fn labels_text(cases: &[Case]) -> String {
    cases
        .iter()
        .map(|c| format!("{} {}\n", c.expect.as_str(), c.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_corpus_is_deterministic_and_has_every_family_of_breakage() {
        for side in [Side::Access, Side::Core] {
            let a = corpus(side);
            assert_eq!(a, corpus(side));
            for prefix in [
                "valid/",
                "truncate/",
                "ihl/",
                "total-length/",
                "ipv6-ext/",
                "pppoe-length/",
                "vlan/",
                "runt/",
                "size/",
                "zero/",
                "fragment/",
            ] {
                assert!(
                    a.iter().any(|c| c.name.starts_with(prefix)),
                    "{side:?}: no {prefix} case"
                );
            }
            assert!(a.len() > 1000, "{side:?}: {} frames", a.len());
            assert!(a.iter().any(|c| c.frame.is_empty()));
            assert!(a.iter().any(|c| c.frame.len() == MAX_FRAME));
            assert!(a.iter().all(|c| c.frame.len() <= MAX_FRAME));
            for kind in [ReplyKind::Rst, ReplyKind::Icmp] {
                assert!(a.iter().any(|c| c.expect == Expect::Reply(kind)));
            }
        }
    }

    #[test]
    fn identical_frames_never_get_different_labels() {
        for side in [Side::Access, Side::Core] {
            let all = all_cases(side);
            let mut by_bytes: HashMap<&[u8], &Case> = HashMap::new();
            for c in &all {
                if let Some(first) = by_bytes.insert(&c.frame, c) {
                    assert_eq!(first.expect, c.expect, "{} vs {}", first.name, c.name);
                }
            }
        }
    }

    #[test]
    fn labels_round_trip() {
        for e in [
            Expect::Forward,
            Expect::NoReply,
            Expect::Reply(ReplyKind::Rst),
            Expect::Reply(ReplyKind::Icmp),
        ] {
            assert_eq!(Expect::parse(e.as_str()), Some(e));
        }
        assert_eq!(Expect::parse("maybe"), None);
    }

    #[test]
    fn truncations_cover_every_octet_of_every_header() {
        let c = corpus(Side::Access);
        let f = Seg::new(Side::Access, true).encap(Encap::VlanPppoe).frame();
        for k in 0..f.len() {
            assert!(c.iter().any(|x| x.frame == f[..k]), "no truncation at {k}");
        }
    }

    #[test]
    fn the_jumbo_frames_need_chained_mbufs() {
        let c = corpus(Side::Access);
        let chained = c.iter().filter(|x| x.frame.len() > 2048).count();
        assert!(chained >= 20, "{chained}");
    }
}
