//! Logical cores: identity, enumeration, and launching Rust closures on them.

use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use dpdk_sys as sys;

use crate::eal::ensure_running;
use crate::error::{Error, Result};

/// What a launched closure "returns" when it panicked: the panic is caught on
/// the worker (it never unwinds into C) and reported through
/// [`wait`] / [`mp_wait`] as this value.
pub const PANICKED: i32 = i32::MIN;

/// `RTE_MAX_LCORE`: lcore ids are below this.
pub const MAX_LCORE: u32 = sys::RTE_MAX_LCORE;

/// The calling thread's lcore id, or `None` on a thread the EAL did not
/// create (or before `Eal::init`).
#[inline]
pub fn id() -> Option<u32> {
    // SAFETY: reads a thread-local set by the EAL (LCORE_ID_ANY elsewhere).
    let id = unsafe { sys::rte_lcore_id() };
    // SAFETY: reading an immutable C constant.
    (id != unsafe { sys::dpdk_shim_LCORE_ID_ANY }).then_some(id)
}

/// The main lcore's id (the thread that called `Eal::init`).
pub fn main_lcore() -> Result<u32> {
    ensure_running("lcore::main_lcore")?;
    // SAFETY: the EAL configuration is initialised.
    Ok(unsafe { sys::rte_get_main_lcore() })
}

/// How many lcores the EAL runs (main included).
pub fn count() -> u32 {
    // SAFETY: reads the EAL configuration (0 before init).
    unsafe { sys::rte_lcore_count() }
}

/// Whether `lcore` is one of the EAL's enabled lcores.
pub fn is_enabled(lcore: u32) -> bool {
    // SAFETY: rte_lcore_is_enabled bounds-checks its argument.
    unsafe { sys::rte_lcore_is_enabled(lcore) != 0 }
}

/// The NUMA socket of `lcore`, or `None` if it is not an enabled lcore.
pub fn socket_id(lcore: u32) -> Option<u32> {
    if !is_enabled(lcore) {
        return None;
    }
    // SAFETY: lcore < RTE_MAX_LCORE (it is enabled).
    Some(unsafe { sys::rte_lcore_to_socket_id(lcore) })
}

/// The NUMA socket of the calling thread (`rte_socket_id`).
pub fn current_socket() -> u32 {
    // SAFETY: reads a thread-local.
    unsafe { sys::rte_socket_id() }
}

/// The enabled worker lcores (every enabled lcore but the main one), in
/// increasing order. Empty before `Eal::init`.
pub fn workers() -> impl Iterator<Item = u32> {
    let running = crate::eal::is_running();
    let mut next: Option<u32> = running.then_some(u32::MAX);
    std::iter::from_fn(move || {
        let prev = next?;
        // SAFETY: the EAL is running; rte_get_next_lcore accepts any value
        // (-1 as u32 means "from the start") and returns >= RTE_MAX_LCORE at the end.
        let n = unsafe { sys::rte_get_next_lcore(prev, 1, 0) };
        if n >= MAX_LCORE {
            next = None;
            None
        } else {
            next = Some(n);
            Some(n)
        }
    })
}

type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

unsafe extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the Box<Job> leaked by `launch` for exactly this call.
    let job: Box<Job> = unsafe { Box::from_raw(arg.cast::<Job>()) };
    match catch_unwind(AssertUnwindSafe(move || (*job)())) {
        Ok(code) => code,
        Err(payload) => {
            // Dropping a panic payload can itself panic; that must not unwind
            // into C either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            PANICKED
        }
    }
}

/// Runs `f` on worker lcore `lcore` (`rte_eal_remote_launch`). Returns at once;
/// collect the closure's return value with [`wait`].
///
/// Must be called from the main lcore, and `lcore` must be an idle enabled
/// worker. A panic inside `f` is caught on the worker and reported as
/// [`PANICKED`]; it never crosses into C.
pub fn launch<F>(lcore: u32, f: F) -> Result<()>
where
    F: FnOnce() -> i32 + Send + 'static,
{
    const OP: &str = "lcore::launch";
    ensure_running(OP)?;
    let main = main_lcore()?;
    if id() != Some(main) {
        return Err(Error::invalid(
            OP,
            "only the main lcore may launch work on other lcores",
        ));
    }
    if lcore == main || !is_enabled(lcore) {
        return Err(Error::invalid(
            OP,
            format!("lcore {lcore} is not an enabled worker lcore"),
        ));
    }
    let job: Box<Job> = Box::new(Box::new(f));
    let arg = Box::into_raw(job).cast::<c_void>();
    // SAFETY: `lcore` is an enabled worker and we are on the main lcore, as
    // rte_eal_remote_launch requires; `trampoline` takes ownership of `arg`
    // exactly once if the launch succeeds.
    let ret = unsafe { sys::rte_eal_remote_launch(Some(trampoline), arg, lcore) };
    if ret != 0 {
        // SAFETY: the launch failed, so the worker never saw `arg`; take it back.
        drop(unsafe { Box::from_raw(arg.cast::<Job>()) });
        return Err(if ret == -libc_ebusy() {
            Error::Busy {
                op: format!("rte_eal_remote_launch(lcore {lcore})"),
                reason: "the lcore is still running a job".into(),
            }
        } else {
            Error::from_ret(format!("rte_eal_remote_launch(lcore {lcore})"), ret)
        });
    }
    Ok(())
}

const fn libc_ebusy() -> c_int {
    16 // EBUSY on Linux
}

/// Waits for the job on `lcore` and returns its return value ([`PANICKED`] if
/// it panicked). Returns `Ok(0)` at once for an idle lcore.
pub fn wait(lcore: u32) -> Result<i32> {
    const OP: &str = "lcore::wait";
    ensure_running(OP)?;
    if main_lcore()? == lcore || !is_enabled(lcore) {
        return Err(Error::invalid(
            OP,
            format!("lcore {lcore} is not an enabled worker lcore"),
        ));
    }
    // SAFETY: lcore is an enabled worker; waiting has no other precondition.
    Ok(unsafe { sys::rte_eal_wait_lcore(lcore) })
}

/// Waits for every worker lcore to finish its job (`rte_eal_mp_wait_lcore`).
pub fn mp_wait() -> Result<()> {
    ensure_running("lcore::mp_wait")?;
    // SAFETY: the EAL is running.
    unsafe { sys::rte_eal_mp_wait_lcore() };
    Ok(())
}
