//! The node on top: bring-up, the console owner's duties, the monitor's platform, the boot self-checks. Uses every layer below.

pub mod bringup;
pub mod monitor;
pub mod owner;
pub mod selftest;
