//! A fake machine under the process code: node RAM in a heap buffer,
//! programs built by hand, and a log of what the code asked of the
//! hardware (doorbells, results, reports, trace events).

#![allow(dead_code)]

use address_space::host::{elf_file, HostRam, Segment, EM_AARCH64};
use processes::{CallArgs, InputLost, Kernel, NodeFacts, Outcome, Platform, Slot};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use trace_ring::Event;
use user_abi::{Call, ExitStatus, SpawnOptions, NAME_BYTES, PAGE_SIZE};

pub const BASE: u64 = 0x8000_0000;
/// Node RAM for the programs: 64 MiB.
pub const PAGES: u64 = 16 * 1024;
/// A read-write page every test program has: where calls' arguments go.
pub const DATA: u64 = 0x40_1000;

/// What the process code asked of the hardware.
#[derive(Default)]
pub struct Log {
    pub rings: Vec<u64>,
    pub results: HashMap<Slot, u64>,
    pub starts: Vec<Slot>,
    pub reports: Vec<String>,
    pub events: Vec<Event>,
    pub init: Option<ExitStatus>,
    pub input: VecDeque<u8>,
    pub lost: bool,
    pub dropped_input: u64,
    pub power_off: Option<u32>,
    pub trace_asked: bool,
    /// TLB flushes of every ASID.
    pub flushes: u32,
    /// Translation roots the fake cores have loaded.
    pub loaded: Vec<u64>,
    /// Each slot's registers, as the process code saved or loaded them.
    pub registers: HashMap<Slot, [u8; processes::REGISTER_BYTES]>,
}

pub struct Fake {
    ram: HostRam,
    programs: Vec<(String, Vec<u8>)>,
    pub core: Cell<usize>,
    pub now: Cell<u64>,
    pub log: RefCell<Log>,
    /// This node's id and the machine's transfer areas, if it has them.
    pub areas: RefCell<Option<(u32, Rc<TransferAreas>)>>,
    /// The kernel command line: [`command_line`].
    command_line: Vec<u8>,
}

/// Every fake node's kernel command line: longer than a spawned program's
/// argument string may be (2,000 bytes of `run=prog` words, then a mark).
pub fn command_line() -> Vec<u8> {
    let mut line = b"run=prog ".repeat(222);
    line.extend_from_slice(b"last=word");
    line
}

/// The transfer areas of every channel of a fake machine: each page the
/// sender filled and the receiver has not copied out yet. Filling such a
/// page again, or copying out one never filled, fails the test: the move
/// protocol must never do either.
pub struct TransferAreas {
    pub pages: usize,
    /// (from, to, page) filled and not yet copied out, with its bytes.
    pending: RefCell<HashMap<(u32, u32, usize), [u8; PAGE_SIZE as usize]>>,
    /// Pages filled, over all channels.
    pub filled: Cell<u64>,
    copied: RefCell<HashSet<(u32, u32, usize)>>,
}

impl TransferAreas {
    pub fn new(pages: usize) -> Rc<TransferAreas> {
        Rc::new(TransferAreas { pages, pending: RefCell::default(), filled: Cell::new(0), copied: RefCell::default() })
    }
}

/// A program of `pages` code pages and one data page at [`DATA`].
pub fn program() -> Vec<u8> {
    elf_file(
        EM_AARCH64,
        0x40_0000,
        &[
            Segment { va: 0x40_0000, flags: 4 | 1, data: vec![0xd5; 64], memsz: 64 },
            Segment { va: DATA, flags: 4 | 2, data: vec![0; 8], memsz: PAGE_SIZE },
        ],
    )
}

impl Fake {
    pub fn new(pages: u64) -> Fake {
        let (ram, _) = HostRam::new(BASE, pages, 0x5a);
        let programs = ["prog", "other"].iter().map(|n| (n.to_string(), program())).collect();
        Fake {
            ram,
            programs,
            core: Cell::new(0),
            now: Cell::new(1000),
            log: RefCell::default(),
            areas: RefCell::new(None),
            command_line: command_line(),
        }
    }
}

