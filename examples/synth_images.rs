//! Synthetic image pairs for the benchmark (`scripts/bench.sh`).
//!
//! `cargo run --release --example synth_images -- OUT UNITS [SEED]` writes `OUT/old` and
//! `OUT/new`: two root filesystems of about UNITS units each, the same for the same seed.
//!
//! OLD looks like a distribution with many packages: the usual targets and base services;
//! per package a main service (enabled through `/etc/.../multi-user.target.wants/`, with
//! `[Install]`), and some of: a worker that Requires= it, a socket, a timer and its oneshot
//! service, a template with enabled instances, a mount, a package target, an alias, an admin
//! drop-in in `/etc`, a masked legacy unit. Packages want, order after and sometimes
//! require earlier packages' services, so failure sets have some depth.
//!
//! NEW is the "next release": about 2 % of the units change a dependency, 3 % change a
//! non-dependency setting, 1 % of the units are removed (with their enablement links) and
//! 1 % are added as new packages.
//!
//! The random numbers come from a fixed SplitMix64 (a few lines, so that the pair stays the
//! same whatever version of a random-number crate is around).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A file or a symlink, by path relative to the root.
#[derive(Clone)]
enum Node {
    File(Vec<String>),
    Link(String),
}

const VENDOR: &str = "usr/lib/systemd/system";
const ADMIN: &str = "etc/systemd/system";

#[derive(Clone, Default)]
struct Image {
    nodes: BTreeMap<String, Node>,
    /// Unit file path → unit name, for vendor unit files (what mutations pick from).
    units: BTreeMap<String, String>,
    /// Main services of the packages, in creation order (dependency targets).
    mains: Vec<String>,
    next_pkg: usize,
}

impl Image {
    fn unit(&mut self, name: &str, lines: Vec<String>) {
        let path = format!("{VENDOR}/{name}");
        self.units.insert(path.clone(), name.to_string());
        self.nodes.insert(path, Node::File(lines));
    }
    fn link(&mut self, path: String, target: &str) {
        self.nodes.insert(path, Node::Link(target.to_string()));
    }
    fn count(&self) -> usize {
        self.units.len()
    }

    fn base(&mut self) {
        let targets = [
            (
                "sysinit.target",
                "Wants=local-fs.target\nAfter=local-fs.target",
            ),
            (
                "basic.target",
                "Requires=sysinit.target\nAfter=sysinit.target sockets.target timers.target",
            ),
            (
                "multi-user.target",
                "Requires=basic.target\nAfter=basic.target\nConflicts=rescue.target",
            ),
            (
                "graphical.target",
                "Requires=multi-user.target\nAfter=multi-user.target",
            ),
            (
                "local-fs.target",
                "After=local-fs-pre.target\nConflicts=shutdown.target",
            ),
            ("local-fs-pre.target", "DefaultDependencies=no"),
            ("network.target", "After=network-pre.target"),
            ("network-pre.target", "DefaultDependencies=no"),
            (
                "network-online.target",
                "Requires=network.target\nAfter=network.target",
            ),
            ("sockets.target", "DefaultDependencies=no"),
            ("timers.target", "DefaultDependencies=no"),
            ("paths.target", "DefaultDependencies=no"),
            ("getty.target", "DefaultDependencies=no"),
            ("remote-fs.target", "After=remote-fs-pre.target"),
            (
                "rescue.target",
                "Requires=sysinit.target\nAfter=sysinit.target",
            ),
            ("shutdown.target", "DefaultDependencies=no"),
        ];
        for (name, deps) in targets {
            let mut l = vec!["[Unit]".to_string(), format!("Description={name}")];
            l.extend(deps.lines().map(str::to_string));
            self.unit(name, l);
        }
        self.link(format!("{VENDOR}/default.target"), "graphical.target");
        for (name, extra) in [
            (
                "systemd-journald.service",
                "Requires=systemd-journald.socket\nAfter=systemd-journald.socket",
            ),
            ("dbus.service", "Requires=dbus.socket\nAfter=dbus.socket"),
            ("systemd-udevd.service", "After=systemd-journald.socket"),
            (
                "systemd-logind.service",
                "Wants=dbus.socket\nAfter=dbus.socket",
            ),
            (
                "systemd-networkd.service",
                "Before=network.target\nWants=network.target",
            ),
        ] {
            let mut l = vec!["[Unit]".to_string(), format!("Description={name}")];
            l.extend(extra.lines().map(str::to_string));
            l.extend([
                "[Service]".to_string(),
                format!("ExecStart=/usr/lib/systemd/{name}"),
            ]);
            self.unit(name, l);
            self.mains.push(name.to_string());
        }
        for (name, listen) in [
            (
                "systemd-journald.socket",
                "ListenStream=/run/systemd/journal/stdout",
            ),
            ("dbus.socket", "ListenStream=/run/dbus/system_bus_socket"),
        ] {
            let l = vec![
                "[Unit]".to_string(),
                format!("Description={name}"),
                "[Socket]".to_string(),
                listen.to_string(),
                "[Install]".to_string(),
                "WantedBy=sockets.target".to_string(),
            ];
            self.unit(name, l);
            self.link(
                format!("{ADMIN}/sockets.target.wants/{name}"),
                &format!("/{VENDOR}/{name}"),
            );
        }
        self.link(
            format!("{ADMIN}/multi-user.target.wants/systemd-networkd.service"),
            &format!("/{VENDOR}/systemd-networkd.service"),
        );
    }

