//! What lives for one script call only, and the operation budget of each record.
//!
//! The record a script is called with (a row of a streamed chunk, a node of a
//! document) and its `ctx` hold references into data the call borrows. Each call
//! enters a frame with a number never used before; a handle made in it works only
//! while that frame is the current one on its thread. A handle kept past its call
//! (there is nowhere to keep one: findings keep text, not handles) is an error when
//! used, never a dangling reference.
//!
//! Records are passed to a script in batches, one call per batch, so that the engine
//! resolves the script's function calls once per batch instead of once per record; the
//! operation limit still holds per record: each record starts a budget of its own.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// Frame numbers of this thread: unique across threads (see [`Frame::enter`]).
    static NEXT: Cell<u64> = const { Cell::new(0) };
    /// The record of the current batch being checked, and whether its budget is to
    /// start at the next operation; the operation count its budget started at.
    static RECORD: Cell<(usize, bool, u64)> = const { Cell::new((0, false, 0)) };
}

/// Thread ranges of frame numbers, given out once per thread.
static THREADS: AtomicU64 = AtomicU64::new(1);

/// The frame of one script call; leaving it (dropping this) ends its handles.
pub struct Frame {
    id: u64,
    previous: u64,
}

impl Frame {
    pub fn enter() -> Frame {
        let id = NEXT.with(|next| {
            let mut id = next.get();
            if id == 0 {
                // A range of 2^40 numbers per thread, taken once: no shared counter per call.
                id = THREADS.fetch_add(1, Ordering::Relaxed) << 40;
            }
            next.set(id + 1);
            id + 1
        });
        let previous = CURRENT.with(|c| c.replace(id));
        start_record(0);
        Frame { id, previous }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Whether the frame `id` is the current one on this thread.
pub fn is_current(id: u64) -> bool {
    CURRENT.with(|c| c.get() == id)
}

/// Record `index` of the batch starts: its operation budget starts afresh.
pub fn start_record(index: usize) {
    RECORD.with(|r| {
        let (.., base) = r.get();
        r.set((index, true, base));
    });
}

/// The record of the current batch being checked.
pub fn record() -> usize {
    RECORD.with(|r| r.get().0)
}

/// Whether the record being checked has used more than `limit` operations, the
/// engine's count being `ops` (called by the engine at every operation).
pub fn over_budget(ops: u64, limit: u64) -> bool {
    RECORD.with(|r| {
        let (index, starting, mut base) = r.get();
        if starting {
            base = ops.saturating_sub(1);
            r.set((index, false, base));
        }
        ops - base > limit
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_current_only_while_entered_and_only_on_its_thread() {
        let outer = Frame::enter();
        let id = outer.id();
        assert!(is_current(id));
        {
            let inner = Frame::enter();
            assert!(!is_current(id));
            assert!(is_current(inner.id()));
        }
        assert!(is_current(id));
        let elsewhere = std::thread::spawn(move || (is_current(id), Frame::enter().id()))
            .join()
            .expect("thread");
        assert!(!elsewhere.0);
        assert_ne!(elsewhere.1, id);
        drop(outer);
        assert!(!is_current(id));
    }

    #[test]
    fn each_record_has_a_budget_of_its_own() {
        let _frame = Frame::enter();
        assert!(!over_budget(100, 10));
        assert!(over_budget(111, 10));
        start_record(3);
        assert_eq!(record(), 3);
        assert!(!over_budget(500, 10));
        assert!(!over_budget(509, 10));
        assert!(over_budget(511, 10));
    }
}
