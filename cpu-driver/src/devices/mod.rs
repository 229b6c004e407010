//! The devices a core drives: the GIC's per-core side, the timer, the console UART's input; interrupt dispatch and waits. Uses only `arch` and `config`.

pub mod gic;
pub mod input;
pub mod irq;
pub mod time;
pub mod uart;
pub mod wait;
