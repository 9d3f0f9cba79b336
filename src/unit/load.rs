//! Load every system unit of an image the way systemd's manager would (semantics doc §1–§7).
//!
//! Steps: resolve the search path inside the image; scan it once into a name map (first
//! entry per name wins; symlinks classified as alias, linked unit file or mask); for every
//! unit name (all names in the map, then every name referenced by a dependency) pick the
//! fragment, merge aliases, read drop-ins and `.wants/`/`.requires/`/`.upholds/`
//! directories, and turn each dependency directive into an [`Edge`] carrying its
//! [`Provenance`]. Templates are collected too (they are never loaded, only instantiated).

mod implicit;
pub use implicit::describe_rule;

use super::deps::{self, DepKind};
use super::name::{NameKind, UnitName, UnitType};
use super::paths::{self, Layer, SearchDir};
use super::syntax::{self, Assignment};
use super::version::Rules;
use crate::tree::{self, ImagePath, MAX_FILE_SIZE, NodeKind, ResolveError, Tree};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

/// The model types, re-exported so `unit::load::…` paths keep working.
pub use super::model::{
    Edge, How, LoadState, Origin, Provenance, Setting, Unit, UnitFile, UnitSet, Warning,
};

/// An entry of the name map.
#[derive(Clone, Debug)]
enum IdEntry {
    /// A symlink into the search path: an alias of the target's *name*.
    Alias(String),
    /// A regular file, linked unit file or mask; `dir` indexes the search directory.
    Path { path: ImagePath, dir: usize },
}

/// Result of reading a unit file or drop-in.
#[derive(Clone)]
enum FileRead {
    Masked,
    Content(Arc<[u8]>, Option<ImagePath>),
    Failed(String),
}

const MAX_ALIAS_HOPS: usize = 8;

use super::budget;
pub use super::budget::MAX_UNITS;

/// Suffixes of the per-unit directories systemd looks for.
const DIR_SUFFIXES: [&str; 4] = [".d", ".wants", ".requires", ".upholds"];

/// Load every unit of the image behind `tree` with the given systemd rules.
pub fn load(tree: &dyn Tree, rules: Rules) -> UnitSet {
    load_with(tree, rules, &[])
}

/// [`load`], and also load the template instances in `instances` that nothing references
/// (as `systemctl` loads `getty@tty5.service` on demand): each one whose template has a
/// unit file. Other names are ignored.
pub fn load_with(tree: &dyn Tree, rules: Rules, instances: &[String]) -> UnitSet {
    load_in(tree, rules, instances, false)
}

/// [`load_with`]; with `generator_dirs`, the search path includes the generator
/// directories (`super::generators::load` lays the emulated output over the image).
pub(crate) fn load_in(
    tree: &dyn Tree,
    rules: Rules,
    instances: &[String],
    generator_dirs: bool,
) -> UnitSet {
    let (dirs, dir_warnings) = paths::search_dirs_with(tree, &rules, generator_dirs);
    let mut l = Loader {
        tree,
        rules,
        dirs,
        listings: Vec::new(),
        subdir_index: Vec::new(),
        stems: HashSet::new(),
        chains: HashMap::new(),
        ids: HashMap::new(),
        reverse: HashMap::new(),
        dir_cache: HashMap::new(),
        resolved_dirs: Default::default(),
        warnings: dir_warnings
            .into_iter()
            .map(|m| Warning {
                path: None,
                line: None,
                message: m,
            })
            .collect(),
        units: BTreeMap::new(),
        templates: BTreeMap::new(),
        names: BTreeMap::new(),
        raw_edges: Vec::new(),
        queue: VecDeque::new(),
        post: HashMap::new(),
        facts: image_facts(tree),
        spent: budget::Spent::default(),
        reads: Default::default(),
        parses: HashMap::new(),
        warned: HashSet::new(),
    };
    l.scan();
    l.run(instances);
    let links = l.config_links();
    let mut set = l.finish();
    set.enablement = super::enablement::compute(tree, &set, &links);
    set
}

struct RawEdge {
    from: String,
    kind: DepKind,
    to: String,
    provenance: Provenance,
}

struct Loader<'t> {
    tree: &'t dyn Tree,
    rules: Rules,
    dirs: Vec<SearchDir>,
    /// Top-level entries of each search directory.
    listings: Vec<BTreeMap<String, NodeKind>>,
    /// Per search directory: NAME → suffixes of the `NAME.d`/`.wants`/… entries it has.
    subdir_index: Vec<HashMap<String, Vec<&'static str>>>,
    /// Every NAME of `subdir_index`, any directory.
    stems: HashSet<String>,
    /// [`Self::name_chain`]'s answers.
    chains: HashMap<String, Rc<[String]>>,
    ids: HashMap<String, IdEntry>,
    /// Fragment path → every name that resolves to it.
    reverse: HashMap<ImagePath, Vec<String>>,
    /// In-image directory → its physical path (or why it has none).
    resolved_dirs: std::cell::RefCell<HashMap<ImagePath, Result<ImagePath, ResolveError>>>,
    /// Physical directory → its entries (`None`: unreadable).
    dir_cache: HashMap<ImagePath, Option<Vec<(String, NodeKind)>>>,
    warnings: Vec<Warning>,
    units: BTreeMap<String, Unit>,
    templates: BTreeMap<String, Unit>,
    names: BTreeMap<String, String>,
    raw_edges: Vec<RawEdge>,
    queue: VecDeque<String>,
    /// What the image says about the machine (for `%H`, `%m`, `%o`…).
    facts: deps::ImageFacts,
    /// What the post-load phase needs, per loaded unit.
    post: HashMap<String, implicit::PostInfo>,
    /// Work done against the budget ([`budget`]).
    spent: budget::Spent,
    /// Files read, by the path asked for: each is read once however many units it applies
    /// to.
    reads: std::cell::RefCell<HashMap<ImagePath, FileRead>>,
    /// Files parsed, by path and unit type (which decides the sections): parsed once.
    parses: HashMap<(ImagePath, UnitType), Rc<syntax::ParsedFile>>,
    /// Warnings already given (each is kept once).
    warned: HashSet<Warning>,
}

/// The context a file's directives are applied in.
struct FileCtx<'a> {
    path: &'a ImagePath,
    layer: Layer,
    how: How,
}

