//! An image held in memory: the [`Tree`] that archives, container images, filesystem images
//! and snapshots are read into.
//!
//! Every entry's metadata is kept (kind, size, symlink target, the image layer it came
//! from); contents only of the files the loader reads ([`wanted`]). Entries are applied the
//! way overlay filesystems stack image layers: a directory over a directory merges, anything
//! else replaces, whiteouts and opaque markers delete what lower layers had.
//!
//! An entry whose parent path passes through a symlink already in the tree (`lib/x` after
//! `lib -> usr/lib`) goes where that symlink leads, resolved inside the tree and never
//! outside it (hard link targets and whiteouts are found the same way): an absolute target
//! starts again at the image root, `..` goes to the real parent of the directory reached so
//! far and stops at the root, as containerd applies a layer (parents resolved scoped to the
//! root). GNU `tar -x` agrees for relative targets without `..`, but creates a symlink whose
//! target is absolute or has a `..` only at the end of the extraction (a placeholder file
//! until then), so there the entries below such a symlink fail; here they land where it
//! leads inside the image. A parent that leads nowhere, or to a non-directory, skips the
//! entry with a warning. Following symlinks so has two budgets per input, in steps
//! ([`MAX_LINK_STEPS`]) and in bytes of symlink targets ([`MAX_LINK_BYTES`]).

use super::{ImagePath, MAX_FILE_SIZE, MAX_SYMLINK_HOPS, NodeKind, Tree, components};
use std::collections::{BTreeMap, HashMap};
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
/// Most memory the tree's metadata of one input may take, by the cost model of
/// [`ENTRY_BYTES`] and [`DIR_BYTES`] (names and symlink targets count their bytes too).
pub const MAX_TREE_BYTES: u64 = 256 * 1024 * 1024;
/// What one entry costs beside its name: its node (in a vector grown by doubling) and its
/// slot in its directory's map.
pub const ENTRY_BYTES: u64 = 96;
/// What a directory costs on top: the first block of its map of children (a B-tree leaf of
/// eleven slots, allocated whole for one child).
pub const DIR_BYTES: u64 = 256;
/// Most path components one input may walk while following symlinks inside it as it is read
/// (parents of entries, hard link targets, whiteouts): each symlink followed costs one
/// step plus the components of its target. A symlink resolved as a directory is
/// remembered until a directory or symlink is replaced or removed, so real images spend a
/// few steps per symlink.
pub const MAX_LINK_STEPS: u64 = 16_000_000;
/// Most bytes of symlink targets one input may walk while following symlinks inside it as
/// it is read: each symlink followed costs its target's length. [`MAX_LINK_STEPS`] counts
/// components, so long targets (4 KB of `/`, or of one name) cost a step or two each but
/// far more work: 40 hops of such targets walked again for each entry below them took
/// minutes within the step budget. Real images walk a few kilobytes.
pub const MAX_LINK_BYTES: u64 = 64 * 1024 * 1024;

/// A budget of the tree refused a further entry (exit 2, not a corrupt archive).
fn over_budget(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::QuotaExceeded, msg)
}

/// `e`, told at the entry `path` (a budget's error keeps its kind).
fn at_path(path: &ImagePath, e: io::Error) -> io::Error {
    let shown: String = path.as_str().chars().take(200).collect();
    let more = if shown.len() < path.as_str().len() {
        "…"
    } else {
        ""
    };
    io::Error::new(e.kind(), format!("at {shown}{more}: {e}"))
}

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
    /// The directory this node was attached to (the root's is the root): `..` of a
    /// directory, which has exactly one.
    parent: u32,
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
    /// A hard link to another path of the same input: a copy of its node when that is a
    /// file, a device or a symlink (a hard link to a symlink is the symlink again, as
    /// `tar -x` makes it); refused with a warning when it is a directory or absent.
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
    /// Cost of the metadata so far ([`MAX_TREE_BYTES`]).
    bytes: u64,
    /// Components walked following symlinks so far ([`MAX_LINK_STEPS`]).
    link_steps: u64,
    /// Bytes of symlink targets walked so far ([`MAX_LINK_BYTES`]).
    link_bytes: u64,
    /// Symlink node → the directory it leads to and the hops that took. Only ever holds
    /// walks over existing directories and symlinks, so it is emptied when one of those is
    /// replaced or removed (adding entries cannot change such a walk).
    link_cache: HashMap<u32, (u32, usize)>,
    /// Most nodes this tree may hold ([`MAX_ENTRIES`] unless lowered).
    entry_limit: usize,
    /// Problems met while reading the input (entries skipped), for the report.
    pub warnings: Vec<String>,
    /// Hard links made to a file whose contents were not kept: link → the path it named
    /// (where a second pass over the input finds them, [`MemTree::unkept_reads`]).
    hard_links: HashMap<ImagePath, ImagePath>,
    /// The directory the last [`MemTree::lookup`] found, by its physical path.
    last_dir: std::sync::Mutex<Option<(Box<str>, u32)>>,
}

