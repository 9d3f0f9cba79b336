//! An image held in memory: the [`Tree`] that archives, container images, filesystem images
//! and snapshots are read into.
//!
//! Every entry's metadata is kept (kind, size, symlink target, the image layer it came
//! from); contents only of the files the loader reads ([`wanted`]). Entries are applied the
//! way overlay filesystems stack image layers: a directory over a directory merges, anything
//! else replaces, whiteouts and opaque markers delete what lower layers had. Parents that
//! pass through a symlink are resolved inside the tree (as `tar -x` and containerd do),
//! never outside it.

use super::{ImagePath, MAX_FILE_SIZE, NodeKind, Tree};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

/// Most entries one input may create (all layers together).
pub const MAX_ENTRIES: usize = 4_000_000;
/// Most file content kept in memory for one input.
pub const MAX_KEPT_BYTES: u64 = 256 * 1024 * 1024;
/// Largest manager binary kept (its version string names the systemd rules).
pub const MAX_MANAGER_BINARY: u64 = 64 * 1024 * 1024;
/// Longest path or symlink target accepted.
pub const MAX_PATH: usize = 4096;

/// Unit-file suffixes (systemd.unit(5)).
const UNIT_SUFFIXES: [&str; 11] = [
    ".service",
    ".socket",
    ".target",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".timer",
    ".path",
    ".slice",
    ".scope",
];

/// Files outside unit directories that the loader or the version detection reads.
const NAMED_FILES: [&str; 4] = ["os-release", "hostname", "machine-id", "fstab"];

/// Whether the loader may read the contents of the regular file at `path` (of `size`
/// bytes), so an input must keep them: unit files (linked ones may live anywhere),
/// drop-ins, presets, the files behind specifiers and version detection, and the manager
/// binary. Everything else is kept as metadata only.
pub fn wanted(path: &str, size: u64) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    if size > MAX_FILE_SIZE {
        return name == "systemd"
            && size <= MAX_MANAGER_BINARY
            && path.ends_with("/systemd/systemd");
    }
    name.ends_with(".conf")
        || name.ends_with(".preset")
        || UNIT_SUFFIXES.iter().any(|s| name.ends_with(s))
        || NAMED_FILES.contains(&name)
        || path.ends_with("/systemd/systemd")
}

/// One layer of a layered image, for provenance.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ImageLayer {
    /// Position in the image, from 1 (the base layer).
    pub index: usize,
    /// `sha256:…` of the layer blob.
    pub digest: String,
    /// The config history line that made the layer, when the image has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created_by: Option<String>,
}

#[derive(Clone, Debug)]
enum Kind {
    Dir(BTreeMap<Box<str>, u32>),
    File { size: u64, data: Option<Arc<[u8]>> },
    Symlink(Box<str>),
    CharDevice,
    Special,
}

#[derive(Clone, Debug)]
struct Node {
    kind: Kind,
    /// Index into `layers` + 1; 0 = no layer (a single archive or filesystem).
    layer: u32,
}

/// What an input entry is, as handed to [`MemTree::insert`].
#[derive(Clone, Debug)]
pub enum Entry {
    Dir,
    /// A regular file; `data` only when [`wanted`].
    File {
        size: u64,
        data: Option<Arc<[u8]>>,
    },
    Symlink(String),
    /// A hard link to another path of the same input (its node is copied).
    HardLink(ImagePath),
    CharDevice,
    /// FIFO, socket, block device.
    Special,
}

/// An in-memory image.
#[derive(Debug)]
pub struct MemTree {
    describe: String,
    nodes: Vec<Node>,
    layers: Vec<ImageLayer>,
    kept: u64,
    /// Problems met while reading the input (entries skipped), for the report.
    pub warnings: Vec<String>,
}

const ROOT: u32 = 0;

impl MemTree {
    pub fn new(describe: impl Into<String>) -> Self {
        MemTree {
            describe: describe.into(),
            nodes: vec![Node {
                kind: Kind::Dir(BTreeMap::new()),
                layer: 0,
            }],
            layers: Vec::new(),
            kept: 0,
            warnings: Vec::new(),
        }
    }

    pub fn set_describe(&mut self, d: impl Into<String>) {
        self.describe = d.into();
    }

    /// Start a new layer; entries inserted from now on are attributed to it.
    pub fn push_layer(&mut self, layer: ImageLayer) {
        self.layers.push(layer);
    }

