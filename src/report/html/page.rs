//! The single-file HTML report of a diff: summary and findings first (each with its
//! focused picture, witness, provenance and the unified diff of the files involved), the
//! overview picture (pan/zoom, click a unit to filter by it), then every dependency change,
//! rendered by the page's own script in batches from JSON embedded in the page (so a
//! 100k-unit diff opens quickly). No network: no CDN, no web fonts, a Content-Security-Policy
//! that forbids every fetch and every script but the page's own. Everything from the image
//! is escaped here or set as text by the script.

use crate::diff::{Cause, GraphDiff};
use crate::findings::{CheckResult, Checked, Finding, Level, Site};
use crate::query::Hop;
use crate::report::escape::{field, html as esc, html_pre};
use crate::report::overview::TopFinding;
use crate::report::unified::FilePatch;
use crate::unit::{DepKind, Provenance};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("app.js");

/// The pictures of the first findings are shown open; the others are embedded inert (in a
/// `<template>`) and inserted when their finding is expanded or found by the filters.
pub const PICTURES_OPEN: usize = 3;

/// Most bytes of finding pictures embedded in one page (a 10k-unit diff's 40 pictures take
/// about 2 MB); pictures past it are left out with a note saying how to draw them.
pub const PICTURE_BYTES: usize = 4 * 1024 * 1024;

/// How a top finding's picture appears in the page.
#[derive(Clone, Copy)]
enum Pic<'a> {
    Open(&'a str),
    /// Embedded, inserted on demand.
    Lazy(&'a str),
    /// Drawn, but past [`PICTURE_BYTES`].
    OverBudget,
    /// Not drawn (too large, or the renderer failed: a warning said why).
    None,
}

/// Which pictures are shown open, which are inserted on demand and which are left out:
/// in rank order, until [`PICTURE_BYTES`] are used.
fn placed<'a>(pictures: &'a [Option<String>], n: usize) -> Vec<Pic<'a>> {
    let mut used = 0;
    (0..n)
        .map(|i| match pictures.get(i).and_then(|p| p.as_deref()) {
            None => Pic::None,
            Some(svg) => {
                let svg = inline_svg(svg);
                if used + svg.len() > PICTURE_BYTES {
                    return Pic::OverBudget;
                }
                used += svg.len();
                if i < PICTURES_OPEN {
                    Pic::Open(svg)
                } else {
                    Pic::Lazy(svg)
                }
            }
        })
        .collect()
}

/// What the page shows besides the diff itself.
pub struct PageInput<'a> {
    pub title: &'a str,
    pub diff: &'a GraphDiff,
    /// Every finding, ranked (the findings model, as `check` judged it).
    pub result: &'a CheckResult,
    /// Say whether the gate passed (the page of `check`).
    pub verdict: bool,
    /// The top findings, shown in full with a picture each; the rest are listed.
    pub top: &'a [TopFinding<'a>],
    /// The focused picture (SVG) of each top finding, when drawn.
    pub pictures: &'a [Option<String>],
    pub overview: Option<&'a str>,
    /// The legend of every picture (SVG), shown once.
    pub legend: Option<&'a str>,
    pub patches: &'a [FilePatch],
    /// One-line text of facts beyond the findings (boot set, failure sets).
    pub summary_lines: &'a [String],
}

/// One dependency change, as the script renders it.
#[derive(Serialize)]
struct Change<'a> {
    /// `+`, `-` or `~`.
    s: &'static str,
    f: &'a str,
    k: &'static str,
    t: &'a str,
    /// Layer of the file behind it, or `rule`.
    l: &'static str,
    /// `files` or `systemd-upgrade`.
    c: &'static str,
    /// `path:line (rule …)`.
    p: String,
}

fn layer_of(p: &[Provenance]) -> &'static str {
    p.iter()
        .find_map(|p| p.layer.map(|l| l.as_str()))
        .unwrap_or("rule")
}

fn source(p: &[Provenance]) -> String {
    p.iter()
        .map(crate::report::source_label)
        .collect::<Vec<_>>()
        .join("; ")
}

fn cause_str(c: Cause) -> &'static str {
    match c {
        Cause::Files => "files",
        Cause::SystemdUpgrade => "systemd-upgrade",
    }
}

