//! The kernel core of a node: the console producer, the scheduler, the processes (the `processes` crate over this CPU driver), tracing, the heap. Uses `devices` and `arch`.

pub mod calibrate;
pub mod console;
pub mod ctx;
pub mod heap;
pub mod proc;
pub mod programs;
pub mod requests;
pub mod roots;
pub mod sched;
pub mod trace;