/// Per-unit state collected while applying files.
#[derive(Default)]
struct Applied {
    slice: Option<(String, Provenance)>,
    socket_service: Option<(String, Provenance)>,
    trigger_set: bool,
    listeners: Vec<String>,
    accept: bool,
    exec_start: usize,
    exec_stop: usize,
    service_type: Option<String>,
    bus_name: bool,
    success_action: bool,
    remain_after_exit: bool,
    timer_triggers: usize,
    path_triggers: usize,
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

impl<'t> Loader<'t> {
    fn warn(&mut self, path: Option<&ImagePath>, line: Option<u32>, message: impl Into<String>) {
        let w = Warning {
            path: path.cloned(),
            line,
            message: message.into(),
        };
        if self.warned.contains(&w) {
            return;
        }
        if self.warned.len() >= budget::MAX_WARNINGS {
            self.spent.warnings_cut += 1;
            return;
        }
        self.warned.insert(w.clone());
        self.warnings.push(w);
    }

    /// Symlinks an administrator (`/etc`) or the runtime (`/run`) made: entries of
    /// `.wants/`, `.requires/`, `.upholds/` directories and alias symlinks, by name, with
    /// whether the link is in `/run`. This is what `systemctl is-enabled` looks at.
    fn config_links(&mut self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for i in 0..self.dirs.len() {
            let layer = self.dirs[i].layer;
            if !matches!(layer, Layer::Admin | Layer::Runtime) {
                continue;
            }
            let runtime = layer == Layer::Runtime;
            let entries: Vec<(String, NodeKind)> = self.listings[i]
                .iter()
                .map(|(n, k)| (n.clone(), *k))
                .collect();
            for (name, kind) in entries {
                if [".wants", ".requires", ".upholds"]
                    .iter()
                    .any(|s| name.ends_with(s))
                {
                    if let Some(dir) = self.subdir(i, &name) {
                        for (entry, _) in self.list_dir(&dir).unwrap_or_default() {
                            out.push((entry, runtime));
                        }
                    }
                } else if kind == NodeKind::Symlink
                    && matches!(self.ids.get(&name), Some(IdEntry::Alias(_)))
                    && self.names.contains_key(&name)
                {
                    let first = self.listings[..i].iter().all(|l| !l.contains_key(&name));
                    if first {
                        out.push((name, runtime));
                    }
                }
            }
        }
        out
    }

