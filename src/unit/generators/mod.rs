//! Generators, emulated offline from the image's own files (docs/semantics.md,
//! "Generators per version, inputs and outputs").
//!
//! At boot, systemd runs the programs in `…/system-generators/` before it loads units; they
//! write units and links into `/run/systemd/generator{.early,,.late}`. We run the ones we
//! know (one file each) against the image, producing those directories in memory, and the
//! loader reads them as the `generator` layer of the search path. Every generated line and
//! link remembers what made it (the generator, the input file and line, e.g.
//! `/etc/fstab:4`), and [`attribute`] puts that on the edges. A generator is emulated only
//! when its binary is in the image, as on the booted system. Generators we cannot emulate (a
//! package's own, or systemd's that need the boot disk or firmware) are reported, once per
//! image, so a user knows what the graph lacks.

mod clonesetup;
mod cryptsetup;
mod debug;
mod fs_hooks;
mod fstab;
mod getty;
mod integritysetup;
mod mntent;
mod path_names;
mod rc_local;
mod run;
mod ssh;
mod system_update;
mod sysv;
mod tab;
mod veritysetup;

use super::model::{Provenance, UnitSet, Warning};
use super::paths::{self, GENERATOR_DIRS, Layer};
use super::version::Rules;
use super::words;
use crate::tree::mem::{Entry, MemTree};
use crate::tree::{self, ImagePath, NodeKind, Tree};
use crate::unit::rule_name::GeneratorName;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What the user tells us of the boot the generators would see.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The kernel command line (`--kernel-cmdline`), empty by default.
    pub kernel_cmdline: String,
}

/// Which of the three generator directories a file goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Early,
    Normal,
    Late,
}

impl Dir {
    fn path(self) -> &'static str {
        match self {
            Dir::Early => GENERATOR_DIRS[0],
            Dir::Normal => GENERATOR_DIRS[1],
            Dir::Late => GENERATOR_DIRS[2],
        }
    }
}

/// What made a generated line or link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub generator: GeneratorName,
    /// The image file the generator read (`/etc/fstab`), if any.
    pub input: Option<ImagePath>,
    /// Its line.
    pub line: Option<u32>,
}

/// A generator present in the image that we do not emulate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotEmulated {
    pub path: ImagePath,
    pub reason: &'static str,
}

/// What the JSON and text reports say of the generators of one image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Generators emulated (their binaries are in the image), by systemd name.
    pub emulated: Vec<&'static str>,
    /// Generators in the image whose output the graph lacks.
    pub not_emulated: Vec<NotEmulated>,
    /// The kernel command line the emulation assumed.
    pub kernel_cmdline: String,
}

/// The generated directories, in memory, with the source of every line and link.
pub struct Generated {
    pub tree: MemTree,
    /// Generated file → the source of each line (index = line - 1).
    lines: HashMap<ImagePath, Vec<Source>>,
    /// Generated symlink → its source.
    links: HashMap<ImagePath, Source>,
    pub report: Report,
    pub warnings: Vec<String>,
    /// What the running generator's emulation left out (see [`Out::skipped`]).
    skipped: Vec<&'static str>,
}

/// What a generator module gets: the image, the rules, the options, and a writer.
pub(crate) struct Ctx<'a> {
    pub tree: &'a dyn Tree,
    pub rules: Rules,
    pub cmdline: &'a str,
    /// The image's search path without generator directories.
    dirs: Vec<paths::SearchDir>,
}

