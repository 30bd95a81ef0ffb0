//! The main EAL test program: one EAL (two lcores, no hugepages, no PCI,
//! net_ring and net_null vdevs) and every check that needs it, in order.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::{ctx, file_prefix, Check, Harness};
use dpdk::fib::{Fib, Fib6, FibConfig, Lpm, NextHopSize, LPM_LOOKUP_SUCCESS, LPM_NEXT_HOP_MASK};
use dpdk::{
    lcore, ring, telemetry, Burst, Eal, Error, Mbuf, Mempool, PortConf, PortId, Qsbr, SOCKET_ID_ANY,
};

fn v4(s: &str) -> u32 {
    u32::from(s.parse::<Ipv4Addr>().expect("test address"))
}

fn v6(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>().expect("test address").octets()
}

fn payload(i: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..64 + i)
        .map(|b| (b as u8) ^ (i as u8).wrapping_mul(31))
        .collect();
    p[..8].copy_from_slice(&(i as u64).to_le_bytes());
    p
}

fn check_eal(eal: &Eal) -> Check {
    ensure!(dpdk::is_running(), "is_running() is false");
    ensure_eq!(
        eal.app_args(),
        ["--app-flag".to_owned(), "value".to_owned()]
    );
    ensure!(eal.consumed() > 0, "consumed() is 0");
    ensure!(
        dpdk::version().starts_with("DPDK 22.11"),
        "version {}",
        dpdk::version()
    );
    ensure!(dpdk::cycles::tsc_hz() > 0, "TSC not calibrated");
    let (a, b) = (dpdk::cycles::rdtsc(), dpdk::cycles::rdtsc());
    ensure!(b >= a, "TSC went backwards");
    match Eal::init(&["again", "--no-huge"]) {
        Err(Error::EalAlreadyInitialized(_)) => Ok(()),
        other => Err(format!("second init: {:?}", other.map(|_| ()))),
    }
}

fn check_lcores() -> Check {
    ensure_eq!(ctx(lcore::main_lcore(), "main")?, 0);
    ensure_eq!(lcore::id(), Some(0));
    ensure_eq!(lcore::count(), 2);
    ensure_eq!(lcore::workers().collect::<Vec<_>>(), vec![1]);
    ensure!(lcore::socket_id(1).is_some(), "no socket for lcore 1");
    ensure_eq!(lcore::socket_id(99), None);
    let other = std::thread::spawn(lcore::id)
        .join()
        .map_err(|_| "thread panicked")?;
    ensure_eq!(other, None);
    Ok(())
}

fn check_launch() -> Check {
    ctx(
        lcore::launch(1, || if lcore::id() == Some(1) { 42 } else { -1 }),
        "launch",
    )?;
    ensure_eq!(ctx(lcore::wait(1), "wait")?, 42);

    // A panic is caught on the worker and becomes PANICKED; the process and
    // the lcore survive.
    ctx(
        lcore::launch(1, || panic!("deliberate panic in a launched closure")),
        "launch panicking",
    )?;
    ensure_eq!(ctx(lcore::wait(1), "wait")?, lcore::PANICKED);
    ctx(lcore::launch(1, || 7), "launch after panic")?;
    ensure_eq!(ctx(lcore::wait(1), "wait")?, 7);

    // A busy lcore refuses a second job, and the refused closure is dropped.
    let release = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&release);
    ctx(
        lcore::launch(1, move || {
            while !r.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            3
        }),
        "launch spinning",
    )?;
    let token = Arc::new(());
    let t = Arc::clone(&token);
    let second = lcore::launch(1, move || {
        drop(t);
        0
    });
    release.store(true, Ordering::Release);
    ensure!(
        matches!(second, Err(Error::Busy { .. })),
        "busy lcore accepted a job: {second:?}"
    );
    ensure_eq!(Arc::strong_count(&token), 1);
    ensure_eq!(ctx(lcore::wait(1), "wait")?, 3);

    ensure!(
        lcore::launch(0, || 0).is_err(),
        "launch on the main lcore succeeded"
    );
    ensure!(
        lcore::launch(5, || 0).is_err(),
        "launch on a disabled lcore succeeded"
    );
    let from_thread = std::thread::spawn(|| lcore::launch(1, || 0).is_err())
        .join()
        .map_err(|_| "thread panicked")?;
    ensure!(from_thread, "launch from a non-EAL thread succeeded");
    ctx(lcore::mp_wait(), "mp_wait")?;
    Ok(())
}

