//! Work spread over the cores item by item, in order.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every item, each core taking the next item not yet taken as soon as it
/// is free: items start in the slice's order, and no core waits for another until none
/// is left (rayon's parallel iterators split a slice in halves instead, so a core may
/// take a late item first, or wait at the end of its half).
pub fn in_turn<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    let next = AtomicUsize::new(0);
    let take = || {
        while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            work(item);
        }
    };
    rayon::scope(|scope| {
        for _ in 1..rayon::current_num_threads().min(items.len()) {
            scope.spawn(|_| take());
        }
        take();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Every item is worked on once, whatever the number of items and cores.
    #[test]
    fn every_item_is_worked_on_once() {
        for len in [0, 1, 2, 3, 100] {
            let items: Vec<usize> = (0..len).collect();
            let started = Mutex::new(Vec::new());
            in_turn(&items, |&i| {
                crate::shared::lock(&started).push(i);
                // Uneven work, so that the cores finish out of order.
                std::hint::black_box((0..(i % 7) * 1000).sum::<usize>());
            });
            let started = crate::shared::into_inner(started);
            let mut sorted = started.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, items);
        }
    }
}
