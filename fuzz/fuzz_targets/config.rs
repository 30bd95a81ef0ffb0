//! Config parse + validate + compile for arbitrary bytes: `policy::load_str`
//! never panics; an accepted config hashes the same every time, its lookups
//! agree with a linear scan and `decide`/`explain`/`summary`/`impact` answer.
//!
//! The property lives in `crates/policy/tests/support/config_check.rs`, so
//! `cargo test -p policy --test fuzz_corpus` replays `corpus/config/` on stable.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run config corpus/config -- -dict=dicts/config.dict`
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/policy/tests/support/config_check.rs"]
mod config_check;

fuzz_target!(|data: &[u8]| {
    config_check::check_config(data);
});
