//! Load every unit of an image (the system manager's, or with [`Scope::User`] a user
//! manager's) the way systemd's manager would (semantics doc §1–§7).
//!
//! Steps: resolve the search path inside the image; scan it once into a name map (first
//! entry per name wins; symlinks classified as alias, linked unit file or mask); for every
//! unit name (all names in the map, then every name referenced by a dependency) pick the
//! fragment, merge aliases, read drop-ins and `.wants/`/`.requires/`/`.upholds/`
//! directories, and turn each dependency directive into an [`Edge`] carrying its
//! [`Provenance`]. Templates are collected too (they are never loaded, only instantiated).

mod apply;
mod build;
mod files;
mod implicit;
mod pre243;
mod scan;

use super::deps::{self, DepKind};
use super::name::{NameKind, UnitName, UnitType};
use super::paths::{self, Layer, SearchDir};
use super::scope::Scope;
use super::sym::{Interner, Sym};
use super::syntax::{self, Assignment};
use super::version::Rules;
use crate::tree::{self, ImagePath, MAX_FILE_SIZE, NodeKind, ResolveError, Tree};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The loader's hash maps hash with foldhash rather than std's SipHash (SipHash was ~3 % of
/// the CPU of a 10k-unit diff): seeded per process, so an image cannot choose colliding
/// names in advance.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::rc::Rc;
use std::sync::Arc;

/// The model types, re-exported so `unit::load::…` paths keep working.
pub use super::model::{
    Content, Edge, How, LoadState, Origin, Provenance, Setting, Unit, UnitFile, UnitSet, Warning,
};

/// An entry of the name map.
#[derive(Clone, Debug)]
enum IdEntry {
    /// A symlink into the search path: an alias of the target's *name*.
    Alias(String),
    /// A regular file, linked unit file or mask; `dir` indexes the search directory.
    Path { path: ImagePath, dir: usize },
}

/// A directory's entries, sorted by name, shared by the loader's cache.
type Listing = Rc<[(String, NodeKind)]>;

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
    load_in(tree, rules, instances, false, Scope::System, false)
}

/// [`load_with`] for the units of `scope`'s manager (a user manager: its search path
/// and its rules, docs/semantics.md "User scope"; its generators are not emulated).
pub fn load_scoped(tree: &dyn Tree, rules: Rules, scope: Scope, instances: &[String]) -> UnitSet {
    load_in(tree, rules, instances, false, scope, false)
}

/// [`load_scoped`]; with `generator_dirs`, the search path includes the generator
/// directories (`super::generators::load` lays the emulated output over the image).
pub(crate) fn load_in(
    tree: &dyn Tree,
    rules: Rules,
    instances: &[String],
    generator_dirs: bool,
    scope: Scope,
    digests: bool,
) -> UnitSet {
    let (dirs, dir_warnings) = paths::search_dirs_for(tree, &rules, generator_dirs, scope);
    let mut l = Loader {
        tree,
        rules,
        scope,
        dirs,
        listings: Vec::new(),
        subdir_index: Vec::new(),
        stems: HashSet::default(),
        chains: HashMap::default(),
        last_chain: None,
        type_dirs: HashMap::default(),
        ids: HashMap::default(),
        reverse: HashMap::default(),
        dir_cache: HashMap::default(),
        resolved_dirs: Default::default(),
        warnings: dir_warnings
            .into_iter()
            .map(|m| Warning {
                path: None,
                line: None,
                message: m,
            })
            .collect(),
        units: HashMap::default(),
        templates: HashMap::default(),
        names: HashMap::default(),
        raw_edges: Vec::new(),
        queue: VecDeque::new(),
        post: HashMap::default(),
        facts: image_facts(tree),
        spent: budget::Spent::default(),
        reads: Default::default(),
        parses: HashMap::default(),
        warned: HashSet::default(),
        includes_left: 0,
        load_hints: HashMap::default(),
        syms: Default::default(),
        digests,
        digested: HashMap::default(),
    };
    l.scan();
    l.reserve_edges();
    l.run(instances);
    let links = l.config_links();
    l.drop_indices();
    let mut set = l.finish();
    let (enablement, warnings) = super::enablement::compute(tree, &set, &links);
    set.enablement = enablement;
    set.warnings.extend(warnings);
    set
}

