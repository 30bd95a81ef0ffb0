//! EAL initialisation and teardown.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU8, Ordering};

use dpdk_sys as sys;

use crate::error::{Error, Result};

const NEVER: u8 = 0;
const STARTING: u8 = 1;
const RUNNING: u8 = 2;
const FAILED: u8 = 3;
const STOPPED: u8 = 4;

static STATE: AtomicU8 = AtomicU8::new(NEVER);

/// `Ok(())` while the EAL is up; every safe entry point that would touch
/// uninitialised DPDK state checks this first.
pub(crate) fn ensure_running(op: &'static str) -> Result<()> {
    if STATE.load(Ordering::Acquire) == RUNNING {
        Ok(())
    } else {
        Err(Error::EalNotRunning(op))
    }
}

/// Whether the EAL is up in this process.
pub fn is_running() -> bool {
    STATE.load(Ordering::Acquire) == RUNNING
}

/// The running DPDK Environment Abstraction Layer.
///
/// There is at most one per process, ever: DPDK's `rte_eal_init` works once.
/// Dropping it waits for every worker lcore to finish and calls
/// `rte_eal_cleanup`, which releases DPDK memory: every mempool, mbuf, ring,
/// FIB and queue handle must be gone (or never used again) by then. Keep the
/// `Eal` in `main` and let it drop last.
pub struct Eal {
    // DPDK keeps pointers into argv (program name, some option values) for the
    // life of the process, and getopt permutes the pointer array: both live here.
    _args: Vec<CString>,
    _argv: Vec<*mut c_char>,
    consumed: usize,
    app_args: Vec<String>,
}

impl Eal {
    /// Initialises the EAL with a full command line: `args[0]` is the program
    /// name, EAL options follow, and everything after `--` belongs to the
    /// application (see [`Eal::app_args`]).
    ///
    /// Arguments are checked (non-empty, no NUL bytes) before DPDK sees them;
    /// such a rejection does not use up the one initialisation. Any later
    /// call after `rte_eal_init` was attempted returns
    /// [`Error::EalAlreadyInitialized`]. DPDK's own failures (unknown options,
    /// no memory, ...) come back as [`Error::Dpdk`] with the `rte_errno` text;
    /// the EAL prints details (such as its usage) to the log.
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Eal> {
        const OP: &str = "Eal::init";
        if args.is_empty() {
            return Err(Error::invalid(
                OP,
                "the argument list needs at least the program name",
            ));
        }
        let mut owned = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let a = a.as_ref();
            owned.push(CString::new(a).map_err(|_| {
                Error::invalid(OP, format!("argument {i} ({a:?}) contains a NUL byte"))
            })?);
        }
        let argc =
            c_int::try_from(owned.len()).map_err(|_| Error::invalid(OP, "too many arguments"))?;

        if let Err(prev) =
            STATE.compare_exchange(NEVER, STARTING, Ordering::AcqRel, Ordering::Acquire)
        {
            return Err(Error::EalAlreadyInitialized(match prev {
                STARTING => "(initialisation in progress on another thread)",
                RUNNING => "(it is running)",
                FAILED => "(the attempt failed)",
                _ => "(and has been cleaned up)",
            }));
        }

        let mut argv: Vec<*mut c_char> = owned.iter().map(|a| a.as_ptr().cast_mut()).collect();
        argv.push(std::ptr::null_mut());
        // SAFETY: argv holds argc pointers to NUL-terminated strings followed by
        // NULL, as C's main receives; the strings and the array live in the
        // returned Eal (and are leaked on failure, see below) so the pointers
        // DPDK keeps stay valid. The STATE guard makes this the only call.
        let ret = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            let op = if crate::error::rte_errno() == 22 {
                "rte_eal_init (EAL arguments rejected; the EAL log above says which)"
            } else {
                "rte_eal_init"
            };
            let err = Error::from_rte_errno(op);
            STATE.store(FAILED, Ordering::Release);
            // DPDK may still hold pointers into argv after a failed init.
            std::mem::forget(owned);
            std::mem::forget(argv);
            return Err(err);
        }
        let consumed = ret as usize;
        // After parsing, argv[consumed] is the program name and the
        // application's own arguments follow it (rte_eal_init's contract).
        let mut app_args = Vec::new();
        for &p in argv.iter().take(owned.len()).skip(consumed + 1) {
            // SAFETY: getopt only permutes the pointers; each still points to
            // one of our NUL-terminated CStrings.
            app_args.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
        }
        STATE.store(RUNNING, Ordering::Release);
        Ok(Eal {
            _args: owned,
            _argv: argv,
            consumed,
            app_args,
        })
    }

    /// How many arguments the EAL consumed (what `rte_eal_init` returned; the
    /// `--` separator counts).
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The application's arguments: what followed `--`, without the program name.
    pub fn app_args(&self) -> &[String] {
        &self.app_args
    }

    /// The EAL runtime directory (`/var/run/dpdk/<file-prefix>` as root), where
    /// the telemetry socket `dpdk_telemetry.v2` lives.
    pub fn runtime_dir(&self) -> String {
        // SAFETY: the EAL is running; the function returns a pointer to a
        // static NUL-terminated buffer.
        unsafe { CStr::from_ptr(sys::rte_eal_get_runtime_dir()) }
            .to_string_lossy()
            .into_owned()
    }

    /// DPDK's version string, e.g. `DPDK 22.11.11`.
    pub fn version() -> String {
        version()
    }
}

/// DPDK's version string, e.g. `DPDK 22.11.11` (works without the EAL).
pub fn version() -> String {
    // SAFETY: rte_version returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::rte_version()) }
        .to_string_lossy()
        .into_owned()
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: called on the thread that owns the Eal (it is !Send), which is
        // the main lcore; waiting lets every launched closure finish before
        // rte_eal_cleanup tears down the memory they might use.
        unsafe {
            sys::rte_eal_mp_wait_lcore();
        }
        STATE.store(STOPPED, Ordering::Release);
        // SAFETY: the EAL was initialised by this Eal and is cleaned up once.
        let ret = unsafe { sys::rte_eal_cleanup() };
        if ret != 0 {
            eprintln!(
                "dpdk: rte_eal_cleanup failed: {}",
                crate::error::strerror(-ret)
            );
        }
        // DPDK may keep pointers into argv until the process exits.
        std::mem::forget(std::mem::take(&mut self._args));
        std::mem::forget(std::mem::take(&mut self._argv));
    }
}
