//! The progress line on stderr (indicatif): which stage a long run is in. Shown only when
//! stderr is a terminal, not with `-q`, and only once the run has taken a second; cleared
//! before the report is written, and warnings are printed around it, never through it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a run goes before the progress line appears.
const DELAY: Duration = Duration::from_secs(1);

static BAR: OnceLock<ProgressBar> = OnceLock::new();

/// Start the progress line for this run (nothing unless stderr is a terminal and not quiet).
pub fn start(quiet: bool) {
    if quiet || !std::io::stderr().is_terminal() {
        return;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} unitdiff: {msg} ({elapsed})")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let shown = bar.clone();
    std::thread::spawn(move || {
        std::thread::sleep(DELAY);
        if !shown.is_finished() {
            shown.set_draw_target(ProgressDrawTarget::stderr());
        }
    });
    let _ = BAR.set(bar);
}

/// Enter a stage: "loading OLD and NEW", "analysing", "rendering"…
pub fn stage(what: &str) {
    if let Some(b) = BAR.get() {
        b.set_message(what.to_string());
    }
}

/// Run `f` (which writes to stderr) with the line out of the way.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match BAR.get() {
        Some(b) => b.suspend(f),
        None => f(),
    }
}

/// Remove the line for good (before the report is written).
pub fn finish() {
    if let Some(b) = BAR.get() {
        b.finish_and_clear();
    }
}
