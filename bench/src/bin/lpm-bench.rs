//! lpm-bench: our LPM maps (`lpm::Lpm4`/`Lpm6`) against DPDK's `rte_fib` (DIR-24-8)
//! and `rte_fib6` (trie) on the same tables and keys, in the same process.
//!
//! ```text
//! lpm-bench [EAL options --] [--v4-prefixes N] [--v6-prefixes N] [--keys N]
//!           [--rounds N] [--slices N] [--burst N] [--next-hop-bytes 2|4] [--seed N]
//!           [--family v4|v6|both] [--json FILE]
//! ```
//! Without EAL options it starts the EAL with `--no-huge --no-pci --no-shconf -m 4096
//! -l 0 --file-prefix=lpm-bench-PID` (one core, plain 4 KiB pages; the runtime directory
//! DPDK creates even with --no-shconf is removed at exit).
//!
//! For each family: generate the table and the keys (bench/src/lpm.rs), build both
//! structures (timed), check that both return the same next hop for every key (a
//! mismatch fails the run), then time bulk lookups over all keys in bursts, ours and
//! DPDK's alternately for `--rounds` rounds, and report medians. Within a round the
//! keys are cut into `--slices` slices and the two sides alternate slice by slice
//! (who goes first alternates too), so both see the same machine load; the paired
//! ratio is the median of the per-round ratios.

use clap::Parser;
use dpdk::fib::{Fib, Fib6, FibConfig, NextHopSize};
use dpdk::{Eal, SOCKET_ID_ANY};
use lpm::{Lpm4, Lpm6};
use op25b_bench::lpm::{
    keys_v4, keys_v6, median, mlps, report_json, table_v4, table_v6, tbl8_needed_v4,
    tbl8_needed_v6, FamilyResult,
};
use std::fmt::Debug;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

const DEFAULT_EAL: &[&str] = &[
    "--no-huge",
    "--no-pci",
    "--no-shconf",
    "-m",
    "4096",
    "-l",
    "0",
    "--log-level=*:warning",
];

#[derive(Parser, Debug)]
#[command(
    name = "lpm-bench",
    about = "Lookups per second of op25b's LPM against DPDK's rte_fib/rte_fib6 on the same tables and keys",
    long_about = "Lookups per second of op25b's LPM against DPDK's rte_fib (DIR-24-8) and rte_fib6 (trie) \
on the same deterministic tables and keys, measured alternately in one process. \
EAL options, if any, come first and end with `--`; without them the EAL runs with \
--no-huge --no-pci --no-shconf -m 4096 -l 0 --file-prefix=lpm-bench-PID (its runtime directory removed at exit). Exits 1 if the two sides disagree on any key."
)]
struct Args {
    /// IPv4 prefixes in the table.
    #[arg(long, default_value_t = 1_000_000)]
    v4_prefixes: usize,
    /// IPv6 prefixes in the table.
    #[arg(long, default_value_t = 200_000)]
    v6_prefixes: usize,
    /// Lookup keys per family: half uniformly random, half inside table prefixes.
    #[arg(long, default_value_t = 1 << 22)]
    keys: usize,
    /// Timed rounds; each round times ours, then DPDK's, over all keys.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Slices per round: the two sides alternate slice by slice within a round.
    #[arg(long, default_value_t = 16)]
    slices: usize,
    /// Keys per bulk lookup call on both sides (a receive burst).
    #[arg(long, default_value_t = 64)]
    burst: usize,
    /// Bytes per next hop on both sides: 4 (`u32` values; DPDK nh_size 4) or 2
    /// (`u16` values, what op25b's policy tables hold; DPDK nh_size 2).
    #[arg(long, value_parser = ["2", "4"], default_value = "4")]
    next_hop_bytes: String,
    /// Seed of the table and key generators.
    #[arg(long, default_value_t = 25)]
    seed: u64,
    /// Which families to run.
    #[arg(long, value_parser = ["v4", "v6", "both"], default_value = "both")]
    family: String,
    /// Write the results as JSON ({"lpm": {"v4": {...}, "v6": {...}}}) to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let split = op25b_bench::eal_args_with_own_prefix(&argv, DEFAULT_EAL, "lpm-bench");
    let eal_args = split.eal;
    let args = match Args::try_parse_from(split.app) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if args.keys == 0 || args.rounds == 0 || args.burst == 0 || args.slices == 0 {
        eprintln!("lpm-bench: --keys, --rounds, --slices and --burst must be at least 1");
        return ExitCode::from(2);
    }
    let eal = match Eal::init(&eal_args) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "lpm-bench: cannot start the DPDK EAL ({}): {e}",
                eal_args[1..].join(" ")
            );
            return ExitCode::FAILURE;
        }
    };
    let code = match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("lpm-bench: {msg}");
            ExitCode::FAILURE
        }
    };
    op25b_bench::stop_eal(eal, split.own_prefix);
    code
}

