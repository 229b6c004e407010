//! Standard output that a closed pipe ends quietly: `cargo xtask plan
//! --dtb F | head -3` is a normal end, not a panic (`println!` panics when
//! the reader has gone).

use std::io::Write;

/// Writes `args` to standard output; if the reader has closed it, ends
/// the process with status 0 (there is no one left to tell anything).
pub fn print(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Any other failure of stdout has no better place to be told.
        let _ = writeln!(std::io::stderr(), "xtask: cannot write to stdout: {e}");
    }
}

/// `println!` over [`print`].
#[macro_export]
macro_rules! outln {
    () => { $crate::out::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` over [`print`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::print(format_args!($($arg)*)) };
}