impl Ctx<'_> {
    /// Whether a unit file (or mask) of this name exists in the search path.
    pub fn unit_exists(&self, name: &str) -> bool {
        self.dirs.iter().any(|d| {
            matches!(
                tree::stat(self.tree, &d.physical.join(name)),
                Ok((_, Some(_)))
            ) || matches!(
                self.tree.lstat(&d.physical.join(name)),
                Ok(Some(NodeKind::Symlink))
            )
        })
    }

    /// The declared path of the vendor unit directory (for link targets).
    pub fn vendor_dir(&self) -> &'static str {
        if self.rules.version < 255 && self.exists("/lib/systemd/system") {
            "/lib/systemd/system"
        } else {
            "/usr/lib/systemd/system"
        }
    }

    /// Whether a path exists in the image (symlinks followed).
    pub fn exists(&self, path: &str) -> bool {
        matches!(
            tree::stat(self.tree, &ImagePath::new(path)),
            Ok((_, Some(_)))
        )
    }

    /// A regular file's content (at most 1 MiB), symlinks followed inside the image.
    pub fn read(&self, path: &str) -> Option<(ImagePath, String)> {
        let declared = ImagePath::new(path);
        let (p, kind) = tree::stat(self.tree, &declared).ok()?;
        if kind != Some(NodeKind::File) {
            return None;
        }
        let bytes = self.tree.read_file(&p, 1024 * 1024).ok()?;
        Some((declared, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// An executable found in the image's `$PATH` (the manager's default).
    pub fn find_executable(&self, name: &str) -> bool {
        [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
        ]
        .iter()
        .any(|d| {
            matches!(
                tree::stat(self.tree, &ImagePath::new(d).join(name)),
                Ok((_, Some(NodeKind::File)))
            )
        })
    }

    /// The words of the kernel command line as systemd's `proc_cmdline_parse()` hands them to
    /// a generator outside the initrd: split at whitespace with quotes removed
    /// (`systemd.run="echo hi"` is one word), words starting with `rd.` dropped (they are
    /// for the initrd), each with its position (1-based) for provenance. Bounded: at most
    /// [`MAX_CMDLINE_WORDS`] words of a command line of at most [`MAX_CMDLINE`] bytes.
    pub fn cmdline_items(&self) -> Vec<Word> {
        tab::split_cmdline(self.cmdline)
            .into_iter()
            .enumerate()
            .filter(|(_, w)| !w.starts_with("rd."))
            .map(|(i, w)| {
                let (key, value) = match w.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (w, None),
                };
                Word {
                    pos: i as u32 + 1,
                    key,
                    value,
                }
            })
            .collect()
    }

    /// The source of what a command-line word made: `/proc/cmdline`, the word's position as
    /// its "line".
    pub fn cmdline_source(&self, generator: GeneratorName, pos: u32) -> Source {
        Source {
            generator,
            input: Some(ImagePath::new("/proc/cmdline")),
            line: Some(pos),
        }
    }

    /// The words of the kernel command line (`key` or `key=value`).
    pub fn cmdline_words(&self) -> Vec<(&str, Option<&str>)> {
        crate::unit::words::split(self.cmdline)
            .map(|w| match w.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (w, None),
            })
            .collect()
    }
}

/// Longest kernel command line considered (Linux allows 2,048 bytes on x86, 4,096 on some
/// architectures; `--kernel-cmdline` is the user's, this bounds it all the same).
pub(crate) const MAX_CMDLINE: usize = 64 * 1024;
/// Most words of the kernel command line considered.
pub(crate) const MAX_CMDLINE_WORDS: usize = 4096;

/// A word of the kernel command line (see [`Ctx::cmdline_items`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    /// Its position on the command line, 1-based (rd. words counted).
    pub pos: u32,
    pub key: String,
    pub value: Option<String>,
}

/// One generated unit file under construction: lines with their sources.
pub(crate) struct UnitText {
    lines: Vec<(String, Source)>,
}

impl UnitText {
    pub fn new() -> Self {
        UnitText { lines: Vec::new() }
    }
    pub fn line(&mut self, text: impl Into<String>, src: &Source) {
        self.lines.push((text.into(), src.clone()));
    }
}

/// Where generator modules write.
pub(crate) struct Out<'a> {
    g: &'a mut Generated,
}

/// Most files one emulation may write (an image can list many fstab entries or init
/// scripts; this bounds the work).
const MAX_GENERATED: usize = 20_000;

/// Most warnings the generators give for one image (a hostile fstab can have 100,000 bad
/// lines).
const MAX_WARNINGS: usize = 100;

