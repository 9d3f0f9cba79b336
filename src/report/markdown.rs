//! Markdown release notes and pull-request comments: a summary, a section per changed unit
//! with its edge changes and provenance, collapsible unified diffs, and a Mermaid flowchart
//! of the changed subgraph (rendered natively by GitHub and GitLab).

use super::check::CheckInput;
use super::excerpt::{self, Limits, Seed};
use super::picture::{Picture, Status};
use super::source_label;
use super::unified::FilePatch;
use crate::diff::{Cause, GraphDiff};
use crate::findings::{CheckResult, Level, Site};
use crate::unit::DepKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape;

fn code(s: &str) -> String {
    escape::markdown_code(s)
}

fn fenced(lang: &str, body: &str) -> String {
    escape::markdown_fenced(lang, body)
}

/// A Mermaid flowchart of a picture.
pub fn mermaid(p: &Picture) -> String {
    mermaid_counted(p).0
}

/// A Mermaid flowchart of a picture and its number of edges as Mermaid counts them (its
/// `maxEdges` limit): parallel edges are merged into one.
pub fn mermaid_counted(p: &Picture) -> (String, usize) {
    let mut out = String::from("flowchart LR\n");
    let ids: BTreeMap<&str, String> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), format!("n{i}")))
        .collect();
    for n in &p.nodes {
        let mut label = escape::mermaid(&n.name);
        for note in &n.notes {
            label.push_str(&format!("<br/>({})", escape::mermaid(note)));
        }
        let _ = writeln!(out, "  {}[\"{}\"]", ids[n.name.as_str()], label);
        let class = match n.status {
            Status::Added => Some("added"),
            Status::Removed => Some("removed"),
            Status::Changed => Some("changed"),
            Status::Unchanged => None,
        };
        if let Some(c) = class {
            let _ = writeln!(out, "  class {} {c}", ids[n.name.as_str()]);
        }
    }
    // One Mermaid edge per (from, to, status), listing the kinds: parallel edges crowd
    // their labels. A symmetric pair (Conflicts both ways) becomes one two-headed edge.
    let mut merged: BTreeMap<(&str, &str, Status), Vec<&str>> = BTreeMap::new();
    for e in &p.edges {
        merged
            .entry((&e.from, &e.to, e.status))
            .or_default()
            .push(e.kind.as_str());
    }
    let mut both_ways = BTreeMap::new();
    for ((f, t, s), kinds) in &merged {
        if f < t && merged.get(&(*t, *f, *s)) == Some(kinds) {
            both_ways.insert((*f, *t, *s), ());
        }
    }
    let mut styles = Vec::new();
    let mut i = 0;
    for ((from, to, status), kinds) in &merged {
        if from > to && both_ways.contains_key(&(*to, *from, *status)) {
            continue;
        }
        let two = both_ways.contains_key(&(*from, *to, *status));
        let (arrow, mark) = match (status, two) {
            (Status::Added, false) => ("==>", "+ "),
            (Status::Added, true) => ("<==>", "+ "),
            (Status::Removed, false) => ("-.->", "- "),
            (Status::Removed, true) => ("<-.->", "- "),
            (Status::Changed, false) => ("-.->", "~ "),
            (Status::Changed, true) => ("<-.->", "~ "),
            (Status::Unchanged, false) => ("-->", ""),
            (Status::Unchanged, true) => ("<-->", ""),
        };
        let _ = writeln!(
            out,
            "  {} {arrow}|\"{mark}{}\"| {}",
            ids[from],
            kinds.join(", "),
            ids[to]
        );
        let style = match status {
            Status::Added => "stroke:#0072B2,stroke-width:3px",
            Status::Removed => "stroke:#E69F00,stroke-width:2px,stroke-dasharray:5 5",
            Status::Changed => "stroke:#CC79A7,stroke-width:2px,stroke-dasharray:2 2",
            Status::Unchanged => "stroke:#999999,stroke-width:1px",
        };
        styles.push(format!("  linkStyle {i} {style}"));
        i += 1;
    }
    for s in styles {
        let _ = writeln!(out, "{s}");
    }
    out.push_str("  classDef added fill:#DCEBF7,stroke:#0072B2,stroke-width:3px\n");
    out.push_str("  classDef removed fill:#FCEFD6,stroke:#E69F00,stroke-dasharray:5 5\n");
    out.push_str("  classDef changed fill:#F5E3EE,stroke:#CC79A7,stroke-width:2px\n");
    (out, i)
}

