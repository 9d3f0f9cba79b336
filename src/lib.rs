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
pub mod reach;
pub mod report;
pub mod thin_str;
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
    /// The image has none of systemd's unit directories.
    #[error(
        "{path}: no systemd {dirs} found in the image{hint} (--allow-empty to accept an \
         empty side)"
    )]
    NotAnOsTree {
        path: String,
        hint: String,
        /// Which directories were looked for (the system or the user manager's).
        dirs: &'static str,
    },
}

/// Load the image rooted at `root` (an extracted directory) with the given rules.
pub fn load_dir(root: &Path, rules: unit::Rules) -> Result<graph::DepGraph, Error> {
    let tree = open_dir(root)?;
    let set = unit::load(&tree, rules);
    let mut g = graph::DepGraph::new(root.display().to_string(), set);
    g.rules_how = "given".to_string();
    Ok(g)
}

pub use tree::input::InputOptions;

/// Load the image rooted at `root` with the rules of the systemd it ships (detected), or
/// with `rules` when given. `root` is anything [`tree::input`] accepts (a directory, an
/// archive, a container or filesystem image, a snapshot).
pub fn open(root: &Path, rules: Option<unit::Rules>) -> Result<graph::DepGraph, Error> {
    open_input_with(root, rules, &[], &InputOptions::default())
}

/// [`open`], also loading the template instances named in `instances` that nothing in the
/// image references (see [`unit::load_with`]), as `systemctl` loads them on demand.
pub fn open_with(
    root: &Path,
    rules: Option<unit::Rules>,
    instances: &[String],
) -> Result<graph::DepGraph, Error> {
    open_input_with(root, rules, instances, &InputOptions::default())
}

/// [`open_with`], with choices for inputs holding several roots (platform, ref, partition).
pub fn open_input_with(
    root: &Path,
    rules: Option<unit::Rules>,
    instances: &[String],
    opts: &InputOptions,
) -> Result<graph::DepGraph, Error> {
    let (input, detected) = detect(root, rules, opts)?;
    Ok(load_detected(root, &input, detected, instances, opts))
}

/// Open the input named `root` (see [`tree::input`]).
pub fn open_input(root: &Path, opts: &InputOptions) -> Result<tree::input::Opened, Error> {
    tree::input::open(root, opts).map_err(|reason| Error::Root {
        path: root.display().to_string(),
        reason,
    })
}

fn detect(
    root: &Path,
    rules: Option<unit::Rules>,
    opts: &InputOptions,
) -> Result<(tree::input::Opened, unit::detect::Detected), Error> {
    let input = open_input(root, opts)?;
    let detected = match rules {
        Some(r) => unit::detect::Detected {
            rules: r,
            how: "--systemd-version".to_string(),
        },
        None => unit::detect::detect(&*input.tree),
    };
    Ok((input, detected))
}

fn load_detected(
    root: &Path,
    input: &tree::input::Opened,
    detected: unit::detect::Detected,
    instances: &[String],
    opts: &InputOptions,
) -> graph::DepGraph {
    let tree = &*input.tree;
    // As a booted system: with the generators' units (emulated), unless told not to. A
    // user manager's generators are listed, not emulated.
    let (mut set, generators) = if opts.scope == unit::Scope::User {
        let mut set = unit::load::load_in(
            tree,
            detected.rules,
            instances,
            false,
            opts.scope,
            opts.contents_as_digests,
        );
        let gopts = unit::generators::Options {
            kernel_cmdline: opts.kernel_cmdline.clone(),
        };
        let report = unit::generators::user_report(tree, &gopts);
        if !opts.no_generators && !report.not_emulated.is_empty() {
            let list: Vec<&str> = report
                .not_emulated
                .iter()
                .map(|n| n.path.as_str())
                .collect();
            set.warnings.push(unit::Warning {
                path: None,
                line: None,
                message: format!(
                    "user generators not emulated (the units they write when a user \
                     manager starts are missing): {}",
                    list.join(", ")
                ),
            });
        }
        (set, (!opts.no_generators).then_some(report))
    } else if opts.no_generators {
        let set = unit::load::load_in(
            tree,
            detected.rules,
            instances,
            false,
            unit::Scope::System,
            opts.contents_as_digests,
        );
        (set, None)
    } else {
        let gopts = unit::generators::Options {
            kernel_cmdline: opts.kernel_cmdline.clone(),
        };
        let (set, report) = unit::generators::load(
            tree,
            detected.rules,
            instances,
            &gopts,
            opts.contents_as_digests,
        );
        (set, Some(report))
    };
    if let Some(caveat) = detected.caveat() {
        set.warnings.insert(
            0,
            unit::Warning {
                path: None,
                line: None,
                message: caveat,
            },
        );
    }
    let name = match &input.description {
        Some(d) => format!("{} ({d})", root.display()),
        None => root.display().to_string(),
    };
    let mut g = graph::DepGraph::new(name, set);
    g.rules_how = detected.how;
    g.generators = generators;
    for w in &input.warnings {
        g.set.warnings.push(unit::Warning {
            path: None,
            line: None,
            message: format!("input: {w}"),
        });
    }
    // Only layered images (OCI, docker) have layers to name: resolving every path of a
    // directory tree to find none would cost a path walk per edge.
    if input
        .mem
        .as_ref()
        .is_some_and(|m| !m.image_layers().is_empty())
    {
        g.attach_image_layers(tree);
    }
    g
}

