//! A program's stretches on a core, as the scheduler reports them: it
//! starts running, its CPU time is counted when it stops, and what it
//! stopped for decides where it goes next. The CPU driver's loop does the
//! hardware part (registers, timer, translation root) around these.

use crate::{Kernel, Outcome, Platform, Slot, State};
use trace_ring::{Kind, StopReason};
use user_abi::ExitStatus;

/// What the core does once a program stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Pick again.
    Schedule,
    /// Print these bytes of the write buffer for `pid` (the program stays
    /// Running for it), then call [`Kernel::written`].
    Write { pid: u32, len: usize },
}

impl<P: Platform> Kernel<P> {
    /// Program `s` starts running on `core` at `now`.
    pub fn start_running(&mut self, core: usize, s: Slot, now: u64) {
        let now_ns = self.platform.nanos(now);
        let Some(p) = self.procs[s].as_mut() else { return };
        // Since it last stopped, it did not run; it was ready to.
        p.util.update(now_ns, None);
        p.demand.update(now_ns, Some(crate::util::FULL));
        p.state = State::Running;
        p.yield_to_waker = false;
        p.core = core;
        p.running_since = now;
        let pid = p.pid;
        self.running[core] = Some(s);
        self.trace(Kind::Run, pid, |_| {});
    }

    /// When the slice of `s`, starting to run at `now`, ends: the rest of
    /// the one a stop cut short (see [`crate::Process::slice_end`]), else a
    /// fresh one of `len` ticks.
    pub fn slice_end(&mut self, s: Slot, now: u64, len: u64) -> u64 {
        let Some(p) = self.procs[s].as_mut() else { return now.saturating_add(len) };
        if p.slice_end <= now {
            p.slice_end = now.saturating_add(len);
        }
        p.slice_end
    }

    /// Counts `s`'s CPU time up to `end` (it trapped); returns its pid (0
    /// if it is gone).
    pub fn account(&mut self, s: Slot, end: u64) -> u32 {
        let (end_ns, capacity) = (self.platform.nanos(end), self.node.capacity);
        let Some(p) = self.procs[s].as_mut() else { return 0 };
        let ran = end.saturating_sub(p.running_since);
        p.cpu_ticks += ran;
        p.running_since = end;
        p.work_ns += self.platform.nanos(ran) * u64::from(capacity) / 1024;
        p.util.update(end_ns, Some(capacity));
        p.demand.update(end_ns, Some(crate::util::FULL));
        let was_heavy = p.heavy;
        p.heavy = crate::util::classify(p.class, p.heavy, p.demand.value());
        let pid = p.pid;
        if p.heavy && !was_heavy {
            self.turned_heavy(end);
        }
        pid
    }

    /// `s` (pid `pid`) left `core` after `outcome` (`faulted`: the kernel
    /// killed it for a fault; `slice_over`: its time slice had ended).
    /// Every result goes to its register, and it is queued again unless it
    /// blocked or ended.
    pub fn stopped(
        &mut self,
        core: usize,
        s: Slot,
        pid: u32,
        outcome: Outcome,
        faulted: bool,
        slice_over: bool,
    ) -> Next {
        self.running[core] = None;
        let killed = self.procs[s].as_ref().is_some_and(|p| p.pid == pid && p.kill_pending());
        let why = stop_reason(&outcome, faulted, killed);
        self.trace(Kind::Stop, pid, |e| e.reason = why as u8);
        if self.take_kill(s) {
            self.exit(s, ExitStatus::Killed);
            return Next::Schedule;
        }
        // A slice goes on only for a program that goes back to its queue's head.
        if matches!(outcome, Outcome::Blocked | Outcome::Yield) {
            if let Some(p) = self.procs[s].as_mut() {
                p.slice_end = 0;
            }
        }
        match outcome {
            Outcome::Exited => {}
            // Blocked: a move that waited for it can describe it now.
            Outcome::Blocked => self.pump_move(),
            Outcome::Write(len) => {
                if let Some(p) = self.procs[s].as_ref() {
                    return Next::Write { pid: p.pid, len };
                }
            }
            Outcome::Yield => self.requeue(s, true),
            Outcome::Return(r) => {
                // Stopped on this core, which still owns its registers.
                self.platform.set_result(s, user_abi::encode_result(r));
                self.requeue(s, slice_over);
            }
            Outcome::Interrupted => self.requeue(s, slice_over),
        }
        Next::Schedule
    }

    /// The console took a write's `len` bytes: the call returns the count
    /// and the program goes on.
    pub fn written(&mut self, s: Slot, len: usize) {
        self.platform.set_result(s, len as u64);
        self.requeue(s, false);
    }

    /// Queues a stopped program again: at the back when its slice is over
    /// (or it yielded), else at the front so it goes on unless a higher
    /// priority program woke up.
    fn requeue(&mut self, s: Slot, to_back: bool) {
        if self.take_kill(s) {
            self.exit(s, ExitStatus::Killed);
            return;
        }
        let Some(p) = self.procs[s].as_mut().filter(|p| p.state == State::Running) else { return };
        let to_back = to_back || core::mem::take(&mut p.yield_to_waker);
        if to_back {
            p.slice_end = 0;
        }
        if p.move_pending {
            // A move waits for it: parked instead of queued.
            p.state = State::Migrating;
            p.parked = Some(State::Ready);
            self.pump_move();
            return;
        }
        self.make_ready(s, !to_back);
    }
}

/// Why a program's stretch on its core ended, for the trace.
fn stop_reason(outcome: &Outcome, faulted: bool, killed: bool) -> StopReason {
    match outcome {
        _ if faulted => StopReason::Faulted,
        _ if killed => StopReason::Killed,
        Outcome::Exited => StopReason::Exited,
        Outcome::Blocked => StopReason::Blocked,
        Outcome::Yield => StopReason::Yielded,
        Outcome::Write(_) => StopReason::Wrote,
        Outcome::Return(_) | Outcome::Interrupted => StopReason::Preempted,
    }
}
