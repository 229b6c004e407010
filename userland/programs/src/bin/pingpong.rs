//! `pingpong NODE [COUNT] [SERVE_EP] [REPLY_EP]`: endpoint round trips to
//! node NODE (this node too). It starts `pingpong serve COUNT SERVE_EP` on
//! NODE, then COUNT times sends a numbered message to endpoint SERVE_EP
//! there, naming this node and REPLY_EP, and waits for the echo. Prints
//! `pingpong: node A to node B round_trips=N rtt_median_ns=M rtt_p99_ns=P`
//! and exits 0 if every echo came back in order and intact, 1 if not.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use urt::{println, SpawnOptions};

/// An echo request: sequence number, reply node, reply endpoint, and a
/// pattern the echo must carry back.
const MESSAGE: usize = 32;
/// How long one echo may take before the run fails (guest ns).
const TIMEOUT_NS: u64 = 2_000_000_000;

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    if args.split_whitespace().next() == Some("serve") {
        let rest: Vec<&str> = args.split_whitespace().skip(1).collect();
        let count = rest.first().and_then(|w| w.parse().ok()).unwrap_or(100);
        let ep = rest.get(1).and_then(|w| w.parse().ok()).unwrap_or(14);
        return serve(count, ep);
    }
    let Some([node, count, serve_ep, reply_ep]) = user_programs::numbers("pingpong", [0, 100, 14, 15]) else {
        return 2;
    };
    let (node, me) = (node as u32, urt::node());
    let server_args = alloc::format!("serve {count} {serve_ep}");
    let options = SpawnOptions { node: Some(node as u8), ..SpawnOptions::default() };
    let server = match urt::spawn("pingpong", &server_args, options) {
        Ok(pid) => pid,
        Err(e) => {
            println!("pingpong: cannot start the server on node {node}: {e}");
            return 1;
        }
    };
    let mut rtts = Vec::with_capacity(count as usize);
    let mut ok = true;
    for seq in 0..count {
        let mut m = [0u8; MESSAGE];
        m[..8].copy_from_slice(&seq.to_le_bytes());
        m[8..12].copy_from_slice(&me.to_le_bytes());
        m[12..16].copy_from_slice(&(reply_ep as u32).to_le_bytes());
        for (i, b) in m[16..].iter_mut().enumerate() {
            *b = (seq as u8).wrapping_mul(31).wrapping_add(i as u8);
        }
        let start = urt::clock_ns();
        // The server may not be listening yet: its queue takes the first ones.
        if let Err(e) = urt::send_to(node, serve_ep, &m) {
            println!("pingpong: send {seq}: {e}");
            ok = false;
            break;
        }
        let mut echo = [0u8; MESSAGE];
        match urt::recv(reply_ep, &mut echo, TIMEOUT_NS) {
            Ok(n) if n == MESSAGE && echo == m => rtts.push(urt::clock_ns() - start),
            Ok(n) => {
                println!("pingpong: echo {seq} differs ({n} bytes)");
                ok = false;
                break;
            }
            Err(e) => {
                println!("pingpong: echo {seq}: {e}");
                ok = false;
                break;
            }
        }
    }
    let served = urt::wait(server);
    rtts.sort_unstable();
    let at = |q: usize| rtts.get((rtts.len() * q / 100).min(rtts.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "pingpong: node {me} to node {node} round_trips={} rtt_median_ns={} rtt_p99_ns={}",
        rtts.len(),
        at(50),
        at(99)
    );
    match served {
        Ok((_, urt::ExitStatus::Exited(0))) => {}
        other => {
            println!("pingpong: the server ended {other:?}");
            ok = false;
        }
    }
    i32::from(!ok)
}

/// Echoes `count` messages from endpoint `ep` to where each one says.
fn serve(count: u64, ep: u64) -> i32 {
    for _ in 0..count {
        let mut m = [0u8; MESSAGE];
        let n = match urt::recv(ep, &mut m, TIMEOUT_NS) {
            Ok(n) => n,
            Err(e) => {
                println!("pingpong serve: recv: {e}");
                return 1;
            }
        };
        let node = u32::from_le_bytes([m[8], m[9], m[10], m[11]]);
        let reply = u32::from_le_bytes([m[12], m[13], m[14], m[15]]);
        if let Err(e) = urt::send_to(node, u64::from(reply), &m[..n]) {
            println!("pingpong serve: send: {e}");
            return 1;
        }
    }
    0
}

urt::entry!(main);