struct Loader<'t> {
    tree: &'t dyn Tree,
    rules: Rules,
    scope: Scope,
    dirs: Vec<SearchDir>,
    /// Top-level entries of each search directory.
    listings: Vec<HashMap<Sym, NodeKind>>,
    /// Per search directory: NAME → suffixes of the `NAME.d`/`.wants`/… entries it has.
    subdir_index: Vec<HashMap<String, Vec<&'static str>>>,
    /// Every NAME of `subdir_index`, any directory.
    stems: HashSet<String>,
    /// [`Self::name_chain`]'s answers.
    chains: HashMap<String, Rc<[String]>>,
    /// The last chain made and not kept in `chains`: a unit asks for its own once per kind
    /// of directory (`.d`, `.wants`, `.requires`, `.upholds`), one after the other.
    last_chain: Option<(String, Rc<[String]>)>,
    /// [`Self::type_dirs`]' answers, by `TYPE.SUFFIX`.
    type_dirs: HashMap<String, Rc<[(ImagePath, usize)]>>,
    ids: HashMap<Sym, IdEntry>,
    /// Fragment path → every name that resolves to it.
    reverse: HashMap<ImagePath, Vec<Sym>>,
    /// In-image directory → its physical path (or why it has none).
    resolved_dirs: std::cell::RefCell<HashMap<ImagePath, Result<ImagePath, ResolveError>>>,
    /// Physical directory → its entries (`None`: unreadable).
    dir_cache: HashMap<ImagePath, Option<Listing>>,
    warnings: Vec<Warning>,
    /// Units, templates and names (every name → its canonical one) by hash while the image
    /// loads (each is looked up many times per unit and edge); sorted once in [`Self::finish`].
    /// (Boxed: a `Unit` is 152 bytes, and a hash table keeps ~half its slots empty.)
    units: HashMap<Sym, Box<Unit>>,
    templates: HashMap<Sym, Box<Unit>>,
    names: HashMap<Sym, Sym>,
    /// Edges as written (targets not yet canonical). One `Vec` grown by doubling: its
    /// unused capacity is address space, not memory, and `DepGraph::new` turns it into the
    /// graph's edge list in place. (Chunks joined into one `Vec` at the end held every edge
    /// twice at that moment: ~200 MB more peak memory in a 100k diff.)
    raw_edges: Vec<Edge>,
    queue: VecDeque<Sym>,
    /// What the image says about the machine (for `%H`, `%m`, `%o`…).
    facts: deps::ImageFacts,
    /// What the post-load phase needs, per loaded unit.
    post: HashMap<Sym, implicit::PostInfo>,
    /// Work done against the budget ([`budget`]).
    spent: budget::Spent,
    /// Files read, by the path asked for: each is read once however many units it applies
    /// to.
    reads: std::cell::RefCell<HashMap<ImagePath, FileRead>>,
    /// Files parsed, by path and unit type (which decides the sections): parsed once.
    parses: HashMap<(ImagePath, UnitType), Rc<syntax::ParsedFile>>,
    /// Warnings already given (each is kept once).
    warned: HashSet<Warning>,
    /// `.include` lines the fragment being applied may still follow.
    includes_left: usize,
    /// Before 240: unit name → the first `.wants/`/`.requires/` link naming it (and its
    /// search directory), the path a unit no search directory has is loaded from.
    load_hints: HashMap<String, (ImagePath, usize)>,
    /// One shared copy of every unit name an edge names, and of setting sections and keys.
    syms: Interner,
    /// Keep only the SHA-256 of each unit file once the unit is built
    /// ([`Content::Sha256`]).
    digests: bool,
    /// The digests of shared file copies, by the copy's address ([`Loader::digest_files`]).
    digested: HashMap<usize, (Arc<[u8]>, [u8; 32])>,
}

/// The context a file's directives are applied in.
struct FileCtx<'a> {
    path: &'a ImagePath,
    layer: Layer,
    how: How,
    /// The directory a relative `.include` in this file is taken from.
    dir: ImagePath,
    /// How deep in `.include`s this file is (0: the fragment or a drop-in).
    depth: usize,
}

/// Per-unit state collected while applying files.
#[derive(Default)]
struct Applied {
    slice: Option<(String, Provenance)>,
    socket_service: Option<(String, Provenance)>,
    trigger_set: bool,
    /// A socket's `Listen*=` settings in effect: the key and its value.
    listeners: Vec<(String, String)>,
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

    /// Reserve the edge list once, from what the search directories list, rather than let it
    /// grow by doubling: each doubling copies the largest thing a load holds into fresh
    /// memory (which the kernel zeroes) and leaves the old buffer behind. Edges as written
    /// per entry listed at the top of the search directories: ~5 on Debian 12 and 13 and on
    /// CoreOS, 9.4 on the synthetic benchmark (11.4 with the implicit ones added at the end);
    /// 16 leaves room. Capacity never written is address space, not memory; a larger image
    /// still grows the list as before, and the work budget bounds what it may hold.
    fn reserve_edges(&mut self) {
        const EDGES_PER_ENTRY: usize = 16;
        let listed: usize = self.listings.iter().map(|m| m.len()).sum();
        self.raw_edges.reserve(
            listed
                .saturating_mul(EDGES_PER_ENTRY)
                .min(budget::MAX_EDGES),
        );
    }

