//! Parsing a frame as received on either port into a small [`Parsed`]
//! summary: L2 encapsulation, IP addresses, fragment status, TCP fields.
//!
//! Every header goes through the checked views in [`crate::wire`], so a
//! frame that lies about a length can never cause an out-of-bounds read; it
//! comes out as [`Outcome::Unparsed`], which the dataplane forwards unchanged
//! and counts.

use crate::wire::ethernet::{ethertype, is_group_address, is_vlan_tpid};
use crate::wire::icmp::{is_icmpv4_error, is_icmpv6_error};
use crate::wire::ip_protocol;
use crate::wire::pppoe::ppp_protocol;
use crate::wire::{
    Error, EthernetFrame, Ipv4Packet, Ipv6ExtHeader, Ipv6FragmentHeader, Ipv6Packet,
    Ipv6RoutingHeader, PppoeHeader, TcpSegment, VlanTag,
};
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// VLAN tags walked through before giving up with
/// [`UnparsedReason::TooManyVlanTags`]. Real access networks use one or two
/// (802.1Q, QinQ); eight leaves room for odd carrier setups.
pub const MAX_VLAN_TAGS: usize = 8;

/// IPv6 extension headers walked through before giving up with
/// [`UnparsedReason::TooManyIpv6ExtHeaders`] (RFC 8200 §4.1 allows each at
/// most once, twice for Destination Options, so a legitimate chain of the
/// kinds walked here has at most five).
pub const MAX_IPV6_EXT_HEADERS: usize = 8;

/// What a frame turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A TCP segment (unfragmented, or a first fragment holding the whole
    /// fixed TCP header): every field of [`TcpInfo`] is valid.
    Tcp,
    /// IPv4 or IPv6 carrying something other than TCP. `icmp_error` is true
    /// for an ICMP or ICMPv6 error message (never answered with an ICMP error).
    NotTcp {
        /// The payload is an ICMPv4/ICMPv6 error message.
        icmp_error: bool,
    },
    /// Not IP: ARP, PPPoE discovery, PPP control protocols, any other EtherType.
    NotIp,
    /// A fragment with a non-zero offset: no ports, forwarded (rule 1).
    NonFirstFragment,
    /// A TCP fragment that must be dropped (RFC 1858): a first fragment too
    /// short to hold the 20-octet TCP header (ports, sequence numbers, flags),
    /// or a fragment at offset 8 that would overwrite the TCP flags.
    TinyFragment,
    /// A malformed frame: forwarded unchanged and counted.
    Unparsed(UnparsedReason),
}

/// Why a frame could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnparsedReason {
    /// Shorter than an Ethernet header.
    EthernetTruncated,
    /// A VLAN TPID not followed by a whole tag.
    VlanTruncated,
    /// More than [`MAX_VLAN_TAGS`] stacked tags.
    TooManyVlanTags,
    /// PPPoE session header short, with a wrong VER/TYPE/CODE, a LENGTH past
    /// the frame, or no room for the PPP protocol field.
    PppoeHeader,
    /// IPv4 header shorter than 20 octets, wrong version, or IHL < 5.
    Ipv4Header,
    /// IPv4 Total Length below the header length or past the frame.
    Ipv4Length,
    /// IPv6 header short or with a wrong version.
    Ipv6Header,
    /// IPv6 Payload Length past the frame.
    Ipv6Length,
    /// An IPv6 extension header running past the packet, or a Hop-by-Hop
    /// header anywhere but first (RFC 8200 §4.3).
    Ipv6ExtHeader,
    /// More than [`MAX_IPV6_EXT_HEADERS`] extension headers.
    TooManyIpv6ExtHeaders,
    /// An unfragmented TCP segment shorter than its header, or with a Data Offset below 5.
    TcpHeader,
}

