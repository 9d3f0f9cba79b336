//! Implicit and default dependencies (semantics doc §8): the edges systemd adds by itself,
//! each with systemd's origin mask and the name of the rule that made it.
//!
//! Two phases, as in systemd: while a unit loads (its type's `add_extras`: default
//! dependencies, exec-context edges, slice membership, path lists), and after every unit is
//! loaded (`unit_load`'s post-load step for units in state `loaded`: slice ordering, mount
//! dependencies of paths, target auto-ordering).

mod exec;
mod mount;

use super::HashSet;
use super::Loader;
use crate::unit::budget;
use crate::unit::deps::DepKind;
use crate::unit::fs::{fstype_is_network, tag_to_device};
use crate::unit::model::{Edge, How, LoadState, Origin, Provenance, Setting, Unit};
use crate::unit::name::{self, UnitName, UnitType};
use crate::unit::path_util;
use crate::unit::rule_name::{RuleName, rule_name};
use crate::unit::sym::{Interner, Sym};

/// What the post-load phase needs to know of a unit.
#[derive(Default, Clone)]
pub(super) struct PostInfo {
    pub default_dependencies: bool,
    /// `RequiresMountsFor=`-style paths, with the provenance of the setting behind each.
    pub mounts_for: Vec<(String, Provenance)>,
    /// `WantsMountsFor=` (v256+) paths.
    pub wants_mounts_for: Vec<(String, Provenance)>,
}

fn rule(origin: Origin, r: RuleName) -> Provenance {
    Provenance {
        origin,
        how: How::Rule,
        path: None,
        line: None,
        layer: None,
        rule: Some(r),
        generator: None,
    }
}

/// Provenance of an implicit edge that a setting caused: the setting's file and line.
fn from_setting(origin: Origin, r: RuleName, s: &Setting) -> Provenance {
    Provenance {
        origin,
        how: How::Rule,
        path: Some(s.path.clone()),
        line: Some(s.line),
        layer: Some(s.layer),
        rule: Some(r),
        generator: None,
    }
}

/// The last assignment of a key (an empty assignment resets it: `None`).
pub(super) fn last<'a>(u: &'a Unit, section: &str, key: &str) -> Option<&'a Setting> {
    u.settings
        .iter()
        .rev()
        .find(|s| s.section == section && s.key == key)
        .filter(|s| !s.value.is_empty())
}

/// The mount point of a mount unit: its `Where=` (absolute, simplified as systemd keeps
/// it), else the path its name encodes (`mount_add_extras`: `unit_name_to_path`).
pub(super) fn mount_point(u: &Unit) -> Option<String> {
    match last(u, "Mount", "Where").map(|s| s.value.as_str()) {
        Some(w) if w.starts_with('/') => Some(path_util::path_simplify(w)),
        _ => match u.id.strip_suffix(".mount")? {
            "-" => Some("/".to_string()),
            stem => Some(format!("/{}", name::unescape(stem))),
        },
    }
}

/// The options of a mount or swap unit: `Options=` is a single string, so only the last
/// assignment counts (an empty one clears it), split at commas.
fn options(u: &Unit, section: &str) -> Vec<String> {
    last(u, section, "Options")
        .map(|s| s.value.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

/// Every word of a list setting, honouring resets by empty assignments.
fn list<'a>(u: &'a Unit, section: &str, key: &str) -> Vec<(&'a Setting, String)> {
    let mut out = Vec::new();
    for s in u
        .settings
        .iter()
        .filter(|s| s.section == section && s.key == key)
    {
        if s.value.is_empty() {
            out.clear();
            continue;
        }
        for w in crate::unit::words::split(&s.value) {
            out.push((s, w.to_string()));
        }
    }
    out
}

/// The words of a path list (`RequiresMountsFor=`): whitespace-separated, `"…"`/`'…'`
/// quotes removed (`EXTRACT_UNQUOTE`), resets by empty assignments honoured.
fn path_list<'a>(u: &'a Unit, section: &str, key: &str) -> Vec<(&'a Setting, String)> {
    let mut out = Vec::new();
    for s in u
        .settings
        .iter()
        .filter(|s| s.section == section && s.key == key)
    {
        if s.value.is_empty() {
            out.clear();
            continue;
        }
        let mut cur = String::new();
        let mut quote = None;
        let mut any = false;
        let mut chars = s.value.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, '"' | '\'') => {
                    quote = Some(c);
                    any = true;
                }
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                (None, c) if crate::unit::words::is_space(c) => {
                    if any || !cur.is_empty() {
                        out.push((s, std::mem::take(&mut cur)));
                    }
                    any = false;
                }
                (_, c) => cur.push(c),
            }
        }
        if any || !cur.is_empty() {
            out.push((s, cur));
        }
    }
    out
}

