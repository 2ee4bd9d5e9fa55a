use std::process::ExitCode;

// The simulator allocates many small, short-lived objects (messages, version sets, effect
// lists); mimalloc serves them markedly faster than the system allocator. Allocation never
// influences a simulated result.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match dynasim::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dynasim: error: {e}");
            ExitCode::from(2)
        }
    }
}
