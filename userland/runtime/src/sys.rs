//! The system calls, one function each.
//!
//! Pointers handed to the kernel always come from Rust references here, so
//! every function is safe except [`syscall`] (any call with any arguments)
//! and [`unmap`] (which can pull memory out from under live references).

use core::time::Duration;

use user_abi::{
    decode_result, Call, Error, ExitStatus, Id, NodeInfo, ProcessInfo, SpawnOptions, SysInfo, PROT_READ, PROT_WRITE,
};

/// A process id.
pub type Pid = u32;

/// Issues system call `n` with arguments `a` and returns the raw `x0`.
///
/// # Safety
///
/// The kernel may write to any user memory the arguments name (within what
/// the call does), and `Unmap` can remove memory the program still uses;
/// the caller must make sure nothing it relies on is affected.
#[inline(always)]
pub unsafe fn syscall(n: u64, a: [u64; 6]) -> u64 {
    let x0;
    // SAFETY: `svc #0` enters the kernel, which preserves every register but
    // x0 (declared as output) and only touches memory the caller's
    // arguments name, which the caller vouches for.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inlateout("x0") a[0] => x0,
            in("x1") a[1],
            in("x2") a[2],
            in("x3") a[3],
            in("x4") a[4],
            in("x5") a[5],
            in("x8") n,
            options(nostack),
        );
    }
    x0
}

/// A call whose pointer arguments, if any, name memory the call may use.
fn call(c: Call, a: [u64; 6]) -> Result<u64, Error> {
    // SAFETY: every caller in this module passes only pointers derived from
    // references of the right mutability and length, and never `Unmap`.
    decode_result(unsafe { syscall(c as u64, a) })
}

fn call0(c: Call) -> Result<u64, Error> {
    call(c, [0; 6])
}

fn call1(c: Call, a0: u64) -> Result<u64, Error> {
    call(c, [a0, 0, 0, 0, 0, 0])
}

fn call2(c: Call, a0: u64, a1: u64) -> Result<u64, Error> {
    call(c, [a0, a1, 0, 0, 0, 0])
}

/// Ends the program with `code`.
pub fn exit(code: i32) -> ! {
    // Sign-extended, so the kernel may read either x0 or w0 as an i32.
    let _ = call1(Call::Exit, code as i64 as u64);
    // Exit does not return; if the kernel ever did, stop here for good.
    loop {
        core::hint::spin_loop();
    }
}

/// Gives the core to the next ready program of the same or higher priority.
pub fn yield_now() -> Result<(), Error> {
    call0(Call::Yield).map(drop)
}

/// Blocks for at least `ns` nanoseconds.
pub fn sleep_ns(ns: u64) -> Result<(), Error> {
    call1(Call::Sleep, ns).map(drop)
}