fn boolean<'a>(u: &'a Unit, section: &str, key: &str) -> Option<(bool, &'a Setting)> {
    let s = last(u, section, key)?;
    super::parse_bool(&s.value).map(|b| (b, s))
}

/// A `PrivateTmp=` state (v257 names; before 257 only the booleans parse).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PrivateTmp {
    No,
    Connected,
    Disconnected,
}

/// `RootDirectory=` (other than `/`), `RootImage=` or `RootMStack=`: the unit has its own
/// root file system (`exec_context_with_rootfs`).
fn has_root_fs(u: &Unit, sec: &str) -> bool {
    last(u, sec, "RootDirectory").is_some_and(|s| s.value != "/")
        || last(u, sec, "RootImage").is_some()
        || last(u, sec, "RootMStack").is_some()
}

/// Whether a path list names `dir` (`/tmp`, `/tmp/`).
fn names_path(list: &[(String, Provenance)], dir: &str) -> bool {
    list.iter().any(|(p, _)| p.trim_end_matches('/') == dir)
}

/// Output that goes through journald, so the unit is ordered after its socket: `journal`,
/// `kmsg` and `syslog` (each also `+console`). systemd counted `syslog` among them while it
/// had a syslog output (up to 245) and reads it as `journal` since 246 (checked against
/// 252's and 257's `systemd --test`).
fn is_journal(v: &str) -> bool {
    matches!(
        v,
        "journal" | "journal+console" | "kmsg" | "kmsg+console" | "syslog" | "syslog+console"
    )
}

/// The parent slice of a slice (`a-b.slice` → `a.slice` → `-.slice`).
fn parent_slice(id: &str) -> Option<String> {
    if id == "-.slice" {
        return None;
    }
    let stem = id.strip_suffix(".slice")?;
    Some(match stem.rfind('-') {
        Some(i) if i > 0 => format!("{}.slice", &stem[..i]),
        _ => "-.slice".to_string(),
    })
}

/// Mounts systemd leaves alone at start-up and shutdown (`fstab_is_extrinsic`): the OS
/// itself and the API file systems.
/// `/run/nextroot` (the next root of a soft reboot) is extrinsic from 254.
fn mount_is_extrinsic(where_: &str, options: &[String], version: u32) -> bool {
    let w = where_.trim_end_matches('/');
    let w = if w.is_empty() { "/" } else { w };
    let under = |p: &str| w == p || w.starts_with(&format!("{p}/"));
    matches!(w, "/" | "/usr" | "/etc")
        || ["/run/initramfs", "/proc", "/sys", "/dev"]
            .iter()
            .any(|p| under(p))
        || (version >= 254 && under("/run/nextroot"))
        || options.iter().any(|o| o == "x-initrd.mount")
}