    fn current_layer(&self) -> u32 {
        self.layers.len() as u32
    }

    /// Record a problem with one entry (kept short and bounded).
    pub fn warn(&mut self, msg: String) {
        if self.warnings.len() < 1000 {
            self.warnings.push(msg);
        } else if self.warnings.len() == 1000 {
            self.warnings
                .push("more problems with entries; not listed".to_string());
        }
    }

    fn children(&self, id: u32) -> Option<&BTreeMap<Box<str>, u32>> {
        match &self.nodes[id as usize].kind {
            Kind::Dir(c) => Some(c),
            _ => None,
        }
    }

    /// The node at a physical path (no symlink followed).
    fn lookup(&self, path: &ImagePath) -> Option<u32> {
        let mut cur = ROOT;
        for c in path.components() {
            cur = *self.children(cur)?.get(c)?;
        }
        Some(cur)
    }

    /// The directory node `parent` names, created as needed, with intermediate symlinks
    /// resolved inside the tree. `None` when the path runs into something that cannot be
    /// a directory (a dangling or looping symlink).
    fn dir_for(&mut self, parent: &ImagePath) -> Option<u32> {
        let mut cur = ROOT;
        let mut cur_path = ImagePath::root();
        for c in parent.components() {
            let next_path = cur_path.join(c);
            let child = self.children(cur).and_then(|m| m.get(c)).copied();
            cur = match child.map(|id| &self.nodes[id as usize].kind) {
                Some(Kind::Dir(_)) => child.unwrap_or(ROOT),
                Some(Kind::Symlink(_)) => {
                    let (p, kind) = super::stat(&*self, &next_path).ok()?;
                    if kind != Some(NodeKind::Dir) {
                        return None;
                    }
                    cur_path = p.clone();
                    let id = self.lookup(&p)?;
                    cur = id;
                    continue;
                }
                // Absent, or a file a later layer's directory replaces.
                _ => self.attach(cur, c, Kind::Dir(BTreeMap::new())),
            };
            cur_path = next_path;
        }
        Some(cur)
    }

