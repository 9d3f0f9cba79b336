//! `systemd-clonesetup-generator` (262): a `systemd-clonesetup@<name>.service` for every
//! dm-clone volume of `/etc/clonetab` (`name source destination metadata [options]`), bound
//! to its three devices, required by `clonesetup.target` and `dev-mapper-<name>.device`.
//! Entries with unsafe names or paths outside `/dev/` are refused, as the generator does.
//!
//! Read from upstream's `clonesetup-generator.c`; checked against the binary of Debian sid
//! (262.1) (docs/semantics.md, `tests/generators.rs`).

use super::tab;
use super::{Ctx, Dir, Out, Source, UnitText};
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("clonesetup-generator");
const PROGRAM: &str = "systemd-clonesetup-generator";

/// `string_is_safe()`: no control characters, backslashes or quotes.
fn safe(s: &str) -> bool {
    !s.bytes()
        .any(|b| b < 0x20 || b == 0x7f || matches!(b, b'\\' | b'"' | b'\''))
}

/// A device path the generator accepts: safe, absolute, normalized, under `/dev/`.
fn device_ok(p: &str) -> bool {
    safe(p)
        && p.starts_with("/dev/")
        && p.len() < 4096
        && !p.contains("//")
        && !p.split('/').any(|c| c == "." || c == "..")
}

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let Some((path, content)) = ctx.read("/etc/clonetab") else {
        return;
    };
    for (n, line) in tab::lines(&content) {
        let Some(line) = line else {
            return;
        };
        // `sscanf("%ms %ms %ms %ms %ms")` (upstream's `add_clone_devices`): four or five
        // fields, the rest of the line ignored.
        let f = tab::fields(line, 5);
        if f.len() < 4 {
            continue;
        }
        let (name, srcdev, dst, meta) = (f[0], f[1], f[2], f[3]);
        let opts = f.get(4).copied();
        let name_ok =
            safe(name) && !name.contains('/') && !matches!(name, "." | "..") && name.len() <= 255;
        if !name_ok
            || ![srcdev, dst, meta].iter().all(|p| device_ok(p))
            || opts.is_some_and(|o| !safe(o))
        {
            continue;
        }
        let src = Source {
            generator: GENERATOR,
            input: Some(path.clone()),
            line: Some(n),
        };
        clone_units(out, name, [srcdev, dst, meta], opts, &src);
    }
}

fn clone_units(out: &mut Out, name: &str, devs: [&str; 3], opts: Option<&str>, src: &Source) {
    let Some(unit) = tab::instance("systemd-clonesetup", name, ".service") else {
        return;
    };
    let e = crate::unit::name::escape(name);
    let mut units = Vec::new();
    for d in devs {
        // Clonesetup exists from 262, which hashes long names.
        let Some(u) = tab::device_unit(out, d, ".device", 262) else {
            return;
        };
        units.push(u);
    }
    if out.has(Dir::Normal, &unit) {
        return;
    }
    let all = units.join(" ");
    let esc = tab::spec_escape;
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    t.line("[Unit]", src);
    t.line(
        format!(
            "Description=Create dm-clone device /dev/mapper/{}",
            esc(name)
        ),
        src,
    );
    t.line(
        "Documentation=man:clonetab(5) man:systemd-clonesetup(8) man:systemd-clonesetup-generator(8)",
        src,
    );
    t.line("DefaultDependencies=no", src);
    t.line("IgnoreOnIsolate=yes", src);
    t.line(format!("BindsTo={all}"), src);
    t.line(format!("After={all} systemd-udevd-kernel.socket"), src);
    t.line(
        format!("Before=blockdev@dev-mapper-{e}.target clonesetup.target shutdown.target"),
        src,
    );
    t.line(format!("Wants=blockdev@dev-mapper-{e}.target"), src);
    t.line("Conflicts=shutdown.target", src);
    tab::oneshot_service(&mut t, None, src);
    t.line(
        format!(
            "ExecStart=:/usr/lib/systemd/systemd-clonesetup add '{}' '{}' '{}' '{}' '{}'",
            esc(name),
            esc(devs[0]),
            esc(devs[1]),
            esc(devs[2]),
            opts.map(esc).unwrap_or_else(|| "-".into())
        ),
        src,
    );
    t.line(
        format!(
            "ExecStop=:/usr/lib/systemd/systemd-clonesetup remove '{}'",
            esc(name)
        ),
        src,
    );
    t.line("TimeoutSec=0", src);
    out.unit(Dir::Normal, &unit, t);
    let dm = format!("dev-mapper-{e}.device");
    out.link(
        Dir::Normal,
        &format!("{dm}.requires/{unit}"),
        &format!("../{unit}"),
        src,
    );
    let mut d = UnitText::new();
    tab::header(&mut d, PROGRAM, src);
    d.line("[Unit]", src);
    d.line("JobRunningTimeoutSec=infinity", src);
    out.unit(Dir::Normal, &format!("{dm}.d/40-device-timeout.conf"), d);
    out.link(
        Dir::Normal,
        &format!("clonesetup.target.requires/{unit}"),
        &format!("../{unit}"),
        src,
    );
}