impl UnparsedReason {
    /// Every reason, in declaration order (for per-reason counters).
    pub const ALL: [UnparsedReason; 11] = [
        UnparsedReason::EthernetTruncated,
        UnparsedReason::VlanTruncated,
        UnparsedReason::TooManyVlanTags,
        UnparsedReason::PppoeHeader,
        UnparsedReason::Ipv4Header,
        UnparsedReason::Ipv4Length,
        UnparsedReason::Ipv6Header,
        UnparsedReason::Ipv6Length,
        UnparsedReason::Ipv6ExtHeader,
        UnparsedReason::TooManyIpv6ExtHeaders,
        UnparsedReason::TcpHeader,
    ];

    /// A stable snake_case name for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            UnparsedReason::EthernetTruncated => "ethernet_truncated",
            UnparsedReason::VlanTruncated => "vlan_truncated",
            UnparsedReason::TooManyVlanTags => "too_many_vlan_tags",
            UnparsedReason::PppoeHeader => "pppoe_header",
            UnparsedReason::Ipv4Header => "ipv4_header",
            UnparsedReason::Ipv4Length => "ipv4_length",
            UnparsedReason::Ipv6Header => "ipv6_header",
            UnparsedReason::Ipv6Length => "ipv6_length",
            UnparsedReason::Ipv6ExtHeader => "ipv6_ext_header",
            UnparsedReason::TooManyIpv6ExtHeaders => "too_many_ipv6_ext_headers",
            UnparsedReason::TcpHeader => "tcp_header",
        }
    }

    /// Index into [`UnparsedReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for UnparsedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The network layer found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// No IP header was parsed.
    None,
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// Fragmentation status of an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fragment {
    /// Not a fragment (IPv6 atomic fragments, RFC 6946, count as this).
    None,
    /// Offset 0, more fragments follow: ports are present.
    First,
    /// Non-zero offset: no transport header.
    NonFirst,
}

/// TCP fields, valid when the outcome is [`Outcome::Tcp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TcpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Control bits (see [`crate::wire::tcp::flags`]).
    pub flags: u8,
    /// Header length in octets, options included.
    pub header_len: u8,
    /// Octets of data after the header in this packet. For a first fragment
    /// this counts only the data the fragment carries.
    pub payload_len: u32,
}

/// Everything the verdict and the reply builders need to know about a frame.
/// Small and `Copy`; offsets index the frame it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Parsed {
    /// What the frame is.
    pub outcome: Outcome,
    /// The destination MAC is broadcast or multicast (I/G bit set).
    pub dst_mac_group: bool,
    /// Number of VLAN tags walked (at most [`MAX_VLAN_TAGS`]).
    pub vlan_count: u8,
    /// VLAN ids, outermost first; entries past `vlan_count` are zero.
    pub vlan_ids: [u16; MAX_VLAN_TAGS],
    /// PPPoE session id, for PPPoE session frames carrying IP.
    pub pppoe_session: Option<u16>,
    /// Offset of the PPPoE header (valid when `pppoe_session` is `Some`).
    pub pppoe_offset: u32,
    /// Network layer.
    pub family: Family,
    /// Offset of the IP header.
    pub l3_offset: u32,
    /// Offset of the transport header (after IPv4 options or IPv6 extension headers).
    pub l4_offset: u32,
    /// Offset one past the last octet of the IP packet (Total Length / Payload
    /// Length); anything after is link padding.
    pub ip_end: u32,
    /// Transport protocol (the last Next Header for IPv6).
    pub ip_protocol: u8,
    /// Source address, host order (IPv4 in the low 32 bits).
    pub src: u128,
    /// Destination address, host order (IPv4 in the low 32 bits).
    pub dst: u128,
    /// Fragmentation status.
    pub fragment: Fragment,
    /// IPv6 Routing header with Segments Left > 0: the destination field is
    /// an intermediate hop, not the final destination, so a reply could not
    /// carry the right source address (RFC 8200 §8.1).
    pub ipv6_routed: bool,
    /// TCP fields (valid for [`Outcome::Tcp`]).
    pub tcp: TcpInfo,
}