const ROOT: u32 = 0;

/// Where [`MemTree::walk_path`] ended: the node of the last component (absent: `None`),
/// and the symlink hops taken.
struct Walked {
    node: Option<u32>,
    hops: usize,
}

impl MemTree {
    pub fn new(describe: impl Into<String>) -> Self {
        MemTree {
            describe: describe.into(),
            nodes: vec![Node {
                kind: Kind::Dir(BTreeMap::new()),
                layer: 0,
                parent: ROOT,
            }],
            layers: Vec::new(),
            kept: 0,
            bytes: ENTRY_BYTES + DIR_BYTES,
            link_steps: 0,
            link_bytes: 0,
            link_cache: HashMap::new(),
            entry_limit: MAX_ENTRIES,
            warnings: Vec::new(),
            hard_links: HashMap::new(),
            last_dir: std::sync::Mutex::new(None),
        }
    }

    /// A tree that holds at most `limit` entries (below [`MAX_ENTRIES`]): for inputs read
    /// in several trees that share one budget (the partitions of a disk).
    pub fn with_entry_limit(describe: impl Into<String>, limit: usize) -> Self {
        MemTree {
            entry_limit: limit.min(MAX_ENTRIES),
            ..MemTree::new(describe)
        }
    }

    /// Entries held (every node created, the root included).
    pub fn entries(&self) -> usize {
        self.nodes.len()
    }

