//! Records the commit a binary was built from, for `dynasim --version` (the environment's
//! DYNASIM_COMMIT when set, as in a container build without .git; else `git`; else "unknown").

fn main() {
    println!("cargo:rerun-if-env-changed=DYNASIM_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = std::env::var("DYNASIM_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let out = std::process::Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    println!("cargo:rustc-env=DYNASIM_COMMIT={}", commit.unwrap_or_else(|| "unknown".into()));
}
