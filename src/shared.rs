//! Mutexes shared by work on several cores, used whether or not a thread panicked while
//! holding one: the panic is reported where it happened, and what the mutex holds
//! (outputs gathered so far) stays whole.

use std::sync::{Mutex, MutexGuard};

/// The guard of `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `mutex` holds, poisoned or not.
pub fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(|p| p.into_inner())
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
}
