//! GitHub Actions workflow commands: an annotation per finding (`::error file=…,line=…,
//! title=…::message`), errors first. GitHub shows at most 10 annotations of each level per
//! step, so only the top 10 errors, 10 warnings and 9 notices are printed, then one notice
//! with the count of the rest and of the accepted findings. Accepted (allowed or baselined)
//! findings are not annotated: they are counted in that notice and listed in the summary.
//!
//! Escaping, as the runner decodes it: in the message `%` → `%25`, CR → `%0D`, LF → `%0A`;
//! in property values also `:` → `%3A` and `,` → `%2C`. Control characters other than CR and
//! LF are shown escaped first (see [`super::escape`]), so nothing from an image can start
//! another command.
//!
//! `file=` is the path from the working directory (the image root as given joined with the
//! in-image path): annotations attach to files when the images are in the repository.

use super::check::CheckInput;
use super::ci;
use super::escape;
use crate::findings::{CheckResult, Level, Status};
use std::fmt::Write as _;

/// Annotations GitHub shows per level and step.
pub const PER_LEVEL: usize = 10;

/// Escape workflow-command data (the message).
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow-command property value (`file`, `title`).
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Info => "notice",
    }
}

/// The workflow commands of a check.
pub fn commands(input: &CheckInput) -> String {
    let r = input.result;
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut left = [0usize; 3];
    let mut accepted = 0;
    let new_total = |l: Level| r.count(l).new;
    // Notices keep one place for the closing notice when anything is left out.
    let more_than_fits = Level::ALL.iter().any(|&l| new_total(l) > PER_LEVEL)
        || r.findings.iter().any(|c| c.status != Status::New);
    let limit = |l: Level| {
        if l == Level::Info && more_than_fits {
            PER_LEVEL - 1
        } else {
            PER_LEVEL
        }
    };
    // The findings are ranked; print by level, errors first.
    for level in Level::ALL {
        for c in r.findings.iter().filter(|c| c.finding.level == level) {
            if c.status != Status::New {
                accepted += 1;
                continue;
            }
            let i = level as usize;
            if shown[i] >= limit(level) {
                left[i] += 1;
                continue;
            }
            shown[i] += 1;
            let f = &c.finding;
            let loc = ci::location(f, input);
            let mut msg = escape::field(&f.message).into_owned();
            if input.result.scope.is_user() {
                msg = format!("[user manager] {msg}");
            }
            let _ = write!(
                msg,
                "\n{}: {}{}",
                if loc.exact { "at" } else { "unit file" },
                escape::field(&loc.path),
                if loc.exact {
                    format!(":{}", loc.line)
                } else {
                    String::new()
                }
            );
            if let Some(w) = ci::witness_line(f) {
                let _ = write!(msg, "\nwitness: {}", escape::field(&w));
            }
            if let Some(n) = &f.condition {
                let _ = write!(msg, "\nnote: {}", escape::field(n));
            }
            let _ = write!(
                msg,
                "\nfingerprint: {} (unitdiff explain {})",
                f.fingerprint, f.rule
            );
            let title = if f.unit().is_empty() {
                f.rule.as_str().to_string()
            } else {
                format!("{} {}", f.rule, escape::field(f.unit()))
            };
            let _ = writeln!(
                out,
                "::{} file={},line={},title={}::{}",
                command(level),
                property(&escape::field(&loc.from_cwd(input))),
                loc.line,
                property(&title),
                data(&msg)
            );
        }
    }
    if left.iter().sum::<usize>() + accepted > 0 {
        let names = ["errors", "warnings", "notices"];
        let parts: Vec<String> = left
            .iter()
            .zip(names)
            .filter(|(n, _)| **n > 0)
            .map(|(n, name)| format!("{n} more {name}"))
            .collect();
        let mut msg = if parts.is_empty() {
            String::new()
        } else {
            format!(
                "{} not annotated (GitHub shows {PER_LEVEL} per level). ",
                parts.join(", ")
            )
        };
        if accepted > 0 {
            let _ = write!(msg, "{accepted} accepted findings (allowed or baselined). ");
        }
        msg.push_str("Every finding: the job summary, or `unitdiff check --format text`.");
        let _ = writeln!(out, "::notice title=unitdiff::{}", data(&msg));
    }
    out
}

/// `name=value` lines for `$GITHUB_OUTPUT`: new findings per level, accepted ones, the
/// verdict.
pub fn outputs(r: &CheckResult) -> String {
    let mut out = String::new();
    let (mut allowed, mut baselined) = (0, 0);
    for l in Level::ALL {
        let c = r.count(l);
        let _ = writeln!(out, "{}={}", l.as_str(), c.new);
        allowed += c.allowed;
        baselined += c.baselined;
    }
    let _ = writeln!(out, "allowed={allowed}");
    let _ = writeln!(out, "baselined={baselined}");
    let _ = writeln!(out, "failed={}", r.failed);
    out
}