fn changes(d: &GraphDiff) -> Vec<Change<'_>> {
    let mut v = Vec::new();
    for (sign, list) in [("+", &d.edges_added), ("-", &d.edges_removed)] {
        for e in list {
            v.push(Change {
                s: sign,
                f: &e.from,
                k: e.kind.as_str(),
                t: &e.to,
                l: layer_of(&e.provenance),
                c: cause_str(e.cause),
                p: source(&e.provenance),
            });
        }
    }
    for m in &d.edges_moved {
        v.push(Change {
            s: "~",
            f: &m.from,
            k: m.kind.as_str(),
            t: &m.to,
            l: layer_of(&m.new),
            c: "files",
            p: format!("{} (was {})", source(&m.new), source(&m.old)),
        });
    }
    v.sort_by(|a, b| (a.f, a.k, a.t, a.s).cmp(&(b.f, b.k, b.t, b.s)));
    v
}

/// One changed unit file or drop-in: `[unit, change, path, layer]`, the path's control
/// and bidirectional characters escaped (the script shows it with `textContent`).
fn files(d: &GraphDiff) -> Vec<[Cow<'_, str>; 4]> {
    let mut v: Vec<[Cow<'_, str>; 4]> = d
        .units_changed
        .iter()
        .flat_map(|c| {
            c.files.iter().map(move |f| {
                [
                    field(c.name.as_str()),
                    Cow::Borrowed(match f.change {
                        crate::diff::FileChangeKind::Added => "+",
                        crate::diff::FileChangeKind::Removed => "-",
                        crate::diff::FileChangeKind::Modified => "~",
                    }),
                    field(f.path.as_str()),
                    Cow::Borrowed(f.layer.as_str()),
                ]
            })
        })
        .collect();
    v.sort();
    v
}

/// JSON for a `<script type="application/json">`: no `<` survives, so nothing in the data
/// can close the element, and no control or bidi character raw (as `--format json`).
fn script_json<T: Serialize>(v: &T) -> String {
    crate::report::escape::json(&serde_json::to_string(v).expect("serialisable"))
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Graphviz's SVG without its XML prologue, ready to sit inside the page.
pub fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or("", |i| &svg[i..])
}

fn hop_line(out: &mut String, h: &Hop, cause: Option<Cause>) {
    let layers: BTreeSet<&str> = h
        .provenance
        .iter()
        .filter_map(|p| p.layer.map(|l| l.as_str()))
        .collect();
    let _ = write!(
        out,
        "<li><code>{}</code> <b>{}</b>= <code>{}</code> <span class=\"src\">{}</span>{}{}</li>",
        esc(&h.from),
        esc(h.kind.as_str()),
        esc(&h.to),
        esc(&source(&h.provenance)),
        if layers.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"tag\">{}</span>",
                esc(&layers.into_iter().collect::<Vec<_>>().join(", "))
            )
        },
        match cause {
            Some(Cause::SystemdUpgrade) => " <span class=\"tag\">systemd upgrade</span>",
            _ => "",
        }
    );
}

/// What the filters match a finding on: its dependency kinds (its edge's and its
/// witness's), the layers of the files behind it, its units.
struct Facets {
    kinds: BTreeSet<&'static str>,
    layers: BTreeSet<&'static str>,
}

fn facets(f: &Finding) -> Facets {
    let mut kinds: BTreeSet<&'static str> = f.witness.iter().map(|h| h.kind.as_str()).collect();
    if let Some(e) = &f.edge
        && let Some(k) = DepKind::ALL.into_iter().find(|k| k.as_str() == e.kind)
    {
        kinds.insert(k.as_str());
    }
    let mut layers: BTreeSet<&'static str> = [&f.old, &f.new]
        .into_iter()
        .flatten()
        .filter_map(|s| s.layer.map(|l| l.as_str()))
        .collect();
    layers.extend(
        f.witness
            .iter()
            .flat_map(|h| h.provenance.iter())
            .filter_map(|p| p.layer.map(|l| l.as_str())),
    );
    if layers.is_empty() {
        layers.insert("rule");
    }
    Facets { kinds, layers }
}

fn join(s: &BTreeSet<&str>) -> String {
    s.iter().copied().collect::<Vec<_>>().join(" ")
}

fn site_html(s: &Site) -> String {
    format!("<span class=\"src\">{}</span>", esc(&s.label()))
}