    /// Another package's main service, preferring recent ones (packages build on their
    /// neighbours as well as on the base).
    fn pick_main(&self, r: &mut Rng) -> Option<String> {
        if self.mains.is_empty() {
            return None;
        }
        let n = self.mains.len();
        let i = if r.chance(50) {
            n - 1 - r.below(n.min(200))
        } else {
            r.below(n)
        };
        Some(self.mains[i].clone())
    }

    fn package(&mut self, r: &mut Rng) {
        let p = self.next_pkg;
        self.next_pkg += 1;
        let pkg = format!("pkg{p}");
        let main = format!("{pkg}.service");
        let mut unit = vec![
            "[Unit]".to_string(),
            format!("Description=Package {p} daemon"),
            "Documentation=man:pkg(8)".to_string(),
        ];
        for _ in 0..1 + r.below(3) {
            if let Some(o) = self.pick_main(r) {
                unit.push(format!("Wants={o}"));
                unit.push(format!("After={o}"));
            }
        }
        if r.chance(30)
            && let Some(o) = self.pick_main(r)
        {
            unit.push(format!("Requires={o}"));
        }
        if r.chance(40) {
            unit.push("After=network-online.target".into());
            unit.push("Wants=network-online.target".into());
        }
        let mount = r.chance(8).then(|| format!("srv-{pkg}.mount"));
        if let Some(m) = &mount {
            unit.push(format!("Requires={m}"));
            unit.push(format!("After={m}"));
        }
        let socket = r.chance(12);
        let mut service = vec![
            "[Service]".to_string(),
            format!("ExecStart=/usr/sbin/{pkg}d --foreground"),
            format!("Environment=PKG={p} LANG=C.UTF-8"),
            "Restart=on-failure".to_string(),
        ];
        if r.chance(30) {
            service.push(format!("User={pkg}"));
        }
        unit.extend(service);
        unit.extend([
            "[Install]".to_string(),
            "WantedBy=multi-user.target".to_string(),
        ]);
        if r.chance(10) {
            unit.push(format!("Alias={pkg}-alias.service"));
            self.link(format!("{VENDOR}/{pkg}-alias.service"), &main);
        }
        self.unit(&main, unit);
        if r.chance(70) {
            self.link(
                format!("{ADMIN}/multi-user.target.wants/{main}"),
                &format!("/{VENDOR}/{main}"),
            );
        }
        if let Some(m) = mount {
            self.unit(
                &m,
                vec![
                    "[Unit]".into(),
                    format!("Description=/srv/{pkg}"),
                    "[Mount]".into(),
                    format!("What=/dev/disk/by-label/{pkg}"),
                    format!("Where=/srv/{pkg}"),
                    "Type=ext4".into(),
                ],
            );
        }
        if r.chance(30) {
            self.unit(
                &format!("{pkg}-worker.service"),
                vec![
                    "[Unit]".into(),
                    format!("Description=Package {p} worker"),
                    format!("Requires={main}"),
                    format!("After={main}"),
                    "PartOf=".to_string() + &main,
                    "[Service]".into(),
                    format!("ExecStart=/usr/sbin/{pkg}-worker"),
                    "[Install]".into(),
                    format!("WantedBy={main}"),
                ],
            );
            self.link(
                format!("{ADMIN}/{main}.wants/{pkg}-worker.service"),
                &format!("/{VENDOR}/{pkg}-worker.service"),
            );
        }
        if socket {
            self.unit(
                &format!("{pkg}.socket"),
                vec![
                    "[Unit]".into(),
                    format!("Description=Package {p} socket"),
                    "[Socket]".into(),
                    format!("ListenStream=/run/{pkg}.sock"),
                    "[Install]".into(),
                    "WantedBy=sockets.target".into(),
                ],
            );
            self.link(
                format!("{ADMIN}/sockets.target.wants/{pkg}.socket"),
                &format!("/{VENDOR}/{pkg}.socket"),
            );
        }
        if r.chance(8) {
            self.unit(
                &format!("{pkg}-clean.timer"),
                vec![
                    "[Unit]".into(),
                    format!("Description=Clean package {p} daily"),
                    "[Timer]".into(),
                    "OnCalendar=daily".into(),
                    "Persistent=true".into(),
                    "[Install]".into(),
                    "WantedBy=timers.target".into(),
                ],
            );
            self.unit(
                &format!("{pkg}-clean.service"),
                vec![
                    "[Unit]".into(),
                    format!("Description=Clean package {p}"),
                    "[Service]".into(),
                    "Type=oneshot".into(),
                    format!("ExecStart=/usr/sbin/{pkg}-clean"),
                ],
            );
            self.link(
                format!("{ADMIN}/timers.target.wants/{pkg}-clean.timer"),
                &format!("/{VENDOR}/{pkg}-clean.timer"),
            );
        }
        if r.chance(6) {
            let t = format!("{pkg}-inst@.service");
            self.unit(
                &t,
                vec![
                    "[Unit]".into(),
                    format!("Description=Package {p} instance %i"),
                    format!("After={main}"),
                    format!("BindsTo={main}"),
                    "[Service]".into(),
                    format!("ExecStart=/usr/sbin/{pkg}d --instance %i"),
                    "[Install]".into(),
                    "WantedBy=multi-user.target".into(),
                ],
            );
            for i in 0..1 + r.below(4) {
                self.link(
                    format!("{ADMIN}/multi-user.target.wants/{pkg}-inst@{i}.service"),
                    &format!("/{VENDOR}/{t}"),
                );
            }
        }
        if r.chance(4) {
            self.unit(
                &format!("{pkg}.target"),
                vec![
                    "[Unit]".into(),
                    format!("Description=Package {p} services"),
                    format!("Wants={main}"),
                    format!("After={main}"),
                ],
            );
        }
        if r.chance(6) {
            self.nodes.insert(
                format!("{ADMIN}/{main}.d/override.conf"),
                Node::File(vec![
                    "[Service]".into(),
                    format!("Environment=PKG_OPTS=--site-{p}"),
                    "LimitNOFILE=65536".into(),
                ]),
            );
        }
        if r.chance(2) {
            let legacy = format!("{pkg}-legacy.service");
            self.unit(
                &legacy,
                vec![
                    "[Unit]".into(),
                    "Description=Legacy".into(),
                    "[Service]".into(),
                    "ExecStart=/bin/true".into(),
                ],
            );
            self.link(format!("{ADMIN}/{legacy}"), "/dev/null");
        }
        self.mains.push(main);
    }