impl Out<'_> {
    fn full(&mut self) -> bool {
        if self.g.lines.len() + self.g.links.len() >= MAX_GENERATED {
            if !self
                .g
                .warnings
                .iter()
                .any(|w| w.contains("generated files"))
            {
                self.g.warnings.push(format!(
                    "generators: more than {MAX_GENERATED} generated files; the rest are left out"
                ));
            }
            return true;
        }
        false
    }

    /// Whether the emulation already wrote this file or link (`fopen(…, "wx")` fails then).
    pub fn has(&self, dir: Dir, name: &str) -> bool {
        let path = ImagePath::new(dir.path()).join(name);
        self.g.tree.lstat(&path).ok().flatten().is_some()
    }

    /// Record that part of this generator's input is not emulated (listed with the
    /// generator in the report, so a user knows what the graph lacks).
    pub fn skipped(&mut self, what: &'static str) {
        if !self.g.skipped.contains(&what) {
            self.g.skipped.push(what);
        }
    }

    /// Warn about an input line the generator skips, as systemd logs it (one line, the
    /// input and its line first); at most [`MAX_WARNINGS`] per image.
    pub fn warn(&mut self, src: &Source, message: String) {
        if self.g.warnings.len() >= MAX_WARNINGS {
            return;
        }
        let place = match (&src.input, src.line) {
            (Some(p), Some(l)) => format!("{p}:{l}: "),
            (Some(p), None) => format!("{p}: "),
            _ => String::new(),
        };
        self.g
            .warnings
            .push(format!("{}: {place}{message}", src.generator.as_str()));
    }

    /// Write a unit file (or drop-in: `name` may be `x.device.d/50-y.conf`).
    pub fn unit(&mut self, dir: Dir, name: &str, text: UnitText) {
        if self.full() {
            return;
        }
        let path = ImagePath::new(dir.path()).join(name);
        if path.parent().map(|p| p.as_str().to_string()) != Some(dir.path().to_string())
            && !(name.contains(".d/") && path.starts_with(&ImagePath::new(dir.path())))
        {
            return;
        }
        let mut body = String::new();
        let mut sources = Vec::new();
        for (l, s) in text.lines {
            body.push_str(&l);
            body.push('\n');
            sources.push(s);
        }
        let data: std::sync::Arc<[u8]> = body.into_bytes().into();
        let entry = Entry::File {
            size: data.len() as u64,
            data: Some(data),
        };
        if self.g.tree.insert(&path, entry).is_ok() {
            self.g.lines.insert(path, sources);
        }
    }

    /// Write a symlink `dir/link` → `target` (`local-fs.target.wants/x.mount` → `../x.mount`).
    pub fn link(&mut self, dir: Dir, link: &str, target: &str, src: &Source) {
        if self.full() {
            return;
        }
        let path = ImagePath::new(dir.path()).join(link);
        if !path.starts_with(&ImagePath::new(dir.path())) {
            return;
        }
        if self.g.tree.lstat(&path).ok().flatten().is_some() {
            return; // first writer wins, as with symlink() and EEXIST
        }
        if self
            .g
            .tree
            .insert(&path, Entry::Symlink(target.to_string()))
            .is_ok()
        {
            self.g.links.insert(path, src.clone());
        }
    }
}

/// The generators we emulate: systemd's binary name, and the function.
type Emulator = fn(&Ctx, &mut Out);

const EMULATED: &[(&str, Emulator)] = &[
    ("systemd-clonesetup-generator", clonesetup::run),
    ("systemd-cryptsetup-generator", cryptsetup::run),
    ("systemd-debug-generator", debug::run),
    ("systemd-fstab-generator", fstab::run),
    ("systemd-getty-generator", getty::run),
    ("systemd-integritysetup-generator", integritysetup::run),
    ("systemd-rc-local-generator", rc_local::run),
    ("systemd-run-generator", run::run),
    ("systemd-ssh-generator", ssh::run),
    ("systemd-system-update-generator", system_update::run),
    ("systemd-sysv-generator", sysv::run),
    ("systemd-veritysetup-generator", veritysetup::run),
];

/// systemd's generators that write nothing unless an input exists: the input files and
/// kernel command-line keys that would make them write. Absent inputs = emulated (nothing).
const QUIET_UNLESS: &[(&str, &[&str], &[&str])] = &[
    (
        "systemd-hibernate-resume-generator",
        &[],
        &["resume", "resume_offset"],
    ),
    (
        "systemd-factory-reset-generator",
        &[],
        &["systemd.factory_reset"],
    ),
    (
        "systemd-import-generator",
        &[],
        &["systemd.pull", "rd.systemd.pull"],
    ),
];

/// systemd's generators that read the machine (disk, firmware, TPM), not the image.
const MACHINE: &[&str] = &[
    "systemd-gpt-auto-generator",
    "systemd-bless-boot-generator",
    "systemd-tpm2-generator",
    "systemd-imds-generator",
];

/// Where generators are installed (`generator_binary_paths`, system scope).
const BINARY_DIRS: [&str; 5] = [
    "/run/systemd/system-generators",
    "/etc/systemd/system-generators",
    "/usr/local/lib/systemd/system-generators",
    "/usr/lib/systemd/system-generators",
    "/lib/systemd/system-generators",
];