fn finding(
    out: &mut String,
    i: usize,
    t: &TopFinding,
    picture: Pic,
    causes: &BTreeMap<(String, &'static str, String), Cause>,
    patches: &[FilePatch],
) {
    let c: &Checked = t.checked;
    let f = &c.finding;
    let fa = facets(f);
    let hop_cause = |h: &Hop| {
        let k = if h.inverse {
            (h.to.clone(), h.kind.as_str(), h.from.clone())
        } else {
            (h.from.clone(), h.kind.as_str(), h.to.clone())
        };
        causes.get(&k).copied()
    };
    let _ = write!(
        out,
        "<article class=\"finding\" id=\"f{i}\" data-level=\"{lvl}\" data-rule=\"{rule}\" \
         data-kinds=\"{}\" data-layers=\"{}\" data-causes=\"{}\" data-units=\"{}\">\n\
         <h3><span class=\"lvl {lvl}\">{lvl}</span> <code class=\"rule\">{rule}</code> {}</h3>\n",
        esc(&join(&fa.kinds)),
        esc(&join(&fa.layers)),
        cause_str(f.cause),
        esc(&f.units.join(" ")),
        esc(&f.message),
        lvl = f.level.as_str(),
        rule = f.rule.as_str(),
    );
    if let Some(n) = super::super::ci::status_note(c) {
        let _ = writeln!(out, "<p class=\"status\">{}</p>", esc(&n));
    }
    match (&f.old, &f.new) {
        (Some(o), Some(n)) => {
            let _ = writeln!(
                out,
                "<p class=\"where\">was {}, now {}</p>",
                site_html(o),
                site_html(n)
            );
        }
        (Some(s), None) | (None, Some(s)) => {
            let _ = writeln!(out, "<p class=\"where\">at {}</p>", site_html(s));
        }
        (None, None) => {}
    }
    if let Some(n) = &f.condition {
        let _ = writeln!(out, "<p class=\"hint\">note: {}</p>", esc(n));
    }
    let focus: String = t
        .units
        .iter()
        .take(4)
        .map(|u| format!(" --focus {}", esc(u)))
        .collect();
    match picture {
        Pic::Open(svg) => {
            let _ = writeln!(out, "<div class=\"pic\">{svg}</div>");
        }
        Pic::Lazy(svg) => {
            let _ = writeln!(
                out,
                "<details class=\"lazy-pic\"><summary>Picture ({} KB)</summary>\
                 <div class=\"pic\"></div><template>{svg}</template></details>",
                svg.len().div_ceil(1024)
            );
        }
        Pic::OverBudget => {
            let _ = writeln!(
                out,
                "<p class=\"hint\">Picture not embedded: this page holds at most {} MB of \
                 pictures. Draw it with <code>unitdiff diff OLD NEW --format svg{focus}</code>, \
                 or every finding's with <code>--format svg --split DIR</code>.</p>",
                PICTURE_BYTES / (1024 * 1024)
            );
        }
        Pic::None => {
            let _ = writeln!(
                out,
                "<p class=\"hint\">Picture: <code>unitdiff diff OLD NEW --format svg{focus}</code></p>"
            );
        }
    }
    if !f.witness.is_empty() {
        out.push_str("<h4>Witness</h4>\n<ul class=\"witness\">");
        for h in &f.witness {
            hop_line(out, h, hop_cause(h));
        }
        out.push_str("</ul>\n");
    }
    // The unified diff of the files behind the finding and its witness.
    let files: BTreeSet<&str> = [&f.old, &f.new]
        .into_iter()
        .flatten()
        .filter_map(|s| s.path.as_deref())
        .chain(
            f.witness
                .iter()
                .flat_map(|h| h.provenance.iter())
                .filter_map(|p| p.path.as_ref().map(|p| p.as_str())),
        )
        .collect();
    let involved: Vec<&FilePatch> = patches
        .iter()
        .filter(|p| files.contains(p.path.as_str()))
        .collect();
    if !involved.is_empty() {
        out.push_str("<h4>Files</h4>\n");
        for p in involved {
            let _ = write!(
                out,
                "<details open><summary><code>{}</code></summary><pre class=\"patch\">",
                esc(p.path.as_str())
            );
            for line in p.text.lines() {
                let class = match line.as_bytes().first() {
                    Some(b'+') if !line.starts_with("+++") => "add",
                    Some(b'-') if !line.starts_with("---") => "del",
                    Some(b'@') => "hunk",
                    _ => "ctx",
                };
                // Block spans: one line each, no newline between them inside the <pre>.
                let _ = write!(out, "<span class=\"{class}\">{}</span>", html_pre(line));
            }
            out.push_str("</pre></details>\n");
        }
    }
    let info = f.rule.info();
    let _ = writeln!(
        out,
        "<details class=\"why\"><summary>Why it matters, how to accept it</summary>\
         <p>{}</p><p>{}</p><pre>{}</pre></details>",
        esc(info.why),
        esc(info.allow),
        html_pre(&crate::findings::policy::allow_snippet(f))
    );
    out.push_str("</article>\n");
}

/// One finding beyond the top ones, as the script lists it.
#[derive(Serialize)]
struct Row<'a> {
    /// Level, rule, message.
    v: &'static str,
    r: &'static str,
    m: std::borrow::Cow<'a, str>,
    /// Where: the site's label.
    s: String,
    /// Units, kinds, layers (space-separated), cause.
    u: String,
    k: String,
    l: String,
    c: &'static str,
    /// Allowed by the policy or in the baseline (check), empty when new.
    a: String,
}

