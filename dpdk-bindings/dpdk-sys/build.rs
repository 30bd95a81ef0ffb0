//! Build script of `dpdk-sys`: finds DPDK 22.11 with pkg-config, generates the
//! Rust declarations with bindgen, and compiles two small C files with the very
//! same flags: bindgen's wrappers for DPDK's `static inline` functions and our
//! hand-written macro shim (`csrc/shim.c`). See the crate documentation.

use std::env;
use std::path::PathBuf;
use std::process::{self, Command};

/// Lowest supported DPDK release (inclusive).
const DPDK_MIN: &str = "22.11";
/// First unsupported DPDK release (exclusive). The ABI changes every LTS and
/// the bindings are checked against 22.11 only.
const DPDK_MAX_EXCLUSIVE: &str = "22.12";
/// The pkg-config package name of DPDK.
const PKG: &str = "libdpdk";

/// Structures declared `__rte_packed __rte_aligned(2)`: bindgen cannot give
/// a Rust type both `packed` and `align`, so they are emitted as opaque blobs of
/// the right size and alignment.
const OPAQUE_TYPES: &[&str] = &[
    "rte_arp_hdr",
    "rte_arp_ipv4",
    "rte_l2tpv2_combined_msg_hdr",
    "rte_gtp_psc_generic_hdr",
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let csrc = manifest_dir.join("csrc");

    for f in ["wrapper.h", "shim.h", "shim.c"] {
        println!("cargo:rerun-if-changed={}", csrc.join(f).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    // 1. Find DPDK and check its version range.
    let lib = match pkg_config::Config::new()
        .range_version(DPDK_MIN..DPDK_MAX_EXCLUSIVE)
        .cargo_metadata(false)
        .env_metadata(false)
        .probe(PKG)
    {
        Ok(lib) => lib,
        Err(e) => fail(&format!(
            "DPDK {DPDK_MIN}.x was not found through pkg-config ({PKG} >= {DPDK_MIN}, < {DPDK_MAX_EXCLUSIVE}).\n\
             Install the development package: `apt-get install libdpdk-dev` (Debian bookworm ships 22.11),\n\
             or point PKG_CONFIG_PATH at a DPDK 22.11 installation's lib/pkgconfig directory.\n\
             pkg-config said: {e}"
        )),
    };

    // 2. Every cflag token, verbatim. The pkg-config crate keeps only -I and -D,
    // but DPDK needs `-include rte_config.h` and `-march=corei7` as well (without
    // them rte_memcpy.h does not compile), so ask pkg-config directly.
    let cflags = pkg_config_tokens(&["--cflags", PKG]);
    let libs = pkg_config_tokens(&["--libs", PKG]);

    // 3. Link the shared libraries. Debian's EAL then dlopen()s its poll-mode
    // drivers from its plugin directory (RTE_EAL_PMD_PATH) by itself.
    emit_link_directives(&libs);

    // 4. bindgen.
    let static_fns_stem = out_dir.join("static_fns");
    let mut builder = bindgen::Builder::default()
        .header(csrc.join("wrapper.h").to_string_lossy())
        .clang_args(cflags.iter())
        .clang_arg(format!("-I{}", csrc.display()))
        .clang_arg("-DALLOW_EXPERIMENTAL_API")
        .allowlist_function("rte_.*")
        .allowlist_type("rte_.*")
        .allowlist_var("RTE_.*")
        .allowlist_var("RING_F_.*")
        .allowlist_var("MEMPOOL_F_.*")
        .allowlist_var("SOCKET_ID_ANY")
        // The per-port fast-path table that rte_eth_rx_burst/tx_burst index.
        .allowlist_var("rte_eth_fp_ops")
        // Takes an SSE vector by value, which has no FFI-safe Rust type.
        .blocklist_function("rte_lpm_lookupx4")
        .allowlist_function("dpdk_shim_.*")
        .allowlist_var("dpdk_shim_.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .derive_debug(false)
        .layout_tests(true)
        // DPDK's doxygen text is not Rust documentation: indented examples in it
        // would be run as doc tests.
        .generate_comments(false)
        .wrap_static_fns(true)
        .wrap_static_fns_path(&static_fns_stem)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for t in OPAQUE_TYPES {
        builder = builder.opaque_type(*t);
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        fail(&format!(
            "bindgen could not process the DPDK headers ({e}).\n\
             bindgen needs libclang (`apt-get install libclang-dev`) and the DPDK headers \
             (`apt-get install libdpdk-dev`). cflags used: {}",
            cflags.join(" ")
        ))
    });
    bindings
        .write_to_file(out_dir.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings.rs: {e}")));

    // 5. Compile bindgen's static-inline wrappers and the shim with the same flags.
    let static_fns_c = static_fns_stem.with_extension("c");
    if !static_fns_c.exists() {
        fail(&format!("bindgen did not write {}", static_fns_c.display()));
    }
    let mut cc = cc::Build::new();
    cc.file(&static_fns_c)
        .file(csrc.join("shim.c"))
        .include(&csrc)
        .define("ALLOW_EXPERIMENTAL_API", None)
        .opt_level(3)
        .warnings(false);
    for flag in &cflags {
        cc.flag(flag);
    }
    cc.compile("dpdk_sys_wrappers");

    // Exposed to dependents' build scripts as DEP_DPDK_VERSION / DEP_DPDK_CFLAGS.
    println!("cargo:version={}", lib.version);
    println!("cargo:cflags={}", cflags.join(" "));
}

/// Runs pkg-config with `args` and splits its output into tokens the way a
/// shell would (pkg-config escapes blanks in paths with a backslash).
fn pkg_config_tokens(args: &[&str]) -> Vec<String> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let out = Command::new(&pkg_config)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run `{pkg_config}`: {e}. Install it: `apt-get install pkg-config`"
            ))
        });
    if !out.status.success() {
        fail(&format!(
            "`{pkg_config} {}` failed: {}. Install `libdpdk-dev`.",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    split_flags(&String::from_utf8_lossy(&out.stdout))
}

fn split_flags(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

fn emit_link_directives(libs: &[String]) {
    // The ring PMD's rte_eth_from_rings() (ports over rings made in-process,
    // for tests that inject traffic) is not in `pkg-config --libs`: it is a
    // driver library. Linking it is harmless: EAL's plugin loader finds it
    // already loaded and does not register the driver twice.
    println!("cargo:rustc-link-lib=dylib=rte_net_ring");
    let mut it = libs.iter();
    while let Some(tok) = it.next() {
        if let Some(dir) = tok.strip_prefix("-L") {
            let dir = if dir.is_empty() {
                it.next().map(String::as_str).unwrap_or("")
            } else {
                dir
            };
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(name) = tok.strip_prefix("-l") {
            let name = if name.is_empty() {
                it.next().map(String::as_str).unwrap_or("")
            } else {
                name
            };
            if let Some(file) = name.strip_prefix(':') {
                // `-l:librte_x.a` only appears with `pkg-config --static`.
                fail(&format!(
                    "unexpected static library `{file}` in `pkg-config --libs {PKG}`"
                ));
            }
            println!("cargo:rustc-link-lib=dylib={name}");
        } else if tok == "-pthread" {
            println!("cargo:rustc-link-lib=dylib=pthread");
        } else if tok.starts_with("-Wl,") {
            // rustc already links with --as-needed on Linux; other linker
            // options from pkg-config cannot be forwarded from a library crate.
            if tok != "-Wl,--as-needed" {
                println!("cargo:warning=dpdk-sys: ignoring linker flag `{tok}` from pkg-config");
            }
        } else {
            println!("cargo:warning=dpdk-sys: ignoring `{tok}` from `pkg-config --libs {PKG}`");
        }
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("\nerror: dpdk-sys: {msg}\n");
    process::exit(1);
}