    fn attach(&mut self, dir: u32, name: &str, kind: Kind) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            layer: self.current_layer(),
        });
        if let Kind::Dir(c) = &mut self.nodes[dir as usize].kind {
            c.insert(name.into(), id);
        }
        id
    }

    /// Apply one entry at `path` (already sanitised: no `..`, inside the root).
    pub fn insert(&mut self, path: &ImagePath, entry: Entry) -> io::Result<()> {
        if self.nodes.len() >= MAX_ENTRIES {
            return Err(io::Error::other(format!(
                "more than {MAX_ENTRIES} entries; refusing to read further"
            )));
        }
        if path.is_root() {
            return Ok(()); // the root stays a directory
        }
        let parent = path.parent().unwrap_or_else(ImagePath::root);
        let Some(dir) = self.dir_for(&parent) else {
            self.warn(format!(
                "{path}: parent is not a directory inside the image; entry skipped"
            ));
            return Ok(());
        };
        let name = path.file_name();
        let kind = match entry {
            Entry::Dir => Kind::Dir(BTreeMap::new()),
            Entry::File { size, data } => {
                if let Some(d) = &data {
                    self.kept += d.len() as u64;
                    if self.kept > MAX_KEPT_BYTES {
                        return Err(io::Error::other(format!(
                            "more than {MAX_KEPT_BYTES} bytes of unit files and related files"
                        )));
                    }
                }
                Kind::File { size, data }
            }
            Entry::Symlink(t) => Kind::Symlink(t.into()),
            Entry::HardLink(target) => {
                let node = super::resolve(&*self, &target, false)
                    .ok()
                    .and_then(|p| self.lookup(&p));
                match node.map(|id| self.nodes[id as usize].kind.clone()) {
                    Some(k @ Kind::File { .. }) => k,
                    Some(k @ (Kind::CharDevice | Kind::Special)) => k,
                    _ => {
                        self.warn(format!(
                            "{path}: hard link to {target}, which is not a file earlier in the input; entry skipped"
                        ));
                        return Ok(());
                    }
                }
            }
            Entry::CharDevice => Kind::CharDevice,
            Entry::Special => Kind::Special,
        };
        let existing = self.children(dir).and_then(|m| m.get(name)).copied();
        if let (Some(id), Kind::Dir(_)) = (existing, &kind)
            && matches!(self.nodes[id as usize].kind, Kind::Dir(_))
        {
            // A directory over a directory: merged; the upper layer owns it now.
            self.nodes[id as usize].layer = self.current_layer();
            return Ok(());
        }
        self.attach(dir, name, kind);
        Ok(())
    }

    /// Delete `path` and everything below it (a whiteout). Absent paths are fine.
    pub fn remove(&mut self, path: &ImagePath) {
        let Some(parent) = path.parent() else { return };
        let Some(dir) = super::resolve(&*self, &parent, true)
            .ok()
            .and_then(|p| self.lookup(&p))
        else {
            return;
        };
        if let Kind::Dir(c) = &mut self.nodes[dir as usize].kind {
            c.remove(path.file_name());
        }
    }

    /// Empty the directory at `path` (an opaque marker): lower layers' children vanish.
    pub fn clear_dir(&mut self, path: &ImagePath) {
        let Some(dir) = super::resolve(&*self, path, true)
            .ok()
            .and_then(|p| self.lookup(&p))
        else {
            return;
        };
        if let Kind::Dir(c) = &mut self.nodes[dir as usize].kind {
            c.clear();
        }
    }

    /// The layers of a layered image (empty otherwise).
    pub fn image_layers(&self) -> &[ImageLayer] {
        &self.layers
    }

    /// Every node below `path` (depth first, sorted), for snapshots: physical path, kind,
    /// size, kept contents, symlink target, layer (from 1; 0 = none).
    pub fn walk(&self, mut f: impl FnMut(&ImagePath, WalkEntry<'_>)) {
        let mut stack = vec![(ImagePath::root(), ROOT)];
        while let Some((path, id)) = stack.pop() {
            let node = &self.nodes[id as usize];
            let e = match &node.kind {
                Kind::Dir(c) => {
                    for (name, child) in c.iter().rev() {
                        stack.push((path.join(name), *child));
                    }
                    WalkEntry::Dir
                }
                Kind::File { size, data } => WalkEntry::File {
                    size: *size,
                    data: data.as_deref(),
                },
                Kind::Symlink(t) => WalkEntry::Symlink(t),
                Kind::CharDevice => WalkEntry::CharDevice,
                Kind::Special => WalkEntry::Special,
            };
            if !path.is_root() {
                f(&path, e);
            }
            let _ = node.layer;
        }
    }

    /// The layer (from 1) the node at physical `path` came from.
    pub fn layer_index(&self, path: &ImagePath) -> Option<usize> {
        let id = self.lookup(path)?;
        let l = self.nodes[id as usize].layer;
        (l > 0).then_some(l as usize)
    }

    /// Set the layer of the node at `path` (snapshots restore it).
    pub fn set_layer(&mut self, path: &ImagePath, layer: usize) {
        if let Some(id) = self.lookup(path) {
            self.nodes[id as usize].layer = layer as u32;
        }
    }

    /// Set the layer list wholesale (snapshots restore it).
    pub fn set_layers(&mut self, layers: Vec<ImageLayer>) {
        self.layers = layers;
    }
}

