//! `systemd-sysv-generator` (until 259): a service for every `/etc/init.d` script that has
//! no native unit, with the ordering of its LSB header and of its `/etc/rcN.d/S??` links.
//! The generated units have no `DefaultDependencies=` line, so default dependencies apply.
//! An image tree does not always carry modes: every regular file counts as executable.
//! The start-priority ordering between scripts without LSB headers is not emulated.

use super::{Ctx, Dir, Out, Source, UnitText};
use crate::tree::{ImagePath, NodeKind};
use crate::unit::rule_name::GeneratorName;
use crate::unit::{name, words};

const GENERATOR: GeneratorName = GeneratorName::named("sysv-generator");
const INIT_D: &str = "/etc/init.d";
/// Most scripts looked at (bounds the work an image can cause).
const MAX_SCRIPTS: usize = 2000;

/// `rcN.d` directories and the target their `S` links stand for.
const RUNLEVELS: [(&str, &str); 5] = [
    ("rc1.d", "rescue.target"),
    ("rc2.d", "multi-user.target"),
    ("rc3.d", "multi-user.target"),
    ("rc4.d", "multi-user.target"),
    ("rc5.d", "graphical.target"),
];

/// `sysv_translate_name`: `foo.sh` → `foo.service`; a name that already is a unit name
/// (`late.service`, `foo.target`) stays (`unit_name_mangle`).
fn service_name(script: &str) -> Option<String> {
    let stem = script.strip_suffix(".sh").unwrap_or(script);
    if name::UnitName::parse(stem).is_some() {
        return Some(stem.to_string());
    }
    let n = format!("{stem}.service");
    name::is_valid(&n).then_some(n)
}

/// `sysv_translate_facility`: what an LSB name stands for; `None` drops it.
fn facility(word: &str, own: &str) -> Option<String> {
    if let Some(f) = word.strip_prefix('$') {
        return match f {
            "local_fs" | "syslog" => None,
            "network" => Some("network-online.target".into()),
            "named" => Some("nss-lookup.target".into()),
            "portmap" => Some("rpcbind.target".into()),
            "remote_fs" => Some("remote-fs.target".into()),
            "time" => Some("time-sync.target".into()),
            other => {
                let t = format!("{other}.target");
                name::is_valid(&t).then_some(t)
            }
        };
    }
    let s = service_name(word)?;
    (s != own).then_some(s)
}

struct Script {
    unit: String,
    path: ImagePath,
    description: Option<String>,
    after: Vec<(String, u32)>,
    before: Vec<(String, u32)>,
    wants: Vec<(String, u32)>,
    aliases: Vec<(String, u32)>,
    wanted_by: Vec<(String, ImagePath)>,
    pidfile: bool,
}