impl Loader<'_> {
    fn add(&mut self, from: &str, kind: DepKind, to: &str, p: Provenance) {
        self.add_edge(from, kind, to.to_string(), p);
    }

    fn add2(&mut self, from: &str, a: DepKind, b: DepKind, to: &str, p: Provenance) {
        self.add(from, a, to, p.clone());
        self.add(from, b, to, p);
    }

    /// Load-time implicit edges of a unit whose fragment parsed (state `loaded` before the
    /// type's checks, so `bad-setting` units get them too).
    pub(super) fn implicit_at_load(&mut self, u: &Unit, explicit_slice: bool) {
        let id = u.id.to_string();
        let v = self.rules.version;
        let t = u.unit_type;
        let user = self.scope.is_user();
        let perpetual = self.scope.is_perpetual(&id);
        let dd = !perpetual && boolean(u, "Unit", "DefaultDependencies").is_none_or(|(b, _)| b);
        let mut info = PostInfo {
            default_dependencies: dd,
            ..PostInfo::default()
        };
        for (s, path) in path_list(u, "Unit", "RequiresMountsFor") {
            if let Some(path) = self.path_printf(&id, &path) {
                info.mounts_for.push((
                    path,
                    from_setting(Origin::File, rule_name!("mounts-for"), s),
                ));
            }
        }
        if v >= 256 {
            for (s, path) in path_list(u, "Unit", "WantsMountsFor") {
                if let Some(path) = self.path_printf(&id, &path) {
                    info.wants_mounts_for.push((
                        path,
                        from_setting(Origin::File, rule_name!("mounts-for"), s),
                    ));
                }
            }
        }
        let uname = UnitName::parse(&id);
        let stem = uname.map(|n| n.stem().to_string()).unwrap_or_default();

        // Exec context: service, socket with Exec*=, mount, swap.
        let exec_section = match t {
            UnitType::Service => Some("Service"),
            UnitType::Socket
                if u.settings.iter().any(|s| {
                    s.section == "Socket" && s.key.starts_with("Exec") && !s.value.is_empty()
                }) =>
            {
                Some("Socket")
            }
            UnitType::Mount => Some("Mount"),
            UnitType::Swap => Some("Swap"),
            _ => None,
        };
        if let Some(sec) = exec_section.filter(|_| !perpetual) {
            self.exec_dependencies(u, sec, &mut info);
        }

        // Slice membership.
        let has_cgroup = match t {
            UnitType::Service | UnitType::Mount | UnitType::Swap | UnitType::Scope => true,
            // Before v230 only units that run processes got a default slice.
            UnitType::Socket => v >= 230 || exec_section.is_some(),
            _ => false,
        };
        if t == UnitType::Slice {
            if let Some(parent) = parent_slice(&id) {
                self.add(
                    &id,
                    DepKind::InSlice,
                    &parent,
                    rule(Origin::Implicit, rule_name!("slice-parent")),
                );
            }
        } else if has_cgroup && !explicit_slice {
            // A user manager leaves every mount and swap alone (`mount_is_extrinsic`,
            // `swap_is_extrinsic`): they live in the root slice (v247+; before, every unit
            // of a user manager without an instance did).
            let extrinsic_mount = (user && matches!(t, UnitType::Mount | UnitType::Swap))
                || t == UnitType::Mount
                    && mount_point(u)
                        .is_some_and(|w| mount_is_extrinsic(&w, &options(u, "Mount"), v));
            let instance_prefix =
                uname.and_then(|n| n.instance.filter(|i| !i.is_empty()).map(|_| n.prefix));
            let slice = if user {
                // `unit_set_default_slice` of a user manager: app.slice and
                // app-PREFIX.slice from v247; before, PREFIX.slice and the root slice.
                match instance_prefix {
                    Some(prefix) if v >= 247 => format!("app-{}.slice", name::escape(prefix)),
                    Some(prefix) => format!("{}.slice", name::escape(prefix)),
                    None if v >= 247 && !perpetual && !extrinsic_mount => "app.slice".to_string(),
                    None => "-.slice".to_string(),
                }
            } else if perpetual || extrinsic_mount {
                // Perpetual units and API file system mounts live in the root slice.
                "-.slice".to_string()
            } else {
                match instance_prefix {
                    Some(prefix) => format!("system-{}.slice", name::escape(prefix)),
                    None => "system.slice".to_string(),
                }
            };
            self.add(
                &id,
                DepKind::InSlice,
                &slice,
                rule(Origin::SliceProperty, rule_name!("default-slice")),
            );
        }

        // Type-specific edges.
        match t {
            UnitType::Service => {
                if dd && user {
                    // A user manager has no sysinit.target: basic.target is required
                    // instead (`service_add_default_dependencies`).
                    let r = rule(Origin::Default, rule_name!("service-default"));
                    self.add2(
                        &id,
                        DepKind::Requires,
                        DepKind::After,
                        "basic.target",
                        r.clone(),
                    );
                    self.add2(
                        &id,
                        DepKind::Before,
                        DepKind::Conflicts,
                        "shutdown.target",
                        r,
                    );
                } else if dd {
                    let r = rule(Origin::Default, rule_name!("service-default"));
                    if v >= 228 {
                        self.add2(
                            &id,
                            DepKind::After,
                            DepKind::Requires,
                            "sysinit.target",
                            r.clone(),
                        );
                        self.add(&id, DepKind::After, "basic.target", r.clone());
                    } else {
                        self.add2(
                            &id,
                            DepKind::After,
                            DepKind::Requires,
                            "basic.target",
                            r.clone(),
                        );
                    }
                    self.add2(
                        &id,
                        DepKind::Before,
                        DepKind::Conflicts,
                        "shutdown.target",
                        r,
                    );
                }
                // Without Type= (or with only values this version ignores), a service
                // with BusName= is Type=dbus.
                let ty = u.settings.iter().rev().find(|s| {
                    s.section == "Service"
                        && s.key == "Type"
                        && self.rules.service_type_known(&s.value)
                });
                let dbus = match ty {
                    Some(t) => t.value == "dbus",
                    None => last(u, "Service", "BusName").is_some(),
                };
                if let Some(bus) = last(u, "Service", "BusName") {
                    let p = from_setting(Origin::File, rule_name!("service-dbus"), bus);
                    if v < 228 {
                        let busname = format!("{}.busname", bus.value);
                        if name::is_valid(&busname) {
                            self.add(&id, DepKind::After, &busname, p);
                        }
                    } else if v < 247 || dbus {
                        self.add2(&id, DepKind::After, DepKind::Requires, "dbus.socket", p);
                    }
                }
                self.oomd(u, "Service", dd);
            }
            UnitType::Socket => {
                for s in u.settings.iter().filter(|s| s.section == "Socket") {
                    let listen = matches!(
                        s.key.as_str(),
                        "ListenStream"
                            | "ListenDatagram"
                            | "ListenSequentialPacket"
                            | "ListenFIFO"
                            | "ListenSpecial"
                            | "ListenUSBFunction"
                    );
                    if !listen || s.value.is_empty() {
                        continue;
                    }
                    // Specifiers are expanded first (`%t/podman/podman.sock`).
                    let Some(value) = self.path_printf(&id, &s.value) else {
                        continue;
                    };
                    let is_path = match s.key.as_str() {
                        "ListenStream" | "ListenDatagram" | "ListenSequentialPacket" => {
                            value.starts_with('/')
                        }
                        _ => true,
                    };
                    if is_path {
                        info.mounts_for.push((
                            value,
                            from_setting(Origin::File, rule_name!("socket-paths"), s),
                        ));
                    }
                }
                if let Some(dev) = last(u, "Socket", "BindToDevice")
                    && dev.value != "lo"
                {
                    let d = format!(
                        "sys-subsystem-net-devices-{}.device",
                        name::escape(&dev.value)
                    );
                    let p = from_setting(Origin::File, rule_name!("socket-bind-device"), dev);
                    // A user manager only wants devices (`unit_add_node_dependency`).
                    let kind = if user {
                        DepKind::Wants
                    } else {
                        DepKind::BindsTo
                    };
                    self.add2(&id, kind, DepKind::After, &d, p);
                }
                if dd {
                    self.early_boot_defaults(&id, "sockets.target", rule_name!("socket-default"));
                }
            }
            UnitType::Target => {
                if dd && id != "shutdown.target" {
                    let r = rule(Origin::Default, rule_name!("target-default"));
                    self.add(&id, DepKind::Conflicts, "shutdown.target", r.clone());
                    if v >= 233 {
                        self.add(&id, DepKind::Before, "shutdown.target", r);
                    }
                }
            }
            UnitType::Timer => {
                // A user manager keeps its stamps in the home directory: no mount needed.
                if let Some((true, s)) = boolean(u, "Timer", "Persistent").filter(|_| !user) {
                    info.mounts_for.push((
                        "/var/lib/systemd/timers".into(),
                        from_setting(Origin::File, rule_name!("timer-persistent"), s),
                    ));
                }
                if dd {
                    self.early_boot_defaults(&id, "timers.target", rule_name!("timer-default"));
                    // The clock targets exist in the system manager only.
                    if !user && !list(u, "Timer", "OnCalendar").is_empty() {
                        let c = rule(Origin::Default, rule_name!("timer-calendar"));
                        self.add(&id, DepKind::After, "time-sync.target", c.clone());
                        if v >= 248 {
                            self.add(&id, DepKind::After, "time-set.target", c);
                        }
                    }
                }
            }
            UnitType::Path => {
                for s in u.settings.iter().filter(|s| {
                    s.section == "Path"
                        && matches!(
                            s.key.as_str(),
                            "PathExists"
                                | "PathExistsGlob"
                                | "PathChanged"
                                | "PathModified"
                                | "DirectoryNotEmpty"
                        )
                }) {
                    if let Some(value) = self.path_printf(&id, &s.value)
                        && value.starts_with('/')
                    {
                        info.mounts_for.push((
                            value,
                            from_setting(Origin::File, rule_name!("path-paths"), s),
                        ));
                    }
                }
                if dd {
                    self.early_boot_defaults(&id, "paths.target", rule_name!("path-default"));
                }
            }
            UnitType::Slice => {
                if dd {
                    let r = rule(Origin::Default, rule_name!("slice-default"));
                    self.add2(
                        &id,
                        DepKind::Before,
                        DepKind::Conflicts,
                        "shutdown.target",
                        r,
                    );
                }
                self.oomd(u, "Slice", dd);
            }
            UnitType::Scope => {
                if dd {
                    let r = rule(Origin::Default, rule_name!("scope-default"));
                    self.add2(
                        &id,
                        DepKind::Before,
                        DepKind::Conflicts,
                        "shutdown.target",
                        r,
                    );
                }
            }
            UnitType::Automount => {
                let mount = format!("{stem}.mount");
                let r = rule(Origin::Implicit, rule_name!("automount-triggers-mount"));
                self.add2(&id, DepKind::Before, DepKind::Triggers, &mount, r);
                if let Some(w) = last(u, "Automount", "Where")
                    && let Some(parent) = std::path::Path::new(w.value.as_str())
                        .parent()
                        .and_then(|p| p.to_str())
                    && parent != w.value
                {
                    info.mounts_for.push((
                        parent.to_string(),
                        from_setting(Origin::Implicit, rule_name!("mount-parent"), w),
                    ));
                }
                if dd && !user {
                    let r = rule(Origin::Default, rule_name!("automount-default"));
                    if v >= 246 {
                        self.add(&id, DepKind::Before, "local-fs.target", r.clone());
                        self.add(&id, DepKind::After, "local-fs-pre.target", r.clone());
                    }
                    self.add2(&id, DepKind::Before, DepKind::Conflicts, "umount.target", r);
                }
            }
            UnitType::Mount => self.mount_dependencies(u, dd, &mut info),
            UnitType::Swap => self.swap_dependencies(u, dd, &mut info),
            UnitType::Device => {}
        }
        self.post.insert(u.id.clone(), info);
    }

    /// The default dependencies sockets, timers and paths share: before their target,
    /// after and requiring sysinit.target (system manager only), stopped at shutdown.
    fn early_boot_defaults(&mut self, id: &str, target: &str, rule_name: RuleName) {
        let r = rule(Origin::Default, rule_name);
        self.add(id, DepKind::Before, target, r.clone());
        if !self.scope.is_user() {
            self.add2(
                id,
                DepKind::After,
                DepKind::Requires,
                "sysinit.target",
                r.clone(),
            );
        }
        self.add2(
            id,
            DepKind::Before,
            DepKind::Conflicts,
            "shutdown.target",
            r,
        );
    }

    /// `unit_add_oomd_dependencies`: only with `DefaultDependencies=yes` (252–262).
    fn oomd(&mut self, u: &Unit, section: &str, dd: bool) {
        if self.rules.version < 247 || !dd {
            return;
        }
        for key in ["ManagedOOMSwap", "ManagedOOMMemoryPressure"] {
            if let Some(s) = last(u, section, key).filter(|s| s.value == "kill") {
                let p = from_setting(Origin::File, rule_name!("service-oomd"), s);
                self.add2(
                    &u.id.clone(),
                    DepKind::Wants,
                    DepKind::After,
                    "systemd-oomd.service",
                    p,
                );
                return;
            }
        }
    }

    /// Post-load edges for units in state `loaded`: slice ordering, mounts of paths, target
    /// auto-ordering. `edges` already carries canonical names. Returns the number of
    /// `RequiresMountsFor=`-style paths whose mounts were not looked for because the work
    /// budget of [`budget::MAX_MOUNTS_FOR_BYTES`] was spent.
    pub(super) fn implicit_post_load(&self, edges: &mut Vec<Edge>, syms: &mut Interner) -> usize {
        let loaded = |id: &str| {
            self.units
                .get(id)
                .is_some_and(|u| u.state == LoadState::Loaded)
        };
        let mut added = Vec::new();
        // Slice ordering.
        for e in edges.iter().filter(|e| e.kind == DepKind::InSlice) {
            if loaded(&e.from) {
                // systemd marks a slice's edges to its parent implicit, other units' file.
                let origin = if e.from.ends_with(".slice") {
                    Origin::Implicit
                } else {
                    Origin::File
                };
                let r = rule(origin, rule_name!("slice-membership"));
                for kind in [DepKind::After, DepKind::Requires] {
                    added.push(Edge {
                        from: e.from.clone(),
                        kind,
                        to: e.to.clone(),
                        provenance: r.clone(),
                    });
                }
            }
        }
        // Mount units of paths.
        let (mut prefix_bytes, mut paths_cut) = (0usize, 0usize);
        let mut ids: Vec<&Sym> = self.post.keys().collect();
        ids.sort_unstable();
        for id in ids {
            if !loaded(id) {
                continue;
            }
            let info = &self.post[id];
            let lists = [
                (&info.mounts_for, DepKind::Requires),
                (&info.wants_mounts_for, DepKind::Wants),
            ];
            for (paths, hard) in lists {
                for (path, prov) in paths {
                    // Each prefix becomes a unit name: the work grows as the square of a
                    // path's depth, so an image's deep paths are bounded in total.
                    let cost = path.len() * (path.matches('/').count() + 1);
                    if prefix_bytes.saturating_add(cost) > budget::MAX_MOUNTS_FOR_BYTES {
                        paths_cut += 1;
                        continue;
                    }
                    prefix_bytes += cost;
                    let mut prefix = String::new();
                    let mut prefixes = vec!["/".to_string()];
                    for c in path.split('/').filter(|c| !c.is_empty()) {
                        prefix.push('/');
                        prefix.push_str(c);
                        prefixes.push(prefix.clone());
                    }
                    for p in prefixes {
                        let Some(m) =
                            path_util::unit_name_from_path(&p, ".mount", self.rules.version).ok()
                        else {
                            continue;
                        };
                        if m == *id || !loaded(&m) {
                            continue;
                        }
                        let mut pr = prov.clone();
                        pr.origin = Origin::Path;
                        pr.how = How::Rule;
                        pr.rule = Some(rule_name!("mounts-for"));
                        let (from, to) = (syms.get(id), syms.get(&m));
                        added.push(Edge {
                            from: from.clone(),
                            kind: DepKind::After,
                            to: to.clone(),
                            provenance: pr.clone(),
                        });
                        if self.units[m.as_str()].fragment.is_some() {
                            added.push(Edge {
                                from,
                                kind: hard,
                                to,
                                provenance: pr,
                            });
                        }
                    }
                }
            }
        }
        // v254+ records JoinsNamespaceOf on both units.
        if self.rules.version >= 254 {
            for e in edges.iter().filter(|e| e.kind == DepKind::JoinsNamespaceOf) {
                added.push(Edge {
                    from: e.to.clone(),
                    kind: e.kind,
                    to: e.from.clone(),
                    provenance: e.provenance.clone(),
                });
            }
        }
        edges.extend(added);
        // Target auto-ordering, after everything else is known: a target is ordered after
        // the units it pulls in unless it is already ordered before them. The candidates
        // first (a target's pulls), then the orderings struck off them: a set of every
        // ordering of the image held ~50 MB at 100k units.
        let dd = |id: &str| self.post.get(id).is_some_and(|i| i.default_dependencies);
        let mut auto: HashSet<(&Sym, &Sym)> = edges
            .iter()
            .filter(|e| {
                e.kind.pulls_in()
                    && e.from.ends_with(".target")
                    && loaded(&e.from)
                    && loaded(&e.to)
                    && dd(&e.from)
                    && dd(&e.to)
            })
            .map(|e| (&e.from, &e.to))
            .collect();
        if !auto.is_empty() {
            for e in edges.iter() {
                match e.kind {
                    DepKind::Before => auto.remove(&(&e.from, &e.to)),
                    DepKind::After => auto.remove(&(&e.to, &e.from)),
                    _ => false,
                };
            }
        }
        let mut auto: Vec<(Sym, Sym)> = auto
            .into_iter()
            .map(|(t, u)| (t.clone(), u.clone()))
            .collect();
        auto.sort();
        for (t, u) in auto {
            edges.push(Edge {
                from: t,
                kind: DepKind::After,
                to: u,
                provenance: rule(Origin::Default, rule_name!("target-auto-order")),
            });
        }
        paths_cut
    }
}