impl Parsed {
    /// A summary with nothing parsed, for initialising arrays.
    pub const EMPTY: Parsed = Parsed {
        outcome: Outcome::Unparsed(UnparsedReason::EthernetTruncated),
        dst_mac_group: false,
        vlan_count: 0,
        vlan_ids: [0; MAX_VLAN_TAGS],
        pppoe_session: None,
        pppoe_offset: 0,
        family: Family::None,
        l3_offset: 0,
        l4_offset: 0,
        ip_end: 0,
        ip_protocol: 0,
        src: 0,
        dst: 0,
        fragment: Fragment::None,
        ipv6_routed: false,
        tcp: TcpInfo {
            src_port: 0,
            dst_port: 0,
            seq: 0,
            ack: 0,
            flags: 0,
            header_len: 0,
            payload_len: 0,
        },
    };

    /// The IPv4 source address (meaningful when `family` is V4).
    pub fn src_v4(&self) -> u32 {
        self.src as u32
    }

    /// The IPv4 destination address (meaningful when `family` is V4).
    pub fn dst_v4(&self) -> u32 {
        self.dst as u32
    }

    /// The source address, if an IP header was parsed.
    pub fn src_ip(&self) -> Option<IpAddr> {
        to_ip(self.family, self.src)
    }

    /// The destination address, if an IP header was parsed.
    pub fn dst_ip(&self) -> Option<IpAddr> {
        to_ip(self.family, self.dst)
    }

    /// True when the frame is a TCP segment with RST set.
    pub fn is_rst(&self) -> bool {
        self.outcome == Outcome::Tcp && self.tcp.flags & crate::wire::tcp::flags::RST != 0
    }

    /// The VLAN ids actually present, outermost first.
    pub fn vlans(&self) -> &[u16] {
        &self.vlan_ids[..usize::from(self.vlan_count).min(MAX_VLAN_TAGS)]
    }
}

impl Default for Parsed {
    fn default() -> Self {
        Parsed::EMPTY
    }
}

fn to_ip(family: Family, addr: u128) -> Option<IpAddr> {
    match family {
        Family::None => None,
        Family::V4 => Some(IpAddr::V4(Ipv4Addr::from(addr as u32))),
        Family::V6 => Some(IpAddr::V6(Ipv6Addr::from(addr))),
    }
}

/// Parses one frame (Ethernet II, without FCS).
///
/// Never panics, whatever the bytes.
pub fn parse(frame: &[u8]) -> Parsed {
    let mut parsed = Parsed::EMPTY;
    parse_to(frame, &mut parsed);
    parsed
}

/// [`parse`] into a summary the caller owns (the burst classifier's array).
///
/// The fields are written where they stay: building a [`Parsed`] in a
/// temporary with narrow stores and copying it out with wide loads stalls on
/// store forwarding, which measured as most of the burst classifier's time.
#[inline]
pub fn parse_to(frame: &[u8], out: &mut Parsed) {
    *out = Parsed::EMPTY;
    out.outcome = parse_into(frame, out);
}

