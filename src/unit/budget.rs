//! The work budget: how much one image may make the loader, the analyses and the renderers
//! do. Each limit sits far above the largest figure measured on real distribution images
//! and on the 100,000-unit benchmark images (see docs/limits.md for the measurements), and
//! far below what would exhaust a small machine. Past a limit the work stops growing, one
//! warning says what was cut, and the run goes on.
//!
//! Work multiplies where one file applies to many units: a type-level drop-in
//! (`slice.d/`, `service.d/`) to every unit of its type, even those that exist only because
//! something names them; a template and its drop-ins to every instance; a prefix drop-in
//! (`foo-.service.d/`) to every unit under the prefix. Each file is read and parsed once,
//! and its *share* — the settings it stores and the dependency words it expands, summed
//! over every unit it applies to — is bounded; past its share it is applied to no more
//! units. The image as a whole is bounded by the totals below.

use crate::tree::ImagePath;
use std::collections::BTreeMap;

/// Counted per file and per assignment: foldhash (seeded per process) rather than SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Units one image may create (names referenced but not on disk included). Largest real
/// figure: 272 (Debian trixie); the 100,000-unit benchmark image: see docs/limits.md.
pub const MAX_UNITS: usize = 200_000;

/// Dependency edges one image may declare (raw, before de-duplication and implicit
/// edges). Largest real figure: 2,013 (Debian trixie).
pub const MAX_EDGES: usize = 2_000_000;

/// Bytes of path prefixes the mounts of `RequiresMountsFor=`-style paths (explicit ones,
/// and those of mounts, swaps, `WorkingDirectory=`…) may turn into unit names in one image:
/// each prefix of a path is a name (`/a/b/c` → `a.mount`, `a-b.mount`, `a-b-c.mount`), so a
/// path's cost is its length times its depth. Measured: Debian 13 3.9 KB, the synthetic
/// 100,000-unit image 0.9 MB; a 4 MB unit of 980 paths 2,000 levels deep would ask for
/// ~8 GB (two minutes).
pub const MAX_MOUNTS_FOR_BYTES: usize = 64 * 1024 * 1024;

/// Settings (assignments) all units of one image may store (instances copy their
/// template's). Largest real figure: a few thousand.
pub const MAX_SETTINGS: usize = 2_000_000;

/// Bytes of setting values all units of one image may store (each instance stores its own
/// copy). Largest real figure: a few hundred KB.
pub const MAX_SETTING_BYTES: usize = 128 * 1024 * 1024;

/// One file's share: settings stored plus dependency words expanded, over every unit it is
/// applied to. A type-level drop-in with one setting applied to every unit of a
/// 50,000-unit image fits.
pub const MAX_FILE_SHARE: usize = 50_000;

/// The same, over every file, for the applications after a file's first: the work that
/// multiplies rather than grows with the image's bytes. Largest real figure: a few
/// hundred; the 100,000-unit benchmark image: about 60,000.
pub const MAX_REPEATED_WORK: usize = 200_000;

/// Steps of `fnmatch()` (a byte of a preset pattern looked at, about) all units of one
/// image and scope may take to find their preset: each unit with `[Install]` rules against
/// the glob patterns before its first literal match, in order. Real figures: a few
/// thousand (Debian, CoreOS: a handful of patterns); the 100,000-unit benchmark image with
/// 100 Fedora-like preset lines, 10 of them globs: see docs/limits.md. Past it the
/// remaining units' presets are not decided (`null`), with one warning.
pub const MAX_PRESET_MATCH_STEPS: u64 = 200_000_000;

/// Instances of one template (`foo@a.service`, `foo@b.service`…). Largest real figure: 6
/// (`modprobe@.service`).
pub const MAX_INSTANCES_PER_TEMPLATE: usize = 2_000;

/// Instances of all templates. Largest real figure: a dozen; the 100,000-unit benchmark
/// image: about 12,000.
pub const MAX_INSTANCES: usize = 20_000;