fn check_mbufs() -> Check {
    let pool = ctx(
        Mempool::pktmbuf_pool("mbuf_pool", 63, 0, dpdk::DEFAULT_DATA_ROOM, SOCKET_ID_ANY),
        "pool",
    )?;
    ensure_eq!(pool.name(), "mbuf_pool".to_owned());
    ensure_eq!(pool.size(), 63);
    ensure_eq!(ctx(Mempool::lookup("mbuf_pool"), "lookup")?, pool);
    {
        let mut m = Mbuf::alloc(&pool).ok_or("alloc failed")?;
        ensure_eq!(m.data_len(), 0);
        ensure_eq!(m.headroom(), 128);
        ensure_eq!(m.nb_segs(), 1);
        m.append(10).ok_or("append")?.copy_from_slice(b"0123456789");
        m.prepend(2).ok_or("prepend")?.copy_from_slice(b"ab");
        ensure_eq!(m.data(), b"ab0123456789");
        ensure_eq!(m.pkt_len(), 12);
        ensure!(m.adj(3), "adj");
        ensure!(m.trim(2), "trim");
        ensure_eq!(m.data(), b"1234567");
        ensure!(!m.adj(100), "adj past the data succeeded");
        ensure!(!m.trim(100), "trim past the data succeeded");
        ensure!(
            m.prepend(200).is_none(),
            "prepend past the headroom succeeded"
        );
        ensure!(
            m.append(u16::MAX).is_none(),
            "append past the tailroom succeeded"
        );
        m.data_mut()[0] = b'X';
        ensure_eq!(m.data(), b"X234567");
        ensure!(
            !m.set_data_len(m.buf_len()),
            "data_len past the buffer accepted"
        );
        ensure!(m.set_len(3), "set_len");
        ensure_eq!(m.data(), b"X23");
        ensure_eq!(m.pkt_len(), 3);

        // A two-segment packet: copies and reads walk the chain.
        let mut tail = Mbuf::alloc(&pool).ok_or("alloc tail")?;
        tail.append(4)
            .ok_or("append tail")?
            .copy_from_slice(b"WXYZ");
        ctx(
            m.chain(tail).map_err(|_| Error::InvalidArgument {
                op: "chain",
                reason: "refused".into(),
            }),
            "chain",
        )?;
        ensure_eq!(m.nb_segs(), 2);
        ensure_eq!(m.pkt_len(), 7);
        ensure!(!m.is_contiguous(), "chained packet reported contiguous");
        ensure_eq!(
            m.segments().collect::<Vec<_>>(),
            vec![&b"X23"[..], &b"WXYZ"[..]]
        );
        let mut out = [0u8; 16];
        ensure_eq!(m.copy_to(0, &mut out), 7);
        ensure_eq!(&out[..7], b"X23WXYZ");
        ensure_eq!(m.copy_to(2, &mut out[..3]), 3);
        ensure_eq!(&out[..3], b"3WX");
        ensure_eq!(m.copy_to(9, &mut out), 0);
        let mut scratch = [0u8; 8];
        ensure_eq!(m.read(1, 2, &mut scratch), Some(&b"23"[..]));
        let mut scratch = [0u8; 8];
        ensure_eq!(m.read(1, 5, &mut scratch), Some(&b"23WXY"[..]));
        let mut scratch = [0u8; 8];
        ensure_eq!(m.read(5, 5, &mut scratch), None);
        ensure!(!m.set_len(5), "set_len on a chain accepted");
        ensure_eq!(pool.in_use_count(), 2);
        m.reset();
        ensure_eq!(pool.in_use_count(), 1);
        ensure_eq!(m.nb_segs(), 1);
        ensure_eq!(m.data_len(), 0);
    }
    ensure_eq!(pool.in_use_count(), 0);

    // Exhaustion gives None, and everything comes back.
    let mut all = Vec::new();
    while let Some(m) = Mbuf::alloc(&pool) {
        all.push(m);
        ensure!(all.len() <= 63, "allocated more mbufs than the pool holds");
    }
    ensure_eq!(all.len(), 63);
    ensure_eq!(pool.avail_count(), 0);
    drop(all);
    ensure_eq!(pool.in_use_count(), 0);

    // Burst keeps order, retains, frees in bulk.
    let mut b = Burst::new();
    for i in 0..10u8 {
        let mut m = Mbuf::alloc(&pool).ok_or("alloc")?;
        m.append(1).ok_or("append")?[0] = i;
        b.push(m).map_err(|_| "burst full")?;
    }
    b.retain(|m| m.data()[0] % 2 == 0);
    ensure_eq!(
        b.as_slice().iter().map(|m| m.data()[0]).collect::<Vec<_>>(),
        vec![0, 2, 4, 6, 8]
    );
    ensure_eq!(pool.in_use_count(), 5);
    let last = b.swap_remove(0).ok_or("swap_remove")?;
    ensure_eq!(last.data()[0], 0);
    ensure_eq!(b.as_slice()[0].data()[0], 8);
    drop(last);
    b.clear();
    ensure!(b.is_empty(), "clear left mbufs");
    ensure_eq!(pool.in_use_count(), 0);

    // Bad pool parameters are clear errors.
    ensure!(
        Mempool::pktmbuf_pool("a_name_that_is_far_too_long_for_dpdk", 63, 0, 2176, -1).is_err(),
        "long name accepted"
    );
    ensure!(
        Mempool::pktmbuf_pool("bad_cache", 63, 600, 2176, -1).is_err(),
        "huge cache accepted"
    );
    ensure!(
        Mempool::pktmbuf_pool("mbuf_pool", 63, 0, 2176, -1).is_err(),
        "duplicate name accepted"
    );
    Ok(())
}