fn parse_into(frame: &[u8], p: &mut Parsed) -> Outcome {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return Outcome::Unparsed(UnparsedReason::EthernetTruncated);
    };
    p.dst_mac_group = is_group_address(eth.dst_addr());
    let mut ether_type = eth.ethertype();
    let mut offset = EthernetFrame::<&[u8]>::HEADER_LEN;

    // IEEE 802.1Q / 802.1ad / 0x9100 tags, in any stacking order.
    while is_vlan_tpid(ether_type) {
        if usize::from(p.vlan_count) == MAX_VLAN_TAGS {
            return Outcome::Unparsed(UnparsedReason::TooManyVlanTags);
        }
        let Ok(tag) = VlanTag::new_checked(&frame[offset..]) else {
            return Outcome::Unparsed(UnparsedReason::VlanTruncated);
        };
        p.vlan_ids[usize::from(p.vlan_count)] = tag.vid();
        p.vlan_count += 1;
        ether_type = tag.ethertype();
        offset += VlanTag::<&[u8]>::HEADER_LEN;
    }

    // Where the L3 packet starts and the end of the bytes that may belong to it.
    let (l3, limit, is_v4) = match ether_type {
        ethertype::IPV4 => (offset, frame.len(), true),
        ethertype::IPV6 => (offset, frame.len(), false),
        ethertype::PPPOE_SESSION => {
            let Ok(pppoe) = PppoeHeader::new_checked(&frame[offset..]) else {
                return Outcome::Unparsed(UnparsedReason::PppoeHeader);
            };
            let Some((protocol, field_len)) = pppoe.ppp_protocol() else {
                return Outcome::Unparsed(UnparsedReason::PppoeHeader);
            };
            let is_v4 = match protocol {
                ppp_protocol::IPV4 => true,
                ppp_protocol::IPV6 => false,
                // LCP, IPCP, IPv6CP, authentication...: the session's control plane.
                _ => return Outcome::NotIp,
            };
            p.pppoe_session = Some(pppoe.session_id());
            p.pppoe_offset = offset as u32;
            let payload = offset + PppoeHeader::<&[u8]>::HEADER_LEN;
            (
                payload + field_len,
                payload + usize::from(pppoe.length()),
                is_v4,
            )
        }
        // ARP, PPPoE discovery (RFC 2516 §5 frames pass), LLDP, anything else.
        _ => return Outcome::NotIp,
    };
    p.l3_offset = l3 as u32;
    let packet = &frame[l3..limit];
    if is_v4 {
        parse_ipv4(packet, l3, p)
    } else {
        parse_ipv6(packet, l3, p)
    }
}

/// RFC 791 §3.1; fragments per RFC 791 §3.2 and RFC 1858.
fn parse_ipv4(packet: &[u8], l3: usize, p: &mut Parsed) -> Outcome {
    let ip = match Ipv4Packet::new_checked(packet) {
        Ok(ip) => ip,
        Err(Error::BadLength | Error::Truncated) if packet.len() >= 20 => {
            return Outcome::Unparsed(UnparsedReason::Ipv4Length)
        }
        Err(_) => return Outcome::Unparsed(UnparsedReason::Ipv4Header),
    };
    p.family = Family::V4;
    p.src = u128::from(ip.src_addr());
    p.dst = u128::from(ip.dst_addr());
    p.ip_protocol = ip.protocol();
    p.l4_offset = (l3 + ip.header_len()) as u32;
    p.ip_end = (l3 + usize::from(ip.total_len())) as u32;

    let is_tcp = ip.protocol() == ip_protocol::TCP;
    let offset = ip.frag_offset_units();
    if offset != 0 {
        p.fragment = Fragment::NonFirst;
        // RFC 1858 §4: a TCP fragment at offset 8 can only serve to overwrite
        // the flags of the first fragment's header.
        return if is_tcp && offset == 1 {
            Outcome::TinyFragment
        } else {
            Outcome::NonFirstFragment
        };
    }
    let first = ip.more_frags();
    if first {
        p.fragment = Fragment::First;
    }
    match ip.protocol() {
        ip_protocol::TCP => parse_tcp(ip.payload(), first, p),
        ip_protocol::ICMP => Outcome::NotTcp {
            icmp_error: ip.payload().first().is_some_and(|t| is_icmpv4_error(*t)),
        },
        _ => Outcome::NotTcp { icmp_error: false },
    }
}

