//! Shared by the integration tests.
#![allow(dead_code)]

pub mod config;
pub mod frames;
pub mod packet_check;
pub mod reference;
