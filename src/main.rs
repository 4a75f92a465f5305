//! The `stancelog` binary: parses arguments, runs one command, maps errors to
//! exit codes (0 success, 1 error, 2 usage). All terminal I/O lives in `cli`.

mod cli;

/// mimalloc instead of the system allocator: sled allocates and frees a
/// node copy for every insert, and with glibc's malloc a quarter of a bulk
/// import's CPU time went to the allocator (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
