//! Mutexes shared by work on several cores, used whether or not a thread panicked while
//! holding one: the panic is reported where it happened, and what the mutex holds
//! (outputs gathered so far) stays whole. And lists of large items put in an order
//! worked out on their places.

use std::sync::{Mutex, MutexGuard};

/// The guard of `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `mutex` holds, poisoned or not.
pub fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Puts what was at `order[i]` at `i`, for every `i` (`order` a permutation of the
/// list's places), following each cycle of `order` with swaps; `order` is used up.
pub fn permute<T>(list: &mut [T], order: &mut [usize]) {
    for start in 0..order.len().min(list.len()) {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start || from == at || from >= list.len() {
                break;
            }
            list.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutex_poisoned_by_a_panic_still_gives_what_it_holds() {
        let mutex = Mutex::new(vec![1]);
        let panicked = std::thread::scope(|s| {
            s.spawn(|| {
                let mut held = lock(&mutex);
                held.push(2);
                panic!("a worker's panic");
            })
            .join()
            .is_err()
        });
        assert!(panicked && mutex.is_poisoned());
        lock(&mutex).push(3);
        assert_eq!(into_inner(mutex), vec![1, 2, 3]);
    }

    #[test]
    fn a_list_is_put_in_the_order_given() {
        // Reversed in blocks of `step`: cycles of two, and places that stay.
        for n in [0usize, 1, 2, 3, 10, 257] {
            for step in [1usize, 2, 3, 7] {
                let order: Vec<usize> = (0..n)
                    .map(|i| {
                        let block = i / step * step;
                        let end = (block + step).min(n);
                        end - 1 - (i - block)
                    })
                    .collect();
                let list: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
                let wanted: Vec<String> = order.iter().map(|&at| list[at].clone()).collect();
                let mut got = list.clone();
                permute(&mut got, &mut order.clone());
                assert_eq!(got, wanted, "{n} {step}");
            }
        }
        // A rotation: one cycle through every place.
        let list: Vec<u32> = (0..100).collect();
        let mut order: Vec<usize> = (0..100).map(|i| (i + 37) % 100).collect();
        let mut got = list.clone();
        permute(&mut got, &mut order);
        assert_eq!(got, (0..100).map(|i| (i + 37) % 100).collect::<Vec<u32>>());
    }
}