fn run(args: &Args) -> Result<(), String> {
    println!(
        "lpm-bench: {} keys per family, bursts of {}, {} rounds of {} slices (ours and rte_fib alternately), \
         {}-byte next hops, seed {}",
        args.keys, args.burst, args.rounds, args.slices, args.next_hop_bytes, args.seed
    );
    println!(
        "ours: lpm::Lpm4 (DIR-24-8 with deduplicated 16-bit entries in transparent huge pages from 32,768 prefixes, \
         poptrie below) and lpm::Lpm6 (poptrie); hardware popcnt {}",
        if cfg!(target_feature = "popcnt") {
            "on"
        } else {
            "off (software popcount; the workspace's .cargo/config.toml builds for x86-64-v2, which has it)"
        }
    );
    let two = args.next_hop_bytes == "2";
    let v4 = match (args.family != "v6", two) {
        (false, _) => None,
        (true, true) => Some(bench_v4::<u16>(args, NextHopSize::Two)?),
        (true, false) => Some(bench_v4::<u32>(args, NextHopSize::Four)?),
    };
    let v6 = match (args.family != "v4", two) {
        (false, _) => None,
        (true, true) => Some(bench_v6::<u16>(args, NextHopSize::Two)?),
        (true, false) => Some(bench_v6::<u32>(args, NextHopSize::Four)?),
    };
    println!();
    println!(
        "{:<6} {:>9} {:>9} {:>11} {:>13} {:>7} {:>7} {:>10} {:>13} {:>14} {:>16}",
        "family",
        "prefixes",
        "keys",
        "ours Mlps",
        "rte_fib Mlps",
        "ratio",
        "paired",
        "ours MiB",
        "rte_fib MiB",
        "ours build ms",
        "rte_fib build ms"
    );
    for (name, r) in [("v4", &v4), ("v6", &v6)] {
        if let Some(r) = r {
            println!(
                "{:<6} {:>9} {:>9} {:>11.1} {:>13.1} {:>7.2} {:>7.2} {:>10.1} {:>13.1} {:>14.0} {:>16.0}",
                name,
                r.prefixes,
                r.keys,
                r.ours_mlps,
                r.rte_fib_mlps,
                r.ratio,
                r.ratio_paired,
                r.ours_bytes as f64 / (1 << 20) as f64,
                r.rte_fib_bytes as f64 / (1 << 20) as f64,
                r.build_ms_ours,
                r.build_ms_rte_fib
            );
        }
    }
    if let Some(path) = &args.json {
        let meta = [
            ("burst", args.burst.to_string()),
            ("rounds", args.rounds.to_string()),
            ("slices", args.slices.to_string()),
            ("seed", args.seed.to_string()),
            ("dpdk", Eal::version()),
            (
                "ours_popcnt",
                if cfg!(target_feature = "popcnt") {
                    "hardware"
                } else {
                    "software"
                }
                .to_owned(),
            ),
        ];
        std::fs::write(path, report_json(v4.as_ref(), v6.as_ref(), &meta))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(())
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Twice the groups our count says DPDK needs, and never fewer than 64.
fn with_margin(needed: usize) -> Result<u32, String> {
    u32::try_from(needed * 2 + 64)
        .map_err(|_| format!("{needed} tbl8 groups is beyond DPDK's limit"))
}

/// Times `ours` and `theirs` over `slices` slices of the keys per round, the two
/// alternating slice by slice (and which goes first alternating too), `rounds`
/// times; returns each round's Mlps of both. `ours(i)`/`theirs(i)` look up slice `i`.
fn alternate(
    rounds: usize,
    slices: usize,
    keys: usize,
    mut ours: impl FnMut(usize),
    mut theirs: impl FnMut(usize),
) -> (Vec<f64>, Vec<f64>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (mut ta, mut tb) = (0.0, 0.0);
        for i in 0..slices {
            let time = |f: &mut dyn FnMut(usize)| {
                let t = Instant::now();
                f(i);
                t.elapsed().as_secs_f64()
            };
            if i % 2 == 0 {
                ta += time(&mut ours);
                tb += time(&mut theirs);
            } else {
                tb += time(&mut theirs);
                ta += time(&mut ours);
            }
        }
        a.push(mlps(keys, ta));
        b.push(mlps(keys, tb));
    }
    (a, b)
}

/// The keys of slice `i` of `n` over `len` keys, cut at burst boundaries.
fn slice_range(i: usize, n: usize, len: usize, burst: usize) -> std::ops::Range<usize> {
    let bursts = len.div_ceil(burst);
    let at = |k: usize| (bursts * k / n * burst).min(len);
    at(i)..at(i + 1)
}

/// A next-hop type both sides store: our map's value, DPDK's next hop.
trait NextHop: Copy + Debug + Eq + std::hash::Hash + Into<u64> + TryFrom<u32> {}
impl NextHop for u16 {}
impl NextHop for u32 {}

/// `AnonHugePages` of this process in KiB (Linux), to show whether our tables got the
/// transparent huge pages they ask for.
fn anon_huge_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = s.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn next_hop<V: NextHop>(nh: u32) -> Result<V, String> {
    V::try_from(nh).map_err(|_| format!("next hop {nh} does not fit the next-hop type"))
}

fn bench_v4<V: NextHop>(args: &Args, nh_size: NextHopSize) -> Result<FamilyResult, String> {
    println!();
    println!("== IPv4: {} prefixes", args.v4_prefixes);
    let t = Instant::now();
    let table = table_v4(args.v4_prefixes, args.seed);
    let keys = keys_v4(&table, args.keys, args.seed ^ 0x4b45_5953);
    println!("generated table and keys in {:.0} ms", ms_since(t));

    let entries = table
        .iter()
        .map(|&(net, len, nh)| Ok((net, len, next_hop::<V>(nh)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let t = Instant::now();
    let ours = Lpm4::build(&entries).map_err(|e| format!("our IPv4 build failed: {e}"))?;
    let build_ms_ours = ms_since(t);
    if let Some(kib) = anon_huge_kib() {
        println!(
            "transparent huge pages in this process after our build: {} MiB (DPDK's --no-huge memory is a memfd and gets none)",
            kib / 1024
        );
    }

    let needed = tbl8_needed_v4(&table);
    let conf = FibConfig {
        max_routes: u32::try_from(table.len() + 16).map_err(|_| "table too large for rte_fib")?,
        num_tbl8: with_margin(needed)?,
        default_nh: 0,
        nh_size,
    };
    let t = Instant::now();
    let mut fib =
        Fib::new("lpm_bench_v4", SOCKET_ID_ANY, &conf).map_err(|e| format!("rte_fib: {e}"))?;
    for &(net, len, nh) in &table {
        fib.add(net, len, u64::from(nh))
            .map_err(|e| format!("rte_fib: {e}"))?;
    }
    let build_ms_rte = ms_since(t);
    println!(
        "built: ours {build_ms_ours:.0} ms ({}), rte_fib {build_ms_rte:.0} ms (DIR-24-8, {}-byte next hops, {} tbl8 groups for {needed} needed)",
        ours.layout(),
        nh_size.bytes(),
        conf.num_tbl8
    );

    let mut out_ours: Vec<Option<V>> = vec![None; keys.len()];
    let mut out_rte = vec![0u64; keys.len()];
    let all = 0..keys.len();
    let run_ours = |r: std::ops::Range<usize>, out: &mut [Option<V>]| {
        for (k, o) in keys[r.clone()]
            .chunks(args.burst)
            .zip(out[r].chunks_mut(args.burst))
        {
            ours.lookup_bulk(k, o);
        }
    };
    let run_rte = |r: std::ops::Range<usize>, out: &mut [u64]| -> Result<(), String> {
        for (k, o) in keys[r.clone()]
            .chunks(args.burst)
            .zip(out[r].chunks_mut(args.burst))
        {
            fib.lookup_bulk(k, o).map_err(|e| format!("rte_fib: {e}"))?;
        }
        Ok(())
    };
    run_ours(all.clone(), &mut out_ours);
    run_rte(all, &mut out_rte)?;
    agree("IPv4", &out_ours, &out_rte, |i| {
        std::net::Ipv4Addr::from(keys[i]).to_string()
    })?;
    let hits = out_ours.iter().filter(|o| o.is_some()).count();
    println!(
        "agreement: all {} keys give the same next hop on both sides ({:.1} % match a prefix)",
        keys.len(),
        100.0 * hits as f64 / keys.len() as f64
    );

    let mut rte_err = None;
    let (ours_rounds, rte_rounds) = alternate(
        args.rounds,
        args.slices,
        keys.len(),
        |i| {
            run_ours(
                slice_range(i, args.slices, keys.len(), args.burst),
                &mut out_ours,
            );
            black_box(&out_ours);
        },
        |i| {
            if let Err(e) = run_rte(
                slice_range(i, args.slices, keys.len(), args.burst),
                &mut out_rte,
            ) {
                rte_err = Some(e);
            }
            black_box(&out_rte);
        },
    );
    if let Some(e) = rte_err {
        return Err(e);
    }
    Ok(result(
        nh_size.bytes(),
        table.len(),
        keys.len(),
        ours.memory_bytes(),
        fib.table_memory(),
        build_ms_ours,
        build_ms_rte,
        ours_rounds,
        rte_rounds,
    ))
}

fn bench_v6<V: NextHop>(args: &Args, nh_size: NextHopSize) -> Result<FamilyResult, String> {
    println!();
    println!("== IPv6: {} prefixes", args.v6_prefixes);
    let t = Instant::now();
    let table = table_v6(args.v6_prefixes, args.seed);
    let keys = keys_v6(&table, args.keys, args.seed ^ 0x4b45_5936);
    let keys_bytes: Vec<[u8; 16]> = keys.iter().map(|k| k.to_be_bytes()).collect();
    println!("generated table and keys in {:.0} ms", ms_since(t));

    let entries = table
        .iter()
        .map(|&(net, len, nh)| Ok((net, len, next_hop::<V>(nh)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let t = Instant::now();
    let ours = Lpm6::build(&entries).map_err(|e| format!("our IPv6 build failed: {e}"))?;
    let build_ms_ours = ms_since(t);

    let needed = tbl8_needed_v6(&table);
    let num_tbl8 = with_margin(needed)?;
    // rte_fib6's trie keeps tbl8 group indices in next-hop-sized entries: with 2 bytes
    // it takes fewer than 2^15 groups, so a larger table needs 4-byte next hops there.
    let nh_size = match nh_size {
        NextHopSize::Two if num_tbl8 >= 1 << 15 => {
            println!("rte_fib6: {num_tbl8} tbl8 groups do not fit 2-byte next hops; using 4 bytes");
            NextHopSize::Four
        }
        other => other,
    };
    let conf = FibConfig {
        max_routes: u32::try_from(table.len() + 16).map_err(|_| "table too large for rte_fib6")?,
        num_tbl8,
        default_nh: 0,
        nh_size,
    };
    let t = Instant::now();
    let mut fib =
        Fib6::new("lpm_bench_v6", SOCKET_ID_ANY, &conf).map_err(|e| format!("rte_fib6: {e}"))?;
    for &(net, len, nh) in &table {
        fib.add(&net.to_be_bytes(), len, u64::from(nh))
            .map_err(|e| format!("rte_fib6: {e}"))?;
    }
    let build_ms_rte = ms_since(t);
    println!(
        "built: ours {build_ms_ours:.0} ms ({}), rte_fib6 {build_ms_rte:.0} ms (trie, {}-byte next hops, {} tbl8 groups for {needed} needed)",
        ours.layout(),
        nh_size.bytes(),
        conf.num_tbl8
    );

    let mut out_ours: Vec<Option<V>> = vec![None; keys.len()];
    let mut out_rte = vec![0u64; keys.len()];
    let all = 0..keys.len();
    let run_ours = |r: std::ops::Range<usize>, out: &mut [Option<V>]| {
        for (k, o) in keys[r.clone()]
            .chunks(args.burst)
            .zip(out[r].chunks_mut(args.burst))
        {
            ours.lookup_bulk(k, o);
        }
    };
    let run_rte = |r: std::ops::Range<usize>, out: &mut [u64]| -> Result<(), String> {
        for (k, o) in keys_bytes[r.clone()]
            .chunks(args.burst)
            .zip(out[r].chunks_mut(args.burst))
        {
            fib.lookup_bulk(k, o)
                .map_err(|e| format!("rte_fib6: {e}"))?;
        }
        Ok(())
    };
    run_ours(all.clone(), &mut out_ours);
    run_rte(all, &mut out_rte)?;
    agree("IPv6", &out_ours, &out_rte, |i| {
        std::net::Ipv6Addr::from(keys[i]).to_string()
    })?;
    let hits = out_ours.iter().filter(|o| o.is_some()).count();
    println!(
        "agreement: all {} keys give the same next hop on both sides ({:.1} % match a prefix)",
        keys.len(),
        100.0 * hits as f64 / keys.len() as f64
    );

    let mut rte_err = None;
    let (ours_rounds, rte_rounds) = alternate(
        args.rounds,
        args.slices,
        keys.len(),
        |i| {
            run_ours(
                slice_range(i, args.slices, keys.len(), args.burst),
                &mut out_ours,
            );
            black_box(&out_ours);
        },
        |i| {
            if let Err(e) = run_rte(
                slice_range(i, args.slices, keys.len(), args.burst),
                &mut out_rte,
            ) {
                rte_err = Some(e);
            }
            black_box(&out_rte);
        },
    );
    if let Some(e) = rte_err {
        return Err(e);
    }
    Ok(result(
        nh_size.bytes(),
        table.len(),
        keys.len(),
        ours.memory_bytes(),
        fib.table_memory(),
        build_ms_ours,
        build_ms_rte,
        ours_rounds,
        rte_rounds,
    ))
}

/// Fails with the first few keys where ours (`None` = no route) and DPDK's (0 = no
/// route) differ.
fn agree<V: NextHop>(
    family: &str,
    ours: &[Option<V>],
    rte: &[u64],
    show: impl Fn(usize) -> String,
) -> Result<(), String> {
    let bad: Vec<usize> = ours
        .iter()
        .zip(rte)
        .enumerate()
        .filter(|(_, (o, r))| o.map_or(0, Into::into) != **r)
        .map(|(i, _)| i)
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let examples: Vec<String> = bad
        .iter()
        .take(5)
        .map(|&i| format!("{}: ours {:?}, rte_fib {}", show(i), ours[i], rte[i]))
        .collect();
    Err(format!(
        "{family}: {} of {} keys disagree, e.g. {}",
        bad.len(),
        ours.len(),
        examples.join("; ")
    ))
}

#[allow(clippy::too_many_arguments)]
fn result(
    next_hop_bytes: usize,
    prefixes: usize,
    keys: usize,
    ours_bytes: usize,
    rte_fib_bytes: usize,
    build_ms_ours: f64,
    build_ms_rte_fib: f64,
    ours_rounds: Vec<f64>,
    rte_fib_rounds: Vec<f64>,
) -> FamilyResult {
    let ours_mlps = median(&ours_rounds);
    let rte_fib_mlps = median(&rte_fib_rounds);
    let paired: Vec<f64> = ours_rounds
        .iter()
        .zip(&rte_fib_rounds)
        .map(|(a, b)| a / b)
        .collect();
    println!(
        "rounds (Mlps): ours {:?}, rte_fib {:?}",
        ours_rounds
            .iter()
            .map(|x| (x * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        rte_fib_rounds
            .iter()
            .map(|x| (x * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    println!(
        "per-round ratios: {:?}",
        paired
            .iter()
            .map(|x| (x * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    FamilyResult {
        next_hop_bytes,
        ratio_paired: median(&paired),
        prefixes,
        keys,
        ours_mlps,
        rte_fib_mlps,
        ratio: if rte_fib_mlps > 0.0 {
            ours_mlps / rte_fib_mlps
        } else {
            f64::NAN
        },
        ours_bytes,
        rte_fib_bytes,
        build_ms_ours,
        build_ms_rte_fib,
        ours_rounds,
        rte_fib_rounds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_every_key_once_cut_at_bursts() {
        for (len, n, burst) in [(1000, 16, 64), (64, 16, 64), (5, 3, 2), (4_194_304, 16, 64)] {
            let mut next = 0;
            for i in 0..n {
                let r = slice_range(i, n, len, burst);
                assert_eq!(r.start, next, "{len} {n} {burst}");
                assert!(r.start == len || r.start % burst == 0);
                next = r.end;
            }
            assert_eq!(next, len);
        }
        assert_eq!(slice_range(3, 16, 4_194_304, 64), 786_432..1_048_576);
    }

    #[test]
    fn alternate_gives_one_figure_per_round_and_calls_every_slice() {
        let (mut a_calls, mut b_calls) = (Vec::new(), Vec::new());
        let (a, b) = alternate(3, 4, 1000, |i| a_calls.push(i), |i| b_calls.push(i));
        assert_eq!((a.len(), b.len()), (3, 3));
        assert_eq!(a_calls, [0, 1, 2, 3].repeat(3));
        assert_eq!(b_calls, a_calls);
    }

    #[test]
    fn next_hops_that_do_not_fit_are_an_error() {
        assert_eq!(next_hop::<u16>(1024), Ok(1024));
        assert!(next_hop::<u16>(70_000).unwrap_err().contains("70000"));
    }
}
