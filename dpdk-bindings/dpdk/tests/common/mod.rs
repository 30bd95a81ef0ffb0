//! A tiny harness for tests that must share one EAL per process: runs named
//! checks in order, catches panics, prints "N passed, M failed", and exits
//! non-zero on failure.

#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};

pub type Check = Result<(), String>;

pub struct Harness {
    passed: usize,
    failed: Vec<String>,
}

impl Harness {
    pub fn new() -> Self {
        Harness {
            passed: 0,
            failed: Vec::new(),
        }
    }

    pub fn run(&mut self, name: &str, f: impl FnOnce() -> Check) {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => {
                println!("check {name} ... ok");
                self.passed += 1;
            }
            Ok(Err(e)) => {
                println!("check {name} ... FAILED: {e}");
                self.failed.push(name.to_owned());
            }
            Err(_) => {
                println!("check {name} ... FAILED: panicked");
                self.failed.push(name.to_owned());
            }
        }
    }

    /// Prints the summary and returns the process exit code.
    pub fn finish(self) -> i32 {
        if !self.failed.is_empty() {
            println!("failed checks: {}", self.failed.join(", "));
        }
        println!("{} passed, {} failed", self.passed, self.failed.len());
        i32::from(!self.failed.is_empty())
    }
}

/// A file prefix unique to this process, so concurrent test runs (and other
/// DPDK processes) never share a runtime directory or telemetry socket.
pub fn file_prefix(test: &str) -> String {
    format!("op25b-{test}-{}", std::process::id())
}

/// Removes the EAL runtime directory of `prefix` (DPDK leaves it behind).
pub fn remove_runtime_dir(dir: &str) {
    if dir.contains("op25b-") {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

#[macro_export]
macro_rules! ensure_eq {
    ($a:expr, $b:expr) => {{
        let (a, b) = (&$a, &$b);
        if a != b {
            return Err(format!(
                "{} = {:?}, expected {:?} (line {})",
                stringify!($a),
                a,
                b,
                line!()
            ));
        }
    }};
}

/// Turns a crate error into a check failure with context.
pub fn ctx<T>(r: dpdk::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}