/// One node, as [`MemTree::walk`] shows it.
pub enum WalkEntry<'a> {
    Dir,
    File { size: u64, data: Option<&'a [u8]> },
    Symlink(&'a str),
    CharDevice,
    Special,
}

fn kind_of(k: &Kind) -> NodeKind {
    match k {
        Kind::Dir(_) => NodeKind::Dir,
        Kind::File { .. } => NodeKind::File,
        Kind::Symlink(_) => NodeKind::Symlink,
        Kind::CharDevice => NodeKind::CharDevice,
        Kind::Special => NodeKind::Special,
    }
}

impl Tree for MemTree {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn lstat(&self, path: &ImagePath) -> io::Result<Option<NodeKind>> {
        Ok(self
            .lookup(path)
            .map(|id| kind_of(&self.nodes[id as usize].kind)))
    }

    fn read_dir(&self, path: &ImagePath) -> io::Result<Vec<(String, NodeKind)>> {
        let id = self
            .lookup(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such directory"))?;
        let c = self
            .children(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotADirectory, "not a directory"))?;
        Ok(c.iter()
            .map(|(n, id)| (n.to_string(), kind_of(&self.nodes[*id as usize].kind)))
            .collect())
    }

    fn is_empty_file(&self, path: &ImagePath) -> io::Result<bool> {
        Ok(matches!(
            self.lookup(path).map(|id| &self.nodes[id as usize].kind),
            Some(Kind::File { size: 0, .. })
        ))
    }

    fn read_link(&self, path: &ImagePath) -> io::Result<String> {
        match self.lookup(path).map(|id| &self.nodes[id as usize].kind) {
            Some(Kind::Symlink(t)) => Ok(t.to_string()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a symbolic link",
            )),
        }
    }

    fn read_file(&self, path: &ImagePath, limit: u64) -> io::Result<Vec<u8>> {
        match self.lookup(path).map(|id| &self.nodes[id as usize].kind) {
            Some(Kind::File { size, .. }) if *size > limit => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file too large ({size} bytes, limit {limit})"),
            )),
            Some(Kind::File { size: 0, .. }) => Ok(Vec::new()),
            Some(Kind::File { data: Some(d), .. }) => Ok(d.to_vec()),
            Some(Kind::File { data: None, .. }) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "contents not kept from the input (not a file systemd reads)",
            )),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            )),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }

    fn image_layer(&self, path: &ImagePath) -> Option<ImageLayer> {
        let i = self.layer_index(path)?;
        self.layers.get(i - 1).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &str) -> Entry {
        Entry::File {
            size: s.len() as u64,
            data: Some(s.as_bytes().into()),
        }
    }

    #[test]
    fn layers_stack_like_overlayfs() {
        let mut t = MemTree::new("t");
        t.push_layer(ImageLayer {
            index: 1,
            digest: "sha256:1".into(),
            created_by: None,
        });
        t.insert(&ImagePath::new("/usr/lib/a.service"), file("x"))
            .unwrap();
        t.insert(&ImagePath::new("/lib"), Entry::Symlink("usr/lib".into()))
            .unwrap();
        t.push_layer(ImageLayer {
            index: 2,
            digest: "sha256:2".into(),
            created_by: Some("RUN x".into()),
        });
        // Through the symlink, as tar -x would.
        t.insert(&ImagePath::new("/lib/b.service"), file("y"))
            .unwrap();
        let names: Vec<String> = t
            .read_dir(&ImagePath::new("/usr/lib"))
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(names, ["a.service", "b.service"]);
        assert_eq!(
            t.image_layer(&ImagePath::new("/usr/lib/b.service"))
                .unwrap()
                .created_by
                .as_deref(),
            Some("RUN x")
        );
        assert_eq!(
            t.layer_index(&ImagePath::new("/usr/lib/a.service")),
            Some(1)
        );
        t.remove(&ImagePath::new("/usr/lib/a.service"));
        assert_eq!(
            t.lstat(&ImagePath::new("/usr/lib/a.service")).unwrap(),
            None
        );
        t.clear_dir(&ImagePath::new("/usr/lib"));
        assert!(t.read_dir(&ImagePath::new("/usr/lib")).unwrap().is_empty());
    }

    #[test]
    fn hard_links_copy_and_unkept_contents_say_so() {
        let mut t = MemTree::new("t");
        t.insert(&ImagePath::new("/a.service"), file("[Unit]\n"))
            .unwrap();
        t.insert(
            &ImagePath::new("/b.service"),
            Entry::HardLink(ImagePath::new("/a.service")),
        )
        .unwrap();
        assert_eq!(
            t.read_file(&ImagePath::new("/b.service"), 100).unwrap(),
            b"[Unit]\n"
        );
        t.insert(
            &ImagePath::new("/c.service"),
            Entry::HardLink(ImagePath::new("/missing")),
        )
        .unwrap();
        assert_eq!(t.lstat(&ImagePath::new("/c.service")).unwrap(), None);
        assert_eq!(t.warnings.len(), 1);
        t.insert(
            &ImagePath::new("/bin/big"),
            Entry::File {
                size: 10,
                data: None,
            },
        )
        .unwrap();
        assert!(t.read_file(&ImagePath::new("/bin/big"), 100).is_err());
        assert!(!t.is_empty_file(&ImagePath::new("/bin/big")).unwrap());
        assert!(wanted("/usr/lib/systemd/system/x.service", 10));
        assert!(wanted("/etc/systemd/system/x.service.d/a.conf", 10));
        assert!(!wanted("/usr/bin/ls", 10));
        assert!(wanted("/usr/lib/systemd/systemd", 20 * 1024 * 1024));
        assert!(!wanted("/usr/lib/x.service", 20 * 1024 * 1024));
    }
}