fn row(c: &Checked) -> Row<'_> {
    let f = &c.finding;
    let fa = facets(f);
    Row {
        a: super::super::ci::status_note(c).unwrap_or_default(),
        v: f.level.as_str(),
        r: f.rule.as_str(),
        // Shown with `textContent`: characters from the image escaped as everywhere else.
        m: field(&f.message),
        s: f.site()
            .map(|s| field(&s.label()).into_owned())
            .unwrap_or_default(),
        u: f.units.join(" "),
        k: join(&fa.kinds),
        l: join(&fa.layers),
        c: cause_str(f.cause),
    }
}

/// The page.
pub fn diff_page(input: &PageInput) -> String {
    let d = input.diff;
    let causes: BTreeMap<(String, &'static str, String), Cause> = d
        .edges_added
        .iter()
        .chain(&d.edges_removed)
        .map(|e| ((e.from.clone(), e.kind.as_str(), e.to.clone()), e.cause))
        .collect();
    let data = changes(d);
    let file_data = files(d);
    let r = input.result;
    let all_findings: Vec<&Finding> = r.findings.iter().map(|c| &c.finding).collect();
    // The findings beyond the top ones, listed by the script.
    let shown: BTreeSet<&str> = input
        .top
        .iter()
        .map(|t| t.finding().fingerprint.as_str())
        .collect();
    let rest: Vec<Row> = r
        .findings
        .iter()
        .filter(|c| !shown.contains(c.finding.fingerprint.as_str()))
        .map(row)
        .collect();
    let mut kinds: BTreeSet<&str> = data.iter().map(|c| c.k).collect();
    let mut layers: BTreeSet<&str> = data.iter().map(|c| c.l).collect();
    for f in &all_findings {
        let fa = facets(f);
        kinds.extend(fa.kinds);
        layers.extend(fa.layers);
    }
    layers.extend(
        d.units_changed
            .iter()
            .flat_map(|c| c.files.iter().map(|f| f.layer.as_str())),
    );
    let options = |set: &BTreeSet<&str>| {
        set.iter()
            .map(|v| format!("<option value=\"{v}\">{v}</option>", v = esc(v)))
            .collect::<String>()
    };
    let script_hash = super::csp_hash(SCRIPT);
    let mut out = String::with_capacity(64 * 1024 + data.len() * 120);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; script-src '{script_hash}'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>unitdiff: {t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>unitdiff: <span class=\"t\">{t}</span></h1></header>\n",
        t = esc(input.title)
    );
    // Summary.
    let _ = write!(
        out,
        "<section id=\"summary\"><h2>Summary</h2>\n<ul class=\"counts\">\
         <li><b>{}</b> findings ({})</li>\
         <li><b>{}</b> dependencies added, <b>{}</b> removed, <b>{}</b> moved</li>\
         <li><b>{}</b> units added, <b>{}</b> removed, <b>{}</b> changed</li></ul>\n",
        r.findings.len(),
        Level::ALL
            .iter()
            .map(|l| format!("{} {l}", r.count(*l).total()))
            .collect::<Vec<_>>()
            .join(", "),
        d.edges_added.len(),
        d.edges_removed.len(),
        d.edges_moved.len(),
        d.units_added.len(),
        d.units_removed.len(),
        d.units_changed.len(),
    );
    if input.verdict {
        let (mut allowed, mut baselined) = (0, 0);
        for l in Level::ALL {
            allowed += r.count(l).allowed;
            baselined += r.count(l).baselined;
        }
        let _ = writeln!(
            out,
            "<p id=\"verdict\" class=\"{c}\">Gate <b>{v}</b> (<code>--fail-on {on}</code>): \
             {n} new findings, {allowed} allowed by the policy{p}, {baselined} in the baseline{b}.</p>",
            c = if r.failed { "failed" } else { "passed" },
            v = if r.failed { "FAILED" } else { "passed" },
            on = r.fail_on.as_str(),
            n = r.new_findings().count(),
            p = r
                .policy
                .as_deref()
                .map(|p| format!(" <code>{}</code>", esc(p)))
                .unwrap_or_default(),
            b = r
                .baseline
                .as_deref()
                .map(|p| format!(" <code>{}</code>", esc(p)))
                .unwrap_or_default(),
        );
    }
    if !input.summary_lines.is_empty() {
        out.push_str("<ul class=\"facts\">");
        for l in input.summary_lines {
            let _ = write!(out, "<li>{}</li>", esc(l));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    // Filters.
    let _ = writeln!(
        out,
        "<form id=\"filters\">\
         <label>Level <select id=\"f-level\"><option value=\"\">all</option>\
         <option value=\"error\">error</option><option value=\"warn\">warn and above</option>\
         <option value=\"info\">info and above</option></select></label>\
         <label>Kind <select id=\"f-kind\"><option value=\"\">all</option>{}</select></label>\
         <label>Layer <select id=\"f-layer\"><option value=\"\">all</option>{}</select></label>\
         <label>Cause <select id=\"f-cause\"><option value=\"\">all</option>\
         <option value=\"files\">files</option><option value=\"systemd-upgrade\">systemd upgrade</option>\
         </select></label>\
         <label>Unit <input id=\"f-q\" type=\"search\" placeholder=\"name contains…\"></label>\
         <span id=\"f-count\"></span></form>\n",
        options(&kinds),
        options(&layers)
    );
    // Findings.
    out.push_str("<section id=\"findings\"><h2>Findings</h2>\n");
    if r.findings.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    }
    if let Some(svg) = input.legend {
        let _ = writeln!(
            out,
            "<details id=\"legend\" open><summary>Legend of the pictures</summary>\
             <div class=\"legend\">{}</div></details>",
            inline_svg(svg)
        );
    }
    let placed = placed(input.pictures, input.top.len());
    let left_out = placed
        .iter()
        .filter(|p| matches!(p, Pic::OverBudget))
        .count();
    if left_out > 0 {
        let _ = writeln!(
            out,
            "<p class=\"hint\" id=\"pictures-left-out\">{left_out} of {} pictures are not \
             embedded (at most {} MB of pictures per page): <code>unitdiff diff OLD NEW \
             --format svg --split DIR</code> draws one per finding.</p>",
            placed.len(),
            PICTURE_BYTES / (1024 * 1024)
        );
    }
    for (i, (t, pic)) in input.top.iter().zip(placed).enumerate() {
        finding(&mut out, i, t, pic, &causes, input.patches);
    }
    out.push_str("<p id=\"no-findings\" hidden>No finding matches the filters.</p>\n");
    // The other findings, listed by the script in batches.
    let _ = write!(
        out,
        "<div id=\"more-findings\"{}><h3>Other findings (<span id=\"r-count\">{}</span>)</h3>\n\
         <table><thead><tr><th>level</th><th>rule</th><th>finding</th><th>where</th></tr></thead>\
         <tbody id=\"r-rows\"></tbody></table>\n\
         <button id=\"r-more\" type=\"button\" hidden>Show more</button></div></section>\n",
        if rest.is_empty() { " hidden" } else { "" },
        rest.len()
    );
    // Overview.
    if let Some(svg) = input.overview {
        let _ = writeln!(
            out,
            "<section id=\"overview\"><h2>Overview</h2>\
             <p class=\"hint\">Drag to pan, wheel to zoom, double-click to reset; click a unit \
             to show its changes.</p><div class=\"viewport\">{}</div></section>",
            inline_svg(svg)
        );
    }
    // Every change, rendered by the script.
    let _ = write!(
        out,
        "<section id=\"changes\"><h2>Dependency changes (<span id=\"c-count\">{}</span>)</h2>\n\
         <table><thead><tr><th></th><th>unit</th><th>kind</th><th>unit</th><th>layer</th>\
         <th>cause</th><th>source</th></tr></thead><tbody id=\"c-rows\"></tbody></table>\n\
         <button id=\"c-more\" type=\"button\" hidden>Show more</button></section>\n\
         <section id=\"files\"><h2>Changed unit files (<span id=\"u-count\">{}</span>)</h2>\n\
         <table><thead><tr><th></th><th>unit</th><th>file</th><th>layer</th></tr></thead>\
         <tbody id=\"u-rows\"></tbody></table>\n\
         <button id=\"u-more\" type=\"button\" hidden>Show more</button></section>\n",
        data.len(),
        file_data.len()
    );
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"data\">{}</script>\n\
         <script type=\"application/json\" id=\"files-data\">{}</script>\n\
         <script type=\"application/json\" id=\"findings-data\">{}</script>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        script_json(&data),
        script_json(&file_data),
        script_json(&rest)
    );
    out
}
