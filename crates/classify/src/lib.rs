//! Everything an op25b worker does to a packet, with no DPDK dependency.
//!
//! - [`wire`]: smoltcp-style checked views over Ethernet, VLAN tags, PPPoE,
//!   IPv4, IPv6 (with extension headers), TCP and ICMP.
//! - [`fast`]: the verdict of the common frame (not TCP, or TCP on a port
//!   that is not blocked) from a few header fields, before any full parse.
//! - [`mod@parse`]: one frame to a small `Copy` summary, [`Parsed`].
//! - [`verdict`]: the policy decision for a whole burst, stage by stage, and a
//!   plain per-packet reference.
//! - [`reply`]: RST and ICMP replies built into a caller-provided buffer.
//!
//! Nothing here allocates, locks or panics on any input.
//!
//! ```
//! use classify::{classify_burst, build_reply, Direction, Parsed, Verdict};
//! use classify::reply::MAX_REPLY_LEN;
//!
//! let yaml = b"version: 1\npools:\n  - name: dynamic\n    mode: enforce\n    prefixes: [198.51.100.0/24]\n";
//! let tables = policy::load_str("op25b.yaml", yaml).expect("valid config").tables;
//!
//! // A SYN from 198.51.100.7:40000 to 192.0.2.80:25, untagged.
//! let mut frame = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
//! frame.extend_from_slice(&[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0]);
//! frame.extend_from_slice(&[198, 51, 100, 7, 192, 0, 2, 80]);
//! frame.extend_from_slice(&[0x9c, 0x40, 0, 25, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]);
//! frame.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
//! frame.resize(60, 0);
//!
//! let frames = [&frame[..]];
//! let mut parsed = [Parsed::EMPTY; 1];
//! let mut verdicts = [Verdict::EMPTY; 1];
//! classify_burst(&tables, Direction::Outbound, &frames, &mut parsed, &mut verdicts);
//! let Verdict::Reply { kind, .. } = verdicts[0] else { panic!("not blocked") };
//!
//! let mut mbuf = [0u8; MAX_REPLY_LEN];
//! let len = build_reply(kind, &frame, &parsed[0], &mut mbuf).expect("reply allowed");
//! assert_eq!(len, 60); // RST+ACK, ACK = 2, padded to the Ethernet minimum
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod fast;
pub mod parse;
pub mod reply;
pub mod verdict;
pub mod wire;

pub use fast::passes;
pub use parse::{parse, parse_to, Family, Fragment, Outcome, Parsed, TcpInfo, UnparsedReason};
pub use reply::{build_icmp, build_reply, build_rst, ReplyKind};
pub use verdict::{
    classify_burst, classify_one, Direction, DropReason, ForwardReason, Verdict, MAX_BURST,
};
