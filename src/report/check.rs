//! `unitdiff check`'s report formats, all reading one [`CheckInput`]: the check result
//! (ranked findings with their status) and the diff behind it.

use super::{escape, findings, json};
use crate::diff::GraphDiff;
use crate::findings::CheckResult;
use crate::graph::DepGraph;
use crate::query::DiffAnswers;

/// The formats `check` writes (`--format`, `--report FORMAT=FILE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
    Github,
    Junit,
    Gitlab,
    Markdown,
    Html,
}

impl CheckFormat {
    pub const ALL: [CheckFormat; 8] = [
        CheckFormat::Text,
        CheckFormat::Json,
        CheckFormat::Sarif,
        CheckFormat::Github,
        CheckFormat::Junit,
        CheckFormat::Gitlab,
        CheckFormat::Markdown,
        CheckFormat::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckFormat::Text => "text",
            CheckFormat::Json => "json",
            CheckFormat::Sarif => "sarif",
            CheckFormat::Github => "github",
            CheckFormat::Junit => "junit",
            CheckFormat::Gitlab => "gitlab",
            CheckFormat::Markdown => "markdown",
            CheckFormat::Html => "html",
        }
    }

    pub fn parse(s: &str) -> Option<CheckFormat> {
        CheckFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Everything a check report may read.
pub struct CheckInput<'a> {
    pub result: &'a CheckResult,
    pub diff: &'a GraphDiff,
    pub answers: &'a DiffAnswers,
    pub old: &'a DepGraph,
    pub new: &'a DepGraph,
}

/// The report in `format`. Text comes with terminal styles (the writer strips them when
/// colour is off).
pub fn render(format: CheckFormat, input: &CheckInput) -> Result<Vec<u8>, String> {
    match format {
        // Image-made strings are escaped before our own styling is added.
        CheckFormat::Text => {
            let text = findings::check(input.result);
            Ok(super::text::colorize(&escape::text(&text)).into_bytes())
        }
        CheckFormat::Json => {
            let s = serde_json::to_string_pretty(&json::check(input.result))
                .map_err(|e| e.to_string())?;
            let mut b = escape::json(&s).into_owned().into_bytes();
            b.push(b'\n');
            Ok(b)
        }
        CheckFormat::Sarif => Ok(escape::json(&super::sarif::sarif(input))
            .into_owned()
            .into_bytes()),
        CheckFormat::Github => Ok(super::github::commands(input).into_bytes()),
        CheckFormat::Junit => Ok(super::junit::junit(input).into_bytes()),
        CheckFormat::Gitlab => Ok(escape::json(&super::gitlab::gitlab(input))
            .into_owned()
            .into_bytes()),
        CheckFormat::Markdown => {
            Ok(super::markdown::check(input, &super::markdown::Options::default()).into_bytes())
        }
        // Pictures drawn in process with the default limits; one that cannot be drawn is
        // left out and the page says how to draw it.
        CheckFormat::Html => Ok(
            super::html::report(input, &super::html::Drawing::default(), true)
                .html
                .into_bytes(),
        ),
    }
}
