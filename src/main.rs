//! The spotlint binary: everything lives in the library; this maps it to an exit code.

// mimalloc is built without transparent huge pages (`no_thp`): a large table is read in
// chunks whose memory is freed and soon taken again, and with huge pages each fresh
// 2 MiB region is zeroed whole (seconds of system time at a million rows).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // The process exits right after its report: the exit reclaims its memory at once.
    spotlint::run::ends_after_report();
    std::process::exit(spotlint::cli::main());
}
