//! The command line of the contract:
//! `op25bd [EAL options] -- --config FILE [--pair ACCESS:CORE]... [--api ADDR] [--idle-exit-ms N] [--stats-json FILE]`

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use control::OnStall;

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

  # with the control API on loopback (op25bctl's default address)
  op25bd -l 0-2 -a 0000:03:00.0 -a 0000:03:00.1 -- --config /etc/op25b/op25b.yaml \\
      --api 127.0.0.1:9025 --api-token-file /etc/op25b/api-token

Control API (--api ADDR; off unless given):
  PUT /v1/config   push a YAML config: 200 {generation, hash, ...}; 422 {errors: [...]}
                   (nothing changed); 413 over --api-max-body
  GET /v1/config   running config (generation, hash, load time, YAML); ?format=yaml
  GET /v1/stats    counters, per pool, per worker, health (JSON)
  GET /metrics     Prometheus text format
  GET /v1/blocked  ?limit=N: recent blocked-flow samples, newest first
  GET /v1/top      ?n=N: subscribers with the most blocked attempts in the window
  GET /healthz     200 if every worker reported quiescence within --watchdog-ms, else 503
  With --api-token-file every request needs `Authorization: Bearer TOKEN` (else 401).
  Pushes are serialized. `op25bctl` is the client.

DPDK telemetry: `/op25b/stats` and `/op25b/config` on the EAL telemetry socket
(dpdk-telemetry.py -f FILE_PREFIX).

Watchdog: every worker reports a quiescent state once per loop. One that has not
for --watchdog-ms is stalled: logged, shown in /healthz (503) and in the metrics,
and pushes are refused while it lasts (a swap would wait for it forever). With
--on-stall log (default) the other workers keep forwarding (traffic on the
stalled worker's queues is lost until it recovers); with --on-stall exit op25bd
exits with status 70 at once, so a hardware bypass (or the service manager's
restart) takes over.

Logs go to stderr (journald under systemd); the level comes from OP25B_LOG
(e.g. info, debug), default info. The final report is printed on stdout.

Signals: SIGINT/SIGTERM stop, drain, flush every port and print the final
counters; SIGHUP reloads the config file (the same validation and swap as a
push; a bad file is logged with its errors and the running config stays).

Exit status: 0 stopped normally; 1 bad config, devices or EAL options; 2 usage;
70 a worker stalled with --on-stall exit.";

/// Application options (after `--`).
#[derive(Debug, Parser)]
#[command(
    name = "op25bd",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    override_usage = "op25bd [EAL options] -- --config FILE [--pair ACCESS:CORE]... [--api ADDR [--api-token-file FILE]] [--idle-exit-ms N] [--stats-json FILE] [--blocked-log FILE] [--latency] [--watchdog-ms N] [--on-stall log|exit]"
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

    /// Serve the control API (HTTP) on ADDR, e.g. 127.0.0.1:9025. Off unless
    /// given; keep it on loopback or a management network.
    #[arg(long, value_name = "ADDR")]
    pub api: Option<SocketAddr>,

    /// Require `Authorization: Bearer TOKEN` on every API request; FILE holds
    /// the token (surrounding whitespace ignored). Keep it mode 0600.
    #[arg(long, value_name = "FILE", requires = "api")]
    pub api_token_file: Option<PathBuf>,

    /// Largest config a push may carry, in bytes; larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = control::api::DEFAULT_MAX_BODY as u64,
          value_parser = clap::value_parser!(u64).range(1..=(1u64 << 30)))]
    pub api_max_body: u64,

    /// A worker that has not reported a quiescent state for N milliseconds is stalled.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub watchdog_ms: u64,

    /// What a stalled worker causes: `log` (keep forwarding on the other
    /// workers) or `exit` (exit with status 70 so a hardware bypass takes over).
    #[arg(long, value_name = "ACTION", default_value = "log", value_parser = parse_on_stall)]
    pub on_stall: OnStall,

    /// The sliding window of `GET /v1/top`, in seconds.
    #[arg(long, value_name = "N", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub top_window_s: u64,

    /// Blocked-flow samples kept for `GET /v1/blocked`.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub recent_samples: u64,
}

fn parse_on_stall(s: &str) -> Result<OnStall, String> {
    s.parse()
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
    Run { eal: Vec<String>, app: Box<AppArgs> },
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
            Ok(Invocation::Run {
                eal,
                app: Box::new(app),
            })
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
    fn control_plane_options_parse_and_bad_ones_are_refused() {
        let Invocation::Run { app, .. } = parse(args(
            "op25bd -- --config c --api 127.0.0.1:9025 --api-token-file t --watchdog-ms 250 --on-stall exit --api-max-body 1024",
        ))
        .unwrap() else {
            panic!("expected Run");
        };
        assert_eq!(app.api, Some("127.0.0.1:9025".parse().unwrap()));
        assert_eq!(app.api_token_file, Some(PathBuf::from("t")));
        assert_eq!(app.watchdog_ms, 250);
        assert_eq!(app.on_stall, OnStall::Exit);
        assert_eq!(app.api_max_body, 1024);
        let Invocation::Run { app, .. } = parse(args("op25bd -- --config c")).unwrap() else {
            panic!("expected Run");
        };
        assert_eq!(app.api, None, "the API is off unless asked for");
        assert_eq!(app.on_stall, OnStall::Log);
        assert_eq!(app.api_max_body, 16 << 20);
        for (bad, why) in [
            ("--api localhost", "--api"),
            ("--api-token-file t", "--api"),
            ("--on-stall reboot", "log"),
            ("--watchdog-ms 0", "watchdog-ms"),
            ("--api 127.0.0.1:1 --api-max-body 0", "api-max-body"),
        ] {
            let e = parse(args(&format!("op25bd -- --config c {bad}")))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
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