/// Blocks for at least `d` (saturating at `u64::MAX` nanoseconds).
pub fn sleep(d: Duration) -> Result<(), Error> {
    sleep_ns(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Nanoseconds since the node booted. The call cannot fail, so this returns
/// the value itself.
pub fn clock_ns() -> u64 {
    // SAFETY: Clock takes no pointer.
    unsafe { syscall(Call::Clock as u64, [0; 6]) }
}

/// Writes `bytes` to the console; returns how many were written.
pub fn write(bytes: &[u8]) -> Result<usize, Error> {
    call2(Call::Write, bytes.as_ptr() as u64, bytes.len() as u64).map(|n| n as usize)
}

/// Reads console input into `buf`, blocking until at least one byte is there.
pub fn read(buf: &mut [u8]) -> Result<usize, Error> {
    call2(Call::Read, buf.as_mut_ptr() as u64, buf.len() as u64).map(|n| n as usize)
}

/// Starts program `name` of the boot image as a child with argument string
/// `args`.
pub fn spawn(name: &str, args: &str, options: SpawnOptions) -> Result<Pid, Error> {
    let a = [name.as_ptr() as u64, name.len() as u64, args.as_ptr() as u64, args.len() as u64, options.encode(), 0];
    call(Call::Spawn, a).map(|pid| pid as Pid)
}

/// Waits for child `pid` (0: any child) to end. A status the runtime cannot
/// decode (a kernel newer than this ABI) is reported as `Faulted(Other)`.
pub fn wait(pid: Pid) -> Result<(Pid, ExitStatus), Error> {
    wait_with(pid, 0)?.ok_or(Error::BadCall)
}

/// [`wait`] with `flags` ([`user_abi::WAIT_NOHANG`], [`user_abi::WAIT_INPUT`]):
/// `Ok(None)` when it returned because console input waits.
pub fn wait_with(pid: Pid, flags: u64) -> Result<Option<(Pid, ExitStatus)>, Error> {
    let mut raw = 0u64;
    let pid = call(Call::Wait, [u64::from(pid), &mut raw as *mut u64 as u64, flags, 0, 0, 0])?;
    if pid == 0 {
        return Ok(None);
    }
    let status = ExitStatus::decode(raw).unwrap_or(ExitStatus::Faulted(user_abi::Fault::Other));
    Ok(Some((pid as Pid, status)))
}

/// Every node prints its trace (bootarg `trace`, console node only).
pub fn trace() -> Result<(), Error> {
    call0(Call::Trace).map(drop)
}

/// Switches the machine off (console node only); returns only on failure.
pub fn poweroff() -> Result<(), Error> {
    call0(Call::PowerOff).map(drop)
}

/// One of the caller's ids.
pub fn id(which: Id) -> Result<u64, Error> {
    call1(Call::Id, which as u64)
}

/// The caller's pid (0 if the kernel refuses, which it never should).
pub fn pid() -> Pid {
    id(Id::Process).unwrap_or(0) as Pid
}

/// The caller's node.
pub fn node() -> u32 {
    id(Id::Node).unwrap_or(0) as u32
}

/// The core the caller runs on right now.
pub fn core() -> u32 {
    id(Id::Core).unwrap_or(0) as u32
}

/// Maps `len` bytes (rounded up to pages) of zeroed memory with `prot`
/// ([`PROT_READ`] | [`PROT_WRITE`]); returns its address.
pub fn map(len: usize, prot: u64) -> Result<*mut u8, Error> {
    call2(Call::Map, len as u64, prot).map(|a| a as *mut u8)
}

/// Maps `len` bytes read/write and hands them out as a slice that lives
/// until the program ends (nothing unmaps it behind the slice's back unless
/// the program calls [`unmap`] on it, which is unsafe).
pub fn map_slice(len: usize) -> Result<&'static mut [u8], Error> {
    let p = map(len, PROT_READ | PROT_WRITE)?;
    // SAFETY: the kernel just mapped `len` (rounded up) zeroed, writable
    // bytes at `p` for this process alone, and nothing else refers to them.
    Ok(unsafe { core::slice::from_raw_parts_mut(p, len) })
}

/// Unmaps `len` bytes at `addr` that [`map`] handed out.
///
/// # Safety
///
/// Nothing may use the memory afterwards (no live reference into it, in
/// particular not the heap or a slice from [`map_slice`]).
pub unsafe fn unmap(addr: *mut u8, len: usize) -> Result<(), Error> {
    // SAFETY: the caller guarantees the range is no longer used.
    decode_result(unsafe { syscall(Call::Unmap as u64, [addr as u64, len as u64, 0, 0, 0, 0]) }).map(drop)
}

/// Queues `msg` on local endpoint `endpoint`.
pub fn send(endpoint: u64, msg: &[u8]) -> Result<(), Error> {
    call(Call::Send, [endpoint, msg.as_ptr() as u64, msg.len() as u64, 0, 0, 0]).map(drop)
}

/// Queues `msg` on endpoint `endpoint` of node `node` (through the
/// monitors when it is another node; the same limits and errors).
pub fn send_to(node: u32, endpoint: u64, msg: &[u8]) -> Result<(), Error> {
    call(Call::Send, [endpoint, msg.as_ptr() as u64, msg.len() as u64, u64::from(node) + 1, 0, 0]).map(drop)
}

/// Takes the oldest message of `endpoint` into `buf`, blocking up to
/// `timeout_ns` (0: don't block, `u64::MAX`: forever); returns its length.
pub fn recv(endpoint: u64, buf: &mut [u8], timeout_ns: u64) -> Result<usize, Error> {
    call(Call::Recv, [endpoint, buf.as_mut_ptr() as u64, buf.len() as u64, timeout_ns, 0, 0]).map(|n| n as usize)
}

/// Moves program `pid` (of any node) to node `node`, with everything it
/// has; returns once it runs there.
pub fn migrate(pid: Pid, node: u32) -> Result<(), Error> {
    call(Call::Migrate, [u64::from(pid), u64::from(node), 0, 0, 0, 0]).map(drop)
}

/// Ends program `pid` of this node.
pub fn kill(pid: Pid) -> Result<(), Error> {
    call1(Call::Kill, u64::from(pid)).map(drop)
}

/// Fills `buf` with this node's processes; returns how many were written.
pub fn ps(buf: &mut [ProcessInfo]) -> Result<usize, Error> {
    call2(Call::Ps, buf.as_mut_ptr() as u64, buf.len() as u64).map(|n| (n as usize).min(buf.len()))
}

/// Fills `buf` with the machine's nodes; returns how many were written.
pub fn nodes(buf: &mut [NodeInfo]) -> Result<usize, Error> {
    call2(Call::Nodes, buf.as_mut_ptr() as u64, buf.len() as u64).map(|n| (n as usize).min(buf.len()))
}

/// This node's summary.
pub fn sysinfo() -> Result<SysInfo, Error> {
    let mut info = SysInfo::default();
    call1(Call::SysInfo, &mut info as *mut SysInfo as u64)?;
    Ok(info)
}

/// The argument string, read into `buf`. A string longer than `buf` is cut
/// (at a character boundary).
pub fn args(buf: &mut [u8]) -> Result<&str, Error> {
    let full = call2(Call::Args, buf.as_mut_ptr() as u64, buf.len() as u64)?;
    let len = usize::try_from(full).unwrap_or(usize::MAX).min(buf.len());
    let bytes = &buf[..len];
    Ok(match core::str::from_utf8(bytes) {
        Ok(s) => s,
        // `valid_up_to` is a char boundary, so this second parse succeeds.
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    })
}
