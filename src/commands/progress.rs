//! The one-line progress report of the long commands (check, sweep, explore). It goes to
//! standard error and only when that is a terminal, so pipes, logs and CI output never see it.

use std::io::IsTerminal;
use std::time::Instant;

pub struct Progress {
    command: &'static str,
    unit: &'static str,
    total: usize,
    started: Instant,
    shown: bool,
}

impl Progress {
    /// Shown only if standard error is a terminal.
    pub fn on_terminal(command: &'static str, unit: &'static str, total: usize) -> Self {
        Progress { command, unit, total, started: Instant::now(), shown: std::io::stderr().is_terminal() }
    }

    /// Redraws the line after `done` of the total are finished, `failed` of them with a finding.
    pub fn update(&self, done: usize, failed: Option<usize>) {
        if self.shown {
            eprint!("\r{}", line(self.command, self.unit, done, self.total, failed, self.started.elapsed().as_secs_f64()));
        }
    }

    /// Erases the line before a result is printed, so results and the line never share a row
    /// when standard output is the same terminal.
    pub fn clear(&self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }

    /// Ends the line so that what follows starts on a fresh one.
    pub fn finish(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

/// The text of the line; the estimate assumes the remaining runs cost what the finished ones did.
pub fn line(command: &str, unit: &str, done: usize, total: usize, failed: Option<usize>, elapsed_s: f64) -> String {
    let failed = failed.map_or(String::new(), |f| format!(", {f} failed"));
    let left =
        if done == 0 { String::new() } else { format!(", about {:.0} s left", elapsed_s / done as f64 * (total - done) as f64) };
    // Trailing spaces erase what a longer earlier line left behind.
    format!("{command}: {done}/{total} {unit}{failed}{left}   ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_failures_and_estimates_the_rest() {
        assert_eq!(line("check", "runs", 3, 12, Some(1), 6.0), "check: 3/12 runs, 1 failed, about 18 s left   ");
        assert_eq!(line("sweep", "runs", 0, 4, None, 0.0), "sweep: 0/4 runs   ");
    }
}