    /// The next release: change dependencies of 2 %, other settings of 3 %, remove 1 %,
    /// add 1 % of the units.
    fn next_release(&self, r: &mut Rng) -> Image {
        let mut n = self.clone();
        let n_units = self.count();
        let paths: Vec<String> = self
            .units
            .keys()
            .filter(|p| p.ends_with(".service") && p.contains("/pkg"))
            .cloned()
            .collect();
        for _ in 0..n_units * 2 / 100 {
            let path = &paths[r.below(paths.len())];
            let other = self.pick_main(r).unwrap_or_default();
            let Some(Node::File(lines)) = n.nodes.get_mut(path) else {
                continue;
            };
            match r.below(3) {
                0 => {
                    lines.insert(1, format!("Wants={other}"));
                    lines.insert(1, format!("After={other}"));
                }
                1 => {
                    if let Some(i) = lines.iter().position(|l| l.starts_with("Wants=")) {
                        lines.remove(i);
                    } else {
                        lines.insert(1, format!("Requires={other}"));
                    }
                }
                _ => {
                    if let Some(l) = lines.iter_mut().find(|l| l.starts_with("After=")) {
                        *l = format!("After={other}");
                    } else {
                        lines.insert(1, format!("Before={other}"));
                    }
                }
            }
        }
        for _ in 0..n_units * 3 / 100 {
            let path = &paths[r.below(paths.len())];
            if let Some(Node::File(lines)) = n.nodes.get_mut(path)
                && let Some(l) = lines.iter_mut().find(|l| l.starts_with("ExecStart="))
            {
                l.push_str(" --next");
            }
        }
        // Admin links by the unit they name.
        let mut links_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in self
            .nodes
            .range(format!("{ADMIN}/")..format!("{ADMIN}0"))
            .map(|(p, _)| p)
        {
            let name = p.rsplit('/').next().unwrap_or_default().to_string();
            links_of.entry(name).or_default().push(p.clone());
        }
        let mut removed = 0;
        while removed < n_units / 100 {
            let path = paths[r.below(paths.len())].clone();
            let Some(name) = n.units.remove(&path) else {
                continue;
            };
            n.nodes.remove(&path);
            for l in links_of.get(&name).into_iter().flatten() {
                n.nodes.remove(l);
            }
            removed += 1;
        }
        let target = n.count() + n_units / 100 + removed;
        while n.count() < target {
            n.package(r);
        }
        n
    }