/// Fail unless the loaded image has a systemd unit directory at all: an empty directory, or
/// the directory above the real root, is not an OS tree, and comparing it would report
/// every unit as added or removed. When `root` is a directory, a subdirectory that looks like
/// the real root is named in the error.
pub fn require_unit_dirs(g: &graph::DepGraph, root: &Path) -> Result<(), Error> {
    if g.set
        .search_dirs
        .iter()
        .any(|d| d.layer != unit::Layer::Generator)
    {
        return Ok(());
    }
    Err(Error::NotAnOsTree {
        dirs: match g.set.scope {
            unit::Scope::System => {
                "unit directory (/etc/systemd/system, /usr/lib/systemd/system, …)"
            }
            unit::Scope::User => {
                "user unit directory (/etc/systemd/user, /usr/lib/systemd/user, …)"
            }
        },
        path: g.root.clone(),
        hint: root_below(root, g.set.scope)
            .map(|sub| format!("; did you mean {}?", sub.display()))
            .unwrap_or_default(),
    })
}

/// A subdirectory of the directory `root` (one level down, a bounded number looked at) that
/// has a systemd unit directory: the real root, when the user named the one above it.
fn root_below(root: &Path, scope: unit::Scope) -> Option<std::path::PathBuf> {
    use tree::{ImagePath, NodeKind, Tree};
    let t = tree::dir::DirTree::open(root).ok()?;
    let top = t.read_dir(&ImagePath::root()).ok()?;
    let dirs = top.iter().filter(|(_, k)| *k == NodeKind::Dir).take(1000);
    let probes = unit::paths::declared_search_path_for(&unit::Rules::default(), false, scope);
    dirs.map(|(name, _)| name)
        .find(|name| {
            probes.iter().any(|d| {
                let p = ImagePath::new(&format!("/{name}{d}"));
                matches!(tree::stat(&t, &p), Ok((_, Some(NodeKind::Dir))))
            })
        })
        .map(|name| root.join(name))
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
    compare_with(old, new, old_rules, new_rules, &InputOptions::default())
}

/// [`compare`] with choices for inputs holding several roots (applied to both sides).
pub fn compare_with(
    old: &Path,
    new: &Path,
    old_rules: Option<unit::Rules>,
    new_rules: Option<unit::Rules>,
    opts: &InputOptions,
) -> Result<Comparison, Error> {
    // Reading an archive or image takes a while: open both sides at once.
    let (o, n) = std::thread::scope(|s| {
        let o = s.spawn(|| detect(old, old_rules, opts));
        let n = detect(new, new_rules, opts);
        (o.join().expect("reader thread"), n)
    });
    let (old_tree, old_detected) = o?;
    let (new_tree, new_detected) = n?;
    let upgrade = (old_detected.rules != new_detected.rules).then(|| unit::detect::Detected {
        rules: old_detected.rules,
        how: "the old side's version".to_string(),
    });
    // The loads are independent: run them on separate threads.
    let (og, ng, new_as_old) = std::thread::scope(|s| {
        let o = s.spawn(|| load_detected(old, &old_tree, old_detected, &[], opts));
        let a = upgrade.map(|d| s.spawn(|| load_detected(new, &new_tree, d, &[], opts)));
        let n = load_detected(new, &new_tree, new_detected, &[], opts);
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