fn check_ring_loopback() -> Check {
    let pool = ctx(
        Mempool::pktmbuf_pool(
            "loop_pool",
            1023,
            32,
            dpdk::DEFAULT_DATA_ROOM,
            SOCKET_ID_ANY,
        ),
        "pool",
    )?;
    let port = ctx(PortId::by_name("net_ring0"), "by_name")?;
    ensure!(
        PortId::by_name("no_such_port").is_err(),
        "unknown port found"
    );
    ensure_eq!(ctx(port.name(), "name")?, "net_ring0".to_owned());
    ensure_eq!(ctx(port.info(), "info")?.driver_name, "net_ring".to_owned());
    ctx(port.mac_addr(), "mac")?; // net_ring's MAC is all zeros; the call must work
    ensure!(PortId(31).name().is_err(), "port 31 has a name");

    let rss = ctx(
        port.configure(&PortConf {
            rx_queues: 1,
            tx_queues: 1,
            rss: true,
            mtu: None,
        }),
        "configure",
    )?;
    ensure_eq!(rss, 0);
    let (nrx, ntx) = ctx(port.adjust_desc(256, 256), "adjust")?;
    ctx(
        port.rx_queue_setup(0, nrx, SOCKET_ID_ANY, &pool),
        "rx setup",
    )?;
    ctx(port.tx_queue_setup(0, ntx, SOCKET_ID_ANY), "tx setup")?;
    ctx(port.set_promiscuous(true), "promiscuous")?;
    ctx(port.start(), "start")?;
    ensure!(ctx(port.link(), "link")?.up, "link down after start");
    ctx(port.reset_stats(), "reset stats")?;

    let mut rx = ctx(port.rx_queue(0), "rx queue")?;
    let mut tx = ctx(port.tx_queue(0), "tx queue")?;
    ensure!(
        matches!(port.rx_queue(0), Err(Error::Busy { .. })),
        "second rx handle for one queue"
    );
    ensure!(
        port.tx_queue(1).is_err(),
        "handle for an unconfigured queue"
    );
    ensure!(
        matches!(port.stop(), Err(Error::Busy { .. })),
        "stopped a port with live queue handles"
    );
    ensure!(
        matches!(
            port.configure(&PortConf::default()),
            Err(Error::Busy { .. })
        ),
        "reconfigured a busy port"
    );

    const N: usize = 48;
    let mut sent_bytes = 0u64;
    let mut burst = Burst::new();
    for i in 0..N {
        let p = payload(i);
        let mut m = Mbuf::alloc(&pool).ok_or("alloc")?;
        m.append(p.len() as u16)
            .ok_or("append")?
            .copy_from_slice(&p);
        sent_bytes += p.len() as u64;
        burst.push(m).map_err(|_| "burst full")?;
    }
    ensure_eq!(tx.tx_burst(&mut burst), N);
    ensure!(burst.is_empty(), "unsent mbufs left");
    ensure_eq!(pool.in_use_count() as usize, N);

    let mut got = Burst::new();
    for _ in 0..10 {
        rx.rx_burst_into(&mut got);
        if got.len() == N {
            break;
        }
    }
    ensure_eq!(got.len(), N);
    for (i, m) in got.as_slice().iter().enumerate() {
        ensure!(
            m.data() == payload(i).as_slice(),
            "packet {i} differs (or out of order)"
        );
        ensure_eq!(m.pkt_len() as usize, payload(i).len());
    }
    drop(got);
    ensure_eq!(pool.in_use_count(), 0);

    // The raw interface: pointers in, pointers out.
    let mut raw = [std::ptr::null_mut(); 4];
    ensure_eq!(rx.rx_burst(&mut raw), 0);

    let st = ctx(port.stats(), "stats")?;
    ensure_eq!(st.opackets, N as u64);
    ensure_eq!(st.ipackets, N as u64);
    // net_ring counts packets only; bytes are checked on net_pcap/net_null.
    ensure!(
        sent_bytes > 0 && st.obytes == st.ibytes,
        "byte counters disagree: {st:?}"
    );
    ensure_eq!(st.oerrors, 0);

    drop((rx, tx));
    ctx(port.stop(), "stop")?;
    ensure!(!ctx(port.link(), "link")?.up, "link up after stop");
    // A stopped port's queue handle yields nothing instead of crashing.
    let mut rx = ctx(port.rx_queue(0), "rx queue on stopped port")?;
    ensure_eq!(rx.rx_burst(&mut raw), 0);
    drop(rx);
    ctx(port.start(), "restart")?;
    ctx(port.stop(), "stop again")?;
    ctx(port.close(), "close")?;
    ensure!(!port.is_valid(), "closed port still valid");
    ensure_eq!(pool.in_use_count(), 0);
    Ok(())
}

