//! The QEMU side: install, count each translated block's instructions as
//! it executes, and put the vCPU thread to sleep when it is ahead; with
//! `profile=PATH`, also count each block's instructions per vCPU and
//! write them out at exit.

use crate::args::{self, Config};
use crate::pace::Pacer;
use qemu_plugin_sys::{
    qemu_info_t, qemu_plugin_cb_flags, qemu_plugin_cond, qemu_plugin_id_t, qemu_plugin_op,
    qemu_plugin_register_atexit_cb, qemu_plugin_register_vcpu_tb_exec_cb, qemu_plugin_register_vcpu_tb_exec_cond_cb,
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu, qemu_plugin_register_vcpu_tb_trans_cb,
    qemu_plugin_scoreboard_new, qemu_plugin_tb, qemu_plugin_tb_n_insns, qemu_plugin_tb_vaddr, qemu_plugin_u64,
    qemu_plugin_u64_get, qemu_plugin_u64_set, QEMU_PLUGIN_VERSION,
};
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The plugin API version this plugin was built against (v3: inline
/// counters and conditional callbacks; QEMU 9.1 and newer load it).
#[no_mangle]
pub static qemu_plugin_version: c_int = QEMU_PLUGIN_VERSION as c_int;

/// Instructions between two looks at the clock: each translated block
/// adds its count to the vCPU's counter inline (no call), and only when
/// the counter reaches this does QEMU call [`on_budget_check`]. A vCPU
/// that sleeps off its debt takes no interrupt meanwhile, so this bounds
/// how late a flat-out vCPU sees its timer or a doorbell: 0.1 ms at
/// capacity 1024 and 0.19 ms at 530 (100,000 made it 1.9 ms: 10 ms
/// slices ran 11.5 ms on the LITTLE vCPUs, and `bench sched` m2's light
/// p99 on 4+4 was 8.4 ms against 4.0 ms with this).
const CHECK_EVERY: u64 = 10_000;

/// Most vCPUs a profile tells apart (the rest are not counted).
const PROFILED_VCPUS: usize = 16;

/// One translated block's share of the profile.
struct BlockCount {
    vaddr: u64,
    insns: u64,
    /// Times it ran, per vCPU.
    runs: [AtomicU64; PROFILED_VCPUS],
}

struct State {
    start: Instant,
    /// With `profile=PATH`: the file, and every block translated so far
    /// (leaked: QEMU may run a block until exit).
    profile: Option<(String, Mutex<Vec<&'static BlockCount>>)>,
    /// Per vCPU; each is locked only by its own vCPU thread.
    vcpus: Vec<Option<Mutex<Pacer>>>,
    /// Instructions each vCPU executed since its last check.
    counter: qemu_plugin_u64,
}

// SAFETY: `counter` names a scoreboard QEMU keeps for the plugin's life;
// each vCPU thread only reads and resets its own entry of it.
unsafe impl Send for State {}
// SAFETY: as above.
unsafe impl Sync for State {}

static STATE: OnceLock<State> = OnceLock::new();

unsafe extern "C" fn on_budget_check(vcpu: c_uint, _userdata: *mut c_void) {
    let Some(state) = STATE.get() else { return };
    // SAFETY: the scoreboard lives as long as the plugin; this is the
    // calling vCPU's own entry.
    let executed = unsafe { qemu_plugin_u64_get(state.counter, vcpu) };
    // SAFETY: as above.
    unsafe { qemu_plugin_u64_set(state.counter, vcpu, 0) };
    let Some(Some(slot)) = state.vcpus.get(vcpu as usize) else { return };
    let now = u64::try_from(state.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let sleep = match slot.lock() {
        Ok(mut pacer) => pacer.account(executed, now),
        Err(_) => return,
    };
    if sleep > 0 {
        std::thread::sleep(Duration::from_nanos(sleep));
    }
}

unsafe extern "C" fn on_block_run(vcpu: c_uint, userdata: *mut c_void) {
    // SAFETY: `userdata` is the leaked `BlockCount` registered with the block.
    let block = unsafe { &*userdata.cast::<BlockCount>() };
    if let Some(runs) = block.runs.get(vcpu as usize) {
        runs.fetch_add(1, Ordering::Relaxed);
    }
}

/// Writes the profile: `vcpu vaddr instructions` per line, hex address.
unsafe extern "C" fn on_exit(_id: qemu_plugin_id_t, _userdata: *mut c_void) {
    let Some(State { profile: Some((path, blocks)), .. }) = STATE.get() else { return };
    let Ok(blocks) = blocks.lock() else { return };
    let mut totals = std::collections::BTreeMap::<(usize, u64), u64>::new();
    for b in blocks.iter() {
        for (vcpu, runs) in b.runs.iter().enumerate() {
            let n = runs.load(Ordering::Relaxed);
            if n > 0 {
                *totals.entry((vcpu, b.vaddr)).or_default() += n * b.insns;
            }
        }
    }
    let text: String = totals.iter().map(|((vcpu, va), n)| format!("{vcpu} {va:#x} {n}\n")).collect();
    if let Err(e) = std::fs::File::create(path).and_then(|mut f| f.write_all(text.as_bytes())) {
        eprintln!("qemu-pacer: profile {path}: {e}");
    }
}

unsafe extern "C" fn on_tb_trans(_id: qemu_plugin_id_t, tb: *mut qemu_plugin_tb) {
    let Some(state) = STATE.get() else { return };
    // SAFETY: QEMU passes a valid translation block handle for the duration
    // of this callback.
    let insns = unsafe { qemu_plugin_tb_n_insns(tb) } as u64;
    if let Some((_, blocks)) = &state.profile {
        // SAFETY: as above.
        let vaddr = unsafe { qemu_plugin_tb_vaddr(tb) };
        let block: &'static BlockCount =
            Box::leak(Box::new(BlockCount { vaddr, insns, runs: std::array::from_fn(|_| AtomicU64::new(0)) }));
        if let Ok(mut all) = blocks.lock() {
            all.push(block);
        }
        // SAFETY: as above; the count is never freed, so it outlives the block.
        unsafe {
            qemu_plugin_register_vcpu_tb_exec_cb(
                tb,
                Some(on_block_run),
                qemu_plugin_cb_flags::QEMU_PLUGIN_CB_NO_REGS,
                (block as *const BlockCount).cast_mut().cast(),
            );
        }
    }
    // SAFETY: as above; the scoreboard and the callback live as long as the
    // plugin.
    unsafe {
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb,
            qemu_plugin_op::QEMU_PLUGIN_INLINE_ADD_U64,
            state.counter,
            insns,
        );
        qemu_plugin_register_vcpu_tb_exec_cond_cb(
            tb,
            Some(on_budget_check),
            qemu_plugin_cb_flags::QEMU_PLUGIN_CB_NO_REGS,
            qemu_plugin_cond::QEMU_PLUGIN_COND_GE,
            state.counter,
            CHECK_EVERY,
            std::ptr::null_mut(),
        );
    }
}

fn install(config: Config) {
    let credit = config.credit_us.saturating_mul(1000);
    let vcpus =
        (0..config.caps.len()).map(|i| config.vcpu_rate(i).map(|r| Mutex::new(Pacer::new(r, credit)))).collect();
    // SAFETY: a scoreboard of one u64 per vCPU, owned by QEMU from now on.
    let score = unsafe { qemu_plugin_scoreboard_new(std::mem::size_of::<u64>()) };
    let profile = config.profile.map(|path| (path, Mutex::new(Vec::new())));
    let _ = STATE.set(State { start: Instant::now(), profile, vcpus, counter: qemu_plugin_u64 { score, offset: 0 } });
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
            let profiled = config.profile.is_some();
            install(config);
            // SAFETY: registering callbacks with the id QEMU gave us.
            unsafe {
                qemu_plugin_register_vcpu_tb_trans_cb(id, Some(on_tb_trans));
                if profiled {
                    qemu_plugin_register_atexit_cb(id, Some(on_exit), std::ptr::null_mut());
                }
            }
            0
        }
        Err(e) => {
            eprintln!("qemu-pacer: {e}");
            -1
        }
    }
}
