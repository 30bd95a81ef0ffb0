//! Everything an op25b worker does to a packet, with no DPDK dependency.
//!
//! - [`wire`]: smoltcp-style checked views over Ethernet, VLAN tags, PPPoE,
//!   IPv4, IPv6 (with extension headers), TCP and ICMP.
//! - [`parse`]: one frame to a small `Copy` summary, [`Parsed`].
//! - [`verdict`]: the policy decision for a whole burst, stage by stage, and a
//!   plain per-packet reference.
//! - [`reply`]: RST and ICMP replies built into a caller-provided buffer.
//!
//! Nothing here allocates, locks or panics on any input.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod parse;
pub mod reply;
pub mod verdict;
pub mod wire;

pub use parse::{parse, Family, Fragment, Outcome, Parsed, TcpInfo, UnparsedReason};
pub use reply::{build_icmp, build_reply, build_rst, ReplyKind};
pub use verdict::{
    classify_burst, classify_one, Direction, DropReason, ForwardReason, Verdict, MAX_BURST,
};
