//! The kernel command line: its length, and its program words,
//! `NAME[@N][.CLASS]=PROG[:ARG...]` (`NAME` is `run` or `first`), read by
//! every node's `init`. The boot driver checks the line whole before
//! anything starts, so a line that would be cut, or a word that could
//! start nothing, is reported instead of dropped without a word.

use crate::Class;
use core::fmt;
use handoff::bootinfo::BOOTARGS_BYTES;

/// The names of the program words.
pub const PROGRAM_WORDS: [&str; 2] = ["first", "run"];

/// One program word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunWord<'a> {
    /// The node it is pinned to (`None`: the placement policy's choice).
    pub node: Option<u32>,
    pub class: Class,
    /// `PROG[:ARG...]`.
    pub spec: &'a str,
}

/// What is wrong with the command line or one of its program words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdlineError<'a> {
    /// Longer than a node is given ([`BOOTARGS_BYTES`]).
    TooLong { len: usize },
    /// What follows `@` is no node number.
    BadNode { word: &'a str },
    /// A node the machine does not have.
    NoSuchNode { word: &'a str, node: u32, nodes: u32 },
    /// What follows `.` is no class.
    BadClass { word: &'a str },
    /// Nothing after `=`.
    NoProgram { word: &'a str },
}

impl fmt::Display for CmdlineError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CmdlineError::TooLong { len } => {
                write!(f, "{len} bytes, more than the {BOOTARGS_BYTES} this kernel takes")
            }
            CmdlineError::BadNode { word } => write!(f, "`{word}`: the node after `@` must be a number"),
            CmdlineError::NoSuchNode { word, node, nodes } => {
                write!(f, "`{word}`: there is no node {node} (this machine has nodes 0 to {})", nodes.saturating_sub(1))
            }
            CmdlineError::BadClass { word } => write!(f, "`{word}`: the class after `.` must be heavy, light or auto"),
            CmdlineError::NoProgram { word } => write!(f, "`{word}`: no program after `=`"),
        }
    }
}

/// Reads `word` as a `name` word: `Ok(None)` when it is not one.
pub fn run_word<'a>(word: &'a str, name: &str) -> Result<Option<RunWord<'a>>, CmdlineError<'a>> {
    let Some((key, spec)) = word.split_once('=') else { return Ok(None) };
    let Some(rest) = key.strip_prefix(name) else { return Ok(None) };
    let (at, class) = match rest.split_once('.') {
        Some((at, class)) => (at, Some(class)),
        None => (rest, None),
    };
    let node = match at {
        "" => None,
        _ => match at.strip_prefix('@') {
            // `runner=...` is some other word.
            None => return Ok(None),
            Some(n) => Some(n.parse::<u32>().map_err(|_| CmdlineError::BadNode { word })?),
        },
    };
    let class = match class {
        None => Class::Auto,
        Some(c) => Class::from_name(c).ok_or(CmdlineError::BadClass { word })?,
    };
    if spec.is_empty() {
        return Err(CmdlineError::NoProgram { word });
    }
    Ok(Some(RunWord { node, class, spec }))
}

/// Checks `cmdline` for a machine of `nodes` nodes: its length, then
/// every program word.
pub fn check(cmdline: &str, nodes: u32) -> Result<(), CmdlineError<'_>> {
    if cmdline.len() > BOOTARGS_BYTES {
        return Err(CmdlineError::TooLong { len: cmdline.len() });
    }
    for word in cmdline.split_ascii_whitespace() {
        for name in PROGRAM_WORDS {
            if let Some(RunWord { node: Some(node), .. }) = run_word(word, name)? {
                if node >= nodes {
                    return Err(CmdlineError::NoSuchNode { word, node, nodes });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::{String, ToString};

    #[test]
    fn words_are_read_with_node_and_class() {
        let w = |s| run_word(s, "run");
        assert_eq!(w("run=heavy:5"), Ok(Some(RunWord { node: None, class: Class::Auto, spec: "heavy:5" })));
        assert_eq!(
            w("run@2.light=light:10:5"),
            Ok(Some(RunWord { node: Some(2), class: Class::Light, spec: "light:10:5" }))
        );
        assert_eq!(w("run.heavy=x"), Ok(Some(RunWord { node: None, class: Class::Heavy, spec: "x" })));
        assert_eq!(run_word("first@0=mover", "first").map(|w| w.map(|w| w.node)), Ok(Some(Some(0))));
        for other in ["poweroff", "sched=capacity", "runner=x", "first=x", "ktest=boot"] {
            assert_eq!(w(other), Ok(None), "{other}");
        }
    }

    #[test]
    fn bad_words_are_errors_naming_the_word() {
        let w = |s| run_word(s, "run");
        for bad in ["run@-1=heavy", "run@4294967296=heavy", "run@=heavy", "run@x=heavy", "run@1x.light=heavy"] {
            assert_eq!(w(bad), Err(CmdlineError::BadNode { word: bad }), "{bad}");
        }
        assert_eq!(w("run.big=heavy"), Err(CmdlineError::BadClass { word: "run.big=heavy" }));
        assert_eq!(w("run@1="), Err(CmdlineError::NoProgram { word: "run@1=" }));
        assert_eq!(
            CmdlineError::BadNode { word: "run@-1=heavy" }.to_string(),
            "`run@-1=heavy`: the node after `@` must be a number"
        );
    }

    #[test]
    fn the_whole_line_is_checked_against_the_machine() {
        assert_eq!(check("poweroff run=heavy run@2=light first@1=mover", 3), Ok(()));
        let e = check("poweroff run@1=heavy run@99=heavy", 3);
        assert_eq!(e, Err(CmdlineError::NoSuchNode { word: "run@99=heavy", node: 99, nodes: 3 }));
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err(String::from("`run@99=heavy`: there is no node 99 (this machine has nodes 0 to 2)"))
        );
        assert_eq!(
            check("first@3.light=x", 3),
            Err(CmdlineError::NoSuchNode { word: "first@3.light=x", node: 3, nodes: 3 })
        );
        assert_eq!(check("run.big=x", 3), Err(CmdlineError::BadClass { word: "run.big=x" }));
        let long = "x".repeat(BOOTARGS_BYTES + 1);
        assert_eq!(check(&long, 3), Err(CmdlineError::TooLong { len: BOOTARGS_BYTES + 1 }));
        assert_eq!(check(&long[1..], 3), Ok(()), "the limit itself is allowed");
        assert_eq!(CmdlineError::TooLong { len: 3824 }.to_string(), "3824 bytes, more than the 2048 this kernel takes");
    }
}
