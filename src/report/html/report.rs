//! The HTML report of a diff or of a check, assembled from the check's models: a focused
//! picture per top finding, the overview (or the whole diff when it is small enough to
//! read), the legend once, the unified diffs, then [`super::page`] writes the page.
//! `diff --format html` and `check --format html` (or `--report html=FILE`) both come here.

use crate::report::check::CheckInput;
use crate::report::picture::{Picture, Selection};
use crate::report::render::{self, ImageFormat, Limits, Renderer};
use crate::report::{dot, overview, picture, unified};
use std::time::{Duration, Instant};

/// How the pictures are drawn; `limits.time` is the whole report's layout time.
#[derive(Clone, Debug)]
pub struct Drawing {
    pub selection: Selection,
    pub renderer: Renderer,
    pub limits: Limits,
}

impl Default for Drawing {
    fn default() -> Self {
        Drawing {
            selection: Selection::default(),
            renderer: Renderer::default(),
            limits: Limits {
                time: REPORT_LAYOUT_TIME,
                ..Limits::default()
            },
        }
    }
}

/// The page, and what could not be drawn (one line each, for standard error).
pub struct Report {
    pub html: String,
    pub warnings: Vec<String>,
}

impl Drawing {
    /// The same drawing, with `time` of layout at most.
    fn within(&self, time: Duration) -> Drawing {
        Drawing {
            limits: Limits {
                time,
                ..self.limits
            },
            ..self.clone()
        }
    }

    fn svg(&self, g: &graphviz_rust::dot_structures::Graph) -> Result<String, String> {
        render::render(g, ImageFormat::Svg, self.renderer, self.limits)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
    }

    /// A picture without its legend; the picture budget's cut, or why it could not be
    /// drawn, goes to `warnings`.
    fn picture(&self, p: &Picture, title: &str, warnings: &mut Vec<String>) -> Option<String> {
        if let Some(c) = &p.cut {
            warnings.push(c.clone());
        }
        self.svg(&dot::graph_without_legend(p, title))
            .map_err(|e| warnings.push(format!("picture left out of the report: {e}")))
            .ok()
    }
}

/// Most units and edges the focused pictures of one report may add up to (refused pictures
/// count too: building them is the work). A real upgrade's forty focused pictures add up to
/// about a thousand; a hostile image whose every finding pulls in thousands of units stops
/// here instead of laying out forty large pictures.
pub const PICTURES_BUDGET: usize = 8_000;

/// Layout time all the pictures of one report (or `--split`) may take, unless
/// `--time-limit` says otherwise. A real upgrade's report lays out in about half a second
/// (Debian 12 -> 13: 0.5 CPU s in all); the in-process layout takes minutes on some small
/// but tangled graphs (50 units naming each other at random: over 60 s), and no count of
/// units or edges predicts which, so the report as a whole has a clock.
pub const REPORT_LAYOUT_TIME: Duration = Duration::from_secs(5);

/// The focused pictures' share of work and of layout time, and what was said about them
/// (said once, counted).
pub struct PictureBudget {
    spent: usize,
    left_out: usize,
    said: Vec<String>,
    repeated: usize,
    time: Duration,
    start: Instant,
    out_of_time: usize,
}

impl PictureBudget {
    /// A budget whose pictures may take `time` of layout in all.
    pub fn new(time: Duration) -> Self {
        PictureBudget {
            spent: 0,
            left_out: 0,
            said: Vec::new(),
            repeated: 0,
            time,
            start: Instant::now(),
            out_of_time: 0,
        }
    }

    /// Layout time left for the next picture.
    pub fn time_left(&self) -> Duration {
        self.time.saturating_sub(self.start.elapsed())
    }

    /// Build the next picture with `make`, unless the budget is spent.
    pub fn take<T>(&mut self, make: impl FnOnce() -> (Picture, T)) -> Option<(Picture, T)> {
        if self.time_left().is_zero() {
            self.out_of_time += 1;
            return None;
        }
        if self.spent >= PICTURES_BUDGET {
            self.left_out += 1;
            return None;
        }
        let (p, extra) = make();
        self.spent += p.nodes.len() + p.edges.len();
        Some((p, extra))
    }

