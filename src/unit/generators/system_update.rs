//! `systemd-system-update-generator`: when `/system-update` (or, from 254,
//! `/etc/system-update`) exists, the boot goes to `system-update.target` instead of the
//! default target (an early `default.target` alias).

use super::{Ctx, Dir, Out, Source};
use crate::tree::ImagePath;
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("system-update-generator");

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let mut flags = vec!["/system-update"];
    if ctx.rules.version >= 254 {
        flags.push("/etc/system-update");
    }
    // lstat: a dangling symlink counts too.
    let Some(flag) = flags.into_iter().find(|f| {
        let p = ImagePath::new(f);
        crate::tree::resolve(ctx.tree, &p, false)
            .ok()
            .and_then(|r| ctx.tree.lstat(&r).ok().flatten())
            .is_some()
    }) else {
        return;
    };
    let src = Source {
        generator: GENERATOR,
        input: Some(ImagePath::new(flag)),
        line: None,
    };
    out.link(
        Dir::Early,
        "default.target",
        &format!("{}/system-update.target", ctx.vendor_dir()),
        &src,
    );
}
