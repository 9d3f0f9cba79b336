//! The unit search path inside an image (system or user manager), and the layer of each
//! directory.

use super::scope::Scope;
use super::version::Rules;
use crate::tree::{self, ImagePath, NodeKind, Tree};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Who wrote a file, from the directory it sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// The OS vendor: `/usr/lib`, `/lib`.
    Vendor,
    /// Locally installed software: `/usr/local/lib`.
    Local,
    /// The administrator: `/etc`.
    Admin,
    /// Created at run time: `/run`.
    Runtime,
    /// Written at boot by a generator (`/run/systemd/generator*`), emulated from the
    /// image's own files.
    Generator,
}

/// The three directories generators write into, in the order of the search path:
/// `generator.early` (above `/etc`), `generator` (below `/run`), `generator.late` (last).
pub const GENERATOR_DIRS: [&str; 3] = [
    "/run/systemd/generator.early",
    "/run/systemd/generator",
    "/run/systemd/generator.late",
];

impl Layer {
    pub fn of(path: &ImagePath) -> Layer {
        let p = path.as_str();
        // As `ImagePath::starts_with`, without making a path of each directory per call
        // (this runs for every edge of an image).
        let under = |d: &str| p == d || p.strip_prefix(d).is_some_and(|r| r.starts_with('/'));
        if GENERATOR_DIRS.iter().any(|d| under(d)) {
            Layer::Generator
        } else if p == "/etc" || p.starts_with("/etc/") {
            Layer::Admin
        } else if p == "/run" || p.starts_with("/run/") {
            Layer::Runtime
        } else if p.starts_with("/usr/local/") {
            Layer::Local
        } else {
            Layer::Vendor
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Vendor => "vendor",
            Layer::Local => "local",
            Layer::Admin => "admin",
            Layer::Runtime => "runtime",
            Layer::Generator => "generator",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One directory of the search path, as it exists in the image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchDir {
    /// The path systemd is configured with (`/usr/lib/systemd/system`).
    pub declared: ImagePath,
    /// Where it really is inside the image, symlinks resolved (`/usr/lib64/systemd/system`).
    pub physical: ImagePath,
    pub layer: Layer,
}

/// The search path systemd `rules` would use, highest priority first (semantics doc §1.1).
/// Generator directories are left out: generators run at boot, not in an image (see
/// [`declared_search_path_with`]).
pub fn declared_search_path(rules: &Rules) -> Vec<&'static str> {
    declared_search_path_with(rules, false)
}

/// The search path of a user manager (`lookup_paths_init` with `RUNTIME_SCOPE_USER`), the
/// directories an image can hold, highest priority first: a user's own directories
/// (`~/.config/systemd/user`, `$XDG_RUNTIME_DIR/systemd/user`, `~/.local/share/systemd/user`,
/// the control, transient and generator directories) live in a home or runtime directory,
/// not in an image, and are left out. `/etc/xdg/systemd/user` (the default
/// `$XDG_CONFIG_DIRS`) is searched from v246; there is no `/lib/systemd/user` in any version.
pub fn declared_user_search_path(rules: &Rules) -> Vec<&'static str> {
    let mut dirs = Vec::new();
    if rules.version >= 246 {
        dirs.push("/etc/xdg/systemd/user");
    }
    dirs.extend([
        "/etc/systemd/user",
        "/run/systemd/user",
        // $XDG_DATA_DIRS (default /usr/local/share:/usr/share), then the fixed data dirs.
        "/usr/local/share/systemd/user",
        "/usr/share/systemd/user",
        "/usr/local/lib/systemd/user",
        "/usr/lib/systemd/user",
    ]);
    dirs
}

/// The search path of `scope`'s manager ([`declared_search_path_with`] for the system
/// manager, [`declared_user_search_path`] for a user manager, whose generators are not
/// emulated).
pub fn declared_search_path_for(
    rules: &Rules,
    generators: bool,
    scope: Scope,
) -> Vec<&'static str> {
    match scope {
        Scope::System => declared_search_path_with(rules, generators),
        Scope::User => declared_user_search_path(rules),
    }
}