fn check_qsbr() -> Check {
    let q = Arc::new(ctx(Qsbr::new(4), "new")?);
    ensure!(Qsbr::new(0).is_err(), "zero readers accepted");
    ensure!(q.thread_register(4).is_err(), "out-of-range id accepted");
    ensure!(q.quiescent(9).is_err(), "out-of-range quiescent accepted");

    // Deterministic: an online reader holds the grace period until it reports.
    let r0 = ctx(q.reader(0), "reader 0")?;
    let t = q.start();
    ensure!(
        !q.check(t, false),
        "grace period over before the reader reported"
    );
    r0.quiescent();
    ensure!(
        q.check(t, false),
        "grace period not over after the reader reported"
    );
    // An offline reader does not hold it.
    r0.offline();
    let t = q.start();
    ensure!(q.check(t, false), "offline reader blocked the grace period");
    r0.online();
    drop(r0);
    let t = q.start();
    ensure!(
        q.check(t, false),
        "unregistered reader blocked the grace period"
    );

    // Across lcores: a worker loops reporting; the writer waits for it.
    let stop = Arc::new(AtomicBool::new(false));
    let loops = Arc::new(AtomicU64::new(0));
    let (qq, s, l) = (Arc::clone(&q), Arc::clone(&stop), Arc::clone(&loops));
    ctx(
        lcore::launch(1, move || {
            let Ok(reader) = qq.reader(1) else { return -1 };
            while !s.load(Ordering::Acquire) {
                l.fetch_add(1, Ordering::Relaxed);
                reader.quiescent();
            }
            0
        }),
        "launch reader",
    )?;
    while loops.load(Ordering::Relaxed) == 0 {
        std::hint::spin_loop();
    }
    for _ in 0..100 {
        let t = q.start();
        ensure!(q.check(t, true), "check(wait) returned false");
    }
    ctx(q.synchronize(None), "synchronize")?;
    stop.store(true, Ordering::Release);
    ensure_eq!(ctx(lcore::wait(1), "wait")?, 0);
    Ok(())
}