/// RFC 8200 §3 and §4.
fn parse_ipv6(packet: &[u8], l3: usize, p: &mut Parsed) -> Outcome {
    let ip = match Ipv6Packet::new_checked(packet) {
        Ok(ip) => ip,
        Err(Error::Truncated) if packet.len() >= Ipv6Packet::<&[u8]>::HEADER_LEN => {
            return Outcome::Unparsed(UnparsedReason::Ipv6Length)
        }
        Err(_) => return Outcome::Unparsed(UnparsedReason::Ipv6Header),
    };
    p.family = Family::V6;
    p.src = ip.src_addr();
    p.dst = ip.dst_addr();
    p.ip_end = (l3 + Ipv6Packet::<&[u8]>::HEADER_LEN + usize::from(ip.payload_len())) as u32;

    let payload = ip.payload();
    let mut next = ip.next_header();
    let mut at = 0usize;
    let mut walked = 0usize;
    let mut first = false;
    loop {
        let rest = &payload[at..];
        let len = match next {
            ip_protocol::HOP_BY_HOP
            | ip_protocol::IPV6_ROUTING
            | ip_protocol::IPV6_DEST_OPTIONS
            | ip_protocol::IPV6_FRAGMENT => {
                if walked == MAX_IPV6_EXT_HEADERS {
                    return Outcome::Unparsed(UnparsedReason::TooManyIpv6ExtHeaders);
                }
                walked += 1;
                // RFC 8200 §4.3: Hop-by-Hop Options only immediately after the IPv6 header.
                if next == ip_protocol::HOP_BY_HOP && at != 0 {
                    return Outcome::Unparsed(UnparsedReason::Ipv6ExtHeader);
                }
                if next == ip_protocol::IPV6_FRAGMENT {
                    let Ok(frag) = Ipv6FragmentHeader::new_checked(rest) else {
                        return Outcome::Unparsed(UnparsedReason::Ipv6ExtHeader);
                    };
                    let offset = frag.frag_offset_units();
                    if offset != 0 {
                        p.fragment = Fragment::NonFirst;
                        p.ip_protocol = frag.next_header();
                        p.l4_offset = (l3 + Ipv6Packet::<&[u8]>::HEADER_LEN + at + 8) as u32;
                        // RFC 1858 §4 (and RFC 5722: overlaps are an attack).
                        return if frag.next_header() == ip_protocol::TCP && offset == 1 {
                            Outcome::TinyFragment
                        } else {
                            Outcome::NonFirstFragment
                        };
                    }
                    // M = 0 at offset 0 is an atomic fragment: a whole packet (RFC 6946).
                    if frag.more_frags() {
                        first = true;
                        p.fragment = Fragment::First;
                    }
                    next = frag.next_header();
                    Ipv6FragmentHeader::<&[u8]>::HEADER_LEN
                } else {
                    let Ok(ext) = Ipv6ExtHeader::new_checked(rest) else {
                        return Outcome::Unparsed(UnparsedReason::Ipv6ExtHeader);
                    };
                    if next == ip_protocol::IPV6_ROUTING {
                        if let Ok(routing) = Ipv6RoutingHeader::new_checked(rest) {
                            p.ipv6_routed |= routing.segments_left() != 0;
                        }
                    }
                    next = ext.next_header();
                    ext.header_len()
                }
            }
            _ => break,
        };
        at += len;
    }
    p.ip_protocol = next;
    p.l4_offset = (l3 + Ipv6Packet::<&[u8]>::HEADER_LEN + at) as u32;
    let upper = &payload[at..];
    match next {
        ip_protocol::TCP => parse_tcp(upper, first, p),
        ip_protocol::ICMPV6 => Outcome::NotTcp {
            icmp_error: upper.first().is_some_and(|t| is_icmpv6_error(*t)),
        },
        _ => Outcome::NotTcp { icmp_error: false },
    }
}

/// RFC 9293 §3.1. `first_fragment` relaxes the options check (the fragment
/// may end inside them) but not the 20-octet fixed header (RFC 1858 §3).
fn parse_tcp(segment: &[u8], first_fragment: bool, p: &mut Parsed) -> Outcome {
    let tcp = match TcpSegment::new_checked(segment) {
        Ok(tcp) => tcp,
        Err(Error::Truncated) if first_fragment => return Outcome::TinyFragment,
        Err(_) => return Outcome::Unparsed(UnparsedReason::TcpHeader),
    };
    if !first_fragment && !tcp.is_complete() {
        return Outcome::Unparsed(UnparsedReason::TcpHeader);
    }
    p.tcp = TcpInfo {
        src_port: tcp.src_port(),
        dst_port: tcp.dst_port(),
        seq: tcp.seq_number(),
        ack: tcp.ack_number(),
        flags: tcp.flags(),
        header_len: tcp.header_len() as u8,
        payload_len: tcp.payload().len() as u32,
    };
    Outcome::Tcp
}