/// [`declared_search_path`], with the generator directories when `generators` (their
/// content is then what the emulated generators wrote).
pub fn declared_search_path_with(rules: &Rules, generators: bool) -> Vec<&'static str> {
    let mut dirs = Vec::new();
    if rules.version >= 230 {
        dirs.extend([
            "/etc/systemd/system.control",
            "/run/systemd/system.control",
            "/run/systemd/transient",
        ]);
    }
    if generators {
        dirs.push(GENERATOR_DIRS[0]);
    }
    dirs.push("/etc/systemd/system");
    if rules.version >= 240 {
        dirs.push("/etc/systemd/system.attached");
    }
    dirs.push("/run/systemd/system");
    if rules.version >= 240 {
        dirs.push("/run/systemd/system.attached");
    }
    if generators {
        dirs.push(GENERATOR_DIRS[1]);
    }
    dirs.push("/usr/local/lib/systemd/system");
    // Debian 12 (rootprefix=/) lists /lib before /usr/lib; both usually resolve to one
    // directory. From v255 there is no /lib entry at all.
    if rules.version < 255 {
        dirs.push("/lib/systemd/system");
    }
    dirs.push("/usr/lib/systemd/system");
    if generators {
        dirs.push(GENERATOR_DIRS[2]);
    }
    dirs
}

/// Resolve the search path inside the image: directories that do not exist are dropped,
/// and directories that resolve to the same physical directory are kept once (first wins).
/// Also returns warnings for search directories that could not be resolved.
pub fn search_dirs(tree: &dyn Tree, rules: &Rules) -> (Vec<SearchDir>, Vec<String>) {
    search_dirs_with(tree, rules, false)
}

/// [`search_dirs`], with the generator directories when `generators`.
pub fn search_dirs_with(
    tree: &dyn Tree,
    rules: &Rules,
    generators: bool,
) -> (Vec<SearchDir>, Vec<String>) {
    search_dirs_for(tree, rules, generators, Scope::System)
}

/// [`search_dirs_with`] for `scope`'s manager.
pub fn search_dirs_for(
    tree: &dyn Tree,
    rules: &Rules,
    generators: bool,
    scope: Scope,
) -> (Vec<SearchDir>, Vec<String>) {
    let mut out: Vec<SearchDir> = Vec::new();
    let mut warnings = Vec::new();
    for declared in declared_search_path_for(rules, generators, scope) {
        let declared = ImagePath::new(declared);
        match tree::stat(tree, &declared) {
            Ok((physical, Some(NodeKind::Dir))) => {
                if out.iter().all(|d| d.physical != physical) {
                    out.push(SearchDir {
                        layer: Layer::of(&declared),
                        declared,
                        physical,
                    });
                }
            }
            Ok(_) | Err(tree::ResolveError::Missing(_)) => {}
            Err(e) => warnings.push(format!("{declared}: {e}")),
        }
    }
    (out, warnings)
}

/// Paths as systemd names them. systemd keeps the first of the search directories that are
/// the same directory (`lookup_paths_reduce`) and names a unit file, drop-in or link by that
/// directory: on Debian 12, whose search path has `/lib/systemd/system` before
/// `/usr/lib/systemd/system` and whose `/lib` links to `usr/lib`, a vendor unit is
/// `/lib/systemd/system/foo.service`. The loader reads through the physical directory;
/// this maps its paths to the declared one. Paths under no search directory stay as they are.
pub struct DeclaredPaths {
    /// (physical, declared) of every search directory, the longest physical path first: a
    /// file belongs to the deepest directory it lies in, moved or not.
    dirs: Vec<(ImagePath, ImagePath)>,
    /// Paths already mapped (those that stay as they are too): one shared copy per file,
    /// however many edges name it.
    seen: HashMap<ImagePath, ImagePath, foldhash::fast::RandomState>,
    /// The last path mapped, and what it became: a file's settings and edges come one after
    /// the other, each with a clone of the file's path (the same shared copy).
    last: Option<(ImagePath, ImagePath)>,
}

impl DeclaredPaths {
    /// `None` when every search directory is where it is declared (nothing to map).
    pub fn new(dirs: &[SearchDir]) -> Option<Self> {
        if dirs.iter().all(|d| d.declared == d.physical) {
            return None;
        }
        let mut all: Vec<(ImagePath, ImagePath)> = dirs
            .iter()
            .map(|d| (d.physical.clone(), d.declared.clone()))
            .collect();
        all.sort_by_key(|(p, _)| std::cmp::Reverse(p.as_str().len()));
        Some(DeclaredPaths {
            dirs: all,
            seen: Default::default(),
            last: None,
        })
    }

