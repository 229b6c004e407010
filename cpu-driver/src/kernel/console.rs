//! Printing from a node: text goes into the node's console ring in the
//! shared region; the console owner prints every ring on the UART (see
//! [`drain`], and `crate::node::owner` for the rest of its duties).
//!
//! Every core of the node produces into the one ring, so producers take the
//! node's console lock. A unit of text (a kernel line, or what one `write`
//! of a program holds) is pushed whole, so it is printed whole. Program
//! output waits for room and is never lost; kernel lines have a reserve
//! programs cannot take, and wait for room too, up to [`KERNEL_WAIT_US`]:
//! only if the console owner stays away that long is one dropped (and the
//! owner reports the count).

use crate::devices::gic;
use crate::devices::time;
use crate::devices::wait;
use crate::kernel::ctx::{self, Node};
use core::fmt::{self, Write};
use core::sync::atomic::Ordering;
use handoff::console::{End, Printer, Priority, DOORBELL_VALID};

/// Serialises the node's cores as producers of its one console ring (a
/// `static`: every path that prints, faults and panics included, takes it).
static PRODUCER: spin::Mutex<()> = spin::Mutex::new(());

/// How long kernel text waits for room before it is given up.
const KERNEL_WAIT_US: u64 = 200_000;
/// Bytes of one kernel line (longer ones are cut).
pub const KERNEL_LINE_BYTES: usize = 512;

/// A kernel line being formatted; overflow is cut, never an error.
pub struct Line {
    buf: [u8; KERNEL_LINE_BYTES],
    len: usize,
}

impl Line {
    pub const fn new() -> Self {
        Line { buf: [0; KERNEL_LINE_BYTES], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(KERNEL_LINE_BYTES - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Formats one line, queues it on this node's ring and rings the console owner.
pub fn print_line(args: fmt::Arguments<'_>) {
    let mut line = Line::new();
    let _ = line.write_fmt(args);
    emit(&line);
}

/// Queues an already formatted kernel line and rings the console owner.
pub fn emit(line: &Line) {
    push(0, line.as_bytes(), End::Newline, Priority::Kernel);
}

/// Queues a kernel line that may wait for room as long as program output
/// does (a trace dump: many lines, none of them to be lost), leaving the
/// kernel's reserve to reports.
pub fn emit_bulk(line: &Line) {
    push(0, line.as_bytes(), End::Newline, Priority::Program);
}

/// Queues one unit of text from `source` (0: kernel, else a pid), waiting
/// for room as its priority allows.
fn push(source: u32, text: &[u8], end: End, priority: Priority) {
    let Some(node) = ctx::get() else { return };
    let Some(console) = node.own_console() else { return };
    // Set the first time kernel text finds the ring full: the common push
    // reads no clock.
    let mut give_up = None;
    loop {
        let done = {
            let _producer = PRODUCER.lock();
            console.ring.push(source, text, end, priority)
        };
        ring_owner(&node);
        if done {
            return;
        }
        if priority == Priority::Kernel {
            let now = time::now();
            if now >= *give_up.get_or_insert_with(|| now.saturating_add(time::ticks_us(KERNEL_WAIT_US))) {
                console.ring.record_drop();
                return;
            }
        }
        // On the console owner any core may drain the rings itself; anyone
        // else waits for the owner (the doorbell above woke it).
        if !(node.info.is_boot_node() && drain(&node)) {
            wait::nap(50);
        }
    }
}

/// A program's `write`: each line it holds is one unit, and what follows
/// its last newline is pushed as an open line (a prompt, an echoed key),
/// which the owner continues when the same program writes again.
pub fn write_user(pid: u32, bytes: &[u8]) {
    let max = Priority::Program.max_push();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (unit, end, used) = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) if nl <= max => (&rest[..nl], End::Newline, nl + 1),
            _ => {
                let n = rest.len().min(max);
                (&rest[..n], End::Open, n)
            }
        };
        push(pid, unit, end, Priority::Program);
        rest = &rest[used..];
    }
}

/// Lines this node gave up on.
pub fn dropped() -> u64 {
    ctx::get().and_then(|n| n.own_console()).map_or(0, |c| u64::from(c.ring.dropped()))
}

/// Wakes the console owner, once it has published its doorbell.
pub fn ring_owner(node: &Node) {
    let bell = node.own_console().map_or(0, |c| c.owner.bell.load(Ordering::Acquire));
    if bell & DOORBELL_VALID != 0 {
        gic::ring(bell & !DOORBELL_VALID);
    }
}

/// `println!` for kernel code: one console line per call.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::kernel::console::print_line(format_args!($($arg)*)) };
}

/// The one reader of every ring, on the console owner, and what it
/// remembers between drains. Any core of the owner may drain; whoever holds
/// this does.
static PRINTER: spin::Mutex<Printer> = spin::Mutex::new(Printer::new());

/// Prints everything waiting in every node's ring (on the console owner);
/// returns true if there was anything. Returns false at once if another
/// core of the owner is draining (each ring has one reader).
pub fn drain(node: &Node) -> bool {
    use crate::devices::uart::{self, ConsoleDevice};
    let Some(mut printer) = PRINTER.try_lock() else { return false };
    let uart = uart::console();
    printer.drain(node.consoles().map(|(id, c)| (id, &c.ring)), &mut |bytes| {
        if let Some(u) = &uart {
            u.write_bytes(bytes);
        }
    })
}