    fn run(&mut self, instances: &[String]) {
        let mut keys: Vec<Sym> = self.ids.keys().cloned().collect();
        keys.sort_unstable();
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
            if template.is_some_and(|t| self.ids.contains_key(t.as_str())) {
                self.queue.push_back(name.as_str().into());
            }
        }
        // Perpetual units exist in every manager, referenced or not.
        for p in self.scope.perpetual() {
            self.queue.push_back((*p).into());
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
        if let Some(t) = self.templates.get_mut(final_name.as_str()) {
            if name != final_name {
                t.aliases.insert(self.syms.get(name));
            }
            return;
        }
        let dir = self.dir_of(&final_name).unwrap_or(0);
        let mut names = BTreeSet::from([final_name.clone()]);
        if name != final_name {
            names.insert(name.to_string());
        }
        let unit = self.build_unit(&final_name, Some((frag, dir)), names, true);
        self.templates
            .insert(self.syms.take(final_name), Box::new(unit));
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

    /// Every file is read and parsed, every unit built and the links are listed: the read
    /// and parse caches, the directory listings and the name indices go before
    /// [`Self::finish`] makes the edge list canonical and the maps sorted (the load's peak;
    /// at 100,000 units the listings and indices alone are ~40 MB). What `finish` and the
    /// post-load rules read (units, templates, names, edges, `post`, the budget, the
    /// warnings, the search directories) stays.
    fn drop_indices(&mut self) {
        self.parses = HashMap::default();
        self.reads = Default::default();
        self.listings = Vec::new();
        self.subdir_index = Vec::new();
        self.stems = HashSet::default();
        self.chains = HashMap::default();
        self.last_chain = None;
        self.type_dirs = HashMap::default();
        self.ids = HashMap::default();
        self.reverse = HashMap::default();
        self.resolved_dirs = Default::default();
        self.dir_cache = HashMap::default();
        self.load_hints = HashMap::default();
        self.queue = VecDeque::new();
        self.digested = HashMap::default();
    }

    fn finish(mut self) -> UnitSet {
        self.warn_cuts();
        let mut syms = std::mem::take(&mut self.syms);
        // In place: the edge list is the largest thing a load holds.
        let mut edges = std::mem::take(&mut self.raw_edges);
        edges.retain_mut(|e| {
            let Some(to) = self.names.get(e.to.as_str()) else {
                return false;
            };
            e.to = to.clone();
            e.to != e.from
        });
        let paths_cut = self.implicit_post_load(&mut edges, &mut syms);
        if paths_cut > 0 {
            self.warn(
                None,
                None,
                format!(
                    "work budget: the mounts of {paths_cut} RequiresMountsFor=-style paths were \
                     not looked for (their prefixes would take more than {} MiB of unit names)",
                    budget::MAX_MOUNTS_FOR_BYTES >> 20
                ),
            );
        }
        // Equal edges are identical, so an unstable sort gives the same list (without a
        // scratch copy of half of it).
        edges.sort_unstable();
        edges.dedup();
        if let Some(mut declared) = paths::DeclaredPaths::new(&self.dirs)
            && self.rules.names_by_declared_dir()
        {
            name_declared(&mut declared, &mut self, &mut edges);
        }
        self.warnings.sort();
        self.warnings.dedup();
        UnitSet {
            rules: self.rules,
            scope: self.scope,
            search_dirs: self.dirs,
            units: unboxed(sorted(self.units)),
            templates: unboxed(sorted(self.templates)),
            names: sorted(self.names).into_iter().collect(),
            edges,
            warnings: self.warnings,
            enablement: BTreeMap::new(),
        }
    }
}

/// Whether the fragment of unit `id` is read again by another unit, so the read and parse
/// caches keep it: a template's fragment is every instance's. Any other unit's fragment is
/// read by that unit alone.
fn fragment_read_again(id: &str) -> bool {
    id.contains('@')
}

/// A map of the load, sorted (one sort of the entries, then the tree is built in bulk).
fn sorted<V>(map: HashMap<Sym, V>) -> Vec<(Sym, V)> {
    let mut v: Vec<(Sym, V)> = map.into_iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The sorted units as the tree of `UnitSet` keeps them.
fn unboxed(v: Vec<(Sym, Box<Unit>)>) -> BTreeMap<Sym, Unit> {
    v.into_iter().map(|(k, u)| (k, *u)).collect()
}

/// Every path of a load named as systemd names it ([`paths::DeclaredPaths`]).
fn name_declared(d: &mut paths::DeclaredPaths, l: &mut Loader<'_>, edges: &mut [Edge]) {
    for u in l.units.values_mut().chain(l.templates.values_mut()) {
        for f in u.fragment.iter_mut().chain(u.dropins.iter_mut()) {
            d.map(&mut f.path);
        }
        for s in u.settings.iter_mut().chain(u.install.iter_mut()) {
            d.map(&mut s.path);
        }
    }
    for e in edges {
        if let Some(p) = e.provenance.path.as_mut() {
            d.map(p);
        }
    }
    for w in &mut l.warnings {
        if let Some(p) = w.path.as_mut() {
            d.map(p);
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
pub(crate) fn image_facts(tree: &dyn Tree) -> deps::ImageFacts {
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
            .map(super::words::strip)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            // systemd ignores a name longer than HOST_NAME_MAX (64) in /etc/hostname.
            .filter(|l| l.len() <= 64)
            .map(str::to_string)
    });
    let machine_id = read("/etc/machine-id")
        .map(|t| super::words::strip(&t).to_string())
        .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()));
    let os_release = read("/etc/os-release")
        .or_else(|| read("/usr/lib/os-release"))
        .map(|t| {
            t.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| {
                    let v = super::words::strip(v).trim_matches('"');
                    (super::words::strip(k).to_string(), v.to_string())
                })
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
