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