/// Most generator binaries listed per image.
const MAX_BINARIES: usize = 1000;

/// Run the emulated generators against the image.
pub fn run(tree: &dyn Tree, rules: &Rules, opts: &Options) -> Generated {
    let mut g = Generated {
        tree: MemTree::new("generated"),
        lines: HashMap::new(),
        links: HashMap::new(),
        report: Report {
            kernel_cmdline: opts.kernel_cmdline.clone(),
            ..Report::default()
        },
        warnings: Vec::new(),
        skipped: Vec::new(),
    };
    for d in GENERATOR_DIRS {
        let _ = g.tree.insert(&ImagePath::new(d), Entry::Dir);
    }
    let (dirs, _) = paths::search_dirs(tree, rules);
    let ctx = Ctx {
        tree,
        rules: *rules,
        cmdline: &opts.kernel_cmdline,
        dirs,
    };
    let binaries = binaries(tree, &BINARY_DIRS);
    let words = ctx.cmdline_words();
    for (name, path) in &binaries {
        if path.as_str() == "/dev/null" {
            continue;
        }
        if let Some((gen_name, f)) = EMULATED.iter().find(|(n, _)| n == name) {
            let mut out = Out { g: &mut g };
            f(&ctx, &mut out);
            g.report.emulated.push(gen_name);
            for reason in std::mem::take(&mut g.skipped) {
                g.report.not_emulated.push(NotEmulated {
                    path: path.clone(),
                    reason,
                });
            }
            continue;
        }
        if let Some((gen_name, files, keys)) = QUIET_UNLESS.iter().find(|(n, _, _)| n == name) {
            let file_input = files.iter().any(|f| {
                ctx.read(f).is_some_and(|(_, c)| {
                    c.lines()
                        .any(|l| !words::strip(l).is_empty() && !words::strip(l).starts_with('#'))
                })
            });
            let cmd_input = words.iter().any(|(k, _)| {
                keys.iter()
                    .any(|key| k == key || k.starts_with(&format!("{key}.")))
            });
            if file_input || cmd_input {
                g.report.not_emulated.push(NotEmulated {
                    path: path.clone(),
                    reason: "systemd's, with inputs in this image or command line that unitdiff does not emulate",
                });
            } else {
                g.report.emulated.push(gen_name);
            }
            continue;
        }
        let reason = if MACHINE.contains(&name.as_str()) {
            "systemd's, reads the machine (disk, firmware, TPM), not the image"
        } else if name.starts_with("systemd-") {
            "systemd's, not emulated"
        } else {
            "a package's own generator, not emulated"
        };
        g.report.not_emulated.push(NotEmulated {
            path: path.clone(),
            reason,
        });
    }
    g.report.emulated.sort();
    g.report.not_emulated.sort();
    g
}

/// Where a user manager's generators are installed (`generator_binary_paths`, user scope).
const USER_BINARY_DIRS: [&str; 4] = [
    "/run/systemd/user-generators",
    "/etc/systemd/user-generators",
    "/usr/local/lib/systemd/user-generators",
    "/usr/lib/systemd/user-generators",
];

/// What a user manager's generators would add: none is emulated, each one in the image is
/// listed (e.g. `systemd-xdg-autostart-generator`, whose units come from
/// `/etc/xdg/autostart`).
pub fn user_report(tree: &dyn Tree, opts: &Options) -> Report {
    let mut report = Report {
        kernel_cmdline: opts.kernel_cmdline.clone(),
        ..Report::default()
    };
    for path in binaries(tree, &USER_BINARY_DIRS).into_values() {
        if path.as_str() == "/dev/null" {
            continue;
        }
        report.not_emulated.push(NotEmulated {
            path,
            reason: "a user manager's generator, not emulated",
        });
    }
    report.not_emulated.sort();
    report
}