fn check_rings() -> Check {
    let (mut p, mut c) = ctx(ring::spsc::<u64>("suite_ring", 8, SOCKET_ID_ANY), "create")?;
    ensure_eq!(p.capacity(), 8);
    ensure_eq!(p.enqueue_burst(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 8);
    ensure_eq!(p.enqueue(11), Err(11));
    ensure_eq!(c.len(), 8);
    let mut out = [0u64; 5];
    ensure_eq!(c.dequeue_burst(&mut out), 5);
    ensure_eq!(out, [1, 2, 3, 4, 5]);
    ensure_eq!(c.dequeue(), Some(6));
    ensure_eq!(c.dequeue_burst(&mut out), 2);
    ensure_eq!(&out[..2], &[7, 8]);
    ensure_eq!(c.dequeue(), None);
    ensure!(
        ring::spsc::<[u8; 6]>("odd_ring", 8, SOCKET_ID_ANY).is_err(),
        "6-byte elements accepted"
    );
    ensure!(
        ring::spsc::<u64>("suite_ring", 8, SOCKET_ID_ANY).is_err(),
        "duplicate ring name accepted"
    );

    // A producer on lcore 1, the consumer here.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Sample {
        seq: u64,
        addr: u32,
        port: u32,
    }
    let (mut p, mut c) = ctx(
        ring::spsc::<Sample>("sample_ring", 256, SOCKET_ID_ANY),
        "create samples",
    )?;
    const COUNT: u64 = 100_000;
    ctx(
        lcore::launch(1, move || {
            let mut seq = 0;
            while seq < COUNT {
                if p.enqueue(Sample {
                    seq,
                    addr: 0xc633_6400 | (seq as u32 & 0xff),
                    port: 25,
                })
                .is_ok()
                {
                    seq += 1;
                }
            }
            0
        }),
        "launch producer",
    )?;
    let mut next = 0u64;
    let mut buf = [Sample {
        seq: 0,
        addr: 0,
        port: 0,
    }; 32];
    while next < COUNT {
        let n = c.dequeue_burst(&mut buf);
        for s in &buf[..n] {
            ensure_eq!(s.seq, next);
            ensure_eq!(s.addr, 0xc633_6400 | (next as u32 & 0xff));
            next += 1;
        }
    }
    ensure_eq!(ctx(lcore::wait(1), "wait")?, 0);
    Ok(())
}

