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

/// Splits a benchmark's argv at `--`: EAL options before it (or `default_eal`
/// when there is no `--`), the program's own options after it. Both halves
/// start with the program name, as `Eal::init` and clap expect.
pub fn split_eal_args(argv: &[String], default_eal: &[&str]) -> (Vec<String>, Vec<String>) {
    let prog = argv.first().cloned().unwrap_or_default();
    let (eal, app) = match argv.iter().position(|a| a == "--") {
        Some(i) => (argv[..i].to_vec(), argv[i + 1..].to_vec()),
        None => {
            let mut eal = vec![prog.clone()];
            eal.extend(default_eal.iter().map(|s| s.to_string()));
            (eal, argv.get(1..).unwrap_or_default().to_vec())
        }
    };
    (eal, std::iter::once(prog).chain(app).collect())
}

/// The split argv of a benchmark binary that starts its own EAL.
pub struct EalArgs {
    /// For `Eal::init`.
    pub eal: Vec<String>,
    /// For clap.
    pub app: Vec<String>,
    /// The defaults were used, with this process's own `--file-prefix`: the
    /// runtime directory is ours alone and [`stop_eal`] removes it.
    pub own_prefix: bool,
}

/// [`split_eal_args`] with `default_eal` extended by `--file-prefix=NAME-PID`, so
/// the runtime directory DPDK creates even with `--no-shconf` belongs to this
/// process alone and can be removed at exit.
pub fn eal_args_with_own_prefix(argv: &[String], default_eal: &[&str], name: &str) -> EalArgs {
    let prefix = format!("--file-prefix={name}-{}", std::process::id());
    let defaults: Vec<&str> = default_eal
        .iter()
        .copied()
        .chain([prefix.as_str()])
        .collect();
    let own_prefix = !argv.iter().any(|a| a == "--");
    let (eal, app) = split_eal_args(argv, &defaults);
    EalArgs {
        eal,
        app,
        own_prefix,
    }
}

/// Stops the EAL, then removes its runtime directory when the prefix was this
/// process's own ([`EalArgs::own_prefix`]); a failure to remove is harmless.
pub fn stop_eal(eal: dpdk::Eal, own_prefix: bool) {
    let dir = own_prefix.then(|| eal.runtime_dir());
    drop(eal);
    if let Some(dir) = dir.filter(|d| !d.is_empty()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod split_tests {
    use super::split_eal_args;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn eal_options_go_before_the_separator_and_defaults_apply_without_it() {
        assert_eq!(
            split_eal_args(&v("b -l 0 -- --json x"), &["--no-huge"]),
            (v("b -l 0"), v("b --json x"))
        );
        assert_eq!(
            split_eal_args(&v("b --json x"), &["--no-huge"]),
            (v("b --no-huge"), v("b --json x"))
        );
    }
}
