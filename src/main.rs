//! The `stancelog` binary: parses arguments, runs one command, maps errors to
//! exit codes (0 success, 1 error, 2 usage). All terminal I/O lives in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
