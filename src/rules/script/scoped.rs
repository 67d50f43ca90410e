//! Values that live for one script call only: the record a script is called with (a
//! row of a streamed chunk, a node of a document) and its `ctx`, which hold references
//! into data the call borrows. Each call enters a frame with a number never used
//! before; a handle made in it works only while that frame is the current one on its
//! thread. A handle kept past its call (there is nowhere to keep one: findings keep
//! text, not handles) is an error when used, never a dangling reference.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// Numbers of frames: unique across threads, so a handle carried to another thread is
/// never current there.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// The frame of one script call; leaving it (dropping this) ends its handles.
pub struct Frame {
    id: u64,
    previous: u64,
}

impl Frame {
    pub fn enter() -> Frame {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let previous = CURRENT.with(|c| c.replace(id));
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
        let elsewhere = std::thread::spawn(move || is_current(id))
            .join()
            .expect("thread");
        assert!(!elsewhere);
        drop(outer);
        assert!(!is_current(id));
    }
}
