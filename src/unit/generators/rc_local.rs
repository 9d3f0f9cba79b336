//! `systemd-rc-local-generator` (until 259): an `/etc/rc.local` pulls `rc-local.service`
//! into `multi-user.target`. systemd requires the file to be executable; an image tree does
//! not always carry modes, so any regular `/etc/rc.local` counts (docs/semantics.md).

use super::{Ctx, Dir, Out, Source};
use crate::tree::ImagePath;
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("rc-local-generator");

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    if ctx.rules.version >= 260 || ctx.read("/etc/rc.local").is_none() {
        return;
    }
    let src = Source {
        generator: GENERATOR,
        input: Some(ImagePath::new("/etc/rc.local")),
        line: None,
    };
    out.link(
        Dir::Normal,
        "multi-user.target.wants/rc-local.service",
        &format!("{}/rc-local.service", ctx.vendor_dir()),
        &src,
    );
}
