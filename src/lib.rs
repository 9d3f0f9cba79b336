//! unitdiff: what changes in the systemd dependency graph between two OS images.
//!
//! Data flows one way: [`tree`] (a read-only view of an image root) → [`unit`] (systemd's
//! loading rules) → [`graph`] (typed edges with provenance) → [`diff`] (what changed) →
//! [`findings`] (judged changes, the gate) → [`report`] (text, JSON). The core never formats output and never touches the host
//! outside the image root.

pub mod diff;
pub mod findings;
pub mod graph;
pub mod query;
pub mod report;
pub mod tree;
pub mod unit;

use std::path::Path;

/// Errors that stop a run (problems inside an image are warnings, not errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The root named by the user does not exist or is not a directory.
    #[error("{path}: cannot open root: {reason}")]
    Root { path: String, reason: String },
}

/// Load the image rooted at `root` (an extracted directory) with the given rules.
pub fn load_dir(root: &Path, rules: unit::Rules) -> Result<graph::DepGraph, Error> {
    let tree = open_dir(root)?;
    let set = unit::load(&tree, rules);
    let mut g = graph::DepGraph::new(root.display().to_string(), set);
    g.rules_how = "given".to_string();
    Ok(g)
}

/// Load the image rooted at `root` with the rules of the systemd it ships (detected), or
/// with `rules` when given.
pub fn open(root: &Path, rules: Option<unit::Rules>) -> Result<graph::DepGraph, Error> {
    open_with(root, rules, &[])
}

/// [`open`], also loading the template instances named in `instances` that nothing in the
/// image references (see [`unit::load_with`]), as `systemctl` loads them on demand.
pub fn open_with(
    root: &Path,
    rules: Option<unit::Rules>,
    instances: &[String],
) -> Result<graph::DepGraph, Error> {
    let (tree, detected) = detect_dir(root, rules)?;
    Ok(load_detected(root, &tree, detected, instances))
}

fn detect_dir(
    root: &Path,
    rules: Option<unit::Rules>,
) -> Result<(tree::dir::DirTree, unit::detect::Detected), Error> {
    let tree = open_dir(root)?;
    let detected = match rules {
        Some(r) => unit::detect::Detected {
            rules: r,
            how: "--systemd-version".to_string(),
        },
        None => unit::detect::detect(&tree),
    };
    Ok((tree, detected))
}

fn load_detected(
    root: &Path,
    tree: &tree::dir::DirTree,
    detected: unit::detect::Detected,
    instances: &[String],
) -> graph::DepGraph {
    let set = unit::load_with(tree, detected.rules, instances);
    let mut g = graph::DepGraph::new(root.display().to_string(), set);
    g.rules_how = detected.how;
    g
}

fn open_dir(root: &Path) -> Result<tree::dir::DirTree, Error> {
    tree::dir::DirTree::open(root).map_err(|e| Error::Root {
        path: root.display().to_string(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such directory".to_string(),
            std::io::ErrorKind::NotADirectory => "not a directory".to_string(),
            _ => e.to_string(),
        },
    })
}

/// Two images loaded and compared.
pub struct Comparison {
    pub old: graph::DepGraph,
    pub new: graph::DepGraph,
    pub diff: diff::GraphDiff,
}

/// Load OLD and NEW (each with its own detected systemd version unless given) and diff them.
/// When the versions differ, NEW is also loaded with OLD's rules, so the diff can tell the
/// changes the systemd upgrade makes from those the files make.
pub fn compare(
    old: &Path,
    new: &Path,
    old_rules: Option<unit::Rules>,
    new_rules: Option<unit::Rules>,
) -> Result<Comparison, Error> {
    let (old_tree, old_detected) = detect_dir(old, old_rules)?;
    let (new_tree, new_detected) = detect_dir(new, new_rules)?;
    let upgrade = (old_detected.rules != new_detected.rules).then(|| unit::detect::Detected {
        rules: old_detected.rules,
        how: "the old side's version".to_string(),
    });
    // The loads are independent: run them on separate threads.
    let (og, ng, new_as_old) = std::thread::scope(|s| {
        let o = s.spawn(|| load_detected(old, &old_tree, old_detected, &[]));
        let a = upgrade.map(|d| s.spawn(|| load_detected(new, &new_tree, d, &[])));
        let n = load_detected(new, &new_tree, new_detected, &[]);
        (
            o.join().expect("loader thread"),
            n,
            a.map(|h| h.join().expect("loader thread")),
        )
    });
    let d = diff::diff(&og, &ng, new_as_old.as_ref());
    Ok(Comparison {
        old: og,
        new: ng,
        diff: d,
    })
}
