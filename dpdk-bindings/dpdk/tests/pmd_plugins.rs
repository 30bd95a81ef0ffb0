//! Debian's EAL loads its poll-mode drivers from its plugin directory by
//! itself: net_pcap, net_null and net_ring vdevs work with no `-d` option,
//! and a pcap file replays through the safe API byte for byte.

mod common;

use std::path::{Path, PathBuf};

use common::{ctx, file_prefix, Check, Harness};
use dpdk::{Burst, Eal, Mempool, PortConf, PortId, SOCKET_ID_ANY};

/// Three small Ethernet frames (IPv4/TCP to port 25 from documentation
/// addresses), with distinct lengths and contents.
fn frames() -> Vec<Vec<u8>> {
    (0..3u8)
        .map(|i| {
            let mut f = vec![0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00];
            let mut ip = vec![
                0x45,
                0,
                0,
                40,
                0,
                i,
                0x40,
                0,
                64,
                6,
                0,
                0,
                198,
                51,
                100,
                10 + i,
                203,
                0,
                113,
                25,
            ];
            ip.extend_from_slice(&[
                0xc3,
                0x50 + i,
                0,
                25,
                0,
                0,
                0,
                1,
                0,
                0,
                0,
                0,
                0x50,
                0x02,
                0xff,
                0xff,
                0,
                0,
                0,
                0,
            ]);
            f.extend_from_slice(&ip);
            f.extend(std::iter::repeat(0xa0 + i).take(usize::from(i) * 7));
            f
        })
        .collect()
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) -> std::io::Result<()> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (i, f) in frames.iter().enumerate() {
        b.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes());
        b.extend_from_slice(f);
    }
    std::fs::write(path, b)
}

fn read_pcap(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let b = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    if b.len() < 24 {
        return Err(format!("{} is too short for a pcap header", path.display()));
    }
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= b.len() {
        let caplen = u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16;
        if off + caplen > b.len() {
            return Err("truncated pcap record".into());
        }
        out.push(b[off..off + caplen].to_vec());
        off += caplen;
    }
    Ok(out)
}

fn main() {
    let mut h = Harness::new();
    let prefix = file_prefix("pmd-plugins");
    let dir = std::env::temp_dir().join(format!("{prefix}-files"));
    let _ = std::fs::create_dir_all(&dir);
    let rx_pcap: PathBuf = dir.join("in.pcap");
    let tx_pcap: PathBuf = dir.join("out.pcap");
    let sent = frames();
    if let Err(e) = write_pcap(&rx_pcap, &sent) {
        println!("cannot write {}: {e}", rx_pcap.display());
        std::process::exit(1);
    }

    let args = vec![
        "pmd_plugins".to_owned(),
        "-l".into(),
        "0".into(),
        "--no-huge".into(),
        "--no-pci".into(),
        "--no-shconf".into(),
        "--file-prefix".into(),
        prefix.clone(),
        "-m".into(),
        "128".into(),
        "--log-level".into(),
        "lib.eal:warning".into(),
        format!(
            "--vdev=net_pcap0,rx_pcap={},tx_pcap={}",
            rx_pcap.display(),
            tx_pcap.display()
        ),
        "--vdev=net_null0".into(),
        "--vdev=net_ring0".into(),
    ];
    let eal = match Eal::init(&args) {
        Ok(eal) => eal,
        Err(e) => {
            println!("EAL init failed: {e}");
            println!("0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    let runtime_dir = eal.runtime_dir();

    h.run(
        "vdev_drivers_load_from_the_plugin_directory",
        || -> Check {
            ensure_eq!(dpdk::Port::count(), 3);
            for (name, driver) in [
                ("net_pcap0", "net_pcap"),
                ("net_null0", "net_null"),
                ("net_ring0", "net_ring"),
            ] {
                let p = ctx(PortId::by_name(name), name)?;
                ensure_eq!(ctx(p.info(), "info")?.driver_name, driver.to_owned());
                ensure_eq!(ctx(p.name(), "name")?, name.to_owned());
            }
            Ok(())
        },
    );

    h.run("pcap_replay_round_trips_every_byte", || -> Check {
        let pool = ctx(
            Mempool::pktmbuf_pool("pcap_pool", 511, 0, dpdk::DEFAULT_DATA_ROOM, SOCKET_ID_ANY),
            "pool",
        )?;
        let p = ctx(PortId::by_name("net_pcap0"), "port")?;
        ctx(p.configure(&PortConf::default()), "configure")?;
        ctx(p.rx_queue_setup(0, 128, SOCKET_ID_ANY, &pool), "rx setup")?;
        ctx(p.tx_queue_setup(0, 128, SOCKET_ID_ANY), "tx setup")?;
        ctx(p.start(), "start")?;
        {
            let mut rx = ctx(p.rx_queue(0), "rx queue")?;
            let mut tx = ctx(p.tx_queue(0), "tx queue")?;
            let mut burst = Burst::new();
            // The pcap PMD delivers the file's packets, then nothing.
            for _ in 0..100 {
                rx.rx_burst_into(&mut burst);
                if burst.len() >= sent.len() {
                    break;
                }
            }
            ensure_eq!(burst.len(), sent.len());
            for (m, f) in burst.as_slice().iter().zip(&sent) {
                ensure!(
                    m.data() == f.as_slice(),
                    "received frame differs from the pcap record"
                );
                ensure_eq!(m.pkt_len() as usize, f.len());
            }
            let n = tx.tx_burst(&mut burst);
            ensure_eq!(n, sent.len());
            ensure!(burst.is_empty(), "burst still holds {} mbufs", burst.len());
        }
        let st = ctx(p.stats(), "stats")?;
        ensure_eq!(st.ipackets, sent.len() as u64);
        ensure_eq!(st.opackets, sent.len() as u64);
        ctx(p.stop(), "stop")?;
        ctx(p.close(), "close")?;
        ensure_eq!(pool.in_use_count(), 0);
        let written = read_pcap(&tx_pcap)?;
        ensure!(
            written == sent,
            "tx pcap holds {} frames that differ from what was sent",
            written.len()
        );
        Ok(())
    });

    h.run("null_port_accepts_and_counts_everything", || -> Check {
        let pool = ctx(
            Mempool::pktmbuf_pool("null_pool", 511, 0, dpdk::DEFAULT_DATA_ROOM, SOCKET_ID_ANY),
            "pool",
        )?;
        let p = ctx(PortId::by_name("net_null0"), "port")?;
        ctx(p.configure(&PortConf::default()), "configure")?;
        ctx(p.tx_queue_setup(0, 256, SOCKET_ID_ANY), "tx setup")?;
        ctx(p.rx_queue_setup(0, 256, SOCKET_ID_ANY, &pool), "rx setup")?;
        ctx(p.start(), "start")?;
        let mut tx = ctx(p.tx_queue(0), "tx queue")?;
        let mut burst = Burst::new();
        for _ in 0..32 {
            let mut m = dpdk::Mbuf::alloc(&pool).ok_or("pool empty")?;
            m.append(60).ok_or("no room")?.fill(0x5a);
            burst.push(m).map_err(|_| "burst full")?;
        }
        ensure_eq!(tx.tx_burst(&mut burst), 32);
        drop(tx);
        let st = ctx(p.stats(), "stats")?;
        ensure_eq!(st.opackets, 32);
        ctx(p.stop(), "stop")?;
        ctx(p.close(), "close")?;
        ensure_eq!(pool.in_use_count(), 0);
        Ok(())
    });

    drop(eal);
    common::remove_runtime_dir(&runtime_dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::process::exit(h.finish());
}