impl Platform for Fake {
    type Memory = HostRam;
    fn memory(&self) -> &HostRam {
        &self.ram
    }
    fn now(&self) -> u64 {
        self.now.get()
    }
    /// One tick per nanosecond.
    fn frequency(&self) -> u64 {
        1_000_000_000
    }
    fn ticks_ns(&self, ns: u64) -> u64 {
        ns
    }
    fn nanos(&self, ticks: u64) -> u64 {
        ticks
    }
    fn this_core(&self) -> usize {
        self.core.get()
    }
    fn ring(&self, bell: u64) {
        self.log.borrow_mut().rings.push(bell);
    }
    fn flush_all_asids(&self) {
        self.log.borrow_mut().flushes += 1;
    }
    fn flush_page(&self, _asid: u16, _va: u64) {}
    fn unload_root(&self, ttbr0: u64) {
        self.log.borrow_mut().loaded.retain(|&r| r != ttbr0);
    }
    fn root_loaded(&self, ttbr0: u64) -> bool {
        self.log.borrow().loaded.contains(&ttbr0)
    }
    fn program(&self, name: &str) -> Option<&[u8]> {
        self.programs.iter().find(|(n, _)| n == name).map(|(_, f)| f.as_slice())
    }
    fn command_line(&self) -> &[u8] {
        &self.command_line
    }
    fn start(&self, s: Slot, _entry: u64, _sp: u64) {
        self.log.borrow_mut().starts.push(s);
    }
    fn transfer_pages(&self, _peer: u32) -> usize {
        self.areas.borrow().as_ref().map_or(0, |(_, a)| a.pages)
    }
    fn transfer_put(&self, peer: u32, index: usize, fill: &mut dyn FnMut(&mut [u8; PAGE_SIZE as usize])) {
        // Garbage where `fill` writes nothing shows in what is copied out.
        let mut page = [0xa5; PAGE_SIZE as usize];
        fill(&mut page);
        let page = &page;
        let areas = self.areas.borrow();
        let (me, a) = areas.as_ref().expect("a machine with transfer areas");
        assert!(index < a.pages, "page {index} of a {}-page area", a.pages);
        let before = a.pending.borrow_mut().insert((*me, peer, index), *page);
        assert!(before.is_none(), "node {me} filled page {index} to {peer} again before it was copied out");
        a.filled.set(a.filled.get() + 1);
    }
    fn transfer_get(&self, peer: u32, index: usize, out: &mut [u8; PAGE_SIZE as usize]) {
        let areas = self.areas.borrow();
        let (me, a) = areas.as_ref().expect("a machine with transfer areas");
        let page = a.pending.borrow_mut().remove(&(peer, *me, index));
        *out = page.unwrap_or_else(|| panic!("node {me} copied out page {index} from {peer}, never filled"));
        a.copied.borrow_mut().insert((peer, *me, index));
    }
    fn save_registers(&self, s: Slot, out: &mut [u8; processes::REGISTER_BYTES]) {
        *out = self.log.borrow().registers.get(&s).copied().unwrap_or([0; processes::REGISTER_BYTES]);
    }
    fn load_registers(&self, s: Slot, regs: &[u8; processes::REGISTER_BYTES]) {
        self.log.borrow_mut().registers.insert(s, *regs);
    }
    fn set_result(&self, s: Slot, x0: u64) {
        self.log.borrow_mut().results.insert(s, x0);
    }
    fn report(&self, line: std::fmt::Arguments<'_>) {
        self.log.borrow_mut().reports.push(line.to_string());
    }
    fn trace(&self, event: Event) {
        self.log.borrow_mut().events.push(event);
    }
    fn init_ended(&self, status: ExitStatus) {
        self.log.borrow_mut().init = Some(status);
    }
    fn input_ready(&self) -> bool {
        let log = self.log.borrow();
        !log.input.is_empty() || log.lost
    }
    fn read_input(&self, out: &mut [u8]) -> Result<usize, InputLost> {
        let mut log = self.log.borrow_mut();
        if log.input.is_empty() && std::mem::take(&mut log.lost) {
            return Err(InputLost);
        }
        let n = out.len().min(log.input.len());
        for o in out.iter_mut().take(n) {
            *o = log.input.pop_front().unwrap_or(0);
        }
        Ok(n)
    }
    fn take_interrupts(&self) -> bool {
        let mut log = self.log.borrow_mut();
        let before = log.input.len();
        log.input.retain(|&b| b != 0x03);
        log.input.len() != before
    }
    fn input_dropped(&self) -> u64 {
        self.log.borrow().dropped_input
    }
    fn console_dropped(&self) -> u64 {
        0
    }
    fn request_power_off(&self, pid: u32, _name: &[u8; NAME_BYTES]) -> Result<(), user_abi::Error> {
        self.log.borrow_mut().power_off = Some(pid);
        Ok(())
    }
    fn request_trace(&self) -> Result<(), user_abi::Error> {
        self.log.borrow_mut().trace_asked = true;
        Ok(())
    }
}

/// A node of `cores` cores (all online; core `c`'s bell is `100 + c`), with
/// `init` (pid 1) spawned and the console's input if `console`.
pub struct Node {
    pub k: Box<Kernel<Fake>>,
    pub init: Slot,
}

