//! Benchmark harness support: a libpcap file reader/writer, a hand-written frame
//! builder and deterministic traffic generators.
//!
//! The frame builder here is deliberately independent of `classify`: fixtures built
//! by it are an outside reference for the parser, not a mirror of it.

pub mod fixtures;
pub mod frame;
pub mod lpm;
pub mod malformed;
pub mod mix;
pub mod pcap;
pub mod replay;
pub mod rng;