fn count_by_kind<'a>(edges: impl Iterator<Item = &'a DepKind>) -> String {
    let mut m: BTreeMap<DepKind, usize> = BTreeMap::new();
    for k in edges {
        *m.entry(*k).or_default() += 1;
    }
    if m.is_empty() {
        return "0".to_string();
    }
    m.iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How large a Markdown report may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Most characters of the whole document (0: no limit). The rest is cut, with a note.
    pub max_chars: usize,
    /// How large the Mermaid diagram may be.
    pub diagram: Limits,
    /// How many findings the summary lists.
    pub top: usize,
}

/// A GitHub comment holds 65,536 characters; this leaves room for a heading around it.
pub const DEFAULT_MAX_CHARS: usize = 60_000;

impl Default for Options {
    fn default() -> Self {
        Options::with_max_chars(DEFAULT_MAX_CHARS)
    }
}

impl Options {
    /// The diagram takes at most a third of a limited document.
    pub fn with_max_chars(max_chars: usize) -> Self {
        let mut diagram = Limits::default();
        if max_chars > 0 {
            diagram.max_text = diagram.max_text.min(max_chars / 3);
        }
        Options {
            max_chars,
            diagram,
            top: 25,
        }
    }
}

/// What a piece of the document is, for the note saying what a cut left out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Lead,
    Finding,
    Diagram,
    Unit,
    Patch,
}

/// One piece of the document: `head`, then `items` (list lines, which a cut may shorten),
/// then `tail`. A cut never falls inside a code block or a `<details>`.
struct Piece {
    part: Part,
    name: String,
    head: String,
    items: Vec<String>,
    tail: String,
}

impl Piece {
    fn len(&self) -> usize {
        chars(&self.head) + self.items.iter().map(|i| chars(i)).sum::<usize>() + chars(&self.tail)
    }

