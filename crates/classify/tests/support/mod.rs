//! Shared by the integration tests.
#![allow(dead_code)]

pub mod config;
pub mod frames;
pub mod reference;