    /// `path` (physical, as read) named the way systemd names it.
    pub fn map(&mut self, path: &mut ImagePath) {
        if let Some((from, to)) = &self.last
            && from.is_same_copy(path)
        {
            *path = to.clone();
            return;
        }
        let mapped = match self.seen.get(path) {
            Some(d) => d.clone(),
            None => {
                let mapped = match self.dirs.iter().find(|(p, _)| path.starts_with(p)) {
                    Some((physical, declared)) if physical != declared => {
                        rebase(path, physical, declared)
                    }
                    _ => path.clone(),
                };
                self.seen.insert(path.clone(), mapped.clone());
                mapped
            }
        };
        self.last = Some((std::mem::replace(path, mapped.clone()), mapped));
    }
}

/// `path`, which lies in `from`, moved to the same place in `to`.
fn rebase(path: &ImagePath, from: &ImagePath, to: &ImagePath) -> ImagePath {
    let rest = path.as_str()[from.as_str().len()..].trim_start_matches('/');
    if rest.is_empty() {
        to.clone()
    } else {
        to.join(rest)
    }
}

/// Where a path systemd names under a declared search directory really is (the reverse of
/// [`DeclaredPaths`]), so that two releases' files are matched by where they are:
/// Debian 12's `/lib/systemd/system/foo.service` is Debian 13's
/// `/usr/lib/systemd/system/foo.service`.
pub fn physical<'a>(dirs: &[SearchDir], path: &'a ImagePath) -> std::borrow::Cow<'a, ImagePath> {
    match dirs
        .iter()
        .filter(|d| path.starts_with(&d.declared))
        .max_by_key(|d| d.declared.as_str().len())
    {
        Some(d) if d.declared != d.physical => {
            std::borrow::Cow::Owned(rebase(path, &d.declared, &d.physical))
        }
        _ => std::borrow::Cow::Borrowed(path),
    }
}

#[cfg(test)]
mod declared_tests {
    use super::*;

    fn dir(declared: &str, physical: &str) -> SearchDir {
        SearchDir {
            declared: ImagePath::new(declared),
            physical: ImagePath::new(physical),
            layer: Layer::of(&ImagePath::new(declared)),
        }
    }

    fn mapped(dirs: &[SearchDir], p: &str) -> String {
        let mut path = ImagePath::new(p);
        DeclaredPaths::new(dirs).unwrap().map(&mut path);
        assert_eq!(physical(dirs, &path).as_str(), p, "maps back");
        path.to_string()
    }

    #[test]
    fn files_take_the_deepest_directory_they_lie_in() {
        // /etc/systemd/system -> ../../usr/lib/systemd: a file of /usr/lib/systemd/system
        // stays where it is; one directly in /usr/lib/systemd is /etc's.
        let dirs = [
            dir("/etc/systemd/system", "/usr/lib/systemd"),
            dir("/usr/lib/systemd/system", "/usr/lib/systemd/system"),
        ];
        assert_eq!(
            mapped(&dirs, "/usr/lib/systemd/system/foo.service"),
            "/usr/lib/systemd/system/foo.service"
        );
        assert_eq!(
            mapped(&dirs, "/usr/lib/systemd/bar.service"),
            "/etc/systemd/system/bar.service"
        );
        // A search directory that resolves to the root.
        let dirs = [dir("/etc/systemd/system", "/")];
        assert_eq!(
            mapped(&dirs, "/usr/x.service"),
            "/etc/systemd/system/usr/x.service"
        );
        // Debian 12.
        let dirs = [
            dir("/lib/systemd/system", "/usr/lib/systemd/system"),
            dir("/etc/systemd/system", "/etc/systemd/system"),
        ];
        assert_eq!(
            mapped(&dirs, "/usr/lib/systemd/system/a.service.d/x.conf"),
            "/lib/systemd/system/a.service.d/x.conf"
        );
        assert_eq!(mapped(&dirs, "/opt/a.service"), "/opt/a.service");
    }
}
