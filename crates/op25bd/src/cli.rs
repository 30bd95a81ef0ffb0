//! The command line of the contract:
//! `op25bd [EAL options] -- --config FILE [--pair ACCESS:CORE]... [--api ADDR] [--idle-exit-ms N] [--stats-json FILE]`

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;
use dataplane::Pair;

const ABOUT: &str = "Inline Outbound Port 25 Blocking (OP25B) appliance on DPDK.";

const LONG_ABOUT: &str = "\
Inline Outbound Port 25 Blocking (OP25B) appliance on DPDK.

op25bd sits between the access network (subscribers) and the core as a bump in the
wire. Subscribers on dynamically assigned addresses may not open SMTP (TCP/25)
connections to mail servers other than the relays the config allows; submission
(587) and SMTPS (465) always pass. Blocked attempts get a TCP RST, an ICMP
administratively-prohibited, or are dropped, as the config says.

EAL options come first, exactly as for every DPDK application (-l, -a, --vdev,
--no-huge, --no-pci, --file-prefix, ...); then `--`; then the options below.

Examples:
  # two real NICs, lcore 0 controls, lcore 1 forwards
  op25bd -l 0-1 -a 0000:03:00.0 -a 0000:03:00.1 -- --config /etc/op25b/op25b.yaml

  # no NIC: replay pcaps through virtual devices and exit when they are done
  op25bd --no-huge --no-pci -l 0-1 \\
      --vdev=net_pcap0,rx_pcap=access.pcap,tx_pcap=out-access.pcap \\
      --vdev=net_pcap1,rx_pcap=core.pcap,tx_pcap=out-core.pcap \\
      -- --config configs/example.yaml --idle-exit-ms 300 --stats-json stats.json

Signals: SIGINT/SIGTERM stop, drain, flush every port and print the final
counters; SIGHUP reloads the config file.";

/// Application options (after `--`).
#[derive(Debug, Parser)]
#[command(
    name = "op25bd",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    override_usage = "op25bd [EAL options] -- --config FILE [--pair ACCESS:CORE]... [--idle-exit-ms N] [--stats-json FILE] [--blocked-log FILE] [--latency]"
)]
pub struct AppArgs {
    /// Policy config (YAML). Validated before any port is touched.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// A port pair: ACCESS faces subscribers, CORE faces the core network.
    /// Repeat for several pairs. Default: 0:1.
    #[arg(long = "pair", value_name = "ACCESS:CORE", value_parser = parse_pair)]
    pub pairs: Vec<Pair>,

    /// Exit once packets have been seen and none arrived for N milliseconds
    /// (for pcap replay).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_exit_ms: Option<u64>,

    /// Write the final counters to FILE as JSON at exit.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,

    /// Append blocked-flow samples to FILE as JSON lines (time, src, sport,
    /// dst, dport, pool, action, VLAN ids, PPPoE session): for abuse desks.
    #[arg(long, value_name = "FILE")]
    pub blocked_log: Option<PathBuf>,

    /// Most blocked-flow samples written per second; the rest are counted
    /// as dropped.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub blocked_log_rate: u32,

    /// Measure per-burst software residence time (TSC) on every worker and
    /// report its percentiles with the stats.
    #[arg(long)]
    pub latency: bool,
}

fn parse_pair(s: &str) -> Result<Pair, String> {
    let (a, c) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not ACCESS:CORE (two port ids, e.g. 0:1)"))?;
    let port = |x: &str, what: &str| {
        x.trim()
            .parse::<u16>()
            .map_err(|_| format!("{what} port `{x}` in `{s}` is not a port id (0-65535)"))
    };
    let pair = Pair {
        access: port(a, "access")?,
        core: port(c, "core")?,
    };
    if pair.access == pair.core {
        return Err(format!("`{s}`: access and core must be different ports"));
    }
    Ok(pair)
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run with these EAL arguments (argv[0] first) and application options.
    Run { eal: Vec<String>, app: AppArgs },
    /// Print this text to stdout and exit 0 (help, version).
    Print(String),
}

/// Splits argv at the first `--` and parses the application part. Application
/// options are checked before EAL starts, so a typo costs nothing.
pub fn parse(argv: Vec<OsString>) -> Result<Invocation, clap::Error> {
    let argv: Vec<String> = argv
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = argv.first().cloned().unwrap_or_else(|| "op25bd".into());
    let (eal, app): (Vec<String>, Vec<String>) = match argv.iter().position(|a| a == "--") {
        Some(i) => (argv[..i].to_vec(), argv[i + 1..].to_vec()),
        None => {
            // No separator: only --help / --version make sense; anything else is
            // parsed as application options so clap names what is missing.
            if argv[1..].iter().any(|a| a == "-h" || a == "--help") {
                return Ok(Invocation::Print(help()));
            }
            if argv[1..].iter().any(|a| a == "-V" || a == "--version") {
                return Ok(Invocation::Print(format!(
                    "op25bd {}\n",
                    env!("CARGO_PKG_VERSION")
                )));
            }
            (vec![prog.clone()], argv[1..].to_vec())
        }
    };
    let mut app_argv = vec![prog];
    app_argv.extend(app);
    match AppArgs::try_parse_from(app_argv) {
        Ok(mut app) => {
            if app.pairs.is_empty() {
                app.pairs.push(Pair { access: 0, core: 1 });
            }
            Ok(Invocation::Run { eal, app })
        }
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            Ok(Invocation::Print(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

fn help() -> String {
    use clap::CommandFactory;
    AppArgs::command().render_long_help().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn eal_options_before_the_separator_are_kept_for_eal() {
        let Invocation::Run { eal, app } = parse(args(
            "op25bd -l 0-1 --no-huge -- --config x.yaml --idle-exit-ms 5",
        ))
        .unwrap() else {
            panic!("expected Run");
        };
        assert_eq!(eal, ["op25bd", "-l", "0-1", "--no-huge"]);
        assert_eq!(app.config, PathBuf::from("x.yaml"));
        assert_eq!(app.idle_exit_ms, Some(5));
        assert_eq!(app.pairs, [Pair { access: 0, core: 1 }], "default pair");
    }

    #[test]
    fn pairs_repeat_and_bad_pairs_are_rejected_with_the_reason() {
        let Invocation::Run { app, .. } =
            parse(args("op25bd -- --config c --pair 0:1 --pair 2:3")).unwrap()
        else {
            panic!("expected Run");
        };
        assert_eq!(app.pairs.len(), 2);
        for (bad, why) in [
            ("1:1", "different ports"),
            ("0-1", "ACCESS:CORE"),
            ("x:1", "not a port id"),
        ] {
            let e = parse(args(&format!("op25bd -- --config c --pair {bad}")))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn missing_config_and_unknown_options_are_usage_errors() {
        let e = parse(args("op25bd -l 0-1 --")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--config"), "{e}");
        let e = parse(args("op25bd -- --config c --frobnicate")).unwrap_err();
        assert!(e.to_string().contains("--frobnicate"), "{e}");
        let e = parse(args("op25bd -- --config c --idle-exit-ms 0")).unwrap_err();
        assert!(e.to_string().contains("idle-exit-ms"), "{e}");
    }

    #[test]
    fn help_works_with_or_without_the_separator() {
        for a in ["op25bd --help", "op25bd -- --help", "op25bd -h"] {
            match parse(args(a)).unwrap() {
                Invocation::Print(t) => assert!(t.contains("--idle-exit-ms"), "{a}: {t}"),
                other => panic!("{a}: {other:?}"),
            }
        }
    }
}
