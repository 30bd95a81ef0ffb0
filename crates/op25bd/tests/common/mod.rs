//! Helpers for the op25bd integration tests: each test spawns the real binary
//! (one DPDK process each, with its own runtime directory).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_op25bd");

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A scratch directory for one test, removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
    pub prefix: String,
}

impl Scratch {
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let prefix = format!(
            "op25bt-{}-{}-{}",
            name,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(&prefix);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir, prefix }
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    /// EAL options for a no-NIC run with this test's own runtime directory.
    pub fn eal(&self) -> Vec<String> {
        [
            "--no-huge",
            "--no-pci",
            "-l",
            "0-1",
            "-m",
            "256",
            "--log-level=*:warning",
            "--file-prefix",
            &self.prefix,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    pub fn write(&self, f: &str, text: &str) -> PathBuf {
        let p = self.path(f);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // EAL's runtime directory for this file prefix.
        let _ = std::fs::remove_dir_all(Path::new("/var/run/dpdk").join(&self.prefix));
    }
}

/// A config under which every frame is forwarded unchanged: the pools are in
/// monitor mode (forward, count), so forwarding is tested apart from blocking.
pub const MONITOR_ALL: &str = "\
version: 1
pools:
  - name: dynamic
    mode: monitor
    prefixes: [198.51.100.0/24, \"2001:db8:100::/40\"]
";

pub fn run(args: &[String]) -> Output {
    Command::new(BIN).args(args).output().expect("spawn op25bd")
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
