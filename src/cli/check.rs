//! `unitdiff check`: read the policy and baseline, compare, judge, write every report.

use anyhow::{Context, anyhow};
use std::path::{Path, PathBuf};
use unitdiff::findings::baseline::{self, Baseline};
use unitdiff::findings::date::Date;
use unitdiff::findings::policy::Policy;
use unitdiff::findings::{self, FailOn};
use unitdiff::query;
use unitdiff::report::check::{CheckFormat, CheckInput, render};
use unitdiff::report::{github, markdown};
use unitdiff::unit::Rules;

/// The policy file used when `--policy` is not given and it exists in the working
/// directory.
pub const DEFAULT_POLICY: &str = "unitdiff.toml";

pub struct CheckArgs {
    pub old: PathBuf,
    pub new: PathBuf,
    pub fail_on: FailOn,
    pub policy: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub write_baseline: Option<PathBuf>,
    pub format: CheckFormat,
    pub reports: Vec<(CheckFormat, PathBuf)>,
    pub old_rules: Option<Rules>,
    pub new_rules: Option<Rules>,
}

/// Today: `UNITDIFF_TODAY` (YYYY-MM-DD, for reproducible runs and tests) or the system
/// clock (UTC).
pub fn today() -> Result<Date, anyhow::Error> {
    if let Some(v) = std::env::var_os("UNITDIFF_TODAY") {
        let s = v.to_string_lossy();
        return Date::parse(&s)
            .ok_or_else(|| anyhow!("UNITDIFF_TODAY: not a date (YYYY-MM-DD): {s:?}"));
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(Date::from_unix_seconds(secs))
}

fn read(path: &Path) -> Result<String, anyhow::Error> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `--report FORMAT=FILE`.
pub fn parse_report(s: &str) -> Result<(CheckFormat, PathBuf), String> {
    let (f, file) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, got {s:?}"))?;
    let format = CheckFormat::parse(f).ok_or_else(|| {
        let names: Vec<&str> = CheckFormat::ALL.iter().map(|f| f.as_str()).collect();
        format!("unknown report format {f:?} (one of {})", names.join(", "))
    })?;
    if file.is_empty() {
        return Err(format!("no file after {f}="));
    }
    Ok((format, PathBuf::from(file)))
}

/// Bytes for a file: text without terminal styles.
fn file_bytes(format: CheckFormat, bytes: Vec<u8>) -> Vec<u8> {
    if format == CheckFormat::Text {
        anstream::adapter::strip_str(&String::from_utf8_lossy(&bytes))
            .to_string()
            .into_bytes()
    } else {
        bytes
    }
}

/// A step summary GitHub accepts (it drops a larger one whole).
const STEP_SUMMARY_MAX: usize = 1024 * 1024 - 1024;

/// In a GitHub Actions step: append the Markdown summary to `$GITHUB_STEP_SUMMARY` and the
/// counts to `$GITHUB_OUTPUT`, when they are set.
fn github_files(input: &CheckInput) -> Result<(), anyhow::Error> {
    use std::io::Write as _;
    let append = |var: &str, text: &str| -> Result<(), anyhow::Error> {
        let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("cannot open {var}={}", Path::new(&path).display()))?;
        f.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {var}={}", Path::new(&path).display()))
    };
    // Characters, not bytes, bound the Markdown: a character takes at most 4 bytes.
    let opts = markdown::Options::with_max_chars(STEP_SUMMARY_MAX / 4);
    append("GITHUB_STEP_SUMMARY", &markdown::check(input, &opts))?;
    append("GITHUB_OUTPUT", &github::outputs(input.result))
}

/// Run the check: write the baseline and every `--report`, and return the report for
/// standard output and the exit status (0 pass, 1 the gate failed).
pub fn run(
    a: &CheckArgs,
    check: impl Fn(&unitdiff::graph::DepGraph) -> Result<(), anyhow::Error>,
    warn: impl Fn(&query::DiffAnswers),
) -> Result<(Vec<u8>, u8), anyhow::Error> {
    let today = today()?;
    let policy_path = match &a.policy {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from(DEFAULT_POLICY)).filter(|p| p.is_file()),
    };
    let policy = policy_path
        .map(|p| -> Result<Policy, anyhow::Error> {
            Ok(Policy::parse(&p.display().to_string(), &read(&p)?)?)
        })
        .transpose()?;
    let old_baseline = a
        .baseline
        .as_ref()
        .map(|p| -> Result<Baseline, anyhow::Error> {
            Ok(Baseline::parse(&p.display().to_string(), &read(p)?)?)
        })
        .transpose()?;

    let c = unitdiff::compare_with(
        &a.old,
        &a.new,
        a.old_rules,
        a.new_rules,
        crate::input_options(),
    )?;
    check(&c.old)?;
    check(&c.new)?;
    let answers = query::diff_answers(&c.old, &c.new, &c.diff);
    warn(&answers);
    let found = findings::compute(&c.diff, &answers, &c.old, &c.new);
    let mut result = findings::check::check(
        found,
        policy.as_ref(),
        old_baseline.as_ref(),
        today,
        a.fail_on,
        (&c.diff.old_root, &c.diff.new_root),
    );
    result.scope = c.diff.scope;
    let input = CheckInput {
        result: &result,
        diff: &c.diff,
        answers: &answers,
        old: &c.old,
        new: &c.new,
    };
    // Every file is written before the exit status is decided.
    if let Some(p) = &a.write_baseline {
        let text = baseline::write(&result.findings, old_baseline.as_ref(), today);
        std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    for (format, file) in &a.reports {
        let bytes = file_bytes(*format, render(*format, &input).map_err(|e| anyhow!(e))?);
        std::fs::write(file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
    }
    if a.format == CheckFormat::Github || a.reports.iter().any(|r| r.0 == CheckFormat::Github) {
        github_files(&input)?;
    }
    let out = render(a.format, &input).map_err(|e| anyhow!(e))?;
    let code = u8::from(result.failed);
    Ok((out, code))
}
