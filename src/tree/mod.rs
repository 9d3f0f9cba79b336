//! Read-only views of an OS image root.
//!
//! Nothing here knows systemd. A [`Tree`] answers four questions about *physical* in-image
//! paths (paths none of whose parent components is a symlink): what kind of node is there,
//! what a directory holds, where a symlink points, and what a regular file contains.
//! [`resolve`] turns any in-image path into a physical one by following symlinks itself,
//! component by component, re-rooting absolute targets at the image root and clamping `..`
//! at it, so no path ever leaves the image. Directory inputs live in [`dir`]; archives,
//! container images, filesystem images and snapshots are read into a [`mem::MemTree`]
//! ([`input`] tells them apart and opens them).

pub mod archive;
pub mod dir;
pub mod fsimage;
pub mod input;
pub mod mem;
pub mod oci;
pub mod overlay;
pub mod snapshot;

use crate::thin_str::ThinStr;
use std::fmt;
use std::io;

/// Largest file we read as a unit file or drop-in. systemd refuses lines over 1 MiB; a unit
/// file larger than this is junk in any real image.
pub const MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;
/// Most symlinks followed while resolving one path (Linux uses 40).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// The non-empty components of `path`. A run of `/` is skipped a byte at a time, not as
/// one empty component per `/` (which `split('/')` gives, at ~10 ns each: 4 KB of `/` in a
/// name or symlink target cost ~20 ns a byte).
pub(crate) fn components(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = path;
    std::iter::from_fn(move || {
        // Bytes, not chars: `/` is one byte, and a run of it is skipped in a tight loop.
        rest = &rest[rest.bytes().take_while(|&b| b == b'/').count()..];
        if rest.is_empty() {
            return None;
        }
        let (c, r) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        rest = r;
        Some(c)
    })
}

/// An absolute, normalised path inside the image: starts with `/`, no `.`/`..`/empty
/// components, no trailing slash (except the root itself).
///
/// Cheap to clone (shared), since every setting and edge carries the path it came from.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ImagePath(ThinStr);

impl ImagePath {
    pub fn root() -> Self {
        ImagePath("/".into())
    }

