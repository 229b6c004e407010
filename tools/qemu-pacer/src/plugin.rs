//! The QEMU side: install, count each translated block's instructions as
//! it executes, and put the vCPU thread to sleep when it is ahead.

use crate::args::{self, Config};
use crate::pace::Pacer;
use qemu_plugin_sys::{
    qemu_info_t, qemu_plugin_cb_flags, qemu_plugin_id_t, qemu_plugin_register_vcpu_tb_exec_cb,
    qemu_plugin_register_vcpu_tb_trans_cb, qemu_plugin_tb, qemu_plugin_tb_n_insns, QEMU_PLUGIN_VERSION,
};
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The plugin API version this plugin was built against.
#[no_mangle]
pub static qemu_plugin_version: c_int = QEMU_PLUGIN_VERSION as c_int;

/// Instructions between two looks at the clock.
const CHECK_EVERY: u64 = 50_000;

struct Vcpu {
    pacer: Pacer,
    pending: u64,
}

struct State {
    start: Instant,
    /// Per vCPU; each is locked only by its own vCPU thread.
    vcpus: Vec<Option<Mutex<Vcpu>>>,
}

static STATE: OnceLock<State> = OnceLock::new();

unsafe extern "C" fn on_tb_exec(vcpu: c_uint, userdata: *mut c_void) {
    let Some(state) = STATE.get() else { return };
    let Some(Some(slot)) = state.vcpus.get(vcpu as usize) else { return };
    let sleep = {
        let Ok(mut v) = slot.lock() else { return };
        v.pending += userdata as u64;
        if v.pending < CHECK_EVERY {
            return;
        }
        let now = u64::try_from(state.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let n = std::mem::take(&mut v.pending);
        v.pacer.account(n, now)
    };
    if sleep > 0 {
        std::thread::sleep(Duration::from_nanos(sleep));
    }
}

unsafe extern "C" fn on_tb_trans(_id: qemu_plugin_id_t, tb: *mut qemu_plugin_tb) {
    // SAFETY: QEMU passes a valid translation block handle for the duration
    // of this callback.
    let insns = unsafe { qemu_plugin_tb_n_insns(tb) };
    // SAFETY: as above; the callback and its user data (a count, not a
    // pointer) live as long as the plugin.
    unsafe {
        qemu_plugin_register_vcpu_tb_exec_cb(
            tb,
            Some(on_tb_exec),
            qemu_plugin_cb_flags::QEMU_PLUGIN_CB_NO_REGS,
            insns as *mut c_void,
        )
    };
}

fn install(config: Config) {
    let credit = config.credit_us.saturating_mul(1000);
    let vcpus = (0..config.caps.len())
        .map(|i| config.vcpu_rate(i).map(|r| Mutex::new(Vcpu { pacer: Pacer::new(r, credit), pending: 0 })))
        .collect();
    let _ = STATE.set(State { start: Instant::now(), vcpus });
}

/// QEMU's entry point: parses the arguments; a non-zero return makes QEMU
/// refuse to start.
///
/// # Safety
/// Called by QEMU with `argc` valid NUL-terminated strings in `argv`.
#[no_mangle]
pub unsafe extern "C" fn qemu_plugin_install(
    id: qemu_plugin_id_t,
    _info: *const qemu_info_t,
    argc: c_int,
    argv: *mut *mut c_char,
) -> c_int {
    let words: Vec<String> = (0..usize::try_from(argc).unwrap_or(0))
        .filter_map(|i| {
            // SAFETY: QEMU passes `argc` valid pointers to NUL-terminated strings.
            let p = unsafe { *argv.add(i) };
            // SAFETY: as above.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        })
        .collect();
    match args::parse(words.iter().map(String::as_str)) {
        Ok(config) => {
            install(config);
            // SAFETY: registering a callback with the id QEMU gave us.
            unsafe { qemu_plugin_register_vcpu_tb_trans_cb(id, Some(on_tb_trans)) };
            0
        }
        Err(e) => {
            eprintln!("qemu-pacer: {e}");
            -1
        }
    }
}
