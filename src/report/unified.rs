//! Unified diffs (`similar`) of the unit files and drop-ins that differ between the two
//! images, with in-image paths as headers, like `git diff`.

use crate::diff::{FileChangeKind, GraphDiff};
use crate::graph::DepGraph;
use crate::tree::ImagePath;
use crate::unit::Content;
use crate::unit::paths::physical;
use similar::TextDiff;
use std::borrow::Cow;
use std::collections::HashMap;

/// The text shown for a file whose load kept only its digest
/// (`InputOptions::contents_as_digests`; the CLI sets it only for commands that print no
/// file, `Command::prints_files`).
pub const NOT_KEPT: &str = "(only this file's SHA-256 was kept: load with its contents)\n";

/// One file's patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePatch {
    pub unit: String,
    pub path: ImagePath,
    pub change: FileChangeKind,
    pub text: String,
}

/// A unit's files on one side, by where they are (`paths::physical`), as the diff matched
/// them.
fn contents<'g>(g: &'g DepGraph, unit: &str) -> HashMap<Cow<'g, ImagePath>, Option<&'g Content>> {
    let Some(u) = g.set.units.get(unit).or_else(|| g.set.templates.get(unit)) else {
        return HashMap::new();
    };
    let mut m = HashMap::new();
    for f in u.fragment.iter().chain(u.dropins.iter()) {
        m.entry(physical(&g.set.search_dirs, &f.path))
            .or_insert(f.content.as_ref());
    }
    m
}

/// A file's text on one side; `None` when its load kept only the digest.
fn text(files: &HashMap<Cow<'_, ImagePath>, Option<&Content>>, path: &ImagePath) -> Option<String> {
    match files.get(path) {
        Some(Some(Content::Bytes(c))) => Some(String::from_utf8_lossy(c).into_owned()),
        Some(Some(Content::Sha256(_))) => None,
        // A mask (an empty file or a link to /dev/null), or no such file on this side.
        _ => Some(String::new()),
    }
}

/// Patches for every changed file of every changed unit, sorted by path.
pub fn patches(d: &GraphDiff, old: &DepGraph, new: &DepGraph) -> Vec<FilePatch> {
    let mut out = Vec::new();
    for c in &d.units_changed {
        // Each file found through a map: a unit can have any number of drop-ins.
        let (of, nf) = (contents(old, &c.name), contents(new, &c.name));
        for f in &c.files {
            // The change names the file as NEW does (OLD for a removed one); both sides'
            // files are looked up by where they are (Debian 12's /lib/systemd/system/x is
            // Debian 13's /usr/lib/systemd/system/x).
            let named_by = if f.change == FileChangeKind::Removed {
                old
            } else {
                new
            };
            let at = physical(&named_by.set.search_dirs, &f.path);
            let before = text(&of, &at);
            let after = text(&nf, &at);
            let rel = super::escape::field(f.path.relative());
            let (a, b) = match f.change {
                FileChangeKind::Added => ("/dev/null".to_string(), format!("b/{rel}")),
                FileChangeKind::Removed => (format!("a/{rel}"), "/dev/null".to_string()),
                FileChangeKind::Modified => (format!("a/{rel}"), format!("b/{rel}")),
            };
            let mut text = format!("diff --unitdiff a/{rel} b/{rel}\n");
            match f.change {
                FileChangeKind::Added => text.push_str("new file\n"),
                FileChangeKind::Removed => text.push_str("deleted file\n"),
                FileChangeKind::Modified => {}
            }
            match (before, after) {
                (Some(before), Some(after)) => text.push_str(
                    &TextDiff::from_lines(&before, &after)
                        .unified_diff()
                        .context_radius(3)
                        .header(&a, &b)
                        .to_string(),
                ),
                // Not a diff of a note against text: the note alone.
                _ => text.push_str(NOT_KEPT),
            }
            out.push(FilePatch {
                unit: c.name.clone(),
                path: f.path.clone(),
                change: f.change,
                text,
            });
        }
    }
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out.dedup_by(|x, y| x.path == y.path);
    out
}
