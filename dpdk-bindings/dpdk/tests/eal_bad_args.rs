//! EAL argument errors, in a process of their own (rte_eal_init runs once).

mod common;

use common::{file_prefix, Check, Harness};
use dpdk::{Eal, Error, Mempool};

fn main() {
    let mut h = Harness::new();
    let prefix = file_prefix("bad-args");

    h.run(
        "empty_argument_list_is_rejected_before_dpdk",
        || match Eal::init::<&str>(&[]) {
            Err(Error::InvalidArgument { reason, .. }) => {
                ensure!(
                    reason.contains("program name"),
                    "unexpected reason: {reason}"
                );
                Ok(())
            }
            other => Err(format!(
                "expected InvalidArgument, got {:?}",
                other.map(|_| ())
            )),
        },
    );

    h.run(
        "nul_byte_in_argument_is_rejected_before_dpdk",
        || match Eal::init(&["x", "--no-huge", "bad\0arg"]) {
            Err(e @ Error::InvalidArgument { .. }) => {
                ensure!(
                    e.to_string().contains("argument 2"),
                    "message does not name the argument: {e}"
                );
                Ok(())
            }
            other => Err(format!(
                "expected InvalidArgument, got {:?}",
                other.map(|_| ())
            )),
        },
    );

    h.run("dpdk_objects_need_a_running_eal", || -> Check {
        match Mempool::pktmbuf_pool("early", 63, 0, dpdk::DEFAULT_DATA_ROOM, dpdk::SOCKET_ID_ANY) {
            Err(Error::EalNotRunning(_)) => {}
            other => return Err(format!("expected EalNotRunning, got {other:?}")),
        }
        ensure!(
            dpdk::lcore::launch(1, || 0).is_err(),
            "launch without EAL succeeded"
        );
        ensure!(
            dpdk::ring::spsc::<u64>("early", 8, -1).is_err(),
            "ring without EAL succeeded"
        );
        ensure_eq!(dpdk::Port::count(), 0);
        ensure!(!dpdk::is_running(), "EAL reported running");
        Ok(())
    });

    h.run("unknown_eal_option_gives_readable_error", || {
        let args = [
            "eal_bad_args",
            "--no-huge",
            "--no-pci",
            "--no-shconf",
            "--file-prefix",
            &prefix,
            "--definitely-not-an-eal-option",
        ];
        match Eal::init(&args) {
            Err(e @ Error::Dpdk { .. }) => {
                let msg = e.to_string();
                println!("  error text: {msg}");
                ensure!(
                    msg.contains("rte_eal_init"),
                    "message does not name rte_eal_init: {msg}"
                );
                ensure_eq!(e.errno(), Some(22));
                ensure!(
                    msg.contains("Invalid argument"),
                    "message lacks the strerror text: {msg}"
                );
                Ok(())
            }
            Err(e) => Err(format!("expected a DPDK error, got {e}")),
            Ok(_) => Err("EAL accepted an unknown option".into()),
        }
    });

    h.run("second_init_is_an_error_not_ub", || {
        match Eal::init(&["eal_bad_args", "--no-huge", "--no-pci"]) {
            Err(e @ Error::EalAlreadyInitialized(_)) => {
                ensure!(
                    e.to_string().contains("once per process"),
                    "unclear message: {e}"
                );
                Ok(())
            }
            other => Err(format!(
                "expected EalAlreadyInitialized, got {:?}",
                other.map(|_| ())
            )),
        }
    });

    common::remove_runtime_dir(&format!("/var/run/dpdk/{prefix}"));
    std::process::exit(h.finish());
}
