//! What the boot driver does when something it did not expect happens: it
//! prints one line on the console it was using and parks the core, instead
//! of hanging silently (a loader's bad DTB pointer, say, or a bug).

use core::fmt::Write;
use cpu_start::Fault;

/// The console's PL011 (physical: the boot driver runs with the MMU off).
/// Written and read volatile: only an exception reads it, which the
/// compiler cannot see, and with an atomic it dropped the first store (a
/// fault before the plan then found no console and parked in silence).
static mut CONSOLE: usize = 0;

/// How a fault ends the boot: as any failed boot, once the bootargs are read.
static mut ON_FAULT: crate::OnError = crate::OnError::PARK;

/// From now on a fault ends the boot as `on` says (power-off if asked).
pub fn set_on_fault(on: crate::OnError) {
    // SAFETY: as in `store_console`.
    unsafe { (&raw mut ON_FAULT).write_volatile(on) }
}

fn store_console(uart: usize) {
    // SAFETY: the boot driver runs on the boot core alone; a fault that
    // interrupts this reads either the old or the new word.
    unsafe { (&raw mut CONSOLE).write_volatile(uart) }
}

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
    store_console(uart);
    // SAFETY: the table is in the boot image's code, which stays in place
    // (MMU off) until the boot core leaves for its node.
    unsafe { cpu_start::set_vector_base(&raw const boot_exception_vectors as usize) };
}

/// Switches the console faults are reported on.
pub fn set_console(uart: usize) {
    store_console(uart);
}

fn console() -> Option<crate::console::Early> {
    // SAFETY: as in `store_console`.
    let base = unsafe { (&raw const CONSOLE).read_volatile() };
    // SAFETY: only PL011 addresses from the board or the device tree are stored.
    (base != 0).then(|| crate::console::Early::new(unsafe { pl011::Pl011::new(base) }))
}

extern "C" fn report(vector: u64, esr: u64, far: u64, elr: u64) -> ! {
    if let Some(mut con) = console() {
        let _ = writeln!(con, "boot: error: fault in the boot driver: {}", Fault { vector, esr, far, elr });
        // SAFETY: as in `store_console`.
        crate::end(&mut con, unsafe { (&raw const ON_FAULT).read_volatile() });
    }
    crate::park()
}

/// For the board's panic handler: reports the panic and parks.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if let Some(mut con) = console() {
        let _ = writeln!(con, "boot: error: boot driver panic: {info}");
        // SAFETY: as in `store_console`.
        crate::end(&mut con, unsafe { (&raw const ON_FAULT).read_volatile() });
    }
    crate::park()
}