    /// What drawing one picture said (its cut, or why it was not drawn).
    pub fn note(&mut self, said: Vec<String>) {
        if self.said.is_empty() {
            self.said = said;
        } else {
            self.repeated += said.len();
        }
    }

    /// The lines for standard error: the first picture's complaints, how many more there
    /// were, and how many pictures the budget left out of `total`.
    pub fn warnings(self, total: usize) -> Vec<String> {
        let mut out = self.said;
        if self.repeated > 0 {
            out.push(format!(
                "{} more such warnings about the findings' pictures",
                self.repeated
            ));
        }
        if self.left_out > 0 {
            out.push(format!(
                "work budget: {} of {total} findings' pictures left out (the pictures already \
                 add up to {} units and edges, at most {PICTURES_BUDGET}); draw one with --focus",
                self.left_out, self.spent
            ));
        }
        if self.out_of_time > 0 {
            out.push(format!(
                "work budget: {} of {total} findings' pictures left out (the pictures took the \
                 {} s of layout time they had, --time-limit); draw one with --focus",
                self.out_of_time,
                self.time.as_secs_f64()
            ));
        }
        out
    }
}

/// A finding's picture title, with the note of what its picture left out.
pub fn titled(title: String, note: Option<String>) -> String {
    match note {
        Some(n) => format!("{title} ({n})"),
        None => title,
    }
}

/// The report of `input`; `verdict`: say whether the gate passed (the page of `check`).
pub fn report(input: &CheckInput, draw: &Drawing, verdict: bool) -> Report {
    let CheckInput {
        result,
        diff: d,
        answers,
        old: og,
        new: ng,
    } = *input;
    let mut warnings = Vec::new();
    let title = &format!(
        "{} -> {}{}",
        d.old_root,
        d.new_root,
        crate::report::scope_note(d.scope)
    );
    let top = overview::top_findings(&result.findings, overview::TOP_FINDINGS);
    let scene = picture::DiffScene::new(d, og, ng, &draw.selection);
    // draw.limits.time is the whole report's: the overview first, then the findings.
    let mut budget = PictureBudget::new(draw.limits.time);
    let whole = scene.picture(&[]);
    let overview_svg = if whole.nodes.is_empty() {
        None
    } else if whole.nodes.len() > overview::READABLE_UNITS {
        let ov = overview::overview(d, og, ng, answers, &result.findings, whole.nodes.len());
        draw.within(budget.time_left())
            .picture(&ov.picture, title, &mut warnings)
    } else {
        draw.within(budget.time_left())
            .picture(&whole, title, &mut warnings)
    };
    let pictures: Vec<Option<String>> = top
        .iter()
        .map(|f| {
            let (p, note) = budget.take(|| scene.finding_picture(&f.units))?;
            let mut said = Vec::new();
            let svg =
                draw.within(budget.time_left())
                    .picture(&p, &titled(f.title(), note), &mut said);
            budget.note(said);
            svg
        })
        .collect();
    warnings.extend(budget.warnings(top.len()));
    let drawn = pictures.iter().any(Option::is_some) || overview_svg.is_some();
    // The legend is a handful of units: it gets its own few seconds.
    let legend = drawn
        .then(|| {
            draw.within(Duration::from_secs(5))
                .svg(&dot::legend_graph())
                .ok()
        })
        .flatten();
    let patches = unified::patches(d, og, ng);
    let mut facts = vec![format!(
        "Boot ({}): {} units now started, {} no longer started",
        answers.boot_target,
        answers.boot_added.len(),
        answers.boot_removed.len()
    )];
    if !answers.failure_set_changes.is_empty() {
        facts.push(format!(
            "{} units whose start now depends on more (or fewer) units",
            answers.failure_set_changes.len()
        ));
    }
    let html = super::diff_page(&super::PageInput {
        title,
        diff: d,
        result,
        verdict,
        top: &top,
        pictures: &pictures,
        overview: overview_svg.as_deref(),
        legend: legend.as_deref(),
        patches: &patches,
        summary_lines: &facts,
    });
    Report { html, warnings }
}