    /// Build the name map: first entry per valid unit name across the search path.
    fn scan(&mut self) {
        for i in 0..self.dirs.len() {
            let dir = self.dirs[i].physical.clone();
            let entries = match self.tree.read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    self.warn(Some(&dir), None, format!("cannot list directory: {e}"));
                    Vec::new()
                }
            };
            self.listings.push(entries.iter().cloned().collect());
            // Index `NAME.d`, `NAME.wants`, … by NAME, so looking for a unit's directories
            // costs no string building when there are none.
            let mut index: HashMap<String, Vec<&'static str>> = HashMap::new();
            for (name, kind) in &entries {
                if !matches!(kind, NodeKind::Dir | NodeKind::Symlink) {
                    continue;
                }
                for suffix in DIR_SUFFIXES {
                    if let Some(stem) = name.strip_suffix(suffix) {
                        index.entry(stem.to_string()).or_default().push(suffix);
                    }
                }
            }
            self.stems.extend(index.keys().cloned());
            self.subdir_index.push(index);
            for (name, kind) in entries {
                if name.starts_with('.') || self.ids.contains_key(&name) {
                    continue;
                }
                if !matches!(kind, NodeKind::File | NodeKind::Symlink) {
                    continue;
                }
                let Some(un) = UnitName::parse(&name) else {
                    continue;
                };
                let path = dir.join(&name);
                if kind == NodeKind::Symlink {
                    match self.classify_symlink(&path, &un) {
                        Ok(Some(entry)) => {
                            self.ids
                                .insert(name, entry.unwrap_or(IdEntry::Path { path, dir: i }));
                        }
                        Ok(None) => {}
                        Err(msg) => self.warn(Some(&path), None, msg),
                    }
                } else {
                    self.ids.insert(name, IdEntry::Path { path, dir: i });
                }
            }
        }
        let keys: Vec<String> = self.ids.keys().cloned().collect();
        for key in keys {
            if let Ok((frag, _)) = self.resolve_name(&key) {
                self.reverse.entry(frag).or_default().push(key);
            }
        }
        for v in self.reverse.values_mut() {
            v.sort();
        }
    }

    /// Classify a symlink in a search directory. `Ok(Some(Some(alias)))`: an alias;
    /// `Ok(Some(None))`: a linked unit file or mask (the entry is the link itself);
    /// `Ok(None)`: skipped as if absent (invalid or self alias).
    #[allow(clippy::option_option)]
    fn classify_symlink(
        &self,
        link: &ImagePath,
        un: &UnitName,
    ) -> Result<Option<Option<IdEntry>>, String> {
        let raw = self
            .tree
            .read_link(link)
            .map_err(|e| format!("cannot read symlink: {e}"))?;
        if raw == "/dev/null" {
            return Ok(Some(None));
        }
        let abs = if raw.starts_with('/') {
            ImagePath::new(&raw)
        } else {
            ImagePath::new(&format!(
                "{}/{}",
                link.parent().unwrap_or_else(ImagePath::root),
                raw
            ))
        };
        let resolved = match self.resolve_no_follow(&abs) {
            Ok(p) => p,
            // A target whose directories do not exist in the image (typically a host path):
            // systemd keeps the link as a linked unit file and fails to open it later, so the
            // unit is not-found and lower files stay hidden. Classify it by its lexical path.
            Err(ResolveError::Missing(_)) | Err(ResolveError::NotADirectory(_)) => abs,
            Err(e) => return Err(format!("symlink to {raw}: {e}")),
        };
        let in_search_path = self
            .dirs
            .iter()
            .any(|d| resolved.starts_with(&d.physical) && resolved != d.physical);
        if !in_search_path {
            return Ok(Some(None));
        }
        let dst = resolved.file_name().to_string();
        if dst == un.name {
            return Ok(None);
        }
        match validate_alias(un, &dst) {
            Ok(()) => Ok(Some(Some(IdEntry::Alias(dst)))),
            Err(why) => Err(format!("invalid alias symlink to {dst} ({why}), ignoring")),
        }
    }

    /// The physical path of a directory, cached: most lookups share a few directories.
    fn resolve_dir(&self, dir: &ImagePath) -> Result<ImagePath, ResolveError> {
        if let Some(r) = self.resolved_dirs.borrow().get(dir) {
            return r.clone();
        }
        let r = tree::resolve(self.tree, dir, true);
        self.resolved_dirs
            .borrow_mut()
            .insert(dir.clone(), r.clone());
        r
    }

    /// `tree::resolve(path, false)` through the directory cache.
    fn resolve_no_follow(&self, path: &ImagePath) -> Result<ImagePath, ResolveError> {
        match path.parent() {
            None => Ok(ImagePath::root()),
            Some(parent) => Ok(self.resolve_dir(&parent)?.join(path.file_name())),
        }
    }

    /// `tree::stat` through the directory cache: resolve the parent (cached), then follow
    /// the final component. Targets whose `..` could cross a symlink take the slow path.
    fn stat(&self, path: &ImagePath) -> Result<(ImagePath, Option<NodeKind>), ResolveError> {
        let mut p = path.clone();
        for _ in 0..=tree::MAX_SYMLINK_HOPS {
            let phys = self.resolve_no_follow(&p)?;
            let kind = self
                .tree
                .lstat(&phys)
                .map_err(|e| ResolveError::Io(phys.clone(), e.to_string()))?;
            if kind != Some(NodeKind::Symlink) {
                return Ok((phys, kind));
            }
            let target = self
                .tree
                .read_link(&phys)
                .map_err(|e| ResolveError::Io(phys.clone(), e.to_string()))?;
            // Lexical `..` is only right while it climbs out of a physical directory.
            let parts: Vec<&str> = target
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            let leading = parts.iter().take_while(|c| **c == "..").count();
            if target.starts_with('/') && parts.contains(&"..") || parts[leading..].contains(&"..")
            {
                return tree::stat(self.tree, path);
            }
            p = if target.starts_with('/') {
                ImagePath::new(&target)
            } else {
                ImagePath::new(&format!(
                    "{}/{target}",
                    phys.parent().unwrap_or_else(ImagePath::root)
                ))
            };
        }
        Err(ResolveError::Loop(path.clone()))
    }

    /// Follow aliases by name; the fragment path and the final name.
    fn resolve_name(&self, name: &str) -> Result<(ImagePath, String), bool> {
        let mut cur = name.to_string();
        for _ in 0..=MAX_ALIAS_HOPS {
            match self.ids.get(&cur) {
                None => return Err(false),
                Some(IdEntry::Path { path, .. }) => return Ok((path.clone(), cur)),
                Some(IdEntry::Alias(t)) => cur = t.clone(),
            }
        }
        Err(true)
    }

    fn dir_of(&self, name: &str) -> Option<usize> {
        match self.ids.get(name) {
            Some(IdEntry::Path { dir, .. }) => Some(*dir),
            _ => None,
        }
    }

    /// Pick the fragment for `name`: its canonical id, fragment (path and search dir index)
    /// and every name the unit answers to.
    #[allow(clippy::type_complexity)]
    fn find_fragment(
        &mut self,
        name: &str,
    ) -> (String, Option<(ImagePath, usize)>, BTreeSet<String>) {
        let un = UnitName::parse(name).expect("only valid names are loaded");
        let instance = un.instance.filter(|i| !i.is_empty());
        let mut names = BTreeSet::from([name.to_string()]);
        let mut found = self.resolve_name(name);
        if matches!(found, Err(false))
            && let Some(t) = un.template().filter(|_| instance.is_some())
        {
            found = self.resolve_name(&t);
        }
        let (frag, final_name) = match found {
            Ok(f) => f,
            Err(looped) => {
                if looped {
                    self.warn(None, None, format!("{name}: too many levels of aliases"));
                }
                return (name.to_string(), None, names);
            }
        };
        let id = match (UnitName::parse(&final_name), instance) {
            (Some(f), Some(i)) if f.kind() == NameKind::Template => f.with_instance(i),
            _ => final_name.clone(),
        };
        for alias in self.reverse.get(&frag).into_iter().flatten() {
            let Some(a) = UnitName::parse(alias) else {
                continue;
            };
            match (a.kind(), instance) {
                (NameKind::Plain, None) => {
                    names.insert(alias.clone());
                }
                (NameKind::Template, Some(i)) => {
                    names.insert(a.with_instance(i));
                }
                (NameKind::Instance, Some(i)) if a.instance == Some(i) => {
                    names.insert(alias.clone());
                }
                _ => {}
            }
        }
        names.insert(id.clone());
        let dir = self.dir_of(&final_name).unwrap_or(0);
        (id, Some((frag, dir)), names)
    }

    /// Read a unit file or drop-in at `path` (which may be a symlink), never following it
    /// out of the image and never opening anything but a regular file. `known` is the
    /// entry's kind from a listing of its (physical) directory, which saves the lookups.
    fn read_file(&self, path: &ImagePath, known: Option<NodeKind>) -> FileRead {
        if let Some(r) = self.reads.borrow().get(path) {
            return r.clone();
        }
        let r = self.read_file_uncached(path, known);
        self.reads.borrow_mut().insert(path.clone(), r.clone());
        r
    }

    fn read_file_uncached(&self, path: &ImagePath, known: Option<NodeKind>) -> FileRead {
        if known == Some(NodeKind::File) {
            return self.read_regular(path, None);
        }
        if let Ok(Some(NodeKind::Symlink)) = self.tree.lstat(path) {
            match self.tree.read_link(path) {
                Ok(t) if t == "/dev/null" => return FileRead::Masked,
                Ok(_) => {}
                Err(e) => return FileRead::Failed(format!("cannot read symlink: {e}")),
            }
        }
        let (real, kind) = match self.stat(path) {
            Ok(x) => x,
            Err(e) => return FileRead::Failed(e.to_string()),
        };
        let target = (real != *path).then(|| real.clone());
        match kind {
            _ if real.as_str() == "/dev/null" => FileRead::Masked,
            None => FileRead::Failed(format!("dangling symlink to {real}")),
            Some(NodeKind::CharDevice) => FileRead::Masked,
            Some(NodeKind::File) => self.read_regular(&real, target),
            Some(NodeKind::Dir) => FileRead::Failed("is a directory".to_string()),
            Some(NodeKind::Special) => {
                FileRead::Failed("not a regular file (FIFO, socket or device), not opened".into())
            }
            Some(NodeKind::Symlink) => FileRead::Failed("unresolvable symlink".to_string()),
        }
    }

    /// Read a physical regular file; an empty one is a mask.
    fn read_regular(&self, real: &ImagePath, target: Option<ImagePath>) -> FileRead {
        let spent = self.spent.bytes_read.get();
        if spent >= budget::MAX_BYTES_READ {
            return FileRead::Failed(format!(
                "not read: over {} bytes of unit files were read from this image already",
                budget::MAX_BYTES_READ
            ));
        }
        let limit = MAX_FILE_SIZE.min(budget::MAX_BYTES_READ - spent);
        match self.tree.read_file(real, limit) {
            Ok(b) if b.is_empty() => FileRead::Masked,
            Ok(b) => {
                self.spent.bytes_read.set(spent + b.len() as u64);
                FileRead::Content(b.into(), target)
            }
            Err(e) => FileRead::Failed(format!("cannot read: {e}")),
        }
    }

    /// Entries of a physical directory, cached.
    fn list_dir(&mut self, dir: &ImagePath) -> Option<Vec<(String, NodeKind)>> {
        if let Some(c) = self.dir_cache.get(dir) {
            return c.clone();
        }
        let r = match self.tree.read_dir(dir) {
            Ok(e) => Some(e),
            Err(e) => {
                self.warn(Some(dir), None, format!("cannot list directory: {e}"));
                None
            }
        };
        self.dir_cache.insert(dir.clone(), r.clone());
        r
    }

    /// If search directory `i` has a directory (or a symlink to one) named `name`, its
    /// physical path.
    fn subdir(&mut self, i: usize, name: &str) -> Option<ImagePath> {
        let kind = *self.listings.get(i)?.get(name)?;
        let path = self.dirs[i].physical.join(name);
        match kind {
            NodeKind::Dir => Some(path),
            NodeKind::Symlink => match self.stat(&path) {
                Ok((p, Some(NodeKind::Dir))) => Some(p),
                Ok(_) => None,
                Err(e) => {
                    self.warn(Some(&path), None, e.to_string());
                    None
                }
            },
            _ => None,
        }
    }

    /// The next name `unit_file_find_dirs` recurses into for `name`'s dash prefix
    /// (`foo-bar@x.service` → `foo-@x.service`, `foo-bar@.service` → `foo-.service`).
    fn prefix_name(&self, un: &UnitName) -> Option<String> {
        if !self.rules.prefix_dropins() {
            return None;
        }
        let mut prefix = un.prefix;
        let mut chopped = false;
        loop {
            let dash = prefix.rfind('-')?;
            if dash == 0 {
                return None;
            }
            if dash + 1 != prefix.len() || chopped {
                prefix = &prefix[..dash + 1];
                break;
            }
            prefix = &prefix[..dash];
            chopped = true;
        }
        // A template's prefixes are plain names (`foo-bar@.service` → `foo-.service`); an
        // instance keeps its instance (`foo-bar@x.service` → `foo-@x.service`).
        let built = match un.instance {
            Some(inst) if !inst.is_empty() => format!("{prefix}@{inst}.{}", un.unit_type),
            _ => format!("{prefix}.{}", un.unit_type),
        };
        UnitName::parse(&built).is_some().then_some(built)
    }

    /// The names `unit_file_find_dirs` looks up for `name`, in its order (the name, its
    /// template's chain, then its dash prefix's chain), keeping only names that some search
    /// directory has a `NAME.d`/`.wants`/… for, each once (a directory seen again adds
    /// nothing: drop-ins and links are taken by first file name). The same in every search
    /// directory, so it is computed once per name, iteratively, with templates' and plain
    /// names' chains shared: systemd's recursion visits O(dashes²) names per instance.
    fn name_chain(&mut self, name: &str) -> Rc<[String]> {
        if let Some(c) = self.chains.get(name) {
            return c.clone();
        }
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut cur = Some(name.to_string());
        while let Some(n) = cur.take() {
            let Some(un) = UnitName::parse(&n) else {
                break;
            };
            let template = (un.kind() == NameKind::Instance)
                .then(|| un.template())
                .flatten();
            let next = self.prefix_name(&un);
            if self.stems.contains(&n) && seen.insert(n.clone()) {
                out.push(n.clone());
            }
            if let Some(t) = template {
                // A template's chain has no instances in it: no deeper than this.
                for m in self.name_chain(&t).iter() {
                    if seen.insert(m.clone()) {
                        out.push(m.clone());
                    }
                }
            }
            cur = next;
        }
        let c: Rc<[String]> = out.into();
        self.chains.insert(name.to_string(), c.clone());
        c
    }

    /// Every candidate directory for `id` with `suffix`, in systemd's precedence order:
    /// for each name (the unit's, then its aliases'), every search directory with that
    /// name's chain; then the type-level directories.
    fn candidate_dirs(
        &mut self,
        id: &str,
        aliases: &BTreeSet<String>,
        unit_type: UnitType,
        suffix: &str,
    ) -> Vec<(ImagePath, usize)> {
        let mut out = Vec::new();
        for name in
            std::iter::once(id).chain(aliases.iter().map(String::as_str).filter(|a| *a != id))
        {
            let chain = self.name_chain(name);
            for i in 0..self.dirs.len() {
                for n in chain.iter() {
                    let present = self.subdir_index[i]
                        .get(n.as_str())
                        .is_some_and(|s| s.contains(&suffix));
                    if present && let Some(p) = self.subdir(i, &format!("{n}{suffix}")) {
                        out.push((p, i));
                    }
                }
            }
        }
        if self.rules.type_dropins() {
            for i in 0..self.dirs.len() {
                if let Some(p) = self.subdir(i, &format!("{unit_type}{suffix}")) {
                    out.push((p, i));
                }
            }
        }
        out
    }

    /// Drop-in files for a unit: winners by file name, sorted by file name; masks dropped.
    fn dropins(
        &mut self,
        id: &str,
        aliases: &BTreeSet<String>,
        unit_type: UnitType,
    ) -> Vec<UnitFile> {
        let dirs = self.candidate_dirs(id, aliases, unit_type, ".d");
        let mut winners: BTreeMap<String, UnitFile> = BTreeMap::new();
        for (dir, i) in dirs {
            for (name, kind) in self.list_dir(&dir).unwrap_or_default() {
                if name.starts_with('.') || !name.ends_with(".conf") || winners.contains_key(&name)
                {
                    continue;
                }
                let path = dir.join(&name);
                let layer = self.dirs[i].layer;
                let file = match self.read_file(&path, Some(kind)) {
                    FileRead::Masked => UnitFile {
                        path,
                        target: None,
                        layer,
                        masked: true,
                        content: None,
                    },
                    FileRead::Content(c, target) => UnitFile {
                        path,
                        target,
                        layer,
                        masked: false,
                        content: Some(c),
                    },
                    FileRead::Failed(msg) => {
                        self.warn(Some(&path), None, format!("drop-in ignored: {msg}"));
                        continue;
                    }
                };
                winners.insert(name, file);
            }
        }
        winners.into_values().collect()
    }

    fn add_edge(&mut self, from: &str, kind: DepKind, to: String, provenance: Provenance) {
        if self.raw_edges.len() >= budget::MAX_EDGES {
            self.spent.edges_cut += 1;
            return;
        }
        self.queue.push_back(to.clone());
        self.raw_edges.push(RawEdge {
            from: from.to_string(),
            kind,
            to,
            provenance,
        });
    }

    /// `.wants/`, `.requires/`, `.upholds/` directories.
    fn dependency_dirs(&mut self, id: &str, aliases: &BTreeSet<String>, unit_type: UnitType) {
        let mut kinds = vec![
            (".wants", DepKind::Wants, How::WantsDir),
            (".requires", DepKind::Requires, How::RequiresDir),
        ];
        if self.rules.upholds_dirs() {
            kinds.push((".upholds", DepKind::Upholds, How::UpholdsDir));
        }
        let strict = self.rules.strict_dependency_dirs();
        for (suffix, kind, how) in kinds {
            let dirs = self.candidate_dirs(id, aliases, unit_type, suffix);
            let mut seen = BTreeSet::new();
            let mut entries = Vec::new();
            for (dir, i) in dirs {
                // A type-level directory (`service.wants/`) applies to every unit of its
                // type: it has a share like a file.
                if !self.spent.may_apply(&dir, self.raw_edges.len()) {
                    continue;
                }
                for (name, nk) in self.list_dir(&dir).unwrap_or_default() {
                    if name.starts_with('.') {
                        continue;
                    }
                    if !self.spent.take(&dir, 1) {
                        break;
                    }
                    if strict && !seen.insert(name.clone()) {
                        continue;
                    }
                    entries.push((dir.join(&name), name, nk, self.dirs[i].layer));
                }
            }
            if strict {
                entries.sort_by(|a, b| a.1.cmp(&b.1));
            }
            for (path, name, nk, layer) in entries {
                if strict {
                    if matches!(self.read_file_kind(&path, nk), Some(true)) {
                        continue; // masked
                    }
                    if nk != NodeKind::Symlink {
                        self.warn(Some(&path), None, "not a symlink, ignoring");
                        continue;
                    }
                }
                let Some(un) = UnitName::parse(&name) else {
                    self.warn(Some(&path), None, "not a valid unit name, ignoring");
                    continue;
                };
                let target = if un.kind() == NameKind::Template {
                    deps::resolve_template(&name, id)
                } else {
                    name.clone()
                };
                let provenance = Provenance {
                    origin: Origin::File,
                    how,
                    path: Some(path),
                    line: None,
                    layer: Some(layer),
                    rule: None,
                    generator: None,
                };
                self.add_edge(id, kind, target, provenance);
            }
        }
    }

    /// Whether a dependency-directory entry is a mask (`/dev/null` link or empty file).
    fn read_file_kind(&self, path: &ImagePath, nk: NodeKind) -> Option<bool> {
        match nk {
            NodeKind::File => Some(self.tree.is_empty_file(path).unwrap_or(false)),
            NodeKind::Symlink => {
                let raw = self.tree.read_link(path).ok()?;
                if raw == "/dev/null" {
                    return Some(true);
                }
                match self.stat(path) {
                    Ok((p, k)) => Some(
                        p.as_str() == "/dev/null"
                            || k == Some(NodeKind::CharDevice)
                            || (k == Some(NodeKind::File)
                                && self.tree.is_empty_file(&p).unwrap_or(false)),
                    ),
                    Err(_) => Some(false),
                }
            }
            _ => Some(false),
        }
    }

    fn sections(unit_type: UnitType) -> Vec<&'static str> {
        let mut s = vec!["Unit", "Install"];
        if let Some(t) = unit_type.section() {
            s.push(t);
        }
        s
    }

    /// Parse a file and apply it to unit `id`. Returns false on a fatal parse error.
    fn apply_file(
        &mut self,
        unit: &mut Unit,
        ctx: FileCtx,
        content: &[u8],
        st: &mut Applied,
        template: bool,
    ) -> bool {
        let key = (ctx.path.clone(), unit.unit_type);
        let parsed = match self.parses.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = Rc::new(syntax::parse(
                    content,
                    &Self::sections(unit.unit_type),
                    &self.rules,
                ));
                self.parses.insert(key, p.clone());
                p
            }
        };
        if !self.spent.may_apply(ctx.path, self.raw_edges.len()) {
            // Past the file's share: not applied to this unit (warned once, with counts).
            return parsed.fatal.is_none();
        }
        for w in &parsed.warnings {
            self.warn(Some(ctx.path), Some(w.line), w.message.clone());
        }
        for a in &parsed.assignments {
            self.apply_assignment(unit, &ctx, a, st, template);
        }
        if let Some(f) = &parsed.fatal {
            self.warn(
                Some(ctx.path),
                Some(f.line),
                format!("fatal: {}", f.message),
            );
            return false;
        }
        true
    }

    fn setting(ctx: &FileCtx, a: &Assignment) -> Setting {
        Setting {
            section: a.section.clone(),
            key: a.key.clone(),
            value: a.value.clone(),
            path: ctx.path.clone(),
            line: a.line,
            layer: ctx.layer,
        }
    }

    fn apply_assignment(
        &mut self,
        unit: &mut Unit,
        ctx: &FileCtx,
        a: &Assignment,
        st: &mut Applied,
        template: bool,
    ) {
        let prov = |origin| Provenance {
            origin,
            how: ctx.how,
            path: Some(ctx.path.clone()),
            line: Some(a.line),
            layer: Some(ctx.layer),
            rule: None,
            generator: None,
        };
        let id = unit.id.clone();
        let utype = unit.unit_type;
        if a.section == "Install" {
            match a.key.as_str() {
                "WantedBy" | "RequiredBy" | "UpheldBy" | "Alias" | "Also" | "DefaultInstance" => {
                    unit.install.push(Self::setting(ctx, a))
                }
                k if k.starts_with("X-") => {}
                k => self.warn(
                    Some(ctx.path),
                    Some(a.line),
                    format!("unknown key '{k}' in [Install], ignoring"),
                ),
            }
            return;
        }
        if unit.settings.len() >= budget::MAX_SETTINGS_PER_UNIT {
            // Warned once per file (warnings are de-duplicated; the unit is not named, so
            // the instances of one template share it).
            self.warn(
                Some(ctx.path),
                None,
                format!(
                    "more than {} settings for one unit; the rest of this file is ignored",
                    budget::MAX_SETTINGS_PER_UNIT
                ),
            );
            return;
        }
        if self.spent.take(ctx.path, 1) && self.spent.setting(a.value.len()) {
            unit.settings.push(Self::setting(ctx, a));
        }
        if template {
            return;
        }
        if a.section == "Unit" {
            if a.key == "SuccessAction" {
                st.success_action = !a.value.is_empty() && a.value != "none";
            }
            let Some(kind) = deps::unit_directive(&a.key, &self.rules) else {
                return;
            };
            if matches!(kind, DepKind::OnFailure)
                && self.rules.drops_onfailure_on_slice_device()
                && !deps::can_fail(utype)
            {
                self.warn(
                    Some(ctx.path),
                    Some(a.line),
                    format!("{} units cannot fail, OnFailure= ignored", utype),
                );
                return;
            }
            for (i, word) in deps::split_words(&a.value).into_iter().enumerate() {
                let over = self.raw_edges.len() >= budget::MAX_EDGES;
                if over || !self.spent.take(ctx.path, 1) {
                    // Out of budget: count what is cut without expanding it (past the
                    // file's share, its own warning says so).
                    if over {
                        self.spent.edges_cut += deps::split_words(&a.value).len() - i;
                    }
                    break;
                }
                let Some(target) = self.dependency_target(&id, &word, ctx.path, a.line) else {
                    continue;
                };
                if kind == DepKind::Before
                    && self.rules.drops_before_device()
                    && UnitName::parse(&target).is_some_and(|t| t.unit_type == UnitType::Device)
                {
                    continue;
                }
                self.add_edge(&id, kind, target, prov(Origin::File));
            }
            return;
        }
        match (utype, a.key.as_str()) {
            (
                UnitType::Service
                | UnitType::Socket
                | UnitType::Mount
                | UnitType::Swap
                | UnitType::Scope,
                "Slice",
            ) => {
                if a.value.is_empty() {
                    return;
                }
                let Some(target) = self.dependency_target(&id, &a.value, ctx.path, a.line) else {
                    return;
                };
                if !target.ends_with(".slice") {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("Slice= must name a slice, ignoring {target}"),
                    );
                    return;
                }
                // Every Slice= value is loaded; only one becomes the unit's slice.
                self.queue.push_back(target.clone());
                if st.slice.is_none() || self.rules.slice_last_wins() {
                    st.slice = Some((target, prov(Origin::SliceProperty)));
                }
            }
            (UnitType::Service, "Sockets") => {
                for word in deps::split_words(&a.value) {
                    let Some(target) = self.dependency_target(&id, &word, ctx.path, a.line) else {
                        continue;
                    };
                    if !target.ends_with(".socket") {
                        self.warn(
                            Some(ctx.path),
                            Some(a.line),
                            format!("Sockets= must name sockets, ignoring {target}"),
                        );
                        continue;
                    }
                    self.add_edge(&id, DepKind::After, target.clone(), prov(Origin::File));
                    self.add_edge(&id, DepKind::Wants, target.clone(), prov(Origin::File));
                    self.add_edge(&id, DepKind::TriggeredBy, target, prov(Origin::File));
                }
            }
            (UnitType::Socket, "Service") => {
                if a.value.is_empty() {
                    return;
                }
                match self.dependency_target(&id, &a.value, ctx.path, a.line) {
                    Some(t) if t.ends_with(".service") => {
                        st.socket_service = Some((t, prov(Origin::Implicit)))
                    }
                    Some(t) => self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("Service= must name a service, ignoring {t}"),
                    ),
                    None => {}
                }
            }
            (UnitType::Timer | UnitType::Path, "Unit") => {
                if a.value.is_empty() {
                    return;
                }
                let Some(target) = self.dependency_target(&id, &a.value, ctx.path, a.line) else {
                    return;
                };
                if UnitName::parse(&target).is_some_and(|t| t.unit_type == utype) {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("Unit= cannot be of type {utype}, ignoring"),
                    );
                    return;
                }
                if st.trigger_set {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        "multiple units to trigger specified, ignoring",
                    );
                    return;
                }
                if target == id {
                    return;
                }
                st.trigger_set = true;
                self.add_edge(&id, DepKind::Before, target.clone(), prov(Origin::File));
                self.add_edge(&id, DepKind::Triggers, target, prov(Origin::File));
            }
            (UnitType::Socket, k) if k.starts_with("Listen") => {
                if a.value.is_empty() {
                    st.listeners.clear();
                } else {
                    st.listeners.push(k.to_string());
                }
            }
            (UnitType::Socket, "Accept") => st.accept = parse_bool(&a.value).unwrap_or(st.accept),
            (UnitType::Service, "ExecStart") => {
                st.exec_start = if a.value.is_empty() {
                    0
                } else {
                    st.exec_start + 1
                }
            }
            (UnitType::Service, "ExecStop") => {
                st.exec_stop = if a.value.is_empty() {
                    0
                } else {
                    st.exec_stop + 1
                }
            }
            (UnitType::Service, "Type") => st.service_type = Some(a.value.clone()),
            (UnitType::Service, "BusName") => st.bus_name = !a.value.is_empty(),
            (UnitType::Service, "RemainAfterExit") => {
                st.remain_after_exit = parse_bool(&a.value).unwrap_or(false)
            }
            (UnitType::Timer, k) if k.starts_with("On") => {
                st.timer_triggers = if a.value.is_empty() {
                    0
                } else {
                    st.timer_triggers + 1
                }
            }
            (
                UnitType::Path,
                "PathExists" | "PathExistsGlob" | "PathChanged" | "PathModified"
                | "DirectoryNotEmpty",
            ) => {
                st.path_triggers = if a.value.is_empty() {
                    0
                } else {
                    st.path_triggers + 1
                }
            }
            _ => {}
        }
    }

    /// One word of a dependency value → the unit name it refers to, or `None` (warned).
    fn dependency_target(
        &mut self,
        id: &str,
        word: &str,
        path: &ImagePath,
        line: u32,
    ) -> Option<String> {
        let expanded = match deps::expand_specifiers_with(word, id, &self.rules, &self.facts) {
            Ok(e) => e,
            Err(e) => {
                self.warn(
                    Some(path),
                    Some(line),
                    format!("failed to resolve '{}': {e}, ignoring", abbreviate(word)),
                );
                return None;
            }
        };
        let Some(target) = UnitName::parse(&expanded) else {
            self.warn(
                Some(path),
                Some(line),
                format!(
                    "'{}' is not a valid unit name, ignoring",
                    abbreviate(&expanded)
                ),
            );
            return None;
        };
        // v250+: a template depending on itself through an instance specifier
        // (`foo@.service: Wants=foo@%i-1.service`) is dropped silently; without the guard
        // every instance would create a longer one (systemd#17602).
        let owner = UnitName::parse(id);
        if self.rules.version >= 250
            && owner.is_some_and(|o| {
                o.instance.is_some()
                    && target.instance.is_some()
                    && o.prefix == target.prefix
                    && o.unit_type == target.unit_type
            })
            && ["%i", "%I", "%n", "%N", "%j", "%J"]
                .iter()
                .any(|s| word.contains(s))
        {
            return None;
        }
        Some(deps::resolve_template(&expanded, id))
    }

    /// Load one unit (and queue what it references).
    fn load_unit(&mut self, name: &str) {
        if self.names.contains_key(name) {
            return;
        }
        // Whatever an image says, loading stays bounded (real systems have a few thousand).
        if self.units.len() >= MAX_UNITS {
            self.spent.units_cut += 1;
            return;
        }
        let Some(un) = UnitName::parse(name) else {
            return;
        };
        if un.kind() == NameKind::Template {
            return;
        }
        if un.instance.is_some() && !self.spent.instance(un.with_instance("")) {
            return;
        }
        let (id, frag, names) = self.find_fragment(name);
        if let Some(unit) = self.units.get_mut(&id) {
            for n in &names {
                self.names.insert(n.clone(), id.clone());
                if *n != id {
                    unit.aliases.insert(n.clone());
                }
            }
            return;
        }
        for n in &names {
            self.names.insert(n.clone(), id.clone());
        }
        let unit = self.build_unit(&id, frag, names, false);
        self.units.insert(id, unit);
    }

    /// Read the fragment and drop-ins of a unit or template and apply them.
    fn build_unit(
        &mut self,
        id: &str,
        frag: Option<(ImagePath, usize)>,
        names: BTreeSet<String>,
        template: bool,
    ) -> Unit {
        let unit_type = UnitName::parse(id)
            .map(|u| u.unit_type)
            .unwrap_or(UnitType::Service);
        let aliases: BTreeSet<String> = names.into_iter().filter(|n| n != id).collect();
        let perpetual = matches!(id, "-.mount" | "init.scope" | "-.slice" | "system.slice");
        let mut unit = Unit {
            id: id.to_string(),
            unit_type,
            state: LoadState::NotFound,
            fragment: None,
            dropins: Vec::new(),
            aliases,
            install: Vec::new(),
            settings: Vec::new(),
        };
        let mut st = Applied::default();
        let mut fragment_ok = true;
        match frag {
            Some((path, dir)) if unit_type != UnitType::Scope || perpetual => {
                let layer = self.dirs[dir].layer;
                let known = self.listings[dir].get(path.file_name()).copied();
                match self.read_file(&path, known) {
                    FileRead::Masked => {
                        unit.state = if perpetual {
                            LoadState::Loaded
                        } else {
                            LoadState::Masked
                        };
                        unit.fragment = Some(UnitFile {
                            path,
                            target: None,
                            layer,
                            masked: true,
                            content: None,
                        });
                    }
                    FileRead::Content(content, target) => {
                        unit.state = LoadState::Loaded;
                        let ctx = FileCtx {
                            path: &path,
                            layer,
                            how: How::Fragment,
                        };
                        fragment_ok = self.apply_file(&mut unit, ctx, &content, &mut st, template);
                        if !fragment_ok {
                            unit.state = LoadState::Error;
                        }
                        unit.fragment = Some(UnitFile {
                            path,
                            target,
                            layer,
                            masked: false,
                            content: Some(content),
                        });
                    }
                    FileRead::Failed(msg) => {
                        self.warn(Some(&path), None, format!("unit file not loaded: {msg}"));
                        unit.fragment = None;
                    }
                }
            }
            _ => {}
        }
        if unit.fragment.is_none() && (unit_type.fragment_optional() || perpetual) {
            unit.state = LoadState::Loaded;
        }
        let reads_dropins = match unit.state {
            LoadState::Loaded => true,
            LoadState::Masked => {
                self.rules.masked_units_load_dropins()
                    || (self.rules.version < 244 && unit_type != UnitType::Service)
            }
            _ => false,
        };
        if !reads_dropins || !fragment_ok {
            return unit;
        }
        let aliases = unit.aliases.clone();
        let dropins = self.dropins(id, &aliases, unit_type);
        for d in &dropins {
            if let Some(content) = d.content.clone() {
                let ctx = FileCtx {
                    path: &d.path,
                    layer: d.layer,
                    how: How::DropIn,
                };
                self.apply_file(&mut unit, ctx, &content, &mut st, template);
            }
        }
        unit.dropins = dropins;
        if template {
            return unit;
        }
        self.dependency_dirs(id, &aliases, unit_type);
        let explicit_slice = st.slice.is_some();
        if let Some((slice, prov)) = st.slice.take() {
            self.add_edge(id, DepKind::InSlice, slice, prov);
        }
        if unit.state == LoadState::Loaded {
            self.implicit_at_load(&unit, explicit_slice);
            self.type_extras(&mut unit, &mut st);
        }
        unit
    }

    /// Type-specific edges systemd adds while loading (triggers), and the checks that turn
    /// a unit into `bad-setting`.
    fn type_extras(&mut self, unit: &mut Unit, st: &mut Applied) {
        let id = unit.id.clone();
        let stem = UnitName::parse(&id)
            .map(|u| u.stem().to_string())
            .unwrap_or_default();
        let rule = |r: &'static str| Provenance {
            origin: Origin::Implicit,
            how: How::Rule,
            path: None,
            line: None,
            layer: None,
            rule: Some(r),
            generator: None,
        };
        match unit.unit_type {
            UnitType::Socket => {
                let non_accept = !st.accept
                    || st
                        .listeners
                        .iter()
                        .any(|l| l != "ListenStream" && l != "ListenSequentialPacket");
                if non_accept {
                    let (svc, prov) = match st.socket_service.take() {
                        Some((s, mut p)) => {
                            p.rule = Some("socket-triggers-service");
                            (s, p)
                        }
                        None => (
                            format!("{stem}.service"),
                            rule("socket-triggers-same-name-service"),
                        ),
                    };
                    self.add_edge(&id, DepKind::Before, svc.clone(), prov.clone());
                    self.add_edge(&id, DepKind::Triggers, svc, prov);
                }
                if st.listeners.is_empty() {
                    unit.state = LoadState::BadSetting;
                    self.warn(
                        None,
                        None,
                        format!("{id}: socket has no Listen setting, bad-setting"),
                    );
                }
            }
            UnitType::Timer | UnitType::Path => {
                if !st.trigger_set {
                    let r = if unit.unit_type == UnitType::Timer {
                        "timer-triggers-same-name-service"
                    } else {
                        "path-triggers-same-name-service"
                    };
                    let svc = format!("{stem}.service");
                    self.add_edge(&id, DepKind::Before, svc.clone(), rule(r));
                    self.add_edge(&id, DepKind::Triggers, svc, rule(r));
                }
                let n = if unit.unit_type == UnitType::Timer {
                    st.timer_triggers
                } else {
                    st.path_triggers
                };
                if n == 0 {
                    unit.state = LoadState::BadSetting;
                    self.warn(
                        None,
                        None,
                        format!(
                            "{id}: {} has no trigger setting, bad-setting",
                            unit.unit_type
                        ),
                    );
                }
            }
            UnitType::Service => {
                let ty = st.service_type.clone().unwrap_or_else(|| {
                    if st.bus_name {
                        "dbus".into()
                    } else if st.exec_start > 0 {
                        "simple".into()
                    } else {
                        "oneshot".into()
                    }
                });
                let why = if st.exec_start == 0 && st.exec_stop == 0 && !st.success_action {
                    Some("service has no ExecStart=, ExecStop= or SuccessAction=")
                } else if ty != "oneshot" && st.exec_start == 0 {
                    Some("service has no ExecStart=, only allowed for Type=oneshot")
                } else if ty != "oneshot" && st.exec_start > 1 {
                    Some("service has more than one ExecStart=, only allowed for Type=oneshot")
                } else if st.exec_start == 0 && !st.success_action && !st.remain_after_exit {
                    Some(
                        "service has no ExecStart= and no SuccessAction= and not RemainAfterExit=yes",
                    )
                } else if ty == "dbus" && !st.bus_name {
                    Some("Type=dbus without BusName=")
                } else {
                    None
                };
                if let Some(why) = why {
                    unit.state = LoadState::BadSetting;
                    let path = unit.fragment.as_ref().map(|f| f.path.clone());
                    self.warn(path.as_ref(), None, format!("{why}, bad-setting"));
                }
            }
            _ => {}
        }
    }

    fn run(&mut self, instances: &[String]) {
        let mut keys: Vec<String> = self.ids.keys().cloned().collect();
        keys.sort();
        for k in &keys {
            match UnitName::parse(k).map(|u| u.kind()) {
                Some(NameKind::Template) => self.load_template(k),
                Some(_) => self.queue.push_back(k.clone()),
                None => {}
            }
        }
        for name in instances {
            let template = UnitName::parse(name)
                .filter(|u| u.kind() == NameKind::Instance)
                .and_then(|u| u.template());
            if template.is_some_and(|t| self.ids.contains_key(&t)) {
                self.queue.push_back(name.clone());
            }
        }
        // Perpetual units exist in every manager, referenced or not.
        for p in ["-.slice", "system.slice", "-.mount", "init.scope"] {
            self.queue.push_back(p.to_string());
        }
        while let Some(name) = self.queue.pop_front() {
            self.load_unit(&name);
        }
    }

    fn load_template(&mut self, name: &str) {
        let Ok((frag, final_name)) = self.resolve_name(name) else {
            return;
        };
        if UnitName::parse(&final_name).map(|u| u.kind()) != Some(NameKind::Template) {
            return;
        }
        if let Some(t) = self.templates.get_mut(&final_name) {
            if name != final_name {
                t.aliases.insert(name.to_string());
            }
            return;
        }
        let dir = self.dir_of(&final_name).unwrap_or(0);
        let mut names = BTreeSet::from([final_name.clone()]);
        if name != final_name {
            names.insert(name.to_string());
        }
        let unit = self.build_unit(&final_name, Some((frag, dir)), names, true);
        self.templates.insert(final_name, unit);
    }

    /// One warning per limit that cut something, saying what.
    fn warn_cuts(&mut self) {
        let cuts = self.spent.cuts();
        for c in cuts {
            // Past MAX_WARNINGS too: these say what the budget did.
            self.warnings.push(Warning {
                path: None,
                line: None,
                message: c,
            });
        }
    }

    fn finish(mut self) -> UnitSet {
        self.warn_cuts();
        let mut edges = Vec::with_capacity(self.raw_edges.len());
        for e in std::mem::take(&mut self.raw_edges) {
            let Some(to) = self.names.get(&e.to).cloned() else {
                continue;
            };
            if to == e.from {
                continue;
            }
            edges.push(Edge {
                from: e.from,
                kind: e.kind,
                to,
                provenance: e.provenance,
            });
        }
        self.implicit_post_load(&mut edges);
        edges.sort();
        edges.dedup();
        self.warnings.sort();
        self.warnings.dedup();
        UnitSet {
            rules: self.rules,
            search_dirs: self.dirs,
            units: self.units,
            templates: self.templates,
            names: self.names,
            edges,
            warnings: self.warnings,
            enablement: BTreeMap::new(),
        }
    }
}