/// Every generator binary in `dirs`, first directory wins per name (as systemd's
/// execute_directories), the same physical directory counted once; a masked one maps to
/// `/dev/null`.
fn binaries(tree: &dyn Tree, dirs: &[&str]) -> BTreeMap<String, ImagePath> {
    let mut binaries: BTreeMap<String, ImagePath> = BTreeMap::new();
    let mut seen_dirs = Vec::new();
    for d in dirs.iter().copied() {
        let Ok((phys, Some(NodeKind::Dir))) = tree::stat(tree, &ImagePath::new(d)) else {
            continue;
        };
        if seen_dirs.contains(&phys) {
            continue;
        }
        seen_dirs.push(phys.clone());
        let Ok(entries) = tree.read_dir(&phys) else {
            continue;
        };
        for (name, kind) in entries {
            if binaries.len() >= MAX_BINARIES {
                break;
            }
            if name.starts_with('.') || kind == NodeKind::Dir {
                continue;
            }
            // A link to /dev/null or an empty file masks the generator.
            let path = ImagePath::new(d).join(&name);
            let masked = match kind {
                NodeKind::Symlink => tree
                    .read_link(&phys.join(&name))
                    .is_ok_and(|t| t == "/dev/null"),
                NodeKind::File => tree.is_empty_file(&phys.join(&name)).unwrap_or(false),
                _ => false,
            };
            binaries.entry(name).or_insert(if masked {
                ImagePath::new("/dev/null")
            } else {
                path
            });
        }
    }
    binaries
}

impl Generated {
    /// The image with the generated directories laid over it.
    pub fn overlay<'a>(&'a self, base: &'a dyn Tree) -> tree::overlay::Overlay<'a> {
        tree::overlay::Overlay::new(
            base,
            &self.tree,
            GENERATOR_DIRS.iter().map(|d| ImagePath::new(d)).collect(),
        )
    }

    /// The generated files and links one generator wrote, relative to their directory
    /// (`local-fs.target.wants/x.mount`), sorted.
    pub fn written_by(&self, generator: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .filter(|(_, v)| v.first().is_some_and(|s| s.generator == generator))
            .map(|(p, _)| p)
            .chain(
                self.links
                    .iter()
                    .filter(|(_, s)| s.generator == generator)
                    .map(|(p, _)| p),
            )
            .filter_map(|p| {
                GENERATOR_DIRS.iter().find_map(|d| {
                    p.as_str()
                        .strip_prefix(d)
                        .and_then(|r| r.strip_prefix('/'))
                        .map(str::to_string)
                })
            })
            .collect();
        out.sort();
        out
    }

    fn source_of(&self, p: &Provenance) -> Option<&Source> {
        let path = p.path.as_ref()?;
        match p.line {
            Some(l) => self
                .lines
                .get(path)
                .and_then(|v| v.get((l as usize).checked_sub(1)?)),
            None => self.links.get(path),
        }
    }

    /// Put the generators' sources on the edges they made, and their warnings on the set.
    pub fn attribute(&self, set: &mut UnitSet) {
        for e in &mut set.edges {
            let p = &mut e.provenance;
            if p.path
                .as_ref()
                .is_none_or(|path| Layer::of(path) != Layer::Generator)
            {
                continue;
            }
            if let Some(src) = self.source_of(p) {
                p.generator = Some(src.generator);
                p.layer = Some(Layer::Generator);
                if let Some(input) = &src.input {
                    p.path = Some(input.clone());
                    p.line = src.line;
                }
            }
        }
        for w in &self.warnings {
            set.warnings.push(Warning {
                path: None,
                line: None,
                message: w.clone(),
            });
        }
        if !self.report.not_emulated.is_empty() {
            let list: Vec<&str> = self
                .report
                .not_emulated
                .iter()
                .map(|n| n.path.as_str())
                .collect();
            set.warnings.push(Warning {
                path: None,
                line: None,
                message: format!(
                    "generators not emulated (the units they write at boot are missing): {}",
                    list.join(", ")
                ),
            });
        }
    }
}

/// Load the image with the emulated generators' output in the search path (`digests`: keep
/// only the SHA-256 of each unit file, see [`crate::unit::Content`]).
pub fn load(
    tree: &dyn Tree,
    rules: Rules,
    instances: &[String],
    opts: &Options,
    digests: bool,
) -> (UnitSet, Report) {
    let g = run(tree, &rules, opts);
    let overlay = g.overlay(tree);
    let mut set = super::load::load_in(
        &overlay,
        rules,
        instances,
        true,
        super::scope::Scope::System,
        digests,
    );
    g.attribute(&mut set);
    (set, g.report)
}

/// `x-systemd.foo=` values, the `key=value` options of a comma list.
pub(crate) fn options(opts: &str) -> Vec<(&str, Option<&str>)> {
    opts.split(',')
        .filter(|o| !o.is_empty())
        .map(|o| match o.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (o, None),
        })
        .collect()
}