/// What a call did: its outcome, and the result register if it returned.
pub type Called = Outcome;

impl Node {
    pub fn new(cores: usize, console: bool) -> Node {
        Node::with_pages(cores, console, PAGES)
    }

    pub fn with_pages(cores: usize, console: bool, pages: u64) -> Node {
        Node::of_machine(0, 1, cores, console, pages)
    }

    /// Node `id` of a machine of `count` nodes.
    pub fn of_machine(id: u32, count: u32, cores: usize, console: bool, pages: u64) -> Node {
        let mut k = Box::new(Kernel::new(Fake::new(1)));
        let facts = NodeFacts {
            id,
            count,
            console_node: if console { id } else { (id + 1) % count },
            console_input: console,
            capacity: 530,
        };
        k.init(Fake::new(pages), facts, BASE, pages * PAGE_SIZE, cores);
        for c in 0..cores {
            k.bells[c] = 100 + c as u64;
            k.online |= 1 << c;
        }
        let pid = k.spawn("prog", b"", 0, SpawnOptions::default()).expect("init spawns");
        assert_eq!(pid, id + 1, "node n's init is pid n + 1");
        let init = k.procs.iter().position(|p| p.as_ref().is_some_and(|p| p.pid == pid)).expect("init's slot");
        Node { k, init }
    }

    pub fn fake(&self) -> &Fake {
        self.k.platform()
    }

    pub fn slot(&self, pid: u32) -> Slot {
        self.k.procs.iter().position(|p| p.as_ref().is_some_and(|p| p.pid == pid)).expect("a live process")
    }

    pub fn state(&self, pid: u32) -> Option<processes::State> {
        self.k.procs.iter().flatten().find(|p| p.pid == pid).map(|p| p.state)
    }

    /// Core `core` picks and starts its next program.
    pub fn run(&mut self, core: usize) -> Slot {
        self.fake().core.set(core);
        let s = self.k.pick(core).expect("a program to run");
        let now = self.fake().now.get();
        self.k.start_running(core, s, now);
        s
    }

    /// Runs `s` on `core` (taking it off its queue first, as a pick does).
    pub fn run_slot(&mut self, core: usize, s: Slot) {
        self.fake().core.set(core);
        loop {
            let picked = self.k.pick(core).expect("s is queued");
            let now = self.fake().now.get();
            self.k.start_running(core, picked, now);
            if picked == s {
                return;
            }
            // Someone else was first: put it back.
            let pid = self.k.procs[picked].as_ref().map_or(0, |p| p.pid);
            self.k.stopped(core, picked, pid, Outcome::Interrupted, false, true);
        }
    }

    /// `s`, running on `core`, makes system call `call`.
    pub fn call(&mut self, s: Slot, core: usize, call: Call, a: [u64; 5]) -> Outcome {
        self.fake().core.set(core);
        let mut out = [0u8; processes::WRITE_MAX];
        processes::handle(&mut self.k, s, core, CallArgs { number: call as u64, a }, &mut out)
    }

    /// A call that must return at once; its result.
    pub fn ret(&mut self, s: Slot, core: usize, call: Call, a: [u64; 5]) -> Result<u64, user_abi::Error> {
        match self.call(s, core, call, a) {
            Outcome::Return(r) => r,
            other => panic!("{call:?} did not return: {other:?}"),
        }
    }

    /// Writes `bytes` into `s`'s data page at `offset`; returns their address.
    pub fn put(&self, s: Slot, offset: u64, bytes: &[u8]) -> u64 {
        self.k.copy_out(s, DATA + offset, bytes).expect("data page");
        DATA + offset
    }

    /// Reads `len` bytes of `s`'s memory at `va`.
    pub fn get(&self, s: Slot, va: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.k.copy_in(s, va, &mut out).expect("readable");
        out
    }

    /// `s` spawns `name` with `args` and `options`.
    pub fn spawn(&mut self, s: Slot, core: usize, name: &str, options: SpawnOptions) -> Result<u64, user_abi::Error> {
        let va = self.put(s, 0, name.as_bytes());
        self.ret(s, core, Call::Spawn, [va, name.len() as u64, va, 0, options.encode()])
    }

    /// The result a blocked call of `s` ended with.
    pub fn result(&self, s: Slot) -> Option<u64> {
        self.fake().log.borrow().results.get(&s).copied()
    }

    pub fn free_pages(&self) -> u64 {
        self.k.frames.as_ref().map_or(0, |f| f.free_count())
    }
}