    fn write(&self, root: &Path) -> std::io::Result<()> {
        fs::create_dir_all(root.join(VENDOR))?;
        fs::create_dir_all(root.join(ADMIN))?;
        std::os::unix::fs::symlink("usr/lib", root.join("lib"))?;
        fs::write(
            root.join("usr/lib/systemd/systemd"),
            b"\0systemd 252 running in system mode\0",
        )?;
        fs::write(
            root.join("etc/os-release"),
            "ID=synth\nVERSION_ID=1\nPRETTY_NAME=\"Synthetic\"\n",
        )?;
        for (path, node) in &self.nodes {
            let p = root.join(path);
            if let Some(d) = p.parent() {
                fs::create_dir_all(d)?;
            }
            match node {
                Node::File(lines) => {
                    let mut s = lines.join("\n");
                    s.push('\n');
                    fs::write(&p, s)?;
                }
                Node::Link(t) => std::os::unix::fs::symlink(t, &p)?,
            }
        }
        Ok(())
    }
}

/// Write the pair for `units` and `seed` to `out/old` and `out/new` (replacing them); the
/// number of unit files on each side. (Also used by tests/browser.rs.)
pub fn write_pair(out: &Path, units: usize, seed: u64) -> std::io::Result<(usize, usize)> {
    let mut r = Rng(seed);
    let mut old = Image::default();
    old.base();
    while old.count() < units {
        old.package(&mut r);
    }
    let new = old.next_release(&mut r);
    for (side, img) in [("old", &old), ("new", &new)] {
        let root = out.join(side);
        if root.exists() {
            fs::remove_dir_all(&root)?;
        }
        img.write(&root)?;
    }
    Ok((old.count(), new.count()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(units)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: synth_images OUT UNITS [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let out = Path::new(out);
    let (old, new) = write_pair(out, units, seed).expect("write images");
    println!(
        "{}: old {old} unit files, new {new} unit files",
        out.display()
    );
}
