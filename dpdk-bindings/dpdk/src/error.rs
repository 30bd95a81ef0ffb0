//! The one error type of the crate.

use std::ffi::CStr;

use dpdk_sys as sys;

/// Everything that can go wrong in this crate. Messages name the operation
/// and, for DPDK failures, carry `rte_strerror` text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A DPDK call failed; `errno` is the positive error code (from the return
    /// value or `rte_errno`) and `msg` its `rte_strerror` text.
    #[error("{op}: {msg} (errno {errno})")]
    Dpdk {
        /// What was being done, e.g. `rte_eth_dev_configure(port 0)`.
        op: String,
        /// Positive errno / rte_errno value.
        errno: i32,
        /// `rte_strerror(errno)`.
        msg: String,
    },
    /// An argument was rejected before calling into DPDK.
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The operation that rejected it.
        op: &'static str,
        /// Why.
        reason: String,
    },
    /// A function that needs the EAL was called before `Eal::init` succeeded
    /// or after the `Eal` was dropped.
    #[error("{0}: the DPDK EAL is not running (call Eal::init first)")]
    EalNotRunning(&'static str),
    /// `Eal::init` was called a second time in this process.
    #[error(
        "Eal::init: the DPDK EAL can be initialised only once per process, and it already was {0}"
    )]
    EalAlreadyInitialized(&'static str),
    /// A resource is held elsewhere (a queue handle, a worker lcore, a name).
    #[error("{op}: {reason}")]
    Busy {
        /// The operation.
        op: String,
        /// What holds the resource.
        reason: String,
    },
}

impl Error {
    /// The errno of a DPDK failure, if this is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Dpdk { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// A DPDK failure with a positive `errno`.
    pub(crate) fn dpdk(op: impl Into<String>, errno: i32) -> Self {
        let errno = errno.checked_abs().unwrap_or(i32::MAX);
        Error::Dpdk {
            op: op.into(),
            errno,
            msg: strerror(errno),
        }
    }

    /// A DPDK failure reported through a negative return value (`-errno`).
    pub(crate) fn from_ret(op: impl Into<String>, ret: i32) -> Self {
        Self::dpdk(op, ret)
    }

    /// A DPDK failure reported through `rte_errno` (NULL or -1 returns).
    pub(crate) fn from_rte_errno(op: impl Into<String>) -> Self {
        let errno = rte_errno();
        if errno == 0 {
            // Some DPDK paths fail without setting rte_errno.
            return Error::Dpdk {
                op: op.into(),
                errno: 0,
                msg: "failed (DPDK set no rte_errno; see the EAL log)".into(),
            };
        }
        Self::dpdk(op, errno)
    }

    pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            reason: reason.into(),
        }
    }
}

/// The calling thread's `rte_errno`.
pub fn rte_errno() -> i32 {
    // SAFETY: the shim reads a thread-local int; it has no preconditions.
    unsafe { sys::dpdk_shim_errno() }
}

/// `rte_strerror(errno)` as an owned string.
pub fn strerror(errno: i32) -> String {
    // SAFETY: rte_strerror accepts any int and returns a pointer to a
    // NUL-terminated string (static, or in a per-thread buffer); it is copied
    // before any other DPDK call on this thread can overwrite that buffer.
    unsafe {
        let p = sys::rte_strerror(errno);
        if p.is_null() {
            return format!("error {errno}");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// A C string for DPDK, or `InvalidArgument` when `s` holds a NUL byte or is
/// not shorter than `max_len` (the size of DPDK's name buffer, NUL included).
pub(crate) fn c_name(
    op: &'static str,
    what: &str,
    s: &str,
    max_len: usize,
) -> Result<std::ffi::CString> {
    if s.is_empty() {
        return Err(Error::invalid(op, format!("{what} must not be empty")));
    }
    if s.len() >= max_len {
        return Err(Error::invalid(
            op,
            format!(
                "{what} {s:?} is {} bytes; DPDK allows at most {}",
                s.len(),
                max_len - 1
            ),
        ));
    }
    std::ffi::CString::new(s)
        .map_err(|_| Error::invalid(op, format!("{what} {s:?} contains a NUL byte")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpdk_errors_carry_strerror_text() {
        let e = Error::from_ret("rte_eth_dev_configure(port 0)", -22);
        assert_eq!(e.errno(), Some(22));
        assert_eq!(
            e.to_string(),
            "rte_eth_dev_configure(port 0): Invalid argument (errno 22)"
        );
    }

    #[test]
    fn names_are_checked_before_dpdk_sees_them() {
        assert!(c_name("op", "name", "", 8).is_err());
        assert!(c_name("op", "name", "a\0b", 8).is_err());
        let long = c_name("op", "pool name", "12345678", 8)
            .unwrap_err()
            .to_string();
        assert!(long.contains("at most 7"), "{long}");
        assert_eq!(
            c_name("op", "name", "1234567", 8).unwrap().as_bytes(),
            b"1234567"
        );
    }
}
