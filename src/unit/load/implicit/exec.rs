//! Implicit dependencies of an execution context: `/tmp` and `/var/tmp` (PrivateTmp=, DynamicUser=), paths of the exec settings (WorkingDirectory=, RootDirectory=, …) and their mounts, journal and logging sockets.

use super::*;
use crate::unit::load::parse_bool;
use crate::unit::scope;

impl Loader<'_> {
    /// The states of `/tmp` and `/var/tmp` (semantics doc, "The `/tmp` and `/var/tmp` rules
    /// from 258 and 260"), with the setting behind them; `None` when neither is private.
    pub(super) fn private_tmp(
        &self,
        u: &Unit,
        sec: &str,
        info: &PostInfo,
    ) -> Option<(Setting, PrivateTmp, PrivateTmp)> {
        let v = self.rules.version;
        let mut state = PrivateTmp::No;
        let mut setting = None;
        if let Some(s) = last(u, sec, "PrivateTmp") {
            let parsed = match s.value.as_str() {
                "connected" if v >= 257 => Some(PrivateTmp::Connected),
                "disconnected" if v >= 257 => Some(PrivateTmp::Disconnected),
                other => parse_bool(other).map(|b| {
                    if b {
                        PrivateTmp::Connected
                    } else {
                        PrivateTmp::No
                    }
                }),
            };
            if let Some(p) = parsed {
                state = p;
                setting = Some(s.clone());
            }
        }
        if state == PrivateTmp::No
            && let Some((true, s)) = boolean(u, sec, "DynamicUser")
        {
            // 257+ (PR #32724): DynamicUser= implies a disconnected /tmp; before, PrivateTmp=yes.
            state = if v >= 257 {
                PrivateTmp::Disconnected
            } else {
                PrivateTmp::Connected
            };
            setting = Some(s.clone());
        }
        let setting = setting.filter(|_| state != PrivateTmp::No)?;
        let dd = info.default_dependencies;
        let root = has_root_fs(u, sec);
        let after = |to: &str| {
            self.raw_edges
                .iter()
                .rev()
                .take_while(|e| e.from == u.id)
                .any(|e| e.kind == DepKind::After && e.to == to)
        };
        let mounts = |dir: &str| {
            names_path(&info.mounts_for, dir) || names_path(&info.wants_mounts_for, dir)
        };
        // 258+: a disconnected /var/tmp needs /var, which DefaultDependencies=no only
        // gets when the unit names it.
        let var_tmp = if v >= 258 && state == PrivateTmp::Disconnected {
            if dd || root || mounts("/var") || after("var.mount") {
                PrivateTmp::Disconnected
            } else {
                PrivateTmp::No
            }
        } else {
            state
        };
        // 260+: PrivateTmp=yes with DefaultDependencies=no disconnects /tmp, when tmp.mount
        // exists (we take: is in the image) and the unit is not ordered after it.
        let tmp = if v >= 260
            && state == PrivateTmp::Connected
            && !dd
            && !root
            && !mounts("/tmp")
            && self.ids.contains_key("tmp.mount")
            && !after("tmp.mount")
        {
            PrivateTmp::Disconnected
        } else {
            state
        };
        Some((setting, tmp, var_tmp))
    }

    /// `unit_path_printf`/`unit_full_printf` for the system manager: the directory
    /// specifiers (`%t` /run, `%S` /var/lib, `%C` /var/cache, `%L` /var/log, `%E` /etc,
    /// `%T` /tmp, `%V` /var/tmp, `%h` /root, `%s` /bin/sh), the unescaped `%I`/`%P`/`%J`/`%f`,
    /// and the name specifiers of dependency values. `None` when a specifier cannot be
    /// resolved offline (the setting is then left out).
    pub(in crate::unit::load) fn path_printf(&self, id: &str, value: &str) -> Option<String> {
        if !value.contains('%') {
            return Some(value.to_string());
        }
        let n = UnitName::parse(id);
        let prefix = n.map(|n| n.prefix).unwrap_or(id);
        let instance = n.and_then(|n| n.instance).unwrap_or("");
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let spec = chars.next()?;
            let user = self.scope.is_user();
            let fixed = match spec {
                '%' => "%",
                't' if user => scope::USER_RUNTIME_DIR,
                'S' | 'E' if user => "/home/user/.config",
                'C' if user => "/home/user/.cache",
                'L' if user => "/home/user/.config/log",
                'h' if user => scope::USER_HOME,
                't' => "/run",
                'S' => "/var/lib",
                'C' => "/var/cache",
                'L' => "/var/log",
                'E' => "/etc",
                'T' => "/tmp",
                'V' => "/var/tmp",
                'h' => "/root",
                's' => "/bin/sh",
                _ => "",
            };
            if !fixed.is_empty() {
                out.push_str(fixed);
                continue;
            }
            match spec {
                'I' => out.push_str(&name::unescape(instance)),
                'P' => out.push_str(&name::unescape(prefix)),
                'J' => {
                    let j = prefix.rsplit('-').next().unwrap_or(prefix);
                    out.push_str(&name::unescape(j));
                }
                'f' => {
                    let base = if instance.is_empty() {
                        prefix
                    } else {
                        instance
                    };
                    let u = name::unescape(base);
                    if !u.starts_with('/') {
                        out.push('/');
                    }
                    out.push_str(&u);
                }
                other => {
                    let word = format!("%{other}");
                    let e = crate::unit::deps::expand_specifiers_with(
                        &word,
                        id,
                        &self.rules,
                        &self.facts,
                    )
                    .ok()?;
                    out.push_str(&e);
                }
            }
        }
        Some(out)
    }

    pub(super) fn exec_dependencies(&mut self, u: &Unit, sec: &str, info: &mut PostInfo) {
        let id = u.id.clone();
        let v = self.rules.version;
        let user = self.scope.is_user();
        let wd = last(u, sec, "WorkingDirectory");
        if let Some(wd) = wd {
            let missing_ok = wd.value.starts_with('-');
            let value = wd.value.trim_start_matches('-');
            let path = if user && value == "~" {
                scope::USER_HOME.to_string()
            } else {
                self.path_printf(&id, value).unwrap_or_default()
            };
            let entry = (
                path.clone(),
                from_setting(Origin::File, rule_name!("exec-paths"), wd),
            );
            if path.starts_with('/') {
                if !missing_ok || v < 252 {
                    info.mounts_for.push(entry);
                } else if v >= 256 {
                    info.wants_mounts_for.push(entry);
                }
            }
        }
        // A user manager runs a unit without WorkingDirectory= in the home directory, which
        // may be missing (`unit_patch_contexts`): wanted from v256 like `-/path`.
        if wd.is_none() && user && v >= 256 {
            info.wants_mounts_for.push((
                scope::USER_HOME.to_string(),
                rule(Origin::File, rule_name!("exec-paths")),
            ));
        }
        for key in ["RootDirectory", "RootImage"] {
            if let Some(s) = last(u, sec, key)
                && let Some(path) = self.path_printf(&id, &s.value)
                && path.starts_with('/')
            {
                let entry = (
                    path,
                    from_setting(Origin::File, rule_name!("exec-paths"), s),
                );
                if v >= 256 {
                    info.wants_mounts_for.push(entry);
                } else {
                    info.mounts_for.push(entry);
                }
            }
        }
        let mut writable = None;
        for (key, prefix) in [
            ("RuntimeDirectory", "/run"),
            ("StateDirectory", "/var/lib"),
            ("CacheDirectory", "/var/cache"),
            ("LogsDirectory", "/var/log"),
            ("ConfigurationDirectory", "/etc"),
        ] {
            let prefix = if user {
                scope::user_prefix(key).unwrap_or(prefix)
            } else {
                prefix
            };
            for (s, word) in list(u, sec, key) {
                // The directory (before any `:symlink`), specifiers expanded
                // (`RuntimeDirectory=redis-%i`).
                let Some(rel) = self.path_printf(&id, word.split(':').next().unwrap_or("")) else {
                    continue;
                };
                info.mounts_for.push((
                    format!("{prefix}/{rel}"),
                    from_setting(Origin::File, rule_name!("exec-paths"), s),
                ));
                if matches!(key, "StateDirectory" | "CacheDirectory" | "LogsDirectory")
                    && writable.is_none()
                {
                    writable = Some(s.clone());
                }
            }
        }
        // The rest is the system manager's only (`unit_add_exec_dependencies` returns here
        // for a user manager): remount-fs, /tmp, udev, journald.
        if user {
            return;
        }
        if let Some(s) = writable
            && v >= 240
        {
            let p = from_setting(Origin::File, rule_name!("exec-directories"), &s);
            self.add(&id, DepKind::After, "systemd-remount-fs.service", p);
        }
        if let Some((s, tmp, var_tmp)) = self.private_tmp(u, sec, info) {
            let p = from_setting(Origin::File, rule_name!("exec-private-tmp"), &s);
            if v >= 256 {
                if tmp == PrivateTmp::Connected {
                    info.wants_mounts_for.push(("/tmp".into(), p.clone()));
                }
                match var_tmp {
                    PrivateTmp::Connected => {
                        info.wants_mounts_for.push(("/var/tmp".into(), p.clone()))
                    }
                    // 258+: a disconnected /var/tmp is a tmpfs on the host's /var/tmp.
                    PrivateTmp::Disconnected if v >= 258 && !has_root_fs(u, sec) => {
                        info.wants_mounts_for.push(("/var".into(), p.clone()))
                    }
                    _ => {}
                }
            } else if v >= 249 {
                self.add2(&id, DepKind::Wants, DepKind::After, "tmp.mount", p.clone());
                info.mounts_for.push(("/var/tmp".into(), p.clone()));
            } else {
                info.mounts_for.push(("/tmp".into(), p.clone()));
                info.mounts_for.push(("/var/tmp".into(), p.clone()));
            }
            let connected = tmp == PrivateTmp::Connected || var_tmp == PrivateTmp::Connected;
            if v >= 233 && connected {
                self.add(&id, DepKind::After, "systemd-tmpfiles-setup.service", p);
            }
        }
        if let Some(s) = last(u, sec, "RootImage") {
            let p = from_setting(Origin::File, rule_name!("exec-root-image"), s);
            self.add(&id, DepKind::After, "systemd-udevd.service", p);
        }
        if let Some(ns) = last(u, sec, "LogNamespace") {
            let p = from_setting(Origin::File, rule_name!("exec-log-namespace"), ns);
            for s in ["systemd-journald", "systemd-journald-varlink"] {
                let name = format!("{s}@{}.socket", ns.value);
                self.add2(&id, DepKind::Requires, DepKind::After, &name, p.clone());
            }
            if v >= 256 {
                let name = format!("systemd-journald-sync@{}.service", ns.value);
                self.add2(&id, DepKind::Requires, DepKind::After, &name, p);
            }
            return;
        }
        // Effective standard output and error: services keep `inherit` when standard input
        // is a terminal or socket; otherwise unset output means the manager default
        // (journal), unset error means inherit.
        let input = last(u, sec, "StandardInput")
            .map(|s| s.value.as_str())
            .unwrap_or("null");
        let bidirectional = sec == "Service"
            && (input.starts_with("tty") || input == "socket" || input.starts_with("fd"));
        let out = last(u, sec, "StandardOutput");
        let err = last(u, sec, "StandardError");
        let out_v = match out {
            Some(s) if s.value != "inherit" => s.value.as_str(),
            _ if bidirectional => "inherit",
            _ => "journal",
        };
        let err_v = err.map(|s| s.value.as_str()).unwrap_or("inherit");
        if is_journal(out_v) || is_journal(err_v) {
            let p = match (out, err) {
                (Some(s), _) if is_journal(&s.value) => {
                    from_setting(Origin::File, rule_name!("exec-journal"), s)
                }
                (_, Some(s)) if is_journal(&s.value) => {
                    from_setting(Origin::File, rule_name!("exec-journal"), s)
                }
                _ => rule(Origin::File, rule_name!("exec-journal")),
            };
            self.add(&id, DepKind::After, "systemd-journald.socket", p);
        }
    }
}
