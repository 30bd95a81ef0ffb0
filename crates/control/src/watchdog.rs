//! The worker watchdog (issue 8, item 4).
//!
//! Every worker bumps its loop counter right after reporting a quiescent
//! state. A worker whose counter has not moved for longer than the bound is
//! stalled: it forwards nothing, and a publication would wait for it forever.
//! The watchdog runs on its own thread (so it still sees a stall while the
//! control loop is blocked in a grace period), keeps the health that
//! `/healthz` serves, logs each stall and recovery, and on a stall either
//! keeps going on the other workers ([`OnStall::Log`], fail-open in software)
//! or runs the exit action ([`OnStall::Exit`]: op25bd exits so that a
//! hardware bypass or the service manager takes over).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

/// What to do when a worker stalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStall {
    /// Log it and report it in `/healthz`; the other workers keep forwarding.
    Log,
    /// Log it, then run the exit action (op25bd exits with a distinct code).
    Exit,
}

impl std::str::FromStr for OnStall {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "log" => Ok(OnStall::Log),
            "exit" => Ok(OnStall::Exit),
            _ => Err(format!("`{s}` is not a stall action: use `log` or `exit`")),
        }
    }
}

/// One running worker's loop counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerLoops {
    pub index: usize,
    pub lcore: u32,
    pub loops: u64,
}

/// Reads every running worker's loop counter (called on the watchdog thread).
pub type Probe = Box<dyn Fn() -> Vec<WorkerLoops> + Send>;

/// A change the watchdog noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Stalled {
        index: usize,
        lcore: u32,
        silent_ms: u64,
    },
    Recovered {
        index: usize,
        lcore: u32,
        silent_ms: u64,
    },
}

/// One worker in `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerHealth {
    pub index: usize,
    pub lcore: u32,
    pub loops: u64,
    /// Milliseconds since the loop counter last moved.
    pub since_progress_ms: u64,
    pub stalled: bool,
}

#[derive(Debug)]
struct Tracked {
    w: WorkerLoops,
    changed: Instant,
    stalled: bool,
}

/// Stall detection over successive observations of the loop counters.
#[derive(Debug)]
pub struct Watchdog {
    bound: Duration,
    tracked: Vec<Tracked>,
}

impl Watchdog {
    pub fn new(bound: Duration) -> Watchdog {
        Watchdog {
            bound,
            tracked: Vec::new(),
        }
    }

    pub fn bound(&self) -> Duration {
        self.bound
    }

    /// Takes one reading of the counters at `now`; returns what changed.
    pub fn observe(&mut self, now: Instant, loops: &[WorkerLoops]) -> Vec<Event> {
        let mut events = Vec::new();
        for w in loops {
            match self.tracked.iter_mut().find(|t| t.w.index == w.index) {
                None => self.tracked.push(Tracked {
                    w: *w,
                    changed: now,
                    stalled: false,
                }),
                Some(t) => {
                    let silent_ms = now.saturating_duration_since(t.changed).as_millis() as u64;
                    if w.loops != t.w.loops {
                        if t.stalled {
                            events.push(Event::Recovered {
                                index: w.index,
                                lcore: w.lcore,
                                silent_ms,
                            });
                        }
                        t.w = *w;
                        t.changed = now;
                        t.stalled = false;
                    } else if !t.stalled && now.saturating_duration_since(t.changed) > self.bound {
                        t.stalled = true;
                        events.push(Event::Stalled {
                            index: w.index,
                            lcore: w.lcore,
                            silent_ms,
                        });
                    }
                }
            }
        }
        events
    }

    /// Every watched worker at `now`.
    pub fn health(&self, now: Instant) -> Vec<WorkerHealth> {
        self.tracked
            .iter()
            .map(|t| WorkerHealth {
                index: t.w.index,
                lcore: t.w.lcore,
                loops: t.w.loops,
                since_progress_ms: now.saturating_duration_since(t.changed).as_millis() as u64,
                stalled: t.stalled,
            })
            .collect()
    }
}

