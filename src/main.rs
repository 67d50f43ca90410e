//! The spotlint binary: everything lives in the library; this maps it to an exit code.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same in its v2 and v3 headers).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // A large table is read in chunks whose memory is freed and soon needed again; with
    // mimalloc's default 10 ms delay it goes back to the system in between, and every
    // page is faulted and zeroed anew (a second of system time at a million rows).
    // Freed memory is still returned, a second later.
    // SAFETY: setting an option is a plain store, before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1000) };
    std::process::exit(spotlint::cli::main());
}
