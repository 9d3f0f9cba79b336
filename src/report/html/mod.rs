//! HTML: the index page of `--split`, and the single-file offline report of a diff or a
//! check.

pub mod page;
pub mod report;

pub use page::{PageInput, diff_page};
pub use report::{Drawing, PictureBudget, REPORT_LAYOUT_TIME, Report, report, titled};

use super::escape::html as esc;

/// The Content-Security-Policy source that allows exactly this inline script
/// (`'sha256-…'`): no other script, injected or not, runs in the page.
pub fn csp_hash(script: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(script.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The index of `--split DIR`: each finding's title linking to its picture, shown inline.
pub fn split_index(title: &str, files: &[(String, String)]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t}</title><style>body{{font-family:sans-serif;margin:2em}}\
         img{{max-width:100%;border:1px solid #ccc}}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(title)
    );
    if files.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    }
    out.push_str("<ol>\n");
    for (t, f) in files {
        out.push_str(&format!(
            "<li><a href=\"{f}\">{t}</a><br><img src=\"{f}\" alt=\"{t}\"></li>\n",
            f = esc(f),
            t = esc(t)
        ));
    }
    out.push_str("</ol>\n</body></html>\n");
    out
}