fn parse(unit: String, path: ImagePath, text: &str) -> Script {
    let mut s = Script {
        unit,
        path,
        description: None,
        after: Vec::new(),
        before: Vec::new(),
        wants: Vec::new(),
        aliases: Vec::new(),
        wanted_by: Vec::new(),
        pidfile: false,
    };
    let mut in_header = false;
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        let t = words::strip(line);
        if t.starts_with("# pidfile:") {
            s.pidfile = true;
        }
        if t == "### BEGIN INIT INFO" {
            in_header = true;
            continue;
        }
        if t == "### END INIT INFO" {
            in_header = false;
            continue;
        }
        if !in_header {
            continue;
        }
        let Some(body) = t.strip_prefix('#') else {
            continue;
        };
        let Some((key, value)) = body.trim_start_matches(words::WHITESPACE).split_once(':') else {
            continue;
        };
        let names = words::split(value);
        match words::strip(key) {
            "Provides" => {
                for w in names {
                    match facility(w, &s.unit) {
                        Some(f) if f.ends_with(".service") => s.aliases.push((f, n)),
                        Some(f) => {
                            s.before.push((f.clone(), n));
                            s.wants.push((f.clone(), n));
                            if f == "network-online.target" {
                                s.before.push(("network.target".into(), n));
                                s.wants.push(("network.target".into(), n));
                            }
                        }
                        None => {}
                    }
                }
            }
            "Required-Start" | "Should-Start" | "X-Start-After" => {
                for w in names {
                    if let Some(f) = facility(w, &s.unit) {
                        if f == "network-online.target" {
                            s.wants.push((f.clone(), n));
                        }
                        s.after.push((f, n));
                    }
                }
            }
            "X-Start-Before" => {
                for w in names {
                    if let Some(f) = facility(w, &s.unit) {
                        s.before.push((f, n));
                    }
                }
            }
            "Short-Description" => s.description = Some(words::strip(value).to_string()),
            _ => {}
        }
    }
    s
}

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    if ctx.rules.version >= 260 {
        return;
    }
    let Ok((dir, Some(NodeKind::Dir))) = crate::tree::stat(ctx.tree, &ImagePath::new(INIT_D))
    else {
        return;
    };
    let Ok(entries) = ctx.tree.read_dir(&dir) else {
        return;
    };
    let mut scripts = Vec::new();
    for (file, _) in entries.into_iter().take(MAX_SCRIPTS) {
        if file.starts_with('.') || file.ends_with('~') || file.contains(".dpkg-") {
            continue;
        }
        let Some(unit) = service_name(&file) else {
            continue;
        };
        let path = ImagePath::new(INIT_D).join(&file);
        let Some((_, text)) = ctx.read(path.as_str()) else {
            continue;
        };
        if ctx.unit_exists(&unit) {
            continue; // a native unit wins
        }
        scripts.push(parse(unit, path, &text));
    }
    // Runlevel links: `/etc/rcN.d/S??name`.
    for (rc, target) in RUNLEVELS {
        let rcdir = ImagePath::new("/etc").join(rc);
        let Ok((phys, Some(NodeKind::Dir))) = crate::tree::stat(ctx.tree, &rcdir) else {
            continue;
        };
        let Ok(links) = ctx.tree.read_dir(&phys) else {
            continue;
        };
        for (l, _) in links.into_iter().take(MAX_SCRIPTS) {
            let b = l.as_bytes();
            if b.len() < 4 || b[0] != b'S' || !b[1].is_ascii_digit() || !b[2].is_ascii_digit() {
                continue;
            }
            let Some(unit) = service_name(&l[3..]) else {
                continue;
            };
            if let Some(s) = scripts.iter_mut().find(|s| s.unit == unit)
                && !s.wanted_by.iter().any(|(t, _)| t == target)
            {
                s.wanted_by.push((target.to_string(), rcdir.join(&l)));
            }
        }
    }
    for s in scripts {
        write(ctx, out, s);
    }
}

fn write(ctx: &Ctx, out: &mut Out, s: Script) {
    let file = Source {
        generator: GENERATOR,
        input: Some(s.path.clone()),
        line: None,
    };
    let at = |n: u32| Source {
        generator: GENERATOR,
        input: Some(s.path.clone()),
        line: Some(n),
    };
    let mut t = UnitText::new();
    super::tab::header(&mut t, "systemd-sysv-generator", &file);
    t.line("[Unit]", &file);
    t.line("Documentation=man:systemd-sysv-generator(8)", &file);
    t.line(format!("SourcePath={}", s.path), &file);
    if let Some(d) = &s.description {
        t.line(format!("Description=LSB: {d}"), &file);
    }
    for (target, link) in &s.wanted_by {
        let src = Source {
            generator: GENERATOR,
            input: Some(link.clone()),
            line: None,
        };
        t.line(format!("Before={target}"), &src);
    }
    for (u, n) in &s.before {
        t.line(format!("Before={u}"), &at(*n));
    }
    for (u, n) in &s.after {
        t.line(format!("After={u}"), &at(*n));
    }
    for (u, n) in &s.wants {
        t.line(format!("Wants={u}"), &at(*n));
    }
    t.line("", &file);
    t.line("[Service]", &file);
    t.line("Type=forking", &file);
    t.line("Restart=no", &file);
    t.line("TimeoutSec=5min", &file);
    t.line("IgnoreSIGPIPE=no", &file);
    t.line("KillMode=process", &file);
    t.line("GuessMainPID=no", &file);
    t.line(
        format!("RemainAfterExit={}", if s.pidfile { "no" } else { "yes" }),
        &file,
    );
    t.line("SuccessExitStatus=5 6", &file);
    t.line(format!("ExecStart={} start", s.path), &file);
    t.line(format!("ExecStop={} stop", s.path), &file);
    out.unit(Dir::Late, &s.unit, t);
    for (target, link) in &s.wanted_by {
        let src = Source {
            generator: GENERATOR,
            input: Some(link.clone()),
            line: None,
        };
        out.link(
            Dir::Late,
            &format!("{target}.wants/{}", s.unit),
            &format!("../{}", s.unit),
            &src,
        );
    }
    for (alias, n) in &s.aliases {
        if !ctx.unit_exists(alias) {
            out.link(Dir::Late, alias, &s.unit, &at(*n));
        }
    }
}