    fn write(&self, out: &mut String) {
        out.push_str(&self.head);
        for i in &self.items {
            out.push_str(i);
        }
        out.push_str(&self.tail);
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A document assembled from pieces, cut past a number of characters.
struct Doc {
    pieces: Vec<Piece>,
}

impl Doc {
    fn push(&mut self, part: Part, name: &str, text: String) {
        self.push_items(part, name, text, Vec::new(), String::new());
    }

    fn push_items(
        &mut self,
        part: Part,
        name: &str,
        head: String,
        items: Vec<String>,
        tail: String,
    ) {
        self.pieces.push(Piece {
            part,
            name: name.to_string(),
            head,
            items,
            tail,
        });
    }

    /// The pieces in order up to `max_chars` (0: all), then a note on what was left out.
    fn finish(self, max_chars: usize) -> String {
        let total: usize = self.pieces.iter().map(Piece::len).sum();
        let mut out = String::new();
        if max_chars == 0 || total <= max_chars {
            for p in &self.pieces {
                p.write(&mut out);
            }
            return out;
        }
        // Room for the note itself.
        let budget = max_chars.saturating_sub(1_000);
        let mut used = 0;
        let mut cut = self.pieces.len();
        let mut partly: Option<&str> = None;
        for (i, p) in self.pieces.iter().enumerate() {
            let n = p.len();
            if used + n <= budget {
                p.write(&mut out);
                used += n;
                continue;
            }
            cut = i;
            // A list is cut between its lines, if its head and a line or more fit.
            let mut room = budget.saturating_sub(used + chars(&p.head) + chars(&p.tail) + 40);
            let keep = p
                .items
                .iter()
                .take_while(|it| {
                    let n = chars(it);
                    let ok = n <= room;
                    room = room.saturating_sub(n);
                    ok
                })
                .count();
            if keep > 0 {
                out.push_str(&p.head);
                for it in &p.items[..keep] {
                    out.push_str(it);
                }
                let _ = writeln!(out, "- … {} more (cut)", p.items.len() - keep);
                out.push_str(&p.tail);
                used += chars(&p.head) + chars(&p.tail);
                used += p.items[..keep].iter().map(|i| chars(i)).sum::<usize>();
                partly = Some(&p.name);
            }
            break;
        }
        let rest = &self.pieces[cut..];
        let count = |part: Part| {
            let all = self.pieces.iter().filter(|p| p.part == part).count();
            let left: Vec<&str> = rest
                .iter()
                .filter(|p| p.part == part)
                .map(|p| p.name.as_str())
                .collect();
            (left, all)
        };
        let mut what = Vec::new();
        let (units, all_units) = count(Part::Unit);
        if let (Some(first), Some(last)) = (units.first(), units.last()) {
            let part = if partly == Some(*first) {
                " in part"
            } else {
                ""
            };
            what.push(format!(
                "{} of {all_units} changed units ({}{part} to {})",
                units.len(),
                code(&shorten(first)),
                code(&shorten(last))
            ));
        }
        let (patches, all_patches) = count(Part::Patch);
        if !patches.is_empty() {
            what.push(format!("{} of {all_patches} file diffs", patches.len()));
        }
        let findings = rest.iter().filter(|p| p.part == Part::Finding).count();
        if findings > 0 {
            what.push(format!("{findings} of the top findings"));
        }
        if rest.iter().any(|p| p.part == Part::Diagram) {
            what.push("the diagram".to_string());
        }
        if rest.iter().any(|p| p.part == Part::Lead) {
            what.push("part of the summary".to_string());
        }
        let left = total - used;
        let _ = writeln!(
            out,
            "---\n\n**Cut at {} characters**: left out {} ({} characters). \
             Run again with `--max-chars 0` for the whole report (or `--max-chars N`), \
             or use `--format text` or `--format json`.",
            thousands(max_chars),
            what.join(", "),
            thousands(left)
        );
        out
    }
}

/// A name from the image, bounded for a one-line note.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(79).collect();
        t.push('…');
        t
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The Mermaid block of the most important seeds' neighbourhoods, with a line saying what the
/// diagram leaves out (`what` names the seeds, e.g. "changes"), and `whole`, the command that
/// draws the whole picture.
pub fn diagram(full: &Picture, seeds: &[Seed], limits: Limits, what: &str, whole: &str) -> String {
    let x = excerpt::excerpt(full, seeds, limits, mermaid_counted);
    if x.picture.nodes.is_empty() && x.picture.edges.is_empty() {
        return String::new();
    }
    let mut out = format!("{}\n\n", fenced("mermaid", &mermaid(&x.picture)));
    if !x.whole {
        let _ = write!(
            out,
            "*The whole picture is too large to draw here: the diagram shows the \
             neighbourhoods of the {} most important {what} ({} of {} units, {} of {} edges)",
            x.drawn.len(),
            x.picture.nodes.len(),
            x.picture.nodes.len() + x.nodes_left_out,
            x.picture.edges.len(),
            x.picture.edges.len() + x.edges_left_out,
        );
        if !x.left_out.is_empty() {
            let some: Vec<String> = x
                .left_out
                .iter()
                .take(5)
                .map(|l| code(&shorten(l)))
                .collect();
            let more = if x.left_out.len() > 5 { ", …" } else { "" };
            let _ = write!(
                out,
                "; {} more are not drawn: {}{more}",
                x.left_out.len(),
                some.join(", ")
            );
        }
        let _ = write!(
            out,
            ". The whole picture: `{whole}`; one unit's neighbourhood: `--focus UNIT`.*\n\n"
        );
    }
    out
}

/// The findings for a Markdown report: the check's result, and whether to state the verdict
/// (`check`) or not (`diff`).
pub struct Judged<'a> {
    pub result: &'a CheckResult,
    pub verdict: bool,
}

/// Seeds for the diagram from ranked findings: each finding's units and edge.
fn finding_seeds(r: &CheckResult) -> Vec<Seed> {
    r.findings
        .iter()
        .filter(|c| !c.finding.units.is_empty())
        .map(|c| {
            let f = &c.finding;
            let edges = f
                .edge
                .as_ref()
                .and_then(|e| {
                    DepKind::ALL
                        .into_iter()
                        .find(|k| k.as_str() == e.kind)
                        .map(|k| vec![(e.from.clone(), k, e.to.clone())])
                })
                .unwrap_or_default();
            Seed {
                label: format!("{} {}", f.rule, f.unit()),
                units: f.units.clone(),
                edges,
            }
        })
        .collect()
}

fn site_md(s: &Site) -> String {
    let mut out = match (&s.path, s.line) {
        (Some(p), Some(l)) => code(&format!("{p}:{l}")),
        (Some(p), None) => code(p),
        (None, _) => String::new(),
    };
    if let Some(l) = s.layer {
        out.push_str(&format!(" ({})", l.as_str()));
    }
    if let Some(r) = s.rule {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("(rule {})", escape::markdown_text(r)));
    }
    out
}

