//! Shared by the integration tests and the cargo-fuzz `config` target.
#![allow(dead_code)]

pub mod config_check;
