//! Reports (never asserts) how long the 1M IPv4 + 200k IPv6 prefix config takes to
//! validate and compile, and the lookup rate of the compiled tables.
//!
//! `cargo bench -p policy --bench compile` (add `-- V4 V6 POOLS` to change the size).

use policy::{load_str, synth, Config, Tables};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let v4 = args.first().copied().unwrap_or(1_000_000);
    let v6 = args.get(1).copied().unwrap_or(200_000);
    let pools = args.get(2).copied().unwrap_or(1000);

    let t = Instant::now();
    let yaml = synth::big_config_yaml(v4, v6, pools);
    let generate = t.elapsed();

    let t = Instant::now();
    let loaded = match load_str("big.yaml", yaml.as_bytes()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("synthetic config rejected:\n{e}");
            std::process::exit(1);
        }
    };
    let load = t.elapsed();

    let config: &Config = &loaded.config;
    let t = Instant::now();
    let tables = Tables::compile(config).expect("compiles");
    let compile = t.elapsed();

    let probes: Vec<u32> = (0..1_000_000u32)
        .map(|i| 0x6440_0000u32.wrapping_add(i.wrapping_mul(2_654_435_761) >> 10))
        .collect();
    let t = Instant::now();
    let mut hits = 0usize;
    for &a in &probes {
        hits += usize::from(black_box(tables.lookup_src_v4(a)).is_some());
    }
    let lookup = t.elapsed();

    println!(
        "config: {v4} IPv4 + {v6} IPv6 prefixes in {pools} pools, {:.1} MB of YAML",
        yaml.len() as f64 / 1e6
    );
    println!("generate YAML:                    {generate:>10.3?}");
    println!("load_str (parse+validate+compile): {load:>10.3?}");
    println!("Tables::compile only:             {compile:>10.3?}");
    println!(
        "lookup_src_v4: {} lookups in {lookup:.3?} ({:.1} ns/lookup, {hits} hits)",
        probes.len(),
        lookup.as_nanos() as f64 / probes.len() as f64
    );
    println!(
        "lookup memory: {:.1} MB",
        tables.lookup_memory_bytes() as f64 / 1e6
    );
}