    /// Whether `e` is the error of a full tree ([`MemTree::insert`] past its entry limit).
    pub fn is_full_error(&self, e: &io::Error) -> bool {
        self.nodes.len() >= self.entry_limit && e.kind() == io::ErrorKind::QuotaExceeded
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

    /// The node at a physical path (no symlink followed). Starts from the directory the
    /// last lookup found when `path` is below it: [`super::resolve`] asks for each prefix
    /// of a path in turn, which from the root each time costs the square of its depth (a
    /// 650-level chain and 5,000 unit symlinks through it took 12 s).
    fn lookup(&self, path: &ImagePath) -> Option<u32> {
        let s = path.as_str();
        let (mut cur, rest) = {
            let last = self.last_dir.lock().unwrap_or_else(|e| e.into_inner());
            match &*last {
                Some((dir, id))
                    if s.len() > dir.len()
                        && s.starts_with(&**dir)
                        && s.as_bytes()[dir.len()] == b'/' =>
                {
                    (*id, &s[dir.len()..])
                }
                _ => (ROOT, s),
            }
        };
        for c in super::components(rest) {
            cur = *self.children(cur)?.get(c)?;
        }
        if cur != ROOT && matches!(self.nodes[cur as usize].kind, Kind::Dir(_)) {
            *self.last_dir.lock().unwrap_or_else(|e| e.into_inner()) = Some((s.into(), cur));
        }
        Some(cur)
    }

    /// The tree's shape changes: the directory [`MemTree::lookup`] remembers may no
    /// longer be at its path.
    fn forget_lookup(&mut self) {
        *self.last_dir.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Bytes of file contents kept so far ([`MAX_KEPT_BYTES`]).
    pub fn kept_bytes(&self) -> u64 {
        self.kept
    }

    /// Cost of the metadata read so far, by the model of [`MAX_TREE_BYTES`].
    pub fn tree_bytes(&self) -> u64 {
        self.bytes
    }

    /// Path components walked following symlinks so far ([`MAX_LINK_STEPS`]).
    pub fn link_steps(&self) -> u64 {
        self.link_steps
    }

    /// Bytes of symlink targets walked so far ([`MAX_LINK_BYTES`]).
    pub fn link_bytes(&self) -> u64 {
        self.link_bytes
    }

    /// Refuse to go on when `extra` more bytes of metadata (held by a reader, e.g. a
    /// layer's entries waiting for its whiteouts) would not fit in [`MAX_TREE_BYTES`].
    pub fn check_room(&self, extra: u64) -> io::Result<()> {
        if self.bytes.saturating_add(extra) > MAX_TREE_BYTES {
            return Err(self.too_big());
        }
        Ok(())
    }

    fn too_big(&self) -> io::Error {
        over_budget(format!(
            "the entries' metadata would take more than {} MiB (names, directories: a path \
             bomb?); refusing to read further",
            MAX_TREE_BYTES >> 20
        ))
    }

    /// Charge following a symlink whose target is `target`: 1 + its components against
    /// [`MAX_LINK_STEPS`], its bytes against [`MAX_LINK_BYTES`].
    fn charge_link(&mut self, target: &str) -> io::Result<()> {
        let comps = components(target).count() as u64;
        self.link_steps += 1 + comps;
        self.link_bytes += target.len() as u64;
        if self.link_steps > MAX_LINK_STEPS {
            return Err(over_budget(format!(
                "following symlinks inside the image took more than {MAX_LINK_STEPS} steps \
                 (a symlink maze?); refusing to read further"
            )));
        }
        if self.link_bytes > MAX_LINK_BYTES {
            return Err(over_budget(format!(
                "following symlinks inside the image walked more than {} MiB of symlink \
                 targets (a symlink maze?); refusing to read further",
                MAX_LINK_BYTES >> 20
            )));
        }
        Ok(())
    }

    /// A directory or symlink goes: walks remembered through it may be wrong now.
    fn forget_walks(&mut self, id: u32) {
        if matches!(
            self.nodes[id as usize].kind,
            Kind::Dir(_) | Kind::Symlink(_)
        ) {
            self.link_cache.clear();
        }
    }

    /// The directory the symlink `link` (in directory `dir`) leads to, and the hops that
    /// took; `None` when it leads nowhere, to something that is not a directory, or takes
    /// more than `hops_left` hops.
    fn link_dir(
        &mut self,
        link: u32,
        dir: u32,
        hops_left: usize,
    ) -> io::Result<Option<(u32, usize)>> {
        if hops_left == 0 {
            return Ok(None);
        }
        if let Some(&(d, h)) = self.link_cache.get(&link) {
            return Ok((h <= hops_left).then_some((d, h)));
        }
        let Kind::Symlink(target) = &self.nodes[link as usize].kind else {
            return Ok(None);
        };
        let target = target.clone();
        self.charge_link(&target)?;
        let start = if target.starts_with('/') { ROOT } else { dir };
        let Some(w) = self.walk_path(start, &target, true, hops_left - 1)? else {
            return Ok(None);
        };
        match w.node {
            Some(d) if matches!(self.nodes[d as usize].kind, Kind::Dir(_)) => {
                self.link_cache.insert(link, (d, w.hops + 1));
                Ok(Some((d, w.hops + 1)))
            }
            _ => Ok(None),
        }
    }

    /// Walk `path` from directory `start` (from the root if absolute) by node, as
    /// [`super::resolve`] does by path: symlinks followed inside the tree, `..` stops at the
    /// root. Every symlink followed must lead to a directory; the last component is
    /// followed only with `follow_last`. `None` when the walk breaks (missing or
    /// non-directory parent, too many hops); an error past [`MAX_LINK_STEPS`] or
    /// [`MAX_LINK_BYTES`].
    fn walk_path(
        &mut self,
        start: u32,
        path: &str,
        follow_last: bool,
        hops_left: usize,
    ) -> io::Result<Option<Walked>> {
        let comps: Vec<&str> = components(path).filter(|c| *c != ".").collect();
        let mut cur = if path.starts_with('/') { ROOT } else { start };
        let mut hops = 0;
        for (i, &c) in comps.iter().enumerate() {
            if c == ".." {
                cur = self.nodes[cur as usize].parent;
                continue;
            }
            let is_last = i + 1 == comps.len();
            let child = self.children(cur).and_then(|m| m.get(c)).copied();
            match child.map(|id| (id, &self.nodes[id as usize].kind)) {
                Some((id, Kind::Symlink(_))) if !is_last || follow_last => {
                    match self.link_dir(id, cur, hops_left - hops)? {
                        Some((d, h)) => {
                            cur = d;
                            hops += h;
                        }
                        None => return Ok(None),
                    }
                }
                Some((id, Kind::Dir(_))) => cur = id,
                _ if is_last => {
                    return Ok(Some(Walked { node: child, hops }));
                }
                _ => return Ok(None),
            }
        }
        Ok(Some(Walked {
            node: Some(cur),
            hops,
        }))
    }

    /// The directory node `parent` names, created as needed, with intermediate symlinks
    /// resolved inside the tree. `None` when the path runs into something that cannot be
    /// a directory (a dangling or looping symlink).
    fn dir_for(&mut self, parent: &ImagePath) -> io::Result<Option<u32>> {
        let mut cur = ROOT;
        for c in parent.components() {
            let child = self.children(cur).and_then(|m| m.get(c)).copied();
            cur = match child.map(|id| (id, &self.nodes[id as usize].kind)) {
                Some((id, Kind::Dir(_))) => id,
                Some((id, Kind::Symlink(_))) => match self.link_dir(id, cur, MAX_SYMLINK_HOPS)? {
                    Some((d, _)) => d,
                    None => return Ok(None),
                },
                // Absent, or a file a later layer's directory replaces.
                _ => self.attach(cur, c, Kind::Dir(BTreeMap::new()))?,
            };
        }
        Ok(Some(cur))
    }

    fn attach(&mut self, dir: u32, name: &str, kind: Kind) -> io::Result<u32> {
        self.forget_lookup();
        if self.nodes.len() >= self.entry_limit {
            return Err(over_budget(format!(
                "more than {} entries; refusing to read further",
                self.entry_limit
            )));
        }
        let cost = ENTRY_BYTES
            + name.len() as u64
            + match &kind {
                Kind::Dir(_) => DIR_BYTES,
                Kind::Symlink(t) => t.len() as u64,
                _ => 0,
            };
        self.check_room(cost)?;
        self.bytes += cost;
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            layer: self.current_layer(),
            parent: dir,
        });
        if let Kind::Dir(c) = &mut self.nodes[dir as usize].kind
            && let Some(old) = c.insert(name.into(), id)
        {
            self.forget_walks(old);
        }
        Ok(id)
    }

