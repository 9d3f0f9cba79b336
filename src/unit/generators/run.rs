//! `systemd-run-generator`, driven by `--kernel-cmdline`: `systemd.run=` commands become
//! `kernel-command-line.service`, started by `kernel-command-line.target`, which replaces
//! `default.target` (an alias in the generator directory); `systemd.run_success_action=`
//! and `systemd.run_failure_action=` set its actions (`exit` by default, `none` for none).
//!
//! Read from 252.39's and 257.13's `run-generator.c` (the same but for spelling); checked
//! against the binaries of Debian 12 (252), 13 (257.13) and sid (262.1)
//! (`tests/generators.rs`).

use super::tab::{self, key_eq};
use super::{Ctx, Dir, Out, UnitText};
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("run-generator");

/// Most `systemd.run=` commands considered.
const MAX_COMMANDS: usize = 1024;

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let mut commands: Vec<(String, u32)> = Vec::new();
    let mut success: Option<(String, u32)> = None;
    let mut failure: Option<String> = None;
    let old = ctx.rules.version < 253;
    for w in ctx.cmdline_items() {
        let Some(v) = w.value else { continue };
        let k = w.key.as_str();
        let is_run = if old {
            key_eq(k, "systemd.run")
        } else {
            k == "systemd.run"
        };
        if is_run {
            if commands.len() < MAX_COMMANDS {
                commands.push((v, w.pos));
            }
        } else if key_eq(k, "systemd.run_success_action") {
            success = Some((v, w.pos));
        } else if key_eq(k, "systemd.run_failure_action") {
            failure = Some(v);
        }
    }
    let pos = match (commands.first(), &success) {
        (Some((_, p)), _) | (None, Some((_, p))) => *p,
        (None, None) => return,
    };
    let src = ctx.cmdline_source(GENERATOR, pos);
    let mut t = UnitText::new();
    tab::header(&mut t, "systemd-run-generator", &src);
    t.line("[Unit]", &src);
    t.line("Description=Command from Kernel Command Line", &src);
    t.line("Documentation=man:systemd-run-generator(8)", &src);
    t.line("SourcePath=/proc/cmdline", &src);
    let success = success.map(|(s, _)| s);
    if success.as_deref() != Some("none") {
        t.line(
            format!("SuccessAction={}", success.as_deref().unwrap_or("exit")),
            &src,
        );
    }
    if failure.as_deref() != Some("none") {
        t.line(
            format!("FailureAction={}", failure.as_deref().unwrap_or("exit")),
            &src,
        );
    }
    t.line("", &src);
    t.line("[Service]", &src);
    t.line("Type=oneshot", &src);
    t.line("StandardOutput=journal+console", &src);
    for (c, p) in &commands {
        t.line(
            format!("ExecStart={}", tab::spec_escape(c)),
            &ctx.cmdline_source(GENERATOR, *p),
        );
    }
    out.unit(Dir::Normal, "kernel-command-line.service", t);
    let mut k = UnitText::new();
    tab::header(&mut k, "systemd-run-generator", &src);
    k.line("[Unit]", &src);
    k.line("Description=Command from Kernel Command Line", &src);
    k.line("Documentation=man:systemd-run-generator(8)", &src);
    k.line("SourcePath=/proc/cmdline", &src);
    k.line("Requires=kernel-command-line.service", &src);
    k.line("After=kernel-command-line.service", &src);
    out.unit(Dir::Normal, "kernel-command-line.target", k);
    out.link(
        Dir::Normal,
        "default.target",
        "kernel-command-line.target",
        &src,
    );
}