fn check_fib() -> Check {
    let conf = FibConfig {
        max_routes: 1024,
        num_tbl8: 256,
        default_nh: 0,
        nh_size: NextHopSize::Four,
    };
    let mut fib = ctx(Fib::new("suite_fib", SOCKET_ID_ANY, &conf), "create")?;
    ensure_eq!(fib.table_memory(), (1 << 24) * 4 + 256 * 256 * 4);
    ctx(fib.add(v4("198.51.100.0"), 24, 1), "add /24")?;
    ctx(fib.add(v4("198.51.100.200"), 29, 2), "add /29")?;
    ctx(fib.add(v4("203.0.113.0"), 24, 3), "add 203/24")?;
    ctx(fib.add(v4("100.64.0.0"), 10, 4), "add /10")?;
    ensure!(
        fib.add(v4("192.0.2.0"), 33, 1).is_err(),
        "depth 33 accepted"
    );
    ensure!(
        fib.add(v4("192.0.2.0"), 24, 1 << 40).is_err(),
        "oversized next hop accepted"
    );
    let ips = [
        v4("198.51.100.1"),
        v4("198.51.100.201"),
        v4("198.51.100.207"),
        v4("198.51.100.208"),
        v4("203.0.113.25"),
        v4("192.0.2.1"),
        v4("100.127.255.255"),
    ];
    let mut nh = [u64::MAX; 7];
    ctx(fib.lookup_bulk(&ips, &mut nh), "lookup")?;
    ensure_eq!(nh, [1, 2, 2, 1, 3, 0, 4]);
    ctx(fib.delete(v4("198.51.100.200"), 29), "delete")?;
    ctx(fib.lookup_bulk(&ips, &mut nh), "lookup after delete")?;
    ensure_eq!(nh, [1, 1, 1, 1, 3, 0, 4]);
    ensure!(
        fib.lookup_bulk(&ips, &mut nh[..3]).is_err(),
        "length mismatch accepted"
    );
    drop(fib);

    let conf6 = FibConfig {
        max_routes: 1024,
        num_tbl8: 1024,
        default_nh: 9,
        nh_size: NextHopSize::Two,
    };
    let mut fib6 = ctx(Fib6::new("suite_fib6", SOCKET_ID_ANY, &conf6), "create6")?;
    ctx(fib6.add(&v6("2001:db8:100::"), 40, 1), "add /40")?;
    ctx(fib6.add(&v6("2001:db8:ff::25"), 128, 2), "add /128")?;
    ctx(fib6.add(&v6("2001:db8::"), 32, 3), "add /32")?;
    ensure!(
        fib6.add(&v6("2001:db8::"), 32, 1 << 15).is_err(),
        "next hop over 2^15-1 accepted with 2-byte entries"
    );
    let ips6 = [
        v6("2001:db8:100::1"),
        v6("2001:db8:1ff:ffff::1"),
        v6("2001:db8:ff::25"),
        v6("2001:db8:ff::26"),
        v6("2001:db9::1"),
    ];
    let mut nh6 = [0u64; 5];
    ctx(fib6.lookup_bulk(&ips6, &mut nh6), "lookup6")?;
    ensure_eq!(nh6, [1, 1, 2, 3, 9]);
    drop(fib6);

    let mut lpm = ctx(Lpm::new("suite_lpm", SOCKET_ID_ANY, 1024, 256), "lpm")?;
    ctx(lpm.add(v4("198.51.100.0"), 24, 10), "lpm add")?;
    ctx(lpm.add(v4("198.51.100.128"), 25, 11), "lpm add /25")?;
    ensure_eq!(lpm.lookup(v4("198.51.100.5")), Some(10));
    ensure_eq!(lpm.lookup(v4("198.51.100.130")), Some(11));
    ensure_eq!(lpm.lookup(v4("192.0.2.1")), None);
    let mut out = [0u32; 3];
    ctx(
        lpm.lookup_bulk(
            &[v4("198.51.100.5"), v4("198.51.100.130"), v4("192.0.2.1")],
            &mut out,
        ),
        "lpm bulk",
    )?;
    ensure!(
        out[0] & LPM_LOOKUP_SUCCESS != 0 && out[1] & LPM_LOOKUP_SUCCESS != 0,
        "bulk misses: {out:x?}"
    );
    ensure_eq!(out[0] & LPM_NEXT_HOP_MASK, 10);
    ensure_eq!(out[1] & LPM_NEXT_HOP_MASK, 11);
    ensure_eq!(out[2] & LPM_LOOKUP_SUCCESS, 0);
    ctx(lpm.delete(v4("198.51.100.128"), 25), "lpm delete")?;
    ensure_eq!(lpm.lookup(v4("198.51.100.130")), Some(10));
    Ok(())
}

