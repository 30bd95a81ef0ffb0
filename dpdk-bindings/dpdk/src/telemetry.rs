//! Telemetry commands (`rte_telemetry_register_cmd`) served by Rust closures.
//!
//! DPDK's telemetry thread answers JSON queries on the unix socket
//! `<runtime dir>/dpdk_telemetry.v2` (query it with `dpdk-telemetry.py`). A
//! command registered here calls a trampoline that finds the closure by the
//! command name in a process-wide registry, runs it with panics caught, and
//! reports failure (a `null` reply) on error or panic.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use dpdk_sys as sys;

use crate::error::{Error, Result};

/// Longest command name DPDK 22.11 accepts (its buffer is 56 bytes).
pub const MAX_CMD_LEN: usize = 55;
/// Longest dict key, string value or help text (`RTE_TEL_MAX_STRING_LEN - 1`).
pub const MAX_STRING_LEN: usize = sys::RTE_TEL_MAX_STRING_LEN as usize - 1;

type Callback = dyn Fn(&str, &mut TelData<'_>) -> Result<()> + Send + Sync + 'static;

struct Entry {
    f: Arc<Callback>,
    // DPDK keeps the help pointer, so the string must live forever; entries
    // are never removed.
    _help: CString,
}

static REGISTRY: Mutex<Option<HashMap<String, Entry>>> = Mutex::new(None);

/// The reply being built by a command callback (`rte_tel_data`).
pub struct TelData<'a> {
    d: NonNull<sys::rte_tel_data>,
    _call: PhantomData<&'a mut sys::rte_tel_data>,
}

fn tel_str(what: &str, s: &str) -> Result<CString> {
    crate::error::c_name("telemetry", what, s, MAX_STRING_LEN + 1)
}

fn tel_ret(op: &str, ret: c_int) -> Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(Error::from_ret(format!("telemetry {op}"), ret))
    }
}

impl TelData<'_> {
    /// Makes the reply a JSON object; call before the `add_*` methods.
    pub fn start_dict(&mut self) -> Result<()> {
        // SAFETY: `d` is the live reply of the current callback.
        tel_ret("start_dict", unsafe {
            sys::rte_tel_data_start_dict(self.d.as_ptr())
        })
    }

    /// Adds `name: value` (unsigned) to a dict reply.
    pub fn add_u64(&mut self, name: &str, value: u64) -> Result<()> {
        let n = tel_str("key", name)?;
        // SAFETY: live reply; valid C string, copied by DPDK.
        tel_ret("add_dict_u64", unsafe {
            sys::rte_tel_data_add_dict_u64(self.d.as_ptr(), n.as_ptr(), value)
        })
    }

    /// Adds `name: value` (signed 32-bit) to a dict reply.
    pub fn add_int(&mut self, name: &str, value: i32) -> Result<()> {
        let n = tel_str("key", name)?;
        // SAFETY: live reply; valid C string, copied by DPDK.
        tel_ret("add_dict_int", unsafe {
            sys::rte_tel_data_add_dict_int(self.d.as_ptr(), n.as_ptr(), value)
        })
    }

    /// Adds `name: "value"` to a dict reply.
    pub fn add_str(&mut self, name: &str, value: &str) -> Result<()> {
        let n = tel_str("key", name)?;
        let v = tel_str("value", value)?;
        // SAFETY: live reply; valid C strings, copied by DPDK.
        tel_ret("add_dict_string", unsafe {
            sys::rte_tel_data_add_dict_string(self.d.as_ptr(), n.as_ptr(), v.as_ptr())
        })
    }

    /// Makes the whole reply one string.
    pub fn string(&mut self, value: &str) -> Result<()> {
        let v = crate::error::c_name(
            "telemetry",
            "string",
            value,
            sys::RTE_TEL_MAX_SINGLE_STRING_LEN as usize,
        )?;
        // SAFETY: live reply; valid C string, copied by DPDK.
        tel_ret("string", unsafe {
            sys::rte_tel_data_string(self.d.as_ptr(), v.as_ptr())
        })
    }
}

