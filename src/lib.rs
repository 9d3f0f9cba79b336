//! unitdiff: what changes in the systemd dependency graph between two OS images.
//!
//! Data flows one way: [`tree`] (a read-only view of an image root) → [`unit`] (systemd's
//! loading rules) → [`graph`] (typed edges with provenance) → [`diff`] (what changed) →
//! [`report`] (text, JSON). The core never formats output and never touches the host
//! outside the image root.

pub mod diff;
pub mod graph;
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
    let tree = tree::dir::DirTree::open(root).map_err(|e| Error::Root {
        path: root.display().to_string(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such directory".to_string(),
            std::io::ErrorKind::NotADirectory => "not a directory".to_string(),
            _ => e.to_string(),
        },
    })?;
    let set = unit::load(&tree, rules);
    Ok(graph::DepGraph::new(root.display().to_string(), set))
}