/// The findings' summary: counts per level (new, allowed, baselined), the verdict, and the
/// top findings with where they come from, their witness and how they were accepted.
fn push_findings(doc: &mut Doc, j: &Judged, top: usize) {
    let r = j.result;
    let mut head = String::from("## Findings\n\n");
    if j.verdict {
        let v = if r.failed { "**failed**" } else { "passed" };
        let _ = writeln!(head, "Gate {v} (`--fail-on {}`).\n", r.fail_on.as_str());
    }
    let _ = writeln!(
        head,
        "| level | new | allowed | baselined |\n|---|---|---|---|"
    );
    for l in Level::ALL {
        let c = r.count(l);
        let _ = writeln!(
            head,
            "| {l} | {} | {} | {} |",
            c.new, c.allowed, c.baselined
        );
    }
    head.push('\n');
    if r.findings.is_empty() {
        head.push_str("No findings.\n\n");
    }
    doc.push(Part::Lead, "", head);
    for (i, c) in r.findings.iter().take(top).enumerate() {
        let f = &c.finding;
        let mut out = format!(
            "{}. **{}** {} — {}",
            i + 1,
            f.level,
            code(f.rule.as_str()),
            escape::markdown_text(&f.message)
        );
        match (&f.old, &f.new) {
            (Some(o), Some(n)) => {
                let _ = write!(out, "<br/>was {}, now {}", site_md(o), site_md(n));
            }
            (Some(s), None) | (None, Some(s)) => {
                let _ = write!(out, "<br/>at {}", site_md(s));
            }
            (None, None) => {}
        }
        if let Some(w) = super::ci::witness_line(f) {
            let _ = write!(out, "<br/>witness: {}", code(&w));
        }
        if let Some(n) = &f.condition {
            let _ = write!(out, "<br/>note: {}", escape::markdown_text(n));
        }
        if let Some(n) = super::ci::status_note(c) {
            let _ = write!(out, "<br/>*{}*", escape::markdown_text(&n));
        }
        out.push('\n');
        doc.push(Part::Finding, f.unit(), out);
    }
    if r.findings.len() > top {
        doc.push(
            Part::Lead,
            "",
            format!(
                "\n{} more findings: `unitdiff check OLD NEW --format text` lists them all.\n\n",
                r.findings.len() - top
            ),
        );
    } else {
        doc.push(Part::Lead, "", "\n".to_string());
    }
}

/// `check`'s Markdown: the findings first (verdict, counts, top findings), then the diff's
/// report.
pub fn check(input: &CheckInput, opts: &Options) -> String {
    let p = super::picture::diff_picture(input.diff, input.old, input.new, &Default::default());
    let patches = super::unified::patches(input.diff, input.old, input.new);
    let judged = Judged {
        result: input.result,
        verdict: true,
    };
    diff(input.diff, &p, &patches, Some(&judged), opts)
}