/// Bytes one specifier expansion may produce. A dependency value must expand to a unit name
/// (at most 255 bytes) or a path (at most `PATH_MAX`, 4096).
pub const MAX_EXPANDED_BYTES: usize = 4096;

/// Settings (assignments) one unit may carry, over its fragment and drop-ins. Largest real
/// figure: 51.
pub const MAX_SETTINGS_PER_UNIT: usize = 100_000;

/// Bytes of unit files and drop-ins read from one image, in total (each file is read once).
/// Largest real figure: 187 KB.
pub const MAX_BYTES_READ: u64 = 512 * 1024 * 1024;

/// Nesting of `.include` (systemd 236–245 allow an included file to include again and set
/// no limit: a cycle runs until file descriptors or stack run out, and the unit fails to
/// load). Deeper is a cycle for us too: the unit is `error`, with a warning.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// `.include` lines followed while loading one fragment (each file may include many, so
/// nesting alone would let the work grow exponentially). Real figures: 0 or 1.
pub const MAX_INCLUDES_PER_FRAGMENT: usize = 256;

/// Most aliases of one unit met late (systemd before 243) that re-read its drop-in and
/// dependency directories: each such read covers every name so far, so N aliases cost N²;
/// past this the names are still the unit's, their directories are not read again.
pub const MAX_LATE_ALIAS_READS: usize = 64;
/// What one `.include` line costs against its file's share (a stat through up to 40
/// symlinks and a read): a template with many includes re-applied per instance is bounded.
pub const INCLUDE_COST: usize = 16;

/// Distinct warnings kept for one image; the rest are counted.
pub const MAX_WARNINGS: usize = 10_000;

/// Nodes and edges a picture (DOT, SVG, PNG, Mermaid) may draw. Pictures larger than this
/// are unreadable and take layout engines minutes; use `--focus` to draw part of the graph.
pub const MAX_PICTURE_NODES: usize = 2_000;
pub const MAX_PICTURE_EDGES: usize = 10_000;

/// Steps the failure-set walks of one diff may take, over both sides: every unit upstream
/// of a changed stop edge is walked once per side, and the target of every new hard edge
/// once. Largest real figure: a few hundred (Debian 12 → 13); a 1,000-unit `Requires=`
/// chain changed at its end: about a million.
pub const MAX_FAILURE_WALK_STEPS: u64 = 10_000_000;

/// Hops one failure witness keeps (the path from a unit to a member of its failure set);
/// longer ones keep their first hops. Largest real figure: 2 (Debian 12 → 13).
pub const MAX_WITNESS_HOPS: usize = 32;

/// Hops the failure witnesses of one diff keep, in total; past it witnesses are left
/// empty. Largest real figure: 20 (Debian 12 → 13); the 1,000-unit chain: 32,000.
pub const MAX_WITNESS_HOPS_TOTAL: usize = 50_000;

/// What one file has cost so far.
#[derive(Default)]
struct Share {
    spent: usize,
    /// Units it applies to but was not applied to.
    skipped: usize,
    /// Units it was applied to (in whole or in part).
    applied: usize,
}

/// What the loader has spent of the budget, and what it cut.
#[derive(Default)]
pub(crate) struct Spent {
    /// Edges not recorded because the edge budget was exhausted.
    pub edges_cut: usize,
    /// Instances per template (`foo@.service` → count).
    instances: HashMap<String, usize>,
    /// Instances not created, per template.
    instances_cut: BTreeMap<String, usize>,
    /// Units not created because the unit budget was exhausted.
    pub units_cut: usize,
    /// Settings stored over all units, their value bytes, and those not stored.
    settings: usize,
    setting_bytes: usize,
    settings_cut: usize,
    /// Per file (or dependency directory): its share.
    files: HashMap<ImagePath, Share>,
    /// Work of repeated applications so far ([`MAX_REPEATED_WORK`]), and whether the file
    /// being applied now was applied before.
    repeated: usize,
    repeating: bool,
    /// Instances created, over all templates.
    instances_total: usize,
    /// Bytes read so far (interior mutability: reads happen through `&self`).
    pub bytes_read: std::cell::Cell<u64>,
    /// Warnings not kept past [`MAX_WARNINGS`].
    pub warnings_cut: usize,
}

