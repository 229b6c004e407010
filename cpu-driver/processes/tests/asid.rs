//! ASIDs: an ended program's ASID is handed out again only after a flush
//! of every TLB, and that flush comes once per 255 programs, not per
//! program.

use processes::asid::Asids;
use std::cell::Cell;

#[test]
fn a_stale_asid_waits_for_the_one_flush_that_frees_them_all() {
    let mut a = Asids::new();
    let flushes = Cell::new(0);
    let flush = || flushes.set(flushes.get() + 1);
    let first: Vec<u16> = (0..255).map(|_| a.take(flush).expect("255 for programs")).collect();
    assert!(!first.contains(&0), "ASID 0 is the kernel's");
    assert_eq!(a.take(flush), None, "all live: none left, and no flush helps");
    assert_eq!(flushes.get(), 0);
    // One ends: still not free until a flush.
    a.retire(first[7]);
    assert_eq!(a.taken(), 256);
    let again = a.take(flush).expect("after a flush");
    assert_eq!((again, flushes.get()), (first[7], 1));
    // One that was never loaded goes back at once, without a flush.
    a.give_back(again);
    assert_eq!(a.take(flush), Some(again));
    assert_eq!(flushes.get(), 1);
}

#[test]
fn programs_that_come_and_go_cost_a_flush_per_255() {
    let mut a = Asids::new();
    let flushes = Cell::new(0);
    let mut live: Vec<u16> = Vec::new();
    for i in 0..2550 {
        let asid = a.take(|| flushes.set(flushes.get() + 1)).expect("never runs out");
        assert!(!live.contains(&asid), "ASID {asid} handed out twice");
        live.push(asid);
        if live.len() > 8 || i % 3 == 0 {
            a.retire(live.remove(0));
        }
    }
    assert!((9..=11).contains(&flushes.get()), "{} flushes", flushes.get());
}