unsafe extern "C" fn trampoline(
    cmd: *const c_char,
    params: *const c_char,
    d: *mut sys::rte_tel_data,
) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Some(d) = NonNull::new(d) else { return -1 };
        if cmd.is_null() {
            return -1;
        }
        // SAFETY: DPDK passes NUL-terminated strings valid for the call.
        let cmd = unsafe { CStr::from_ptr(cmd) }.to_string_lossy();
        let params = if params.is_null() {
            std::borrow::Cow::Borrowed("")
        } else {
            // SAFETY: as above.
            unsafe { CStr::from_ptr(params) }.to_string_lossy()
        };
        let f = {
            let reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
            match reg.as_ref().and_then(|r| r.get(cmd.as_ref())) {
                Some(e) => Arc::clone(&e.f),
                None => return -1,
            }
        };
        let mut data = TelData {
            d,
            _call: PhantomData,
        };
        match f(&params, &mut data) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    }));
    outcome.unwrap_or(-1)
}

/// Registers telemetry command `name` (starting with `/`, e.g.
/// `/op25b/stats`) with `help` text; `f(params, reply)` builds the reply,
/// where `params` is what the client wrote after the comma (`""` if
/// nothing). Works before or after `Eal::init`; registering a name twice is
/// an error. `f` runs on DPDK's telemetry thread.
pub fn register_cmd<F>(name: &str, help: &str, f: F) -> Result<()>
where
    F: Fn(&str, &mut TelData<'_>) -> Result<()> + Send + Sync + 'static,
{
    const OP: &str = "telemetry::register_cmd";
    if !name.starts_with('/') || name.len() > MAX_CMD_LEN {
        return Err(Error::invalid(
            OP,
            format!("command {name:?} must start with '/' and be at most {MAX_CMD_LEN} bytes"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '/' || *c == '_'))
    {
        return Err(Error::invalid(
            OP,
            format!("command {name:?} contains {c:?}; use letters, digits, '_' and '/'"),
        ));
    }
    let cname = crate::error::c_name(OP, "command", name, MAX_CMD_LEN + 1)?;
    let chelp = crate::error::c_name(OP, "help", help, MAX_STRING_LEN + 1)?;

    let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    let map = reg.get_or_insert_with(HashMap::new);
    if map.contains_key(name) {
        return Err(Error::Busy {
            op: format!("register telemetry command {name}"),
            reason: "it is already registered".into(),
        });
    }
    // SAFETY: valid C strings; DPDK copies the name and keeps the help
    // pointer, which the registry keeps alive forever (entries are never
    // removed; the CString's heap buffer does not move with the map).
    let ret = unsafe {
        sys::rte_telemetry_register_cmd(cname.as_ptr(), Some(trampoline), chelp.as_ptr())
    };
    if ret != 0 {
        return Err(Error::from_ret(
            format!("rte_telemetry_register_cmd({name})"),
            ret,
        ));
    }
    map.insert(
        name.to_owned(),
        Entry {
            f: Arc::new(f),
            _help: chelp,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_validated() {
        let ok = |_: &str, _: &mut TelData<'_>| Ok(());
        assert!(register_cmd("no_slash", "h", ok).is_err());
        assert!(register_cmd("/with space", "h", ok).is_err());
        assert!(register_cmd(&format!("/{}", "x".repeat(MAX_CMD_LEN)), "h", ok).is_err());
        assert!(register_cmd("/unit/help_too_long", &"h".repeat(MAX_STRING_LEN + 1), ok).is_err());
        register_cmd("/unit/once", "registered once", ok).unwrap();
        assert!(matches!(
            register_cmd("/unit/once", "twice", ok),
            Err(Error::Busy { .. })
        ));
    }
}