impl Spent {
    /// Whether one more instance of `template` may be created (counted if so).
    pub fn instance(&mut self, template: String) -> bool {
        let n = self.instances.entry(template.clone()).or_default();
        if *n >= MAX_INSTANCES_PER_TEMPLATE || self.instances_total >= MAX_INSTANCES {
            *self.instances_cut.entry(template).or_default() += 1;
            return false;
        }
        *n += 1;
        self.instances_total += 1;
        true
    }

    /// Whether the image may still store settings or edges at all.
    pub fn exhausted(&self, edges: usize) -> bool {
        (self.settings >= MAX_SETTINGS || self.setting_bytes >= MAX_SETTING_BYTES)
            && edges >= MAX_EDGES
    }

    /// Whether `file` may be applied to one more unit (counted either way). `edges`: the
    /// edges recorded so far.
    pub fn may_apply(&mut self, file: &ImagePath, edges: usize) -> bool {
        let exhausted = self.exhausted(edges);
        let s = self.files.entry(file.clone()).or_default();
        let repeating = s.applied > 0;
        if s.spent >= MAX_FILE_SHARE
            || exhausted
            || (repeating && self.repeated >= MAX_REPEATED_WORK)
        {
            s.skipped += 1;
            return false;
        }
        s.applied += 1;
        self.repeating = repeating;
        true
    }

    /// Whether `file` has share left for `cost` more (counted if so).
    pub fn take(&mut self, file: &ImagePath, cost: usize) -> bool {
        let s = self.files.entry(file.clone()).or_default();
        if s.spent >= MAX_FILE_SHARE || (self.repeating && self.repeated >= MAX_REPEATED_WORK) {
            return false;
        }
        s.spent += cost;
        if self.repeating {
            self.repeated += cost;
        }
        true
    }

    /// Whether one more setting with a `bytes`-long value may be stored (counted either way).
    pub fn setting(&mut self, bytes: usize) -> bool {
        if self.settings >= MAX_SETTINGS || self.setting_bytes >= MAX_SETTING_BYTES {
            self.settings_cut += 1;
            return false;
        }
        self.settings += 1;
        self.setting_bytes += bytes;
        true
    }

    /// One message per limit that cut something, saying what.
    pub fn cuts(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.units_cut > 0 {
            out.push(format!(
                "work budget: more than {MAX_UNITS} units; {} more references to units not \
                 loaded were dropped",
                self.units_cut
            ));
        }
        if self.edges_cut > 0 {
            out.push(format!(
                "work budget: more than {MAX_EDGES} dependency edges; {} more were not recorded",
                self.edges_cut
            ));
        }
        if self.settings_cut > 0 {
            out.push(format!(
                "work budget: more than {MAX_SETTINGS} settings or {} MiB of setting values \
                 over all units; {} more were ignored",
                MAX_SETTING_BYTES >> 20,
                self.settings_cut
            ));
        }
        for (t, n) in &self.instances_cut {
            out.push(format!(
                "work budget: more than {MAX_INSTANCES_PER_TEMPLATE} instances of {t} (or \
                 {MAX_INSTANCES} of all templates); {n} more were not created"
            ));
        }
        let mut files: Vec<(&ImagePath, &Share)> =
            self.files.iter().filter(|(_, s)| s.skipped > 0).collect();
        files.sort_by(|a, b| a.0.cmp(b.0));
        for (path, s) in files {
            out.push(format!(
                "work budget: {path} applies to {} units; it was applied to {} of them (a \
                 file's share: {MAX_FILE_SHARE} settings and dependencies; all files' repeated \
                 applications: {MAX_REPEATED_WORK}), not to the other {}",
                s.applied + s.skipped,
                s.applied,
                s.skipped
            ));
        }
        if self.warnings_cut > 0 {
            out.push(format!(
                "work budget: more than {MAX_WARNINGS} warnings; {} more were not kept",
                self.warnings_cut
            ));
        }
        out
    }
}