/// Sends one telemetry request over DPDK's SOCK_SEQPACKET socket.
fn telemetry_query(path: &str, request: &str) -> Result<String, String> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: plain socket calls on a descriptor we own; the address struct
    // is zero-initialised and the path fits (checked).
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0);
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        if path.len() >= addr.sun_path.len() {
            return Err("socket path too long".into());
        }
        for (d, s) in addr.sun_path.iter_mut().zip(path.bytes()) {
            *d = s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        if libc::connect(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        ) != 0
        {
            return Err(format!(
                "connect {path}: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut buf = vec![0u8; 16384];
        let recv = |buf: &mut [u8]| -> Result<String, String> {
            let n = libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0);
            if n < 0 {
                return Err(format!("recv: {}", std::io::Error::last_os_error()));
            }
            Ok(String::from_utf8_lossy(&buf[..n as usize]).into_owned())
        };
        let greeting = recv(&mut buf)?;
        if !greeting.contains("version") {
            return Err(format!("unexpected greeting {greeting}"));
        }
        if libc::send(fd.as_raw_fd(), request.as_ptr().cast(), request.len(), 0) < 0 {
            return Err(format!("send: {}", std::io::Error::last_os_error()));
        }
        recv(&mut buf)
    }
}

fn check_telemetry(eal: &Eal) -> Check {
    ctx(
        telemetry::register_cmd(
            "/op25b/test",
            "Test command of the dpdk crate.",
            |params, d| {
                d.start_dict()?;
                d.add_str("params", params)?;
                d.add_u64("big", 1 << 40)?;
                d.add_int("small", -5)?;
                Ok(())
            },
        ),
        "register",
    )?;
    ctx(
        telemetry::register_cmd("/op25b/panics", "Panics.", |_, _| {
            panic!("deliberate panic in a telemetry callback")
        }),
        "register panics",
    )?;
    ensure!(
        matches!(
            telemetry::register_cmd("/op25b/test", "again", |_, _| Ok(())),
            Err(Error::Busy { .. })
        ),
        "duplicate command accepted"
    );
    ensure!(
        telemetry::register_cmd("op25b", "no slash", |_, _| Ok(())).is_err(),
        "name without / accepted"
    );
    ensure!(
        telemetry::register_cmd("/op25b/a,b", "comma", |_, _| Ok(())).is_err(),
        "name with a comma accepted"
    );

    let sock = format!("{}/dpdk_telemetry.v2", eal.runtime_dir());
    let reply = telemetry_query(&sock, "/op25b/test,pool=ftth")?;
    ensure!(
        reply.contains(r#""params":"pool=ftth""#),
        "reply lacks params: {reply}"
    );
    ensure!(
        reply.contains(r#""big":1099511627776"#),
        "reply lacks the u64: {reply}"
    );
    ensure!(
        reply.contains(r#""small":-5"#),
        "reply lacks the int: {reply}"
    );
    let reply = telemetry_query(&sock, "/op25b/panics")?;
    ensure!(
        reply.contains("null"),
        "a panicking callback did not yield null: {reply}"
    );
    let reply = telemetry_query(&sock, "/")?;
    ensure!(
        reply.contains("/op25b/test"),
        "command list lacks /op25b/test: {reply}"
    );
    Ok(())
}

fn main() {
    let mut h = Harness::new();
    let prefix = file_prefix("eal-suite");
    let args = [
        "eal_suite",
        "-l",
        "0-1",
        "--no-huge",
        "--no-pci",
        "--no-shconf",
        "--file-prefix",
        &prefix,
        "-m",
        "512",
        "--vdev",
        "net_ring0",
        "--vdev",
        "net_null0",
        "--log-level",
        "lib.eal:warning",
        "--",
        "--app-flag",
        "value",
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

    h.run("eal_comes_up_without_hugepages_and_splits_app_args", || {
        check_eal(&eal)
    });
    h.run("lcore_enumeration", check_lcores);
    h.run("launch_runs_closures_and_contains_panics", check_launch);
    h.run("mbuf_views_and_bursts", check_mbufs);
    h.run("net_ring_loopback_round_trip", check_ring_loopback);
    h.run("qsbr_grace_periods", check_qsbr);
    h.run("spsc_rings_in_order_across_lcores", check_rings);
    h.run("fib_fib6_lpm_longest_prefix_match", check_fib);
    h.run("telemetry_commands_answer_on_the_socket", || {
        check_telemetry(&eal)
    });

    drop(eal);
    ensure_not_running(&mut h);
    common::remove_runtime_dir(&runtime_dir);
    std::process::exit(h.finish());
}

fn ensure_not_running(h: &mut Harness) {
    h.run("dropping_the_eal_stops_it", || {
        ensure!(!dpdk::is_running(), "is_running() after drop");
        ensure!(
            matches!(
                Mempool::pktmbuf_pool("late", 63, 0, 2176, -1),
                Err(Error::EalNotRunning(_))
            ),
            "pool after cleanup"
        );
        Ok(())
    });
}