/// A long word from an image, cut for a warning.
fn abbreviate(s: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.into();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len()).into()
}

/// Read `/etc/hostname`, `/etc/machine-id` and `os-release` from the image.
fn image_facts(tree: &dyn Tree) -> deps::ImageFacts {
    let read = |p: &str| -> Option<String> {
        let (real, kind) = tree::stat(tree, &ImagePath::new(p)).ok()?;
        if kind != Some(NodeKind::File) {
            return None;
        }
        let b = tree.read_file(&real, 64 * 1024).ok()?;
        Some(String::from_utf8_lossy(&b).into_owned())
    };
    let hostname = read("/etc/hostname").and_then(|t| {
        t.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            // systemd ignores a name longer than HOST_NAME_MAX (64) in /etc/hostname.
            .filter(|l| l.len() <= 64)
            .map(str::to_string)
    });
    let machine_id = read("/etc/machine-id")
        .map(|t| t.trim().to_string())
        .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()));
    let os_release = read("/etc/os-release")
        .or_else(|| read("/usr/lib/os-release"))
        .map(|t| {
            t.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
                .collect()
        });
    deps::ImageFacts {
        hostname,
        machine_id,
        os_release,
    }
}

/// v243+ alias validation (`unit_validate_alias_symlink_or_warn`).
fn validate_alias(src: &UnitName, dst: &str) -> Result<(), &'static str> {
    let Some(dst) = UnitName::parse(dst) else {
        return Err("target is not a valid unit name");
    };
    if src.unit_type != dst.unit_type {
        return Err("alias and target types differ");
    }
    if !src.unit_type.can_alias() {
        return Err("units of this type cannot be aliased");
    }
    match (src.kind(), dst.kind()) {
        (NameKind::Plain, NameKind::Plain) => Ok(()),
        (NameKind::Template, NameKind::Template) | (NameKind::Instance, NameKind::Template)
            if src.unit_type.can_template() =>
        {
            Ok(())
        }
        (NameKind::Instance, NameKind::Instance)
            if src.unit_type.can_template() && src.instance == dst.instance =>
        {
            Ok(())
        }
        _ => Err("alias and target name kinds differ"),
    }
}
