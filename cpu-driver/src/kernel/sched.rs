//! Each core's kernel loop: pick a program from the node's run queues (by
//! priority; an idle core steals unpinned work from its siblings), run it
//! until its next exception with the timer armed for the end of its time
//! slice, handle what happened, repeat. A core with nothing to run sleeps
//! in WFI with its timer set for its next sleeper's deadline, or none.

use crate::arch::trap::{self, Exit};
use crate::devices::time;
use crate::devices::wait;
use crate::kernel::proc::{self, handle_syscall, CallArgs, Next, Outcome, KERNEL};
use crate::kernel::roots;
use cpu_start::Class;
use processes::{Slot, Touched};
use user_abi::{Fault, STACK_GUARD, STACK_SIZE, STACK_TOP};

/// A program's time slice: its core's timer ends it (the kernel has no
/// periodic tick; an idle core's timer is set for its next deadline only).
pub const SLICE_US: u64 = 10_000;

/// What a program's exception means for it: the user fault of its class
/// (`far`: the address of a data abort, for telling a stack overflow).
fn user_fault(class: Class, far: u64) -> Fault {
    let stack_guard = (STACK_TOP - STACK_SIZE - STACK_GUARD)..(STACK_TOP - STACK_SIZE);
    match class {
        Class::Unknown | Class::SystemRegister => Fault::UndefinedInstruction,
        Class::PcAlignment | Class::SpAlignment | Class::DataAbort { alignment: true, .. } => Fault::Misaligned,
        Class::InstructionAbort { .. } => Fault::BadExecute,
        Class::DataAbort { .. } if stack_guard.contains(&far) => Fault::StackOverflow,
        Class::DataAbort { .. } => Fault::BadAccess,
        _ => Fault::Other,
    }
}

/// Whether a data abort from EL0 found no translation (DFSC 0b0001LL, at
/// any level): the page may be one of the stack's or of a `map` area's not
/// backed yet.
fn unmapped(class: Class, esr: u64) -> bool {
    matches!(class, Class::DataAbort { lower: true, alignment: false }) && esr & 0x3c == 0x04
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    Doorbell,
    Deadline,
}

/// Runs programs on this core. With `until`, returns at the first doorbell
/// or when the counter reaches it (how the monitor's core shares itself
/// with programs); without, never returns. `write_buf` holds a `write`'s
/// bytes on their way to the console: the caller's, so the monitor, which
/// comes back here on every doorbell, does not clear 4 KiB each time.
pub fn run(until: Option<u64>, write_buf: &mut [u8; proc::WRITE_MAX]) -> Woken {
    let core = crate::arch::cpu::this_core();
    loop {
        pump_input();
        let now = time::now();
        if until.is_some_and(|d| now >= d) {
            // As below, for a doorbell.
            roots::load(roots::empty());
            return Woken::Deadline;
        }
        let mut k = KERNEL.lock();
        k.reap_retired();
        k.wake_expired(now);
        let timer = k.next_deadline(core).min(until.unwrap_or(u64::MAX));
        let Some(s) = k.pick(core) else {
            drop(k);
            roots::load(roots::empty());
            let doorbell = wait::sleep_until_interrupt_or(timer);
            if doorbell && until.is_some() {
                return Woken::Doorbell;
            }
            continue;
        };
        let slice_end = k.slice_end(s, now, time::ticks_us(SLICE_US));
        k.start_running(core, s, now);
        let ttbr0 = k.ttbr0(s);
        drop(k);

        roots::load(ttbr0);
        time::arm(slice_end.min(timer));
        let doorbell = run_program(core, s, slice_end, write_buf);
        if doorbell && until.is_some() {
            // Back to the monitor's work, which may last (a migration, the
            // channel self-tests): a program's root left loaded here would
            // keep its pages from being freed if it ended elsewhere
            // meanwhile (`ktest=channels` held 14 pages for seconds).
            roots::load(roots::empty());
            return Woken::Doorbell;
        }
    }
}

