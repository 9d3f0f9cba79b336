//! `systemd-getty-generator`: a serial getty on every active kernel console that is not a
//! virtual terminal. At boot the consoles come from the kernel (`console=` on its command
//! line); offline they come from `--kernel-cmdline` (empty by default: no serial getty).
//! The hypervisor consoles (`hvc0`, `xvc0`, …) and container consoles depend on the
//! machine and are not emulated.

use super::{Ctx, Dir, Out, Source};
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("getty-generator");

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let words = ctx.cmdline_words();
    let off = words.iter().any(|(k, v)| {
        *k == "systemd.getty_auto" && matches!(*v, Some("0" | "no" | "false" | "off"))
    });
    if off {
        return;
    }
    // The generator reads the active consoles; their source is the kernel command line.
    let src = Source {
        generator: GENERATOR,
        input: Some(crate::tree::ImagePath::new("/proc/cmdline")),
        line: None,
    };
    let mut seen = Vec::new();
    for (k, v) in words {
        let Some(v) = v.filter(|_| k == "console") else {
            continue;
        };
        let tty = v.split(',').next().unwrap_or("");
        let tty = tty.strip_prefix("/dev/").unwrap_or(tty);
        // Virtual terminals get their gettys from logind (autovt@), not from here.
        let vt = tty == "tty"
            || tty
                .strip_prefix("tty")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty());
        if tty.is_empty() || vt || seen.contains(&tty) || tty.contains('/') {
            continue;
        }
        seen.push(tty);
        let unit = format!("serial-getty@{}.service", crate::unit::name::escape(tty));
        if !crate::unit::name::is_valid(&unit) {
            continue;
        }
        out.link(
            Dir::Normal,
            &format!("getty.target.wants/{unit}"),
            &format!("{}/serial-getty@.service", ctx.vendor_dir()),
            &src,
        );
    }
}
