//! What the boot driver does when something it did not expect happens: it
//! prints one line on the console it was using and parks the core, instead
//! of hanging silently (a loader's bad DTB pointer, say, or a bug).

use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};
use cpu_start::Fault;

/// The console's PL011 (physical: the boot driver runs with the MMU off).
static CONSOLE: AtomicUsize = AtomicUsize::new(0);

core::arch::global_asm!(cpu_start::exception_vectors_asm!("boot_exception_vectors", "boot_fault_entry"),
    "boot_fault_entry:",
    "   bl      {report}",
    report = sym report,
);

extern "C" {
    static boot_exception_vectors: u8;
}

/// Reports faults on the PL011 at `uart` from now on.
pub fn install(uart: usize) {
    CONSOLE.store(uart, Ordering::Relaxed);
    // SAFETY: the table is in the boot image's code, which stays in place
    // (MMU off) until the boot core leaves for its node.
    unsafe { cpu_start::set_vector_base(&raw const boot_exception_vectors as usize) };
}

/// Switches the console faults are reported on.
pub fn set_console(uart: usize) {
    CONSOLE.store(uart, Ordering::Relaxed);
}

fn console() -> Option<crate::console::Early> {
    let base = CONSOLE.load(Ordering::Relaxed);
    // SAFETY: only PL011 addresses from the board or the device tree are stored.
    (base != 0).then(|| crate::console::Early::new(unsafe { pl011::Pl011::new(base) }))
}

extern "C" fn report(vector: u64, esr: u64, far: u64, elr: u64) -> ! {
    if let Some(mut con) = console() {
        let _ = writeln!(con, "boot: error: fault in the boot driver: {}", Fault { vector, esr, far, elr });
    }
    crate::park()
}

/// For the board's panic handler: reports the panic and parks.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if let Some(mut con) = console() {
        let _ = writeln!(con, "boot: error: boot driver panic: {info}");
    }
    crate::park()
}