    /// Normalise `path` lexically (no symlinks followed): relative paths are taken from `/`,
    /// `..` stops at the root.
    pub fn new(path: &str) -> Self {
        let mut parts: Vec<&str> = Vec::new();
        for c in components(path) {
            match c {
                "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
        ImagePath(format!("/{}", parts.join("/")).into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether both are the same shared copy (then they are equal, without comparing).
    pub fn is_same_copy(&self, other: &ImagePath) -> bool {
        ThinStr::ptr_eq(&self.0, &other.0)
    }

    /// The path without its leading `/` (empty for the root).
    pub fn relative(&self) -> &str {
        &self.0[1..]
    }

    pub fn is_root(&self) -> bool {
        &*self.0 == "/"
    }

    pub fn join(&self, name: &str) -> Self {
        // A plain file name needs no normalising.
        if !name.is_empty() && !name.contains('/') && name != "." && name != ".." {
            let sep = if self.is_root() { "" } else { "/" };
            return ImagePath(format!("{}{sep}{name}", self.0).into());
        }
        if self.is_root() {
            ImagePath::new(&format!("/{name}"))
        } else {
            ImagePath::new(&format!("{}/{name}", self.0))
        }
    }

    pub fn parent(&self) -> Option<Self> {
        if self.is_root() {
            return None;
        }
        let i = self.0.rfind('/').unwrap_or(0);
        Some(if i == 0 {
            Self::root()
        } else {
            ImagePath(self.0[..i].into())
        })
    }

    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// Whether `self` equals `dir` or lies below it.
    pub fn starts_with(&self, dir: &ImagePath) -> bool {
        dir.is_root()
            || self.0 == dir.0
            || (self.0.starts_with(&*dir.0) && self.0.as_bytes().get(dir.0.len()) == Some(&b'/'))
    }

    fn components(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }
}

impl fmt::Display for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// What a directory entry is, without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file (its size is checked when it is read).
    File,
    Dir,
    Symlink,
    /// A character device (systemd treats one as a mask, like `/dev/null`).
    CharDevice,
    /// FIFO, socket, block device: never opened.
    Special,
}

/// A read-only view of an image root. Every path handed to these methods must be physical:
/// produced by [`resolve`] or by listing a physical directory.
pub trait Tree {
    /// Human description of the root, for messages.
    fn describe(&self) -> String;
    /// The kind of the node at `path`, not following a final symlink; `None` if absent.
    fn lstat(&self, path: &ImagePath) -> io::Result<Option<NodeKind>>;
    /// Entries of a directory, sorted by name.
    fn read_dir(&self, path: &ImagePath) -> io::Result<Vec<(String, NodeKind)>>;
    /// Whether the regular file at `path` is empty (a mask, for systemd).
    fn is_empty_file(&self, path: &ImagePath) -> io::Result<bool>;
    /// [`Tree::lstat`], and for a regular file whether it is empty ([`Tree::is_empty_file`]),
    /// in one look where the tree can.
    fn lstat_empty(&self, path: &ImagePath) -> io::Result<Option<(NodeKind, bool)>> {
        Ok(match self.lstat(path)? {
            Some(NodeKind::File) => Some((NodeKind::File, self.is_empty_file(path)?)),
            k => k.map(|k| (k, false)),
        })
    }
    /// The raw target of a symlink.
    fn read_link(&self, path: &ImagePath) -> io::Result<String>;
    /// The contents of a regular file, refusing anything larger than `limit` bytes.
    fn read_file(&self, path: &ImagePath, limit: u64) -> io::Result<Vec<u8>>;
    /// For layered images: the layer the node at physical `path` came from.
    fn image_layer(&self, _path: &ImagePath) -> Option<mem::ImageLayer> {
        None
    }
}

/// Why a path could not be resolved inside the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("too many levels of symbolic links at {0}")]
    Loop(ImagePath),
    #[error("{0} is not a directory")]
    NotADirectory(ImagePath),
    #[error("{0} does not exist")]
    Missing(ImagePath),
    #[error("{0}: {1}")]
    Io(ImagePath, String),
}

/// Resolve `path` inside the image. Intermediate symlinks are always followed; the final
/// component is followed only with `follow_last`. Absolute symlink targets are re-rooted at
/// the image root and `..` never climbs above it. The returned path is physical; its final
/// component may be absent (the caller `lstat`s it), but every parent exists as a directory.
pub fn resolve(
    tree: &dyn Tree,
    path: &ImagePath,
    follow_last: bool,
) -> Result<ImagePath, ResolveError> {
    let mut pending: Vec<String> = path.components().rev().map(str::to_string).collect();
    let mut cur = ImagePath::root();
    let mut hops = 0;
    while let Some(comp) = pending.pop() {
        match comp.as_str() {
            "" | "." => continue,
            ".." => {
                cur = cur.parent().unwrap_or_else(ImagePath::root);
                continue;
            }
            _ => {}
        }
        let next = cur.join(&comp);
        let is_last = pending.is_empty();
        let kind = tree
            .lstat(&next)
            .map_err(|e| ResolveError::Io(next.clone(), e.to_string()))?;
        match kind {
            Some(NodeKind::Symlink) if !is_last || follow_last => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ResolveError::Loop(path.clone()));
                }
                let target = tree
                    .read_link(&next)
                    .map_err(|e| ResolveError::Io(next.clone(), e.to_string()))?;
                if target.starts_with('/') {
                    cur = ImagePath::root();
                }
                let comps: Vec<&str> = components(&target).collect();
                pending.extend(comps.into_iter().rev().map(str::to_string));
            }
            Some(NodeKind::Dir) => cur = next,
            _ if is_last => cur = next,
            None => return Err(ResolveError::Missing(next)),
            Some(_) => return Err(ResolveError::NotADirectory(next)),
        }
    }
    Ok(cur)
}

/// Resolve `path` fully and return the physical path and the kind of node found there.
pub fn stat(
    tree: &dyn Tree,
    path: &ImagePath,
) -> Result<(ImagePath, Option<NodeKind>), ResolveError> {
    let p = resolve(tree, path, true)?;
    let kind = tree
        .lstat(&p)
        .map_err(|e| ResolveError::Io(p.clone(), e.to_string()))?;
    Ok((p, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_skip_runs_of_slashes() {
        fn c(p: &str) -> Vec<&str> {
            components(p).collect()
        }
        assert_eq!(c("a//b/./c/"), ["a", "b", ".", "c"]);
        assert_eq!(c("/../x"), ["..", "x"]);
        assert!(c("").is_empty());
        assert!(c(&"/".repeat(4000)).is_empty());
        assert_eq!(c(&format!("{}é", "/".repeat(4000))), ["é"]);
        assert_eq!(
            ImagePath::new(&format!("a{}b/./../c", "/".repeat(4000))).as_str(),
            "/a/c"
        );
    }

    #[test]
    fn image_path_normalises_and_clamps() {
        assert_eq!(ImagePath::new("/a/./b//c/").as_str(), "/a/b/c");
        assert_eq!(ImagePath::new("/../../etc").as_str(), "/etc");
        assert_eq!(ImagePath::new("a/b/../c").as_str(), "/a/c");
        assert_eq!(ImagePath::new("/").as_str(), "/");
        assert_eq!(ImagePath::new("/a/b").parent().unwrap().as_str(), "/a");
        assert_eq!(ImagePath::new("/a").parent().unwrap().as_str(), "/");
        assert!(ImagePath::new("/usr/lib/x").starts_with(&ImagePath::new("/usr/lib")));
        assert!(!ImagePath::new("/usr/lib64/x").starts_with(&ImagePath::new("/usr/lib")));
        assert_eq!(
            ImagePath::new("/usr/lib/x.service").file_name(),
            "x.service"
        );
    }
}