/// Runs program `s` on this core until it has to give the core up: it
/// blocked, ended, yielded, was interrupted or its slice ran out. A call
/// that returns at once, inside the slice, with nothing more urgent queued
/// here, goes straight back to the program (no scheduling pass, no timer
/// or address-space change). Returns whether a doorbell stopped it.
fn run_program(core: usize, s: Slot, slice_end: u64, write_buf: &mut [u8; proc::WRITE_MAX]) -> bool {
    loop {
        // SAFETY: the process is Running on this core, which owns its slot.
        let exit = trap::run(&mut unsafe { proc::slot_state(s) }.frame);
        let (esr, far) = trap::syndrome();
        let class = Class::of(esr);
        let end = time::now();
        let doorbell = exit == Exit::Interrupt && crate::devices::irq::handle();

        let mut k = KERNEL.lock();
        let pid = k.account(s, end);
        let mut faulted = false;
        // A store or load on a page of the stack or of a `map` area not
        // backed yet backs it, and the program goes on at the same
        // instruction.
        let touched =
            if exit == Exit::Sync && unmapped(class, esr) { k.first_touch(s, far) } else { Touched::Elsewhere };
        if touched == Touched::Backed {
            crate::arch::cpu::tables_written();
            if end < slice_end && !k.more_urgent(core, s) {
                continue;
            }
        }
        let outcome = match exit {
            _ if touched == Touched::Backed => Outcome::Interrupted,
            _ if touched == Touched::NoMemory => {
                // SAFETY: the process is still Running here: this core owns its slot.
                let pc = unsafe { proc::slot_state(s) }.frame.elr;
                k.fault(s, core, Fault::OutOfMemory, esr, far, pc);
                faulted = true;
                Outcome::Exited
            }
            Exit::Sync if class == Class::Svc => {
                // SAFETY: the process is Running on this core, which owns its slot.
                let x = &unsafe { proc::slot_state(s) }.frame.x;
                let args = CallArgs { number: x[8], a: [x[0], x[1], x[2], x[3], x[4]] };
                handle_syscall(&mut k, s, core, args, write_buf)
            }
            // WFI or WFE at EL0 (trapped): a program that wants to wait
            // gives the core away, and goes on after the instruction.
            Exit::Sync if class == Class::Wait => {
                // SAFETY: still Running on this core, which owns its slot.
                unsafe { proc::slot_state(s) }.frame.elr += 4;
                Outcome::Yield
            }
            Exit::Sync | Exit::Error => {
                // SAFETY: the process is still Running here: this core owns its slot.
                let pc = unsafe { proc::slot_state(s) }.frame.elr;
                let (fault, at) = match exit {
                    // FAR means something only for aborts; otherwise the PC is the place.
                    Exit::Sync if matches!(class, Class::InstructionAbort { .. } | Class::DataAbort { .. }) => {
                        (user_fault(class, far), far)
                    }
                    Exit::Sync => (user_fault(class, far), pc),
                    _ => (Fault::Other, far),
                };
                k.fault(s, core, fault, esr, at, pc);
                faulted = true;
                Outcome::Exited
            }
            Exit::Interrupt => Outcome::Interrupted,
        };
        if let (Exit::Sync, Outcome::Return(r)) = (exit, &outcome) {
            if end < slice_end && !k.more_urgent(core, s) {
                // SAFETY: still Running on this core, which owns its slot.
                unsafe { proc::slot_state(s) }.frame.x[0] = user_abi::encode_result(*r);
                continue;
            }
        }
        let next = k.stopped(core, s, pid, outcome, faulted, end >= slice_end);
        drop(k);
        if let Next::Write { pid, len } = next {
            crate::kernel::console::write_user(pid, &write_buf[..len]);
            KERNEL.lock().written(s, len);
        }
        return doorbell;
    }
}

/// Hands console input the UART interrupt collected to the programs
/// waiting for it (and Ctrl-C to the foreground program).
fn pump_input() {
    if crate::devices::input::take_arrival() {
        KERNEL.lock().on_input();
    }
}