/// The Markdown report: the summary, the findings, a diagram of the most important changes
/// (the top findings' neighbourhoods), a section per changed unit, then the file diffs; cut
/// past `opts.max_chars` with a note.
pub fn diff(
    d: &GraphDiff,
    picture: &Picture,
    patches: &[FilePatch],
    judged: Option<&Judged>,
    opts: &Options,
) -> String {
    let mut doc = Doc { pieces: Vec::new() };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# systemd dependency changes: {} → {}\n",
        code(&d.old_root),
        code(&d.new_root)
    );
    let _ = writeln!(
        out,
        "systemd {} → {}{}\n",
        d.old_rules,
        d.new_rules,
        super::scope_note(d.scope)
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| units added | {} |", d.units_added.len());
    let _ = writeln!(out, "| units removed | {} |", d.units_removed.len());
    let _ = writeln!(out, "| units changed | {} |", d.units_changed.len());
    let _ = writeln!(
        out,
        "| edges added | {} |",
        count_by_kind(d.edges_added.iter().map(|e| &e.kind))
    );
    let _ = writeln!(
        out,
        "| edges removed | {} |",
        count_by_kind(d.edges_removed.iter().map(|e| &e.kind))
    );
    let enablement = d
        .units_changed
        .iter()
        .filter(|c| c.enablement.is_some())
        .count();
    let _ = writeln!(out, "| enablement changes | {enablement} |");
    let _ = writeln!(
        out,
        "| `[Install]` changes | {} |\n",
        d.install_added.len() + d.install_removed.len()
    );
    doc.push(Part::Lead, "", out);

    // The top findings' neighbourhoods first, then every other change.
    let mut seeds = Vec::new();
    if let Some(j) = judged {
        push_findings(&mut doc, j, opts.top);
        seeds = finding_seeds(j.result);
    }
    seeds.extend(excerpt::diff_seeds(d));
    doc.push(
        Part::Diagram,
        "",
        diagram(
            picture,
            &seeds,
            opts.diagram,
            "changes",
            "unitdiff diff OLD NEW --format svg -o diff.svg",
        ),
    );

    // A section per unit that changed in any way.
    let mut units: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // Marks are escaped: a bare `+`/`-` after the bullet would start a nested list.
    for (mark, list) in [("\\+", &d.edges_added), ("\\-", &d.edges_removed)] {
        for e in list {
            let p = &e.provenance[0];
            let layer = p.layer.map(|l| l.as_str()).unwrap_or(p.origin.as_str());
            let upgrade = if e.cause == Cause::SystemdUpgrade {
                " *(systemd upgrade)*"
            } else {
                ""
            };
            units.entry(&e.from).or_default().push(format!(
                "- {mark} **{}** {} — {} ({layer}){upgrade}",
                e.kind,
                code(&e.to),
                code(&source_label(p))
            ));
        }
    }
    for m in &d.edges_moved {
        units.entry(&m.from).or_default().push(format!(
            "- ~ **{}** {} moved from {} to {}",
            m.kind,
            code(&m.to),
            code(&source_label(&m.old[0])),
            code(&source_label(&m.new[0]))
        ));
    }
    for (mark, list) in [("\\+", &d.install_added), ("\\-", &d.install_removed)] {
        for i in list {
            let when = i
                .edge_when_enabled()
                .map(|(f, k, t)| format!(" — when enabled: {} {k} {}", code(&f), code(&t)))
                .unwrap_or_default();
            units.entry(&i.unit).or_default().push(format!(
                "- {mark} {} — {} ({}){when}",
                code(&format!("[Install] {}={}", i.key, i.value)),
                code(&format!("{}:{}", i.path, i.line)),
                i.layer
            ));
        }
    }
    for u in &d.units_added {
        units
            .entry(&u.name)
            .or_default()
            .push(format!("- unit added ({})", u.state.as_str()));
    }
    for u in &d.units_removed {
        units
            .entry(&u.name)
            .or_default()
            .push(format!("- unit removed ({})", u.state.as_str()));
    }
    for c in &d.units_changed {
        let lines = units.entry(&c.name).or_default();
        if let Some(s) = c.state {
            lines.push(format!(
                "- load state: {} → {}",
                s.old.as_str(),
                s.new.as_str()
            ));
        }
        if let Some(e) = c.enablement {
            lines.push(format!(
                "- enablement: {} → {}",
                e.old.as_str(),
                e.new.as_str()
            ));
        }
        for s in &c.settings {
            for v in &s.removed {
                lines.push(format!(
                    "- − {}",
                    code(&format!("[{}] {}={v}", s.section, s.key))
                ));
            }
            for v in &s.added {
                lines.push(format!(
                    "- \\+ {}",
                    code(&format!("[{}] {}={v}", s.section, s.key))
                ));
            }
        }
    }
    for (i, (unit, lines)) in units.iter().enumerate() {
        // The section heading goes with the first piece, so a cut never leaves it alone.
        let mut head = if i == 0 {
            "## Changed units\n\n".to_string()
        } else {
            String::new()
        };
        let _ = writeln!(head, "### {}\n", code(unit));
        let items = lines.iter().map(|l| format!("{l}\n")).collect();
        doc.push_items(Part::Unit, unit, head, items, "\n".to_string());
    }
    // The file diffs last: the bulkiest part, the first to be cut.
    for (i, p) in patches.iter().enumerate() {
        let head = if i == 0 { "## File diffs\n\n" } else { "" };
        doc.push(
            Part::Patch,
            &p.unit,
            format!(
                "{head}<details><summary>diff of <code>{}</code></summary>\n\n{}\n\n</details>\n\n",
                escape::html(p.path.as_str()),
                fenced("diff", &p.text)
            ),
        );
    }
    if d.is_empty() {
        doc.push(Part::Lead, "", "No changes.\n".to_string());
    }
    doc.finish(opts.max_chars)
}
