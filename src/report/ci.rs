//! What the CI formats (SARIF, GitHub workflow commands, JUnit, GitLab Code Quality) share:
//! where a finding is (every CI format needs a file and a line), and how a finding reads on
//! one line.
//!
//! A finding's location is, in order: the file and line its site names (in NEW, or in OLD
//! for removed things, or the policy/baseline file's line); for a finding no file wrote (an
//! edge systemd made by a rule, such as a default dependency) the unit's own fragment file,
//! line 1, in the image where the unit is; for a unit with no file at all (not-found) the
//! image's root directory, line 1.

use super::check::CheckInput;
use crate::findings::{Checked, Finding, Side, Status};
use crate::graph::DepGraph;

/// Where a finding is, for a CI tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub side: Side,
    /// The in-image path (absolute, `/etc/…`), or the policy/baseline file's path as given.
    /// Empty: the image's root directory.
    pub path: String,
    pub line: u32,
    /// False when the location is a stand-in (the unit's fragment or the image root).
    pub exact: bool,
}

impl Location {
    /// The path relative to the image root (`etc/systemd/…`) for an in-image location, the
    /// file's path as given for the policy.
    pub fn relative(&self) -> String {
        match self.side {
            Side::Policy => self.path.clone(),
            _ => self.path.trim_start_matches('/').to_string(),
        }
    }

    /// The path as seen from the working directory: the image root as the user named it
    /// joined with the in-image path (`fixtures/coreos-1010/etc/…`), or the policy file's
    /// path. When the images are checked into the repository, this is the file in it.
    pub fn from_cwd(&self, input: &CheckInput) -> String {
        let root = match self.side {
            Side::Old => &input.result.old_root,
            Side::New => &input.result.new_root,
            Side::Policy => return self.path.clone(),
        };
        let root = root.trim_end_matches('/');
        match (root.is_empty(), self.relative().is_empty()) {
            (_, true) => root.to_string(),
            (true, false) => format!("/{}", self.relative()),
            (false, false) => format!("{root}/{}", self.relative()),
        }
    }
}

/// The side a finding without a site is about: OLD when its unit exists only there.
fn side_of(f: &Finding, input: &CheckInput) -> Side {
    let u = f.unit();
    if !u.is_empty() && !input.new.set.units.contains_key(u) && input.old.set.units.contains_key(u)
    {
        Side::Old
    } else {
        Side::New
    }
}

fn fragment(g: &DepGraph, unit: &str) -> Option<String> {
    let u = g.set.units.get(unit)?;
    u.fragment
        .as_ref()
        .or(u.dropins.first())
        .map(|f| f.path.as_str().to_string())
}

/// Where `f` is (see the module's documentation).
pub fn location(f: &Finding, input: &CheckInput) -> Location {
    if let Some(site) = f.site()
        && let Some(path) = &site.path
    {
        return Location {
            side: site.side,
            path: path.clone(),
            line: site.line.unwrap_or(1).max(1),
            exact: site.line.is_some(),
        };
    }
    let side = f
        .site()
        .map(|s| s.side)
        .unwrap_or_else(|| side_of(f, input));
    let (first, second) = match side {
        Side::Old => (input.old, input.new),
        _ => (input.new, input.old),
    };
    let found = fragment(first, f.unit()).map(|p| (side, p)).or_else(|| {
        let other = if side == Side::Old {
            Side::New
        } else {
            Side::Old
        };
        fragment(second, f.unit()).map(|p| (other, p))
    });
    match found {
        Some((side, path)) => Location {
            side,
            path,
            line: 1,
            exact: false,
        },
        None => Location {
            side: if side == Side::Policy {
                Side::New
            } else {
                side
            },
            path: String::new(),
            line: 1,
            exact: false,
        },
    }
}

/// `error`, `warn`… with how the finding was accepted, for one-line listings.
pub fn status_note(c: &Checked) -> Option<String> {
    match &c.status {
        Status::New => None,
        Status::Allowed {
            policy,
            line,
            reason,
            ..
        } => Some(format!("allowed by {policy}:{line}: {reason}")),
        Status::Baselined {
            baseline,
            first_seen,
            age_days,
        } => Some(format!(
            "in the baseline {baseline} since {first_seen} ({age_days} days)"
        )),
    }
}

/// The witness as one line: `a -> b (Requires) -> c (BindsTo)`.
pub fn witness_line(f: &Finding) -> Option<String> {
    let first = f.witness.first()?;
    let mut s = first.from.clone();
    for h in &f.witness {
        s.push_str(&format!(" -> {} ({})", h.to, h.kind));
    }
    Some(s)
}
