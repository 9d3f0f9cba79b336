//! Test oracle: run the real systemd (252, `/lib/systemd/systemd`) in `--test` mode on a
//! root-filesystem fixture and parse the unit dump it prints.
//!
//! # How it runs
//!
//! 1. The fixture is copied into a fresh temp dir under `/tmp` (`<base>/root`), made world
//!    readable (dirs 0755, files `mode | 0444`). systemd refuses to run as root (and then prints
//!    nothing), so it runs as `nobody` through `setpriv`, and `nobody` cannot read `/root`.
//!    * Directories and symlinks are always recreated. **Absolute** symlink targets are rewritten
//!      into relative ones pointing at the same in-image path inside the copy
//!      (`/usr/lib/x` from `etc/systemd/system/a.service` becomes `../../../usr/lib/x`), because
//!      an absolute link would point into the host. Targets under `/dev` (normally `/dev/null`,
//!      i.e. masks) are kept verbatim. Relative targets are copied verbatim.
//!    * Regular files are copied only if they lie (physically, in-image) under a search directory
//!      or under the resolved target of a symlink found under an already-needed directory
//!      (iterated to a fixpoint). That is everything systemd can open: fragments, drop-ins,
//!      linked unit files outside the search path. It keeps full-OS fixtures cheap.
//!      [`OracleOptions::copy_all`] copies every regular file instead.
//!    * FIFOs, sockets and device nodes are skipped.
//! 2. `search_dirs` are resolved *inside the image* (symlinks followed, `..` clamped at the image
//!    root). Missing ones are skipped; ones that resolve to the same directory are given once, at
//!    the position of the first, under the **resolved** path. So on a merged-usr image
//!    `/lib/systemd/system` is reported as `/usr/lib/systemd/system` (real Debian 12 would say
//!    `/lib/...`, see systemd-semantics.md §1.2). [`OracleRun::search_path`] lists what was used.
//! 3. A stub directory `<base>/stub` is appended as the last (lowest-priority) entry of
//!    `SYSTEMD_UNIT_PATH` (no trailing `:`, so no host units and no generator dirs get in). It
//!    holds `unitdiff-oracle.target` (`DefaultDependencies=no`, `Wants=` every wanted unit, 32 per
//!    line, `%` escaped as `%%`) and, when [`OracleOptions::add_stubs`] is on (the default), a stub
//!    for each of [`BASE_STUBS`] that no search directory of the copy has an entry for (any
//!    directory entry counts, even a dangling symlink or mask).
//! 4. `setpriv --reuid=65534 --regid=65534 --clear-groups -- /lib/systemd/systemd --test --system
//!    --unit=unitdiff-oracle.target --no-pager` with a cleared environment (`PATH`, `HOME=/tmp`,
//!    `LANG=C.UTF-8`, `SYSTEMD_UNIT_PATH`), stdout/stderr captured into files, killed after
//!    [`OracleOptions::timeout`] (60 s). If we are not root, systemd is started directly.
//!    The temp dir is removed afterwards unless `UNITDIFF_ORACLE_KEEP` is set in the environment
//!    (then its path is printed to stderr, for poking at the copy and `dump.txt`).
//!
//! # Stubs: which and why
//!
//! [`BASE_STUBS`] = sysinit, basic, shutdown, sockets, timers, paths, local-fs, local-fs-pre,
//! swap, umount (`.target`), as in systemd-semantics.md Appendix B. Experiment with 252.38: with
//! *our* anchor (it only `Wants=` things, and has no default dependencies) the dump is printed even
//! with **no** stubs at all; a missing `sysinit.target` only makes the wanted service's start job
//! fail, which a `Wants=` anchor tolerates. (The "Unit sysinit.target not found" abort of
//! Appendix B happens when the anchor itself *requires* the chain.) No other unit was ever
//! needed: `-.slice`, `system.slice`, `init.scope` and `-.mount` are perpetual and synthesised.
//! Stubs are still added by default, as briefed, but they are written as
//! `[Unit]\nDescription=unitdiff oracle stub\nDefaultDependencies=no\n`, so they carry **no edges
//! of their own** and do not trigger target auto-ordering (systemd adds `T After=U` only when both
//! sides have default dependencies). What a stub still changes versus an image that really lacks
//! the unit: its load state is `loaded` instead of `not-found`, and its fragment is
//! `<stub>/NAME`. Their names are in [`OracleRun::stub_units`]; real images ship all of them.
//!
//! # Dump format observed (systemd 252.38-1~deb12u1)
//!
//! stdout starts with `-> By units:` (column 0), then one block per unit (each unit once; alias
//! names only appear as `Alias:` lines), then `-> By jobs:` (column 0) and job blocks. Unit
//! properties are indented by exactly two tabs; nested blocks (`-> Job N:`, `-> ExecStart:`)
//! start with `\t\t-> ` and their contents use three tabs. Lines (`⇥` = tab):
//!
//! ```text
//! -> By units:
//! ⇥-> Unit b.service:                          (v257 prints `⇥→ Unit b.service:`; both accepted)
//! ⇥⇥Alias: balias.service                      (first lines of the block; one per alias name)
//! ⇥⇥Description: b.service
//! ⇥⇥Unit Load State: loaded                    (loaded | not-found | masked | error | bad-setting)
//! ⇥⇥Fragment Path: /tmp/…/lib/b.service        (absent for not-found and fileless units;
//!                                               for masks it is the symlink's own path)
//! ⇥⇥DropIn Path: /tmp/…/lib/a.service.d/10-x.conf   (repeated, in load order)
//! ⇥⇥Requires: sysinit.target (origin-default)
//! ⇥⇥WantedBy: a.service (destination-file)
//! ⇥⇥After: y.service (origin-file destination-file)      (forward and inverse on one line)
//! ⇥⇥References: system.slice (origin-file origin-slice-property)
//! ⇥⇥InSlice: system.slice (origin-slice-property)
//! ⇥⇥RequiresMountsFor: /var/lib/foo (origin-file)        (a path, not a unit: not parsed)
//! ⇥⇥-> Job 5:
//! ⇥⇥⇥Action: b.service -> start
//! -> By jobs:
//! ```
//!
//! A dependency line is `⇥⇥KIND: TARGET (MASKS)`; MASKS is a space-separated list of
//! `origin-NAME` then `destination-NAME` tokens, NAME one of `file implicit default udev path
//! mount-file mountinfo proc-swap slice-property`. KIND is one of [`DEP_KINDS`] (the 31 names of
//! 252's `unit_dependency_table`; the parser keys on this list so that e.g.
//! `Description: Hello (origin-file)` is not mistaken for an edge). Within a unit each
//! (KIND, TARGET) appears once, in hash order (we sort).
//!
//! What [`OracleUnit::deps`] keeps: only entries with at least one `origin-*` token, i.e. the
//! forward edges stored on the owning unit (an entry carrying both origin and destination masks is
//! kept, with both lists). Destination-only entries (the inverses: `WantedBy`, `RequiredBy`,
//! `Before` mirrored from someone's `After`, …), `References`/`ReferencedBy`, and
//! `RequiresMountsFor` are dropped. Everything is still in [`OracleRun::raw`].
//!
//! Other observations:
//! * Not-found units appear as full blocks with `Unit Load State: not-found`, no `Fragment Path`,
//!   and (usually) only destination entries; edges *to* them live on the referencing unit.
//! * Masked units show `Fragment Path:` = the mask symlink and load state `masked`.
//! * Linked unit files (search-dir symlink to a file outside the search path) load under the
//!   symlink name with the symlink as `Fragment Path`. Instances show the template as fragment.
//! * **Host artefacts**: the manager enumerates the host's `/proc/self/mountinfo` and devices, so
//!   host `.mount` units (edges with `origin-mountinfo`), `.device` units (e.g. `dev-vda.device`)
//!   and not-found stubs for every prefix mount (`mnt.mount`, …) appear. `RequiresMountsFor=`
//!   likewise creates not-found `var.mount`, `var-lib.mount`, … They are **kept**; tests filter
//!   them (see [`OracleDep::is_host_only`], [`OracleUnit::is_host_synthesised`]).
//! * Paths are mapped back: `<base>/root/X` → `/X`, `<base>/stub/X` → `<stub>/X`. `raw` is left
//!   verbatim (temp paths included).
//! * `unitdiff-oracle.target` is removed from `units` and any edge to it is dropped.
//! * stderr normally contains the version banner, `Detected virtualization …`, a harmless
//!   `Failed to parse $SYSTEMD_GETTY_AUTO environment variable, ignoring: Permission denied`,
//!   and `Loaded units and determined initial transaction in …`, plus unit-file warnings.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The systemd binary that is run.
pub const SYSTEMD_BIN: &str = "/lib/systemd/systemd";
/// Name of the synthetic start target.
pub const ORACLE_TARGET: &str = "unitdiff-oracle.target";
/// Prefix used for paths inside the stub directory.
pub const STUB_PREFIX: &str = "<stub>";
/// Base units stubbed when no search directory of the copy has them.
pub const BASE_STUBS: &[&str] = &[
    "sysinit.target",
    "basic.target",
    "shutdown.target",
    "sockets.target",
    "timers.target",
    "paths.target",
    "local-fs.target",
    "local-fs-pre.target",
    "swap.target",
    "umount.target",
];
/// Body of every base stub: non-empty, and without default dependencies so it adds no edges.
pub const STUB_BODY: &str = "[Unit]\nDescription=unitdiff oracle stub\nDefaultDependencies=no\n";
/// Dependency kinds as printed by systemd 252 (`unit_dependency_table`).
pub const DEP_KINDS: &[&str] = &[
    "Requires",
    "Requisite",
    "Wants",
    "BindsTo",
    "PartOf",
    "Upholds",
    "RequiredBy",
    "RequisiteOf",
    "WantedBy",
    "BoundBy",
    "UpheldBy",
    "ConsistsOf",
    "Conflicts",
    "ConflictedBy",
    "Before",
    "After",
    "OnSuccess",
    "OnSuccessOf",
    "OnFailure",
    "OnFailureOf",
    "Triggers",
    "TriggeredBy",
    "PropagatesReloadTo",
    "ReloadPropagatedFrom",
    "PropagatesStopTo",
    "StopPropagatedFrom",
    "JoinsNamespaceOf",
    "References",
    "ReferencedBy",
    "InSlice",
    "SliceOf",
];
/// Origin/destination mask names that come from the running host, not from unit files.
pub const HOST_MASKS: &[&str] = &["udev", "mountinfo", "proc-swap"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OracleDep {
    /// Dependency kind as printed, e.g. "Requires", "After", "InSlice", "Triggers".
    pub kind: String,
    pub target: String,
    /// `origin-*` mask names without the prefix, e.g. ["file"], ["default", "implicit"].
    pub origin: Vec<String>,
    /// `destination-*` mask names without the prefix.
    pub destination: Vec<String>,
}

impl OracleDep {
    /// True if every origin mask comes from the running host (udev, mountinfo, proc-swap).
    pub fn is_host_only(&self) -> bool {
        !self.origin.is_empty() && self.origin.iter().all(|o| HOST_MASKS.contains(&o.as_str()))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleUnit {
    pub name: String,
    pub load_state: String,
    /// In-image absolute path (copy prefix stripped), or `<stub>/NAME`.
    pub fragment: Option<String>,
    /// In-image paths, in the order systemd printed them (load order).
    pub dropins: Vec<String>,
    /// Sorted.
    pub aliases: Vec<String>,
    /// Forward edges only (non-empty `origin`), sorted by (kind, target).
    pub deps: Vec<OracleDep>,
}

impl OracleUnit {
    pub fn dep(&self, kind: &str, target: &str) -> Option<&OracleDep> {
        self.deps
            .iter()
            .find(|d| d.kind == kind && d.target == target)
    }

    pub fn has_dep(&self, kind: &str, target: &str) -> bool {
        self.dep(kind, target).is_some()
    }

    pub fn deps_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a OracleDep> + 'a {
        self.deps.iter().filter(move |d| d.kind == kind)
    }

    /// Heuristic: a loaded `.mount`/`.swap`/`.device` without a fragment was synthesised from the
    /// host (mountinfo, /proc/swaps, udev) or is perpetual (`-.mount`); no image file made it.
    pub fn is_host_synthesised(&self) -> bool {
        self.fragment.is_none()
            && self.load_state == "loaded"
            && [".mount", ".swap", ".device"]
                .iter()
                .any(|s| self.name.ends_with(s))
    }
}

#[derive(Debug, Clone, Default)]
pub struct OracleRun {
    pub units: BTreeMap<String, OracleUnit>,
    /// The dump exactly as printed (temp paths not rewritten).
    pub raw: String,
    /// Names of the base stubs we added (see module docs).
    pub stub_units: Vec<String>,
    /// systemd's stderr (log output).
    pub stderr: String,
    /// The in-image search directories actually used, resolved, in priority order.
    pub search_path: Vec<String>,
    /// Shell-like rendering of the command that was run.
    pub command: String,
}

impl OracleRun {
    pub fn unit(&self, name: &str) -> Option<&OracleUnit> {
        self.units.get(name)
    }
}

#[derive(Debug, Clone)]
pub struct OracleOptions {
    /// Add [`BASE_STUBS`] missing from the search dirs (default true).
    pub add_stubs: bool,
    /// Kill systemd after this long (default 60 s).
    pub timeout: Duration,
    /// Copy every regular file of the fixture, not only those systemd can reach (default false).
    pub copy_all: bool,
    /// Run a user manager (`--user`) instead of the system manager (default false). It gets
    /// `HOME` and `XDG_RUNTIME_DIR` of its own (empty directories under the temp dir, owned
    /// by nobody, the runtime one 0700 as pam_systemd makes it): a user manager refuses to
    /// start without `XDG_RUNTIME_DIR`.
    pub user: bool,
}

impl Default for OracleOptions {
    fn default() -> Self {
        OracleOptions {
            add_stubs: true,
            timeout: Duration::from_secs(60),
            copy_all: false,
            user: false,
        }
    }
}

/// root: an extracted root filesystem (fixture). search_dirs: in-image search directories in
/// priority order. want_units: unit names pulled in through the synthetic start target.
pub fn run_systemd_test(
    root: &Path,
    search_dirs: &[&str],
    want_units: &[String],
) -> Result<OracleRun, String> {
    run_systemd_test_with(root, search_dirs, want_units, &OracleOptions::default())
}

pub fn run_systemd_test_with(
    root: &Path,
    search_dirs: &[&str],
    want_units: &[String],
    opts: &OracleOptions,
) -> Result<OracleRun, String> {
    // --- prerequisites -----------------------------------------------------------------
    super::tools::check_systemd_version(Path::new(SYSTEMD_BIN))
        .map_err(|e| format!("oracle: {e}"))?;
    let as_root = fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(true);
    let setpriv = if as_root {
        let found = [
            "/usr/bin/setpriv",
            "/bin/setpriv",
            "/usr/sbin/setpriv",
            "/sbin/setpriv",
        ]
        .iter()
        .find(|p| Path::new(p).is_file())
        .copied();
        match found {
            Some(p) => Some(p),
            None => {
                return Err(
                    "oracle: setpriv not found (util-linux); it is needed to run systemd \
                            --test as nobody, because systemd refuses to run it as root"
                        .to_string(),
                );
            }
        }
    } else {
        None
    };
    let root_md =
        fs::metadata(root).map_err(|e| format!("oracle: fixture {}: {e}", root.display()))?;
    if !root_md.is_dir() {
        return Err(format!(
            "oracle: fixture {} is not a directory",
            root.display()
        ));
    }

    // --- temp layout ---------------------------------------------------------------------
    let tmp = tempfile::Builder::new()
        .prefix("unitdiff-oracle-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("oracle: cannot create temp dir in /tmp: {e}"))?;
    let base = fs::canonicalize(tmp.path()).map_err(|e| format!("oracle: canonicalize: {e}"))?;
    set_mode(&base, 0o755)?;
    let copy_root = base.join("root");
    let stub_dir = base.join("stub");
    fs::create_dir(&copy_root)
        .map_err(|e| format!("oracle: mkdir {}: {e}", copy_root.display()))?;
    fs::create_dir(&stub_dir).map_err(|e| format!("oracle: mkdir {}: {e}", stub_dir.display()))?;
    set_mode(&copy_root, 0o755)?;
    set_mode(&stub_dir, 0o755)?;

    // --- search path (resolved in-image, deduplicated) -----------------------------------
    let mut search_path: Vec<PathBuf> = Vec::new();
    for d in search_dirs {
        let Some(resolved) = resolve_in_image(root, Path::new(d)) else {
            continue;
        };
        if !host_path(root, &resolved).is_dir() {
            continue;
        }
        if !search_path.contains(&resolved) {
            search_path.push(resolved);
        }
    }

    // --- copy ----------------------------------------------------------------------------
    copy_tree(root, &copy_root, &search_path, opts.copy_all)?;

    // --- stubs + anchor ------------------------------------------------------------------
    let mut stub_units = Vec::new();
    if opts.add_stubs {
        for name in BASE_STUBS {
            let present = search_path
                .iter()
                .any(|d| fs::symlink_metadata(host_path(&copy_root, d).join(name)).is_ok());
            if !present {
                write_file(&stub_dir.join(name), STUB_BODY)?;
                stub_units.push(name.to_string());
            }
        }
    }
    write_file(&stub_dir.join(ORACLE_TARGET), &anchor_body(want_units))?;

    // --- run -----------------------------------------------------------------------------
    let mut unit_path: Vec<String> = search_path
        .iter()
        .map(|d| host_path(&copy_root, d).display().to_string())
        .collect();
    unit_path.push(stub_dir.display().to_string());
    let unit_path = unit_path.join(":");

    let mut argv: Vec<String> = Vec::new();
    if let Some(sp) = setpriv {
        argv.extend(
            [sp, "--reuid=65534", "--regid=65534", "--clear-groups", "--"].map(String::from),
        );
    }
    // A user manager's own directories: empty, so nothing of the host's user gets in.
    let home = base.join("home");
    let runtime = base.join("run");
    if opts.user {
        for (d, mode) in [(&home, 0o755), (&runtime, 0o700)] {
            fs::create_dir(d).map_err(|e| format!("oracle: mkdir {}: {e}", d.display()))?;
            set_mode(d, mode)?;
            if setpriv.is_some() {
                std::os::unix::fs::chown(d, Some(65534), Some(65534))
                    .map_err(|e| format!("oracle: chown {}: {e}", d.display()))?;
            }
        }
    }
    argv.extend(
        [
            SYSTEMD_BIN,
            "--test",
            if opts.user { "--user" } else { "--system" },
            &format!("--unit={ORACLE_TARGET}"),
            "--no-pager",
        ]
        .map(String::from),
    );
    let mut envs: Vec<(&str, String)> = vec![
        ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin".to_string()),
        ("HOME", "/tmp".to_string()),
        ("LANG", "C.UTF-8".to_string()),
        ("SYSTEMD_UNIT_PATH", unit_path.clone()),
    ];
    if opts.user {
        envs[1].1 = home.display().to_string();
        envs.push(("XDG_RUNTIME_DIR", runtime.display().to_string()));
    }
    let command = format!(
        "env -i {} {}",
        envs.iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect::<Vec<_>>()
            .join(" "),
        argv.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let out_path = base.join("dump.txt");
    let err_path = base.join("stderr.txt");
    let out_f =
        fs::File::create(&out_path).map_err(|e| format!("oracle: create dump file: {e}"))?;
    let err_f =
        fs::File::create(&err_path).map_err(|e| format!("oracle: create stderr file: {e}"))?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(out_f)
        .stderr(err_f);
    for (k, v) in &envs {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("oracle: cannot spawn `{command}`: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {
                if started.elapsed() > opts.timeout {
                    let _ = child.kill();
                    let _ = child.wait();
                    let stderr = read_lossy(&err_path);
                    return Err(format!(
                        "oracle: systemd --test timed out after {:?} and was killed\n\
                         command: {command}\nstderr:\n{stderr}",
                        opts.timeout
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(format!("oracle: waiting for `{command}`: {e}")),
        }
    };
    let raw = read_lossy(&out_path);
    let stderr = read_lossy(&err_path);
    if raw.trim().is_empty() {
        return Err(format!(
            "oracle: systemd --test printed no dump ({status})\ncommand: {command}\n\
             SYSTEMD_UNIT_PATH entries: {unit_path}\nstderr:\n{stderr}"
        ));
    }

    if std::env::var_os("UNITDIFF_ORACLE_KEEP").is_some() {
        let kept = tmp.keep();
        eprintln!(
            "oracle: kept {} (UNITDIFF_ORACLE_KEEP is set)",
            kept.display()
        );
    }

    // --- parse + map paths ---------------------------------------------------------------
    let map = |p: &str| map_path(p, &copy_root, &stub_dir);
    let mut units = BTreeMap::new();
    for mut u in parse_dump(&raw) {
        if u.name == ORACLE_TARGET {
            continue;
        }
        u.fragment = u.fragment.as_deref().map(map);
        u.dropins = u.dropins.iter().map(|p| map(p)).collect();
        u.deps.retain(|d| d.target != ORACLE_TARGET);
        units.insert(u.name.clone(), u);
    }

    Ok(OracleRun {
        units,
        raw,
        stub_units,
        stderr,
        search_path: search_path
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        command,
    })
}

// ------------------------------------------------------------------------------------------
// Dump parser
// ------------------------------------------------------------------------------------------

/// Parse a `systemd --test` dump. Paths are returned as printed. Only forward dependency entries
/// (non-empty origin mask) are kept; `References`/`ReferencedBy` are dropped.
pub fn parse_dump(raw: &str) -> Vec<OracleUnit> {
    let mut units = Vec::new();
    let mut cur: Option<OracleUnit> = None;
    for line in raw.lines() {
        if let Some(name) = unit_header(line) {
            units.extend(cur.take());
            cur = Some(OracleUnit {
                name: name.to_string(),
                ..Default::default()
            });
            continue;
        }
        if !line.starts_with('\t') {
            // "-> By units:" / "-> By jobs:" — leaves any unit block.
            units.extend(cur.take());
            continue;
        }
        let Some(u) = cur.as_mut() else { continue };
        let Some(body) = line.strip_prefix("\t\t") else {
            continue;
        };
        if body.starts_with('\t') || body.starts_with("->") {
            continue; // nested block (job, exec command, …)
        }
        let Some((key, value)) = body.split_once(": ") else {
            continue;
        };
        match key {
            "Unit Load State" => u.load_state = value.trim().to_string(),
            "Fragment Path" => u.fragment = Some(value.to_string()),
            "DropIn Path" => u.dropins.push(value.to_string()),
            "Alias" => u.aliases.push(value.trim().to_string()),
            "References" | "ReferencedBy" => {}
            k if DEP_KINDS.contains(&k) => {
                if let Some(d) = parse_dep(k, value).filter(|d| !d.origin.is_empty()) {
                    u.deps.push(d);
                }
            }
            _ => {}
        }
    }
    units.extend(cur.take());
    for u in &mut units {
        u.aliases.sort();
        u.deps.sort();
    }
    units
}

fn unit_header(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("\t-> Unit ")
        .or_else(|| line.strip_prefix("\t\u{2192} Unit "))?;
    rest.strip_suffix(':')
}

/// `TARGET (origin-a origin-b destination-c)` → dep; None if the shape does not match.
fn parse_dep(kind: &str, value: &str) -> Option<OracleDep> {
    let value = value.trim_end();
    let inner_end = value.strip_suffix(')')?;
    let open = inner_end.rfind(" (")?;
    let target = &inner_end[..open];
    let masks = &inner_end[open + 2..];
    if target.is_empty() || target.contains(char::is_whitespace) {
        return None;
    }
    let mut origin = Vec::new();
    let mut destination = Vec::new();
    for tok in masks.split_whitespace() {
        if let Some(m) = tok.strip_prefix("origin-") {
            origin.push(m.to_string());
        } else if let Some(m) = tok.strip_prefix("destination-") {
            destination.push(m.to_string());
        } else {
            return None;
        }
    }
    Some(OracleDep {
        kind: kind.to_string(),
        target: target.to_string(),
        origin,
        destination,
    })
}

fn map_path(p: &str, copy_root: &Path, stub_dir: &Path) -> String {
    let path = Path::new(p);
    if let Ok(rest) = path.strip_prefix(copy_root) {
        format!("/{}", rest.display())
    } else if let Ok(rest) = path.strip_prefix(stub_dir) {
        format!("{STUB_PREFIX}/{}", rest.display())
    } else {
        p.to_string()
    }
}

// ------------------------------------------------------------------------------------------
// In-image path handling and copying
// ------------------------------------------------------------------------------------------

/// `root` joined with an absolute in-image path.
fn host_path(root: &Path, in_image: &Path) -> PathBuf {
    root.join(in_image.strip_prefix("/").unwrap_or(in_image))
}

/// Resolve an absolute in-image path inside `root`, following every symlink (the last component
/// too) with `..` clamped at the image root, as a chroot would. Returns the physical in-image
/// path, or None if a component is missing, not a directory, or there are > 40 symlink hops.
fn resolve_in_image(root: &Path, path: &Path) -> Option<PathBuf> {
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, path);
    let mut cur = PathBuf::from("/");
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        let md = fs::symlink_metadata(host_path(root, &next)).ok()?;
        if md.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let t = fs::read_link(host_path(root, &next)).ok()?;
            if t.is_absolute() {
                cur = PathBuf::from("/");
            }
            push_components(&mut todo, &t);
        } else {
            cur = next;
        }
    }
    Some(cur)
}

/// Push the components of `p` onto a stack so that they pop in order (`.` dropped).
fn push_components(stack: &mut Vec<OsString>, p: &Path) {
    for c in p.components().rev() {
        match c {
            Component::Normal(x) => stack.push(x.to_os_string()),
            Component::ParentDir => stack.push(OsString::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
}

/// Lexically normalise an absolute path: drop `.`, apply `..` clamped at `/`.
fn normalize_abs(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(x) => out.push(x),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Rewrite a symlink target for the copy. `link` is the link's in-image path (its parent
/// directories are physical, as walkdir does not follow links).
fn rewrite_link_target(target: &Path, link: &Path) -> PathBuf {
    if !target.is_absolute() || target.starts_with("/dev") {
        return target.to_path_buf();
    }
    let depth = link
        .parent()
        .map(|p| {
            p.components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .count()
        })
        .unwrap_or(0);
    let mut out = PathBuf::new();
    for _ in 0..depth {
        out.push("..");
    }
    for c in normalize_abs(target).components() {
        if let Component::Normal(x) = c {
            out.push(x);
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

enum Kind {
    Dir,
    File,
    Link,
}

fn copy_tree(
    src: &Path,
    dst: &Path,
    search_path: &[PathBuf],
    copy_all: bool,
) -> Result<(), String> {
    // Collect the tree once.
    let mut entries: Vec<(PathBuf, Kind)> = Vec::new();
    for e in walkdir::WalkDir::new(src)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| format!("oracle: walking {}: {e}", src.display()))?;
        let rel = e
            .path()
            .strip_prefix(src)
            .expect("walkdir stays under root")
            .to_path_buf();
        if rel.as_os_str().is_empty() {
            continue;
        }
        let ft = e.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            Kind::Link
        } else if ft.is_file() {
            Kind::File
        } else {
            // FIFOs, sockets, block/char devices: skipped.
            continue;
        };
        entries.push((Path::new("/").join(rel), kind));
    }

    // Which directories' regular files systemd can reach: the search dirs plus, to a fixpoint,
    // the resolved targets of symlinks lying under an already-needed directory.
    let mut needed: Vec<PathBuf> = search_path.to_vec();
    if !copy_all {
        let mut done: BTreeSet<PathBuf> = BTreeSet::new();
        loop {
            let mut changed = false;
            for (p, k) in &entries {
                if !matches!(k, Kind::Link) || done.contains(p) {
                    continue;
                }
                if !needed.iter().any(|n| p.starts_with(n)) {
                    continue;
                }
                done.insert(p.clone());
                if let Some(t) = resolve_in_image(src, p)
                    && !needed.iter().any(|n| t.starts_with(n))
                {
                    needed.push(t);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    for (p, k) in &entries {
        let from = host_path(src, p);
        let to = host_path(dst, p);
        match k {
            Kind::Dir => {
                fs::create_dir_all(&to)
                    .map_err(|e| format!("oracle: mkdir {}: {e}", to.display()))?;
                set_mode(&to, 0o755)?;
            }
            Kind::Link => {
                let t = fs::read_link(&from)
                    .map_err(|e| format!("oracle: readlink {}: {e}", from.display()))?;
                let nt = rewrite_link_target(&t, p);
                std::os::unix::fs::symlink(&nt, &to)
                    .map_err(|e| format!("oracle: symlink {}: {e}", to.display()))?;
            }
            Kind::File => {
                if !copy_all && !needed.iter().any(|n| p.starts_with(n)) {
                    continue;
                }
                fs::copy(&from, &to).map_err(|e| {
                    format!("oracle: copy {} -> {}: {e}", from.display(), to.display())
                })?;
                let mode = fs::metadata(&to)
                    .map(|m| m.permissions().mode())
                    .unwrap_or(0o644);
                set_mode(&to, (mode & 0o7777) | 0o444)?;
            }
        }
    }
    Ok(())
}

fn anchor_body(want_units: &[String]) -> String {
    let mut body =
        String::from("[Unit]\nDescription=unitdiff oracle anchor\nDefaultDependencies=no\n");
    let names: Vec<String> = want_units
        .iter()
        .filter(|n| n.as_str() != ORACLE_TARGET && !n.is_empty())
        .map(|n| n.replace('%', "%%"))
        .collect();
    for chunk in names.chunks(32) {
        body.push_str("Wants=");
        body.push_str(&chunk.join(" "));
        body.push('\n');
    }
    body
}

fn set_mode(p: &Path, mode: u32) -> Result<(), String> {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("oracle: chmod {}: {e}", p.display()))
}

fn write_file(p: &Path, content: &str) -> Result<(), String> {
    fs::write(p, content).map_err(|e| format!("oracle: write {}: {e}", p.display()))?;
    set_mode(p, 0o644)
}

fn read_lossy(p: &Path) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

// ------------------------------------------------------------------------------------------
// Unit tests (parser and path helpers)
// ------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from a real systemd 252.38 dump.
    const SAMPLE: &str = "-> By units:
\t-> Unit unitdiff-oracle.target:
\t\tDescription: unitdiff oracle anchor
\t\tUnit Load State: loaded
\t\tFragment Path: /tmp/unitdiff-oracle-X/stub/unitdiff-oracle.target
\t\tWants: a.service (origin-file)
\t\tReferences: a.service (origin-file)
\t-> Unit b.service:
\t\tAlias: balias.service
\t\tDescription: b.service
\t\tInstance: n/a
\t\tUnit Load State: loaded
\t\tFragment Path: /tmp/unitdiff-oracle-X/root/usr/lib/systemd/system/b.service
\t\tRequires: sysinit.target (origin-default)
\t\tRequires: system.slice (origin-file)
\t\tWantedBy: a.service (destination-file)
\t\tWantedBy: unitdiff-oracle.target (destination-file)
\t\tBefore: a.service (destination-file)
\t\tAfter: y.service (origin-file destination-file)
\t\tReferences: system.slice (origin-file origin-slice-property)
\t\tReferencedBy: a.service (destination-file)
\t\tInSlice: system.slice (origin-slice-property)
\t\tRequiresMountsFor: /var/lib/foo (origin-file)
\t\tAllowedCPUs: 
\t\t-> ExecStart:
\t\t\tCommand Line: /bin/true
\t\t-> Job 5:
\t\t\tAction: b.service -> start
\t-> Unit y.service:
\t\tDescription: Hello (origin-file)
\t\tUnit Load State: loaded
\t\tBefore: b.service (origin-file destination-file)
\t-> Unit c.service:
\t\tDescription: c.service
\t\tUnit Load State: not-found
\t\tRequiredBy: a.service (destination-file)
\t-> Unit m.service:
\t\tUnit Load State: masked
\t\tFragment Path: /tmp/unitdiff-oracle-X/root/etc/systemd/system/m.service
\t-> Unit a.service:
\t\tUnit Load State: loaded
\t\tFragment Path: /tmp/unitdiff-oracle-X/root/etc/systemd/system/a.service
\t\tDropIn Path: /tmp/unitdiff-oracle-X/root/usr/lib/systemd/system/a.service.d/10-x.conf
\t\tDropIn Path: /tmp/unitdiff-oracle-X/root/etc/systemd/system/a.service.d/20-y.conf
\t\tWants: b.service (origin-file)
\t\tRequires: c.service (origin-file)
\t\tAfter: basic.target (origin-default)
\t\tAfter: -.mount (origin-implicit origin-default)
\t\tConflicts: umount.target (origin-mountinfo)
\t\tWantedBy: unitdiff-oracle.target (destination-file)
\t\t-> Job 2:
\t\t\tAction: a.service -> start
\t\u{2192} Unit v257.service:
\t\tUnit Load State: loaded
-> By jobs:
\t-> Job 2:
\t\tAction: a.service -> start
";

    fn by_name(units: Vec<OracleUnit>) -> BTreeMap<String, OracleUnit> {
        units.into_iter().map(|u| (u.name.clone(), u)).collect()
    }

    #[test]
    fn parses_units_and_states() {
        let u = by_name(parse_dump(SAMPLE));
        assert_eq!(
            u.keys().cloned().collect::<Vec<_>>(),
            [
                "a.service",
                "b.service",
                "c.service",
                "m.service",
                "unitdiff-oracle.target",
                "v257.service",
                "y.service"
            ]
        );
        assert_eq!(u["a.service"].load_state, "loaded");
        assert_eq!(u["c.service"].load_state, "not-found");
        assert_eq!(u["c.service"].fragment, None);
        assert!(
            u["c.service"].deps.is_empty(),
            "destination-only entries are dropped"
        );
        assert_eq!(u["m.service"].load_state, "masked");
        assert_eq!(u["b.service"].aliases, ["balias.service"]);
        assert_eq!(u["v257.service"].load_state, "loaded");
        // Jobs section is not a unit.
        assert!(!u.contains_key("Job 2"));
    }

    #[test]
    fn parses_dependency_lines() {
        let u = by_name(parse_dump(SAMPLE));
        let b = &u["b.service"];
        let kinds: Vec<(&str, &str)> = b
            .deps
            .iter()
            .map(|d| (d.kind.as_str(), d.target.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("After", "y.service"),
                ("InSlice", "system.slice"),
                ("Requires", "sysinit.target"),
                ("Requires", "system.slice"),
            ]
        );
        let after = b.dep("After", "y.service").unwrap();
        assert_eq!(after.origin, ["file"]);
        assert_eq!(after.destination, ["file"]);
        assert_eq!(
            b.dep("InSlice", "system.slice").unwrap().origin,
            ["slice-property"]
        );
        assert!(!b.has_dep("References", "system.slice"));
        assert!(!b.has_dep("WantedBy", "a.service"));
        assert!(b.deps.iter().all(|d| d.kind != "RequiresMountsFor"));

        let a = &u["a.service"];
        assert_eq!(
            a.dep("After", "-.mount").unwrap().origin,
            ["implicit", "default"]
        );
        assert!(a.dep("Conflicts", "umount.target").unwrap().is_host_only());
        assert!(!a.dep("Wants", "b.service").unwrap().is_host_only());
        assert_eq!(
            a.dropins,
            [
                "/tmp/unitdiff-oracle-X/root/usr/lib/systemd/system/a.service.d/10-x.conf",
                "/tmp/unitdiff-oracle-X/root/etc/systemd/system/a.service.d/20-y.conf",
            ]
        );
        // A Description that looks like a dependency is not one.
        let y = &u["y.service"];
        assert_eq!(y.deps.len(), 1);
        assert!(y.has_dep("Before", "b.service"));
    }

    #[test]
    fn parse_dep_rejects_odd_shapes() {
        assert!(parse_dep("After", "x.service").is_none());
        assert!(parse_dep("After", "x.service (bogus)").is_none());
        assert!(parse_dep("After", "two words (origin-file)").is_none());
        let d = parse_dep("After", "x.service ()").unwrap();
        assert!(d.origin.is_empty() && d.destination.is_empty());
    }

    #[test]
    fn maps_paths() {
        let root = Path::new("/tmp/unitdiff-oracle-X/root");
        let stub = Path::new("/tmp/unitdiff-oracle-X/stub");
        assert_eq!(
            map_path(
                "/tmp/unitdiff-oracle-X/root/etc/systemd/system/a.service",
                root,
                stub
            ),
            "/etc/systemd/system/a.service"
        );
        assert_eq!(
            map_path("/tmp/unitdiff-oracle-X/stub/sysinit.target", root, stub),
            "<stub>/sysinit.target"
        );
        assert_eq!(
            map_path("/tmp/unitdiff-oracle-X/rootx/a", root, stub),
            "/tmp/unitdiff-oracle-X/rootx/a"
        );
    }

    #[test]
    fn rewrites_absolute_links() {
        let link = Path::new("/etc/systemd/system/a.service");
        assert_eq!(
            rewrite_link_target(Path::new("/usr/lib/x"), link),
            PathBuf::from("../../../usr/lib/x")
        );
        assert_eq!(
            rewrite_link_target(Path::new("/dev/null"), link),
            PathBuf::from("/dev/null")
        );
        assert_eq!(
            rewrite_link_target(Path::new("b.service"), link),
            PathBuf::from("b.service")
        );
        assert_eq!(
            rewrite_link_target(Path::new("/usr/lib"), Path::new("/lib")),
            PathBuf::from("usr/lib")
        );
        assert_eq!(
            rewrite_link_target(Path::new("/../x/./y"), Path::new("/a/l")),
            PathBuf::from("../x/y")
        );
        assert_eq!(
            rewrite_link_target(Path::new("/"), Path::new("/l")),
            PathBuf::from(".")
        );
    }

    #[test]
    fn resolves_in_image() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        fs::create_dir_all(r.join("usr/lib/systemd/system")).unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        std::os::unix::fs::symlink("/usr/lib/../../../../usr", r.join("up")).unwrap();
        assert_eq!(
            resolve_in_image(r, Path::new("/lib/systemd/system")),
            Some(PathBuf::from("/usr/lib/systemd/system"))
        );
        assert_eq!(
            resolve_in_image(r, Path::new("/up/lib")),
            Some(PathBuf::from("/usr/lib"))
        );
        assert_eq!(resolve_in_image(r, Path::new("/etc/systemd/system")), None);
    }

    #[test]
    fn anchor_splits_and_escapes() {
        let names: Vec<String> = (0..70).map(|i| format!("u{i}%.service")).collect();
        let body = anchor_body(&names);
        assert_eq!(body.lines().filter(|l| l.starts_with("Wants=")).count(), 3);
        assert!(body.contains("u0%%.service"));
        assert!(body.contains("DefaultDependencies=no"));
    }
}
