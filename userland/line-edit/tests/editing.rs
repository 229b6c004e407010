//! The line discipline against what terminals and pastes send.

use line_edit::{Action, LineEditor};

/// Feeds `input`; returns the lines and other actions in order, and the echo.
fn run<const MAX: usize>(ed: &mut LineEditor<MAX>, input: &[u8]) -> (Vec<String>, String) {
    let mut echo = Vec::new();
    let mut out = Vec::new();
    for &b in input {
        match ed.feed(b, &mut |e| echo.extend_from_slice(e)) {
            Some(Action::Line) => out.push(format!("line {:?}", ed.line())),
            Some(a) => out.push(format!("{a:?}")),
            None => {}
        }
    }
    (out, String::from_utf8(echo).expect("ascii echo"))
}

#[test]
fn every_line_end_ends_one_line() {
    for end in ["\r", "\n", "\r\n"] {
        let text: String =
            ["ps", "nodes", "help", "run heavy 5", "sysinfo"].iter().map(|c| format!("{c}{end}")).collect();
        let (lines, _) = run(&mut LineEditor::<64>::new(), text.as_bytes());
        assert_eq!(
            lines,
            ["line \"ps\"", "line \"nodes\"", "line \"help\"", "line \"run heavy 5\"", "line \"sysinfo\""],
            "line end {end:?}"
        );
    }
    // Empty lines stay lines; CR CR is two of them.
    let (lines, _) = run(&mut LineEditor::<64>::new(), b"\r\r\n\n");
    assert_eq!(lines, ["line \"\"", "line \"\"", "line \"\""]);
}

#[test]
fn backspace_and_delete_erase() {
    let (lines, echo) = run(&mut LineEditor::<64>::new(), b"pz\x7fs\x08\x08\x08ps\n");
    assert_eq!(lines, ["line \"ps\""]);
    assert_eq!(echo, "pz\x08 \x08s\x08 \x08\x08 \x08ps\n", "nothing to erase echoes nothing");
}

#[test]
fn ctrl_c_drops_the_line() {
    let mut ed = LineEditor::<64>::new();
    let (lines, echo) = run(&mut ed, b"kill 1\x03ps\r");
    assert_eq!(lines, ["Cancel", "line \"ps\""]);
    assert_eq!(echo, "kill 1^C\nps\n");
}

#[test]
fn escape_sequences_and_control_bytes_are_skipped() {
    let (lines, _) = run(&mut LineEditor::<64>::new(), b"p\x1b[A\x1b[1;5Cs\x01\x1bx\tx\n");
    // ESC x: a two-byte sequence (Alt-x) takes the x.
    assert_eq!(lines, ["line \"ps x\""]);
}

#[test]
fn an_over_long_line_is_refused_once_and_skipped_to_its_end() {
    let mut ed = LineEditor::<8>::new();
    let (lines, _) = run(&mut ed, b"123456789abc\nhelp\n");
    assert_eq!(lines, ["TooLong", "TooLongEnded", "line \"help\""]);
    // Exactly MAX bytes fit.
    let (lines, _) = run(&mut ed, b"12345678\n");
    assert_eq!(lines, ["line \"12345678\""]);
}

#[test]
fn a_line_stays_until_the_next_byte_and_discard_forgets_a_partial_one() {
    let mut ed = LineEditor::<16>::new();
    run(&mut ed, b"ps\n");
    assert_eq!(ed.line(), "ps");
    assert_eq!(ed.typed(), "", "nothing typed since");
    run(&mut ed, b"no");
    assert_eq!(ed.line(), "no");
    assert_eq!(ed.typed(), "no");
    ed.discard();
    let (lines, _) = run(&mut ed, b"des\n");
    assert_eq!(lines, ["line \"des\""]);
}
