//! The one-line progress report of the long commands (check, sweep, explore), drawn by
//! indicatif on standard error and only when that is a terminal, so pipes, logs and CI output
//! never see it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// `total` items of `unit` ("runs", "seeds") for `command`; hidden unless standard error is
    /// a terminal.
    pub fn on_terminal(command: &str, unit: &str, total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        // The estimate assumes the remaining items cost what the finished ones did.
        let template = format!("{{prefix}}: {{pos}}/{{len}} {unit}{{msg}} {{wide_bar}} about {{eta}} left");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.set_prefix(command.to_string());
        Progress { bar }
    }

    /// Whether nothing is drawn (standard error is not a terminal).
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Moves the line to `done` of the total finished, `failed` of them with a finding.
    pub fn update(&self, done: usize, failed: Option<usize>) {
        if let Some(failed) = failed {
            self.bar.set_message(failed_message(failed));
        }
        self.bar.set_position(done as u64);
    }

    /// Runs `print` with the line erased, so a result printed on standard output (the same
    /// terminal) never shares a row with it; the line is redrawn after.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Ends the line, left as last drawn, so that what follows starts on a fresh one.
    pub fn finish(&self) {
        self.bar.abandon();
    }
}

fn failed_message(failed: usize) -> String {
    format!(", {failed} failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_failures_and_is_hidden_off_a_terminal() {
        assert_eq!(failed_message(0), ", 0 failed");
        assert_eq!(failed_message(3), ", 3 failed");
        // The test harness captures standard error: no terminal, so nothing is drawn.
        let progress = Progress::on_terminal("check", "runs", 12);
        progress.update(3, Some(1));
        assert!(progress.is_hidden());
        assert_eq!(progress.bar.position(), 3);
    }
}
