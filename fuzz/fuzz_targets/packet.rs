//! Parse + classify (both directions, burst and per-packet reference, against
//! a fixed config) + build RST and ICMP replies for arbitrary bytes; every
//! reply must fit its buffer and re-parse with valid checksums (etherparse).
//!
//! The property lives in `crates/classify/tests/support/packet_check.rs`, so
//! `cargo test -p classify` replays `corpus/packet/` through the same code.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run packet corpus/packet`
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/classify/tests/support/mod.rs"]
mod support;

fuzz_target!(|data: &[u8]| {
    support::packet_check::check_packet(data);
});