/// The watchdog thread; stops when dropped.
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the watchdog thread: it reads `probe` every quarter of `bound`,
/// publishes the health into `health`, logs stalls and recoveries, and calls
/// `exit` on a stall when `on_stall` is [`OnStall::Exit`].
pub fn spawn(
    bound: Duration,
    probe: Probe,
    health: Arc<Mutex<Vec<WorkerHealth>>>,
    on_stall: OnStall,
    exit: Box<dyn Fn(&Event) + Send>,
) -> std::io::Result<Running> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let period = (bound / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    let thread = std::thread::Builder::new()
        .name("op25b-watchdog".into())
        .spawn(move || {
            let mut wd = Watchdog::new(bound);
            while !flag.load(Ordering::Relaxed) {
                let now = Instant::now();
                let events = wd.observe(now, &probe());
                *health.lock().unwrap_or_else(|e| e.into_inner()) = wd.health(now);
                for e in &events {
                    match *e {
                        Event::Stalled {
                            index,
                            lcore,
                            silent_ms,
                        } => {
                            tracing::error!(
                                worker = index,
                                lcore,
                                silent_ms,
                                bound_ms = bound.as_millis() as u64,
                                action = if on_stall == OnStall::Exit {
                                    "exit"
                                } else {
                                    "log"
                                },
                                "worker stalled: no quiescent state within the bound"
                            );
                            if on_stall == OnStall::Exit {
                                exit(e);
                            }
                        }
                        Event::Recovered {
                            index,
                            lcore,
                            silent_ms,
                        } => tracing::warn!(
                            worker = index,
                            lcore,
                            silent_ms,
                            "worker recovered: quiescent states again"
                        ),
                    }
                }
                std::thread::sleep(period);
            }
        })?;
    Ok(Running {
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(index: usize, loops: u64) -> WorkerLoops {
        WorkerLoops {
            index,
            lcore: index as u32 + 1,
            loops,
        }
    }

    #[test]
    fn a_worker_whose_counter_stops_is_stalled_after_the_bound_then_recovers() {
        let mut wd = Watchdog::new(Duration::from_millis(100));
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        assert!(wd.observe(t0, &[w(0, 1), w(1, 1)]).is_empty());
        assert!(wd.observe(ms(60), &[w(0, 5), w(1, 1)]).is_empty());
        // Worker 1 silent for 100 ms: not yet over the bound.
        assert!(wd.observe(ms(100), &[w(0, 9), w(1, 1)]).is_empty());
        let e = wd.observe(ms(150), &[w(0, 12), w(1, 1)]);
        assert_eq!(
            e,
            [Event::Stalled {
                index: 1,
                lcore: 2,
                silent_ms: 150
            }]
        );
        // Reported once, not on every reading.
        assert!(wd.observe(ms(200), &[w(0, 13), w(1, 1)]).is_empty());
        let h = wd.health(ms(200));
        assert!(!h[0].stalled && h[1].stalled, "{h:?}");
        assert_eq!(h[1].since_progress_ms, 200);
        let e = wd.observe(ms(300), &[w(0, 14), w(1, 2)]);
        assert!(
            matches!(e[..], [Event::Recovered { index: 1, .. }]),
            "{e:?}"
        );
        assert!(wd.health(ms(300)).iter().all(|h| !h.stalled));
    }

    #[test]
    fn the_thread_publishes_health_and_runs_the_exit_action_on_a_stall() {
        let health = Arc::new(Mutex::new(Vec::new()));
        let exited = Arc::new(Mutex::new(Vec::new()));
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = counter.clone();
        let probe: Probe = Box::new(move || {
            // Worker 0 loops, worker 1 is stuck.
            vec![w(0, c.fetch_add(1, Ordering::Relaxed)), w(1, 7)]
        });
        let ex = exited.clone();
        let running = spawn(
            Duration::from_millis(40),
            probe,
            health.clone(),
            OnStall::Exit,
            Box::new(move |e| ex.lock().unwrap().push(e.clone())),
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while exited.lock().unwrap().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(running);
        let ex = exited.lock().unwrap();
        assert!(
            matches!(ex[..], [Event::Stalled { index: 1, .. }]),
            "{ex:?}"
        );
        let h = health.lock().unwrap();
        assert!(h.iter().any(|h| h.index == 1 && h.stalled), "{h:?}");
        assert!(h.iter().any(|h| h.index == 0 && !h.stalled), "{h:?}");
    }

    #[test]
    fn stall_actions_parse() {
        assert_eq!("log".parse::<OnStall>(), Ok(OnStall::Log));
        assert_eq!("exit".parse::<OnStall>(), Ok(OnStall::Exit));
        assert!("panic".parse::<OnStall>().unwrap_err().contains("log"));
    }
}
