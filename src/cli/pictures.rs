//! The pictures of `diff`: the image (whole, or the overview of a large diff), the HTML
//! report and `--split DIR`.

use super::args::Format;
use crate::{OutputArgs, progress};
use std::path::Path;
use unitdiff::diff::GraphDiff;
use unitdiff::findings::CheckResult;
use unitdiff::graph::DepGraph;
use unitdiff::query;
use unitdiff::report;
use unitdiff::report::escape;
use unitdiff::report::render::Limits;

/// A diff and what was made of it: both graphs, the answers and the judged findings.
pub(crate) struct Compared<'a> {
    pub d: &'a GraphDiff,
    pub og: &'a DepGraph,
    pub ng: &'a DepGraph,
    pub answers: &'a query::DiffAnswers,
    pub judged: &'a CheckResult,
}

/// A note on standard error (under the progress line, unless -q).
fn note(quiet: bool, text: &str) {
    if !quiet {
        progress::suspend(|| eprintln!("unitdiff: note: {text}"));
    }
}

/// `--format dot|svg|png`: the whole diff, or for svg/png of a diff too large to read
/// (without `--all` or `--focus`), the overview of its findings, with a note saying what
/// was left out.
pub(crate) fn diff_image(
    out: &OutputArgs,
    c: &Compared,
    all: bool,
    quiet: bool,
) -> Result<Vec<u8>, anyhow::Error> {
    let title = format!(
        "{} -> {}{}",
        c.d.old_root,
        c.d.new_root,
        report::scope_note(c.d.scope)
    );
    let p = report::picture::diff_picture(c.d, c.og, c.ng, &out.selection());
    let whole = p.nodes.len();
    let large = out.is_image() && whole > report::overview::READABLE_UNITS;
    let overview = large && !all && out.focus.is_empty();
    if !overview {
        crate::note_cut(&p, quiet);
    }
    if large && all {
        note(
            quiet,
            &format!(
                "drawing all {whole} units and {} edges; Graphviz can take minutes on this \
                 (stopped after {}s, see --time-limit)",
                p.edges.len(),
                out.time_limit().as_secs()
            ),
        );
    }
    if overview {
        let ov = report::overview::overview(c.d, c.og, c.ng, c.answers, &c.judged.findings, whole);
        note(quiet, &ov.note());
        out.picture(&report::dot::graph(&ov.picture, &title))
    } else {
        out.picture(&report::dot::graph(&p, &title))
    }
}

/// `--format html`: the single-file report, with a focused picture per top finding and the
/// overview (or the whole diff when it is small enough to read); pictures that could not
/// be drawn are left out with a warning.
pub(crate) fn html_report(out: &OutputArgs, c: &Compared, quiet: bool) -> Vec<u8> {
    let input = report::check::CheckInput {
        result: c.judged,
        diff: c.d,
        answers: c.answers,
        old: c.og,
        new: c.ng,
    };
    let draw = report::html::Drawing {
        selection: out.selection(),
        renderer: out.renderer(),
        limits: Limits {
            time: out.report_time_limit(),
            ..out.limits()
        },
    };
    let r = report::html::report(&input, &draw, false);
    if !quiet {
        for w in &r.warnings {
            progress::suspend(|| eprintln!("unitdiff: warning: {}", report::escape::field(w)));
        }
    }
    r.html.into_bytes()
}

/// `--split DIR`: one focused picture per top finding, and an index.html linking them.
pub(crate) fn write_split(
    dir: &Path,
    out: &OutputArgs,
    c: &Compared,
    quiet: bool,
) -> Result<(), anyhow::Error> {
    let Compared {
        d, og, ng, judged, ..
    } = *c;
    let ext = match out.format {
        Format::Svg => "svg",
        Format::Png => "png",
        Format::Dot => "dot",
        _ => anyhow::bail!("--split writes pictures: use --format svg, png or dot"),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let top = report::overview::top_findings(&judged.findings, report::overview::TOP_FINDINGS);
    let mut files = Vec::new();
    let scene = report::picture::DiffScene::new(d, og, ng, &out.selection());
    // --time-limit is the layout time of all the pictures together.
    let mut budget = report::html::PictureBudget::new(out.report_time_limit());
    for f in &top {
        let Some((p, note)) = budget.take(|| scene.finding_picture(&f.units)) else {
            continue;
        };
        let mut said: Vec<String> = p.cut.iter().cloned().collect();
        let title = report::html::titled(f.title(), note);
        let drawn = out.picture_within(&report::dot::graph(&p, &title), budget.time_left());
        let bytes = match drawn {
            Ok(b) => b,
            Err(e) => {
                said.push(format!("picture not written: {e}"));
                budget.note(said);
                continue;
            }
        };
        budget.note(said);
        let name = format!("{}.{ext}", f.slug);
        let path = dir.join(&name);
        std::fs::write(&path, bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        files.push((title, name));
    }
    if !quiet {
        for w in budget.warnings(top.len()) {
            progress::suspend(|| eprintln!("unitdiff: warning: {}", escape::field(&w)));
        }
    }
    let index = report::html::split_index(
        &format!(
            "{} -> {}{}",
            d.old_root,
            d.new_root,
            report::scope_note(d.scope)
        ),
        &files,
    );
    let path = dir.join("index.html");
    std::fs::write(&path, index)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
