use std::process::ExitCode;

fn main() -> ExitCode {
    match dynasim::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dynasim: error: {e}");
            ExitCode::from(2)
        }
    }
}
