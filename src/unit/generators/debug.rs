//! `systemd-debug-generator`, driven by `--kernel-cmdline`: `systemd.mask=` masks a unit
//! (a link to `/dev/null` in the early directory), `systemd.wants=` pulls a unit into the
//! default unit (`systemd.unit=` or a runlevel word such as `3`/`rescue`, else
//! `default.target`), `systemd.debug_shell[=tty]` pulls in `debug-shell.service` (with a
//! drop-in for another tty), and from 258 `systemd.break=pre-udev,pre-basic` pulls in
//! breakpoint services. Units and drop-ins passed as credentials (`systemd.extra-unit.*`,
//! 256+) are not in an image and are not modelled.
//!
//! Read from 252.39's and 257.13's `debug-generator.c`; checked against the binaries of
//! Debian 12 (252), 13 (257.13) and sid (262.1) (`tests/generators.rs`).

use super::tab::{self, key_eq};
use super::{Ctx, Dir, Out, UnitText};
use crate::unit::resolve::mangle;
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("debug-generator");
/// `DEBUGTTY` without `/dev/`: the tty `debug-shell.service` uses unless told otherwise.
const DEBUGTTY: &str = "tty9";

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let rules = ctx.rules;
    let mut masks: Vec<(String, u32)> = Vec::new();
    let mut wants: Vec<(String, u32)> = Vec::new();
    let mut default_unit: Option<String> = None;
    let mut shell: Option<u32> = None;
    let mut tty: Option<String> = None;
    let mut default_tty: Option<String> = None;
    for w in ctx.cmdline_items() {
        let v = w.value.as_deref();
        let k = w.key.as_str();
        if k == "systemd.mask" || k == "systemd.wants" {
            let Some(v) = v else { continue };
            // A name that cannot be mangled ends the parsing of the command line.
            let Some(u) = mangle(v, false) else {
                break;
            };
            let list = if k == "systemd.mask" {
                &mut masks
            } else {
                &mut wants
            };
            list.push((u, w.pos));
        } else if key_eq(k, "systemd.debug_shell") {
            let b = v.map_or(Some(true), tab::parse_boolean);
            let skip_dev = |s: &str| s.strip_prefix("/dev/").unwrap_or(s).to_string();
            if rules.default_debug_tty() {
                shell = (b != Some(false)).then_some(w.pos);
                if b.is_none() {
                    tty = v.map(skip_dev);
                }
            } else {
                // 252: the tty is the value, or tty9 for a true one; false turns it off.
                shell = (b != Some(false)).then_some(w.pos);
                tty = match b {
                    None => v.map(skip_dev),
                    Some(true) => Some(DEBUGTTY.to_string()),
                    Some(false) => None,
                };
            }
        } else if rules.default_debug_tty() && key_eq(k, "systemd.default_debug_tty") {
            if let Some(v) = v {
                default_tty = Some(v.strip_prefix("/dev/").unwrap_or(v).to_string());
            }
        } else if k == "systemd.unit" {
            if let Some(v) = v {
                default_unit = Some(v.to_string());
            }
        } else if rules.debug_breakpoints() && k == "systemd.break" {
            // On the host only pre-udev and pre-basic apply; no default breakpoint.
            for b in v.unwrap_or("").split(',') {
                if matches!(b, "pre-udev" | "pre-basic") {
                    wants.push((format!("breakpoint-{b}.service"), w.pos));
                }
            }
        } else if v.is_none()
            && let Some(t) = runlevel_target(k)
        {
            default_unit = Some(t.to_string());
        }
    }
    if let Some(pos) = shell {
        wants.push(("debug-shell.service".to_string(), pos));
        let t = tty.or(default_tty);
        if let Some(t) = t.filter(|t| t != DEBUGTTY) {
            let src = ctx.cmdline_source(GENERATOR, pos);
            let mut d = UnitText::new();
            if rules.default_debug_tty() {
                tab::header(&mut d, "systemd-debug-generator", &src);
            }
            d.line("[Unit]", &src);
            d.line(
                format!("Description=Early root shell on /dev/{t} FOR DEBUGGING ONLY"),
                &src,
            );
            d.line("ConditionPathExists=", &src);
            d.line("", &src);
            d.line("[Service]", &src);
            d.line(format!("TTYPath=/dev/{t}"), &src);
            if !t.contains('/') {
                out.unit(Dir::Early, "debug-shell.service.d/50-tty.conf", d);
            }
        }
    }
    for (u, pos) in &masks {
        let src = ctx.cmdline_source(GENERATOR, *pos);
        out.link(Dir::Early, u, "/dev/null", &src);
    }
    let target = default_unit.unwrap_or_else(|| "default.target".to_string());
    // The target is the command line's word as it is; a path in it would leave the
    // generator's directory and is not followed here.
    if target.contains('/') || target.is_empty() || target.len() > 255 {
        return;
    }
    for (u, pos) in &wants {
        let src = ctx.cmdline_source(GENERATOR, *pos);
        out.link(
            Dir::Early,
            &format!("{target}.wants/{u}"),
            &format!("{}/{u}", ctx.vendor_dir()),
            &src,
        );
    }
}

/// `runlevel_to_target()` outside the initrd.
fn runlevel_target(word: &str) -> Option<&'static str> {
    Some(match word {
        "emergency" | "-b" => "emergency.target",
        "rescue" | "single" | "-s" | "s" | "S" | "1" => "rescue.target",
        "2" | "3" | "4" => "multi-user.target",
        "5" => "graphical.target",
        _ => return None,
    })
}