    /// Apply one entry at `path` (already sanitised: no `..`, inside the root). Past a
    /// budget of the tree ([`MAX_ENTRIES`], [`MAX_KEPT_BYTES`], [`MAX_TREE_BYTES`],
    /// [`MAX_LINK_STEPS`], [`MAX_LINK_BYTES`]) an error of kind
    /// [`io::ErrorKind::QuotaExceeded`] naming `path`.
    pub fn insert(&mut self, path: &ImagePath, entry: Entry) -> io::Result<()> {
        self.insert_entry(path, entry).map_err(|e| at_path(path, e))
    }

    fn insert_entry(&mut self, path: &ImagePath, entry: Entry) -> io::Result<()> {
        if path.is_root() {
            return Ok(()); // the root stays a directory
        }
        let parent = path.parent().unwrap_or_else(ImagePath::root);
        let Some(dir) = self.dir_for(&parent)? else {
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
                        return Err(over_budget(format!(
                            "more than {MAX_KEPT_BYTES} bytes of unit files and related files"
                        )));
                    }
                }
                Kind::File { size, data }
            }
            Entry::Symlink(t) => Kind::Symlink(t.into()),
            Entry::HardLink(target) => {
                // The target's last component is not followed: a hard link to a symlink is
                // that symlink again (GNU tar -x links the same inode, which is the symlink).
                let node = self
                    .walk_path(ROOT, target.as_str(), false, MAX_SYMLINK_HOPS)?
                    .and_then(|w| w.node);
                match node.map(|id| self.nodes[id as usize].kind.clone()) {
                    Some(k @ Kind::File { data: None, .. }) => {
                        self.hard_links.insert(path.clone(), target);
                        k
                    }
                    Some(k @ Kind::File { .. }) => k,
                    Some(k @ Kind::Symlink(_)) => k,
                    Some(k @ (Kind::CharDevice | Kind::Special)) => k,
                    _ => {
                        self.warn(format!(
                            "{path}: hard link to {target}, which is not a file or symlink earlier in the input; entry skipped"
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
        self.attach(dir, name, kind)?;
        Ok(())
    }

    /// The directory `path` leads to, all symlinks followed (inside the tree).
    fn dir_at(&mut self, path: &ImagePath) -> io::Result<Option<u32>> {
        let w = self.walk_path(ROOT, path.as_str(), true, MAX_SYMLINK_HOPS)?;
        Ok(w.and_then(|w| w.node)
            .filter(|&id| matches!(self.nodes[id as usize].kind, Kind::Dir(_))))
    }

    /// Delete `path` and everything below it (a whiteout). Absent paths are fine; an error
    /// only past [`MAX_LINK_STEPS`] or [`MAX_LINK_BYTES`].
    pub fn remove(&mut self, path: &ImagePath) -> io::Result<()> {
        self.forget_lookup();
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        let Some(dir) = self.dir_at(&parent).map_err(|e| at_path(path, e))? else {
            return Ok(());
        };
        let old = match &mut self.nodes[dir as usize].kind {
            Kind::Dir(c) => c.remove(path.file_name()),
            _ => None,
        };
        if let Some(old) = old {
            self.forget_walks(old);
        }
        Ok(())
    }

    /// Empty the directory at `path` (an opaque marker): lower layers' children vanish.
    /// An error only past [`MAX_LINK_STEPS`] or [`MAX_LINK_BYTES`].
    pub fn clear_dir(&mut self, path: &ImagePath) -> io::Result<()> {
        self.forget_lookup();
        let Some(dir) = self.dir_at(path).map_err(|e| at_path(path, e))? else {
            return Ok(());
        };
        if let Kind::Dir(c) = &mut self.nodes[dir as usize].kind
            && !c.is_empty()
        {
            c.clear();
            self.link_cache.clear();
        }
        Ok(())
    }

    /// The layers of a layered image (empty otherwise).
    pub fn image_layers(&self) -> &[ImageLayer] {
        &self.layers
    }

    /// Every node of the tree but the root, depth first, sorted, with its physical path.
    /// Holds one path and one iterator per directory level, not the paths of all siblings
    /// or of every level.
    fn walk_nodes(&self, mut f: impl FnMut(&ImagePath, u32)) {
        let Some(top) = self.children(ROOT) else {
            return;
        };
        let mut buf = String::new();
        let mut stack = vec![(top.iter(), 0usize)];
        while let Some((it, len)) = stack.last_mut() {
            let len = *len;
            let Some((name, &id)) = it.next() else {
                stack.pop();
                continue;
            };
            buf.truncate(len);
            buf.push('/');
            buf.push_str(name);
            f(&ImagePath(buf.as_str().into()), id);
            if let Kind::Dir(c) = &self.nodes[id as usize].kind {
                stack.push((c.iter(), buf.len()));
            }
        }
    }

    /// The files the loader may read whose contents this input did not keep, because it
    /// kept contents by name as it streamed ([`wanted`]): a unit file linked from a name
    /// that is no unit name (`foo.service -> /opt/app/foo.unit.in`: systemd reads the
    /// target whatever its name) and a unit file hard-linked to an earlier entry whose
    /// name did not ask for its contents. As input path to read → the tree's paths to
    /// [`fill`](MemTree::fill) with what is there. Only symlinks whose own name the loader
    /// reads are followed, within the tree's symlink budget (past it, a warning and what
    /// was found so far).
    pub fn unkept_reads(&mut self) -> BTreeMap<ImagePath, Vec<ImagePath>> {
        let mut links: Vec<u32> = Vec::new();
        let mut need: std::collections::HashSet<u32> = std::collections::HashSet::new();
        self.walk_nodes(|path, id| match &self.nodes[id as usize].kind {
            Kind::Symlink(_) if wanted(path.as_str(), 0) => links.push(id),
            Kind::File { size, data: None } if *size > 0 && wanted(path.as_str(), *size) => {
                need.insert(id);
            }
            _ => {}
        });
        for link in links {
            match self.file_behind(link) {
                Ok(Some(id)) => {
                    need.insert(id);
                }
                Ok(None) => {}
                Err(e) => {
                    self.warn(format!("files linked from unit names not all read: {e}"));
                    break;
                }
            }
        }
        let mut out: BTreeMap<ImagePath, Vec<ImagePath>> = BTreeMap::new();
        if need.is_empty() {
            return out;
        }
        self.walk_nodes(|path, id| {
            if need.contains(&id) {
                let from = self.hard_links.get(path).unwrap_or(path).clone();
                out.entry(from).or_default().push(path.clone());
            }
        });
        out
    }

    /// The regular file without kept contents (and at most [`MAX_FILE_SIZE`] bytes) that
    /// the symlink node `link` leads to, symlinks followed inside the tree.
    fn file_behind(&mut self, link: u32) -> io::Result<Option<u32>> {
        let mut cur = link;
        let mut hops = 0;
        loop {
            match &self.nodes[cur as usize].kind {
                Kind::Symlink(t) if hops < MAX_SYMLINK_HOPS => {
                    let t = t.clone();
                    self.charge_link(&t)?;
                    let dir = self.nodes[cur as usize].parent;
                    match self.walk_path(dir, &t, false, MAX_SYMLINK_HOPS - hops)? {
                        Some(Walked {
                            node: Some(next),
                            hops: h,
                        }) => {
                            cur = next;
                            hops += 1 + h;
                        }
                        _ => return Ok(None),
                    }
                }
                Kind::File { size, data: None } if *size > 0 && *size <= MAX_FILE_SIZE => {
                    return Ok(Some(cur));
                }
                _ => return Ok(None),
            }
        }
    }

    /// Give the regular file at physical `path` the contents `data` (a second pass over
    /// the input, [`MemTree::unkept_reads`]): ignored unless the file is there and of that
    /// size; counted against [`MAX_KEPT_BYTES`].
    pub fn fill(&mut self, path: &ImagePath, data: Arc<[u8]>) -> io::Result<()> {
        let Some(id) = self.lookup(path) else {
            return Ok(());
        };
        let Kind::File { size, data: d } = &mut self.nodes[id as usize].kind else {
            return Ok(());
        };
        if *size != data.len() as u64 {
            return Ok(());
        }
        let before = d.as_ref().map_or(0, |d| d.len() as u64);
        self.kept = self.kept - before + *size;
        *d = Some(data);
        if self.kept > MAX_KEPT_BYTES {
            return Err(at_path(
                path,
                over_budget(format!(
                    "more than {MAX_KEPT_BYTES} bytes of unit files and related files"
                )),
            ));
        }
        Ok(())
    }

    /// Every node of the tree (depth first, sorted), for snapshots: physical path, kind,
    /// size, kept contents, symlink target, and the layer (from 1) when the node has one.
    pub fn walk(&self, mut f: impl FnMut(&ImagePath, WalkEntry<'_>, Option<usize>)) {
        self.walk_nodes(|path, id| {
            let node = &self.nodes[id as usize];
            let e = match &node.kind {
                Kind::Dir(_) => WalkEntry::Dir,
                Kind::File { size, data } => WalkEntry::File {
                    size: *size,
                    data: data.as_deref(),
                },
                Kind::Symlink(t) => WalkEntry::Symlink(t),
                Kind::CharDevice => WalkEntry::CharDevice,
                Kind::Special => WalkEntry::Special,
            };
            f(path, e, (node.layer > 0).then_some(node.layer as usize));
        })
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

    /// A lookup starts from the directory the last one found when it can; the tree's
    /// changes make it forget that directory, so answers stay those of a lookup from the
    /// root.
    #[test]
    fn lookups_from_the_last_directory_follow_the_trees_changes() {
        let mut t = MemTree::new("t");
        let p = |s: &str| ImagePath::new(s);
        t.insert(&p("/a/b/c"), Entry::Dir).unwrap();
        t.insert(&p("/a/b/c/f"), Entry::Symlink("x".into()))
            .unwrap();
        assert_eq!(t.lstat(&p("/a/b/c")).unwrap(), Some(NodeKind::Dir));
        assert_eq!(t.lstat(&p("/a/b/c/f")).unwrap(), Some(NodeKind::Symlink));
        // A sibling whose name extends the remembered one is not below it.
        assert_eq!(t.lstat(&p("/a/b/cc")).unwrap(), None);
        // The remembered directory is replaced by a file: nothing is below it any more.
        t.remove(&p("/a/b/c")).unwrap();
        t.insert(
            &p("/a/b/c"),
            Entry::File {
                size: 0,
                data: None,
            },
        )
        .unwrap();
        assert_eq!(t.lstat(&p("/a/b/c/f")).unwrap(), None);
        assert_eq!(t.lstat(&p("/a/b/c")).unwrap(), Some(NodeKind::File));
        // Emptied by an opaque marker.
        t.insert(&p("/d/e/g"), Entry::Dir).unwrap();
        assert_eq!(t.lstat(&p("/d/e")).unwrap(), Some(NodeKind::Dir));
        t.clear_dir(&p("/d")).unwrap();
        assert_eq!(t.lstat(&p("/d/e/g")).unwrap(), None);
        assert_eq!(t.lstat(&p("/d/e")).unwrap(), None);
    }

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
        t.remove(&ImagePath::new("/usr/lib/a.service")).unwrap();
        assert_eq!(
            t.lstat(&ImagePath::new("/usr/lib/a.service")).unwrap(),
            None
        );
        t.clear_dir(&ImagePath::new("/usr/lib")).unwrap();
        assert!(t.read_dir(&ImagePath::new("/usr/lib")).unwrap().is_empty());
    }

    /// A maze of long symlink targets: `l0 -> ////…/l1`, …, `l40 -> ////…/missing`, each
    /// target 4 KB of `/` (or one 4 KB name), so each hop costs a step or two of
    /// [`MAX_LINK_STEPS`] but 4 KB of work. It leads nowhere, so nothing is remembered and
    /// every entry below `l0` walks all of it again: 1,000 entries walk 160 MB within 80,000
    /// steps (200,000 entries took minutes). The bytes are budgeted too: the entries are
    /// refused once [`MAX_LINK_BYTES`] of targets have been walked.
    #[test]
    fn long_symlink_targets_are_budgeted_by_their_bytes() {
        let slashes = |i: usize| format!("{}l{i}", "/".repeat(4000));
        let long_name = |i: usize| format!("{i:0>4000}");
        for (how, name) in [
            ("slashes", &slashes as &dyn Fn(usize) -> String),
            ("long names", &long_name),
        ] {
            let mut t = MemTree::new("maze");
            let link = |i: usize| {
                if i == 0 {
                    "/l0".to_string()
                } else {
                    format!("/{}", name(i).trim_start_matches('/'))
                }
            };
            for i in 0..40 {
                t.insert(&ImagePath::new(&link(i)), Entry::Symlink(name(i + 1)))
                    .unwrap();
            }
            t.insert(&ImagePath::new(&link(40)), Entry::Symlink(name(41)))
                .unwrap();
            let mut refused = None;
            for j in 0..1000 {
                if let Err(e) = t.insert(&ImagePath::new(&format!("/l0/f{j}")), file("")) {
                    refused = Some((j, e));
                    break;
                }
            }
            let (j, e) = refused.unwrap_or_else(|| {
                panic!(
                    "{how}: 1,000 entries walked {} bytes of targets in {} steps, not refused",
                    t.link_bytes(),
                    t.link_steps()
                )
            });
            assert_eq!(e.kind(), io::ErrorKind::QuotaExceeded, "{how}: {e}");
            assert!(e.to_string().contains("symlink maze"), "{how}: {e}");
            assert!(
                e.to_string().contains(&format!("at /l0/f{j}")),
                "{how}: {e}"
            );
            // Refused by the bytes, at the first entry past them, long before the steps: each
            // entry walks the targets of l0 … l39 (40 hops; l40 would be the 41st).
            let per_entry: u64 = (1..=40).map(|i| name(i).len() as u64).sum();
            assert!(t.link_bytes() > MAX_LINK_BYTES, "{how}");
            assert!(
                t.link_bytes() <= MAX_LINK_BYTES + per_entry,
                "{how}: {}",
                t.link_bytes()
            );
            assert_eq!(j as u64, MAX_LINK_BYTES / per_entry, "{how}");
            assert!(t.link_steps() < MAX_LINK_STEPS / 100, "{how}");
            assert_eq!(t.warnings.len(), j, "{how}: every entry before was skipped");
        }
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
