//! The HTML report in a real browser: Debian's Chromium, headless. `--dump-dom` gives the
//! DOM after the page's script ran; the filters are driven through the URL fragment the
//! page reads (`#q=flanneld`), so no browser-automation crate is needed. Screenshots are
//! kept in target/browser-shots/ to look at.

mod support;

/// The benchmark's synthetic image pairs (`write_pair`).
#[path = "../examples/synth_images.rs"]
#[allow(dead_code)]
mod synth;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const OLD: &str = "fixtures/coreos-899";
const NEW: &str = "fixtures/coreos-1010";
const DEB_OLD: &str = "fixtures/debian-12";
const DEB_NEW: &str = "fixtures/debian-13";

fn manifest(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `unitdiff diff OLD NEW --format html -o FILE`, with all the layout time its pictures
/// need: these tests check the page, not the report's layout clock (a debug build on a busy
/// machine can spend the default 5 s; tests/hostile_budget.rs checks the clock).
fn report(old: &Path, new: &Path, file: &Path) {
    let o = Command::cargo_bin("unitdiff")
        .unwrap()
        .args(["-q", "diff"])
        .arg(old)
        .arg(new)
        .args(["--time-limit", "600", "--format", "html", "-o"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn chromium(extra: &[&str], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs (apt-get install chromium)")
}

fn url(file: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", file.display())
}

/// The DOM after the page's script ran.
fn dom(file: &Path, fragment: &str) -> String {
    let o = chromium(&["--dump-dom"], &url(file, fragment));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn screenshot(file: &Path, name: &str) -> Vec<u8> {
    let dir = manifest("target/browser-shots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(name);
    let _ = std::fs::remove_file(&png);
    let o = chromium(
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,1800",
            "--hide-scrollbars",
        ],
        &url(file, ""),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(&png).unwrap()
}

/// The `<article class="finding">` elements of a DOM, each as its opening tag and body.
fn findings(dom: &str) -> Vec<&str> {
    dom.split("<article class=\"finding\"")
        .skip(1)
        .map(|s| s.split("</article>").next().unwrap())
        .collect()
}

/// The data-units of the docker.service Requires= flanneld.service finding.
const DOCKER: &str = "data-units=\"docker.service flanneld.service\"";

/// The value of an attribute in a finding's opening tag.
fn attr<'a>(f: &'a str, name: &str) -> &'a str {
    let tag = f.split('>').next().unwrap();
    tag.split(&format!(" {name}=\""))
        .nth(1)
        .map_or("", |v| v.split('"').next().unwrap())
}

fn visible(f: &str) -> bool {
    !f.split('>').next().unwrap().contains(" hidden")
}

fn rows(dom: &str) -> usize {
    rows_of(dom, "c-rows")
}

fn rows_of(dom: &str, id: &str) -> usize {
    let body = dom.split(&format!("id=\"{id}\">")).nth(1).unwrap();
    body.split("</tbody>")
        .next()
        .unwrap()
        .matches("<tr>")
        .count()
}

#[test]
#[ignore = "needs chromium"]
fn coreos_report_in_chromium() {
    support::tools::require("chromium", "chromium");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("coreos.html");
    report(&manifest(OLD), &manifest(NEW), &file);

    let d = dom(&file, "");
    let all = findings(&d);
    assert!(!all.is_empty() && all.iter().all(|f| visible(f)));
    // The story: docker.service now requires flanneld.service, because of an admin drop-in.
    // Ranked by the findings model: the error first, with its rule ID.
    assert!(all[0].contains(DOCKER), "{}", all[0]);
    let docker = all[0];
    assert!(
        attr(docker, "data-rule") == "new-hard-dependency" && attr(docker, "data-level") == "error"
    );
    assert!(docker.contains("<svg"), "no picture");
    assert!(
        docker.contains("flanneld.service</text>"),
        "picture without flanneld"
    );
    assert!(
        docker.contains("/etc/systemd/system/docker.service.d/40-flannel.conf:"),
        "no provenance line"
    );
    assert!(
        docker.contains("+Requires=flanneld.service"),
        "no unified diff"
    );
    // One legend for all the pictures, not one per picture.
    assert_eq!(legends(&d), 1, "{} legends", legends(&d));
    // The script ran: the two dependency changes (+ Requires, + After) are listed.
    let n = rows(&d);
    assert_eq!(n, 2, "{n} rows");
    assert!(d.contains("findings, "), "no filter count");

    // Filters, through the fragment: a unit name, then a level.
    let f = dom(&file, "#q=flanneld");
    let shown: Vec<_> = findings(&f).into_iter().filter(|f| visible(f)).collect();
    assert!(shown.iter().any(|f| f.contains(DOCKER)), "q=flanneld");
    assert!(
        shown.len() < all.len(),
        "q=flanneld hides nothing ({} findings)",
        all.len()
    );
    for s in &shown {
        assert!(attr(s, "data-units").contains("flanneld"), "{s}");
    }
    let f = dom(&file, "#q=etcd");
    assert!(
        findings(&f).iter().all(|f| !visible(f)),
        "q=etcd shows a finding"
    );
    assert!(
        f.contains("<p id=\"no-findings\">"),
        "no 'nothing matches' line"
    );
    assert_eq!(rows(&f), 0, "q=etcd");
    let f = dom(&file, "#kind=After");
    assert_eq!(rows(&f), 1, "kind=After");
    // Levels are the findings model's: under level=error only errors stay.
    let f = dom(&file, "#level=error");
    let fs = findings(&f);
    let docker = fs.iter().find(|f| f.contains(DOCKER)).unwrap();
    assert!(visible(docker), "the error is hidden under level=error");
    assert!(
        fs.iter()
            .any(|f| attr(f, "data-level") == "warn" && !visible(f))
    );
    assert!(
        fs.iter()
            .filter(|f| visible(f))
            .all(|f| attr(f, "data-level") == "error")
    );

    let png = screenshot(&file, "coreos.png");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

#[test]
#[ignore = "needs chromium"]
fn release_report_in_chromium() {
    support::tools::require("chromium", "chromium");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("debian.html");
    report(&manifest(DEB_OLD), &manifest(DEB_NEW), &file);
    let d = dom(&file, "");
    let all = findings(&d);
    assert!(all.len() >= 5, "{} findings", all.len());
    assert!(
        all.iter()
            .any(|f| f.contains("NetworkManager.service") && f.contains("<svg"))
    );
    assert!(d.contains("id=\"overview\"") && d.contains("class=\"viewport\""));
    assert_eq!(legends(&d), 1, "{} legends", legends(&d));
    assert!(rows(&d) == 200, "the change list is rendered in batches");
    let f = dom(&file, "#cause=systemd-upgrade&kind=After");
    let r = rows(&f);
    assert!(r > 0 && f.contains("systemd-upgrade</td>") && !f.contains("<td>files</td>"));
    let png = screenshot(&file, "debian.png");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000);
}

/// How many times the legend is drawn in a page (its first node's title).
fn legends(dom: &str) -> usize {
    dom.matches("<title>legend:added</title>").count()
}

/// `unitdiff check OLD NEW --format html`: the same report, with the gate's verdict and
/// each finding's status (allowed by the policy, new); `--report html=FILE` writes the same
/// page beside another format.
#[test]
#[ignore = "needs chromium"]
fn check_report_in_chromium() {
    support::tools::require("chromium", "chromium");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "schema = \"unitdiff.policy.v1\"\n\n[[allow]]\nrule = \"new-hard-dependency\"\n\
         unit = \"docker.service\"\nkind = \"Requires\"\ntarget = \"flanneld.service\"\n\
         reason = \"flannel provides docker's network\"\n",
    )
    .unwrap();
    let file = dir.path().join("check.html");
    let also = dir.path().join("also.html");
    let o = Command::cargo_bin("unitdiff")
        .unwrap()
        .env("UNITDIFF_TODAY", "2026-11-30")
        .args(["-q", "check"])
        .arg(manifest(OLD))
        .arg(manifest(NEW))
        .args(["--fail-on", "warn", "--policy"])
        .arg(&policy)
        .args(["--format", "html", "-o"])
        .arg(&file)
        .arg("--report")
        .arg(format!("html={}", also.display()))
        .output()
        .unwrap();
    // Warnings remain: the gate fails under --fail-on warn.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&also).unwrap(),
        "--report html= and --format html differ"
    );
    let d = dom(&file, "");
    assert!(
        d.contains("<p id=\"verdict\" class=\"failed\">Gate <b>FAILED</b>"),
        "no verdict"
    );
    assert!(d.contains("1 allowed by the policy"), "policy count");
    let all = findings(&d);
    let docker = all
        .iter()
        .find(|f| f.contains(DOCKER) && attr(f, "data-rule") == "new-hard-dependency")
        .expect("the docker -> flanneld finding");
    assert!(docker.contains("<svg") && docker.contains("flanneld.service</text>"));
    assert!(
        docker.contains("allowed by ") && docker.contains("flannel provides docker"),
        "the finding does not say it is allowed"
    );
    assert!(
        docker.contains("/etc/systemd/system/docker.service.d/40-flannel.conf:"),
        "no provenance line"
    );
    assert_eq!(legends(&d), 1, "the legend is not shown exactly once");
    assert_eq!(rows(&d), 2, "dependency changes");
    // The filters work as in the diff's page.
    let f = dom(&file, "#q=etcd");
    assert!(findings(&f).iter().all(|f| !visible(f)));
    assert_eq!(rows(&f), 0);
    let f = dom(&file, "#q=flanneld");
    assert!(
        findings(&f)
            .iter()
            .any(|f| visible(f) && f.contains(DOCKER))
    );
}

/// The number in `<span id="ID">N</span>` or `<span id="ID">M of N</span>`: (shown, total).
fn count(dom: &str, id: &str) -> (usize, usize) {
    let text = dom
        .split(&format!("<span id=\"{id}\">"))
        .nth(1)
        .and_then(|s| s.split("</span>").next())
        .unwrap_or_else(|| panic!("no #{id}"));
    let n: Vec<usize> = text
        .split(" of ")
        .map(|n| {
            n.trim()
                .parse()
                .unwrap_or_else(|_| panic!("#{id}: {text:?}"))
        })
        .collect();
    (n[0], *n.last().unwrap())
}

/// The rows of a table body, each as its inner HTML.
fn row_texts<'a>(dom: &'a str, id: &str) -> Vec<&'a str> {
    let body = dom.split(&format!("id=\"{id}\">")).nth(1).unwrap();
    let body = body.split("</tbody>").next().unwrap();
    body.split("<tr>").skip(1).collect()
}

/// A large diff (a synthetic pair of 2,000 units, made here): findings, changes and files
/// are listed in batches, pictures past the first few are embedded inert and inserted on
/// demand, and the filters still work on everything, listed or not.
#[test]
#[ignore = "needs chromium"]
fn large_report_in_chromium() {
    support::tools::require("chromium", "chromium");
    let dir = tempfile::tempdir().unwrap();
    synth::write_pair(dir.path(), 2_000, 1).unwrap();
    let file = dir.path().join("large.html");
    report(&dir.path().join("old"), &dir.path().join("new"), &file);
    let d = dom(&file, "");

    // Ranked findings with pictures: the first few drawn, the others waiting in a template.
    let all = findings(&d);
    assert!(all.len() >= 20, "{} findings in full", all.len());
    let open = all
        .iter()
        .filter(|f| f.contains("<div class=\"pic\"><svg"))
        .count();
    let lazy: Vec<&&str> = all
        .iter()
        .filter(|f| f.contains("<div class=\"pic\"></div><template><svg"))
        .collect();
    assert!((1..=3).contains(&open), "{open} pictures drawn at load");
    assert!(lazy.len() >= 10, "{} pictures waiting", lazy.len());
    assert_eq!(legends(&d), 1);

    // Every list is rendered a batch at a time, and counts all of it.
    let (shown, changes) = count(&d, "c-count");
    assert!(
        shown == changes && changes > 200,
        "{shown} of {changes} changes"
    );
    assert_eq!(rows(&d), 200, "the first batch of changes");
    let (_, rest) = count(&d, "r-count");
    assert!(rest > 200, "{rest} other findings");
    assert_eq!(
        rows_of(&d, "r-rows"),
        200,
        "the first batch of other findings"
    );
    let (_, files) = count(&d, "u-count");
    assert!(files > 0 && rows_of(&d, "u-rows") == files.min(200));

    // Search by a unit of a finding whose picture waits: that finding shows, with its
    // picture inserted, and only that unit's changes are listed.
    let unit = attr(lazy[lazy.len() / 2], "data-units")
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let f = dom(&file, &format!("#q={unit}"));
    let shown: Vec<&str> = findings(&f).into_iter().filter(|f| visible(f)).collect();
    assert!(!shown.is_empty() && shown.len() < all.len(), "q={unit}");
    assert!(shown.iter().all(|f| attr(f, "data-units").contains(&unit)));
    let target = shown
        .iter()
        .find(|f| attr(f, "data-units").split(' ').next() == Some(unit.as_str()))
        .unwrap();
    assert!(
        target.contains("<details class=\"lazy-pic\" open=\"\">")
            && target.contains("<div class=\"pic\"><svg"),
        "the picture of the found finding is not inserted"
    );
    let (c, total) = count(&f, "c-count");
    assert!(c < total, "q={unit}: {c} of {total} changes");
    let r = row_texts(&f, "c-rows");
    assert_eq!(r.len(), c.min(200));
    assert!(
        r.iter().all(|row| row.contains(&unit)),
        "a change without {unit}"
    );

    // A level filter over the listed findings too.
    let f = dom(&file, "#level=warn");
    let (w, all_rest) = count(&f, "r-count");
    assert!(
        w < all_rest,
        "level=warn keeps {w} of {all_rest} other findings"
    );
    assert!(
        row_texts(&f, "r-rows")
            .iter()
            .all(|r| r.contains("lvl-warn") || r.contains("lvl-error"))
    );
    assert!(
        findings(&f)
            .iter()
            .filter(|f| visible(f))
            .all(|f| attr(f, "data-level") != "info")
    );
}

fn copy_tree(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(src).unwrap();
        let to = dst.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// The image's markup, in the HTML as written (no browser needed): names, drop-in file
/// names and file contents are escaped, the embedded JSON cannot close its element.
#[test]
fn markup_from_the_image_is_escaped_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new");
    copy_tree(&manifest(NEW), &new);
    let evil = "<img src=x onerror=alert(1)>";
    std::fs::write(
        new.join(format!("etc/systemd/system/docker.service.d/{evil}.conf")),
        format!("[Unit]\nRequires=etcd2.service\n# {evil} </script><script>alert(2)</script>\n"),
    )
    .unwrap();
    let file = dir.path().join("evil.html");
    report(&manifest(OLD), &new, &file);
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(!html.contains("<img"), "raw <img> in the page");
    assert!(
        !html.contains("alert(2)</script>"),
        "raw </script> in the page"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.conf"));
    // The page's only script is its own, pinned by the Content-Security-Policy.
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(html.contains("script-src 'sha256-"));
}

/// Markup in names and files from the image shows as text: nothing runs, nothing loads.
#[test]
#[ignore = "needs chromium"]
fn markup_from_the_image_is_text() {
    support::tools::require("chromium", "chromium");
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new");
    copy_tree(&manifest(NEW), &new);
    let evil = "<img src=x onerror=alert(1)>";
    let units = new.join("etc/systemd/system");
    // systemd (and unitdiff) ignore a unit file with that name; a drop-in may be called
    // anything ending in .conf, and its content is shown in the finding's file diff.
    std::fs::write(
        units.join(format!("{evil}.service")),
        format!("[Unit]\nDescription={evil}\n[Service]\nExecStart=/bin/true\n"),
    )
    .unwrap();
    std::fs::write(
        units.join(format!("docker.service.d/{evil}.conf")),
        format!("[Unit]\nRequires=etcd2.service\n# {evil} </script><script>alert(2)</script>\n"),
    )
    .unwrap();
    let file = dir.path().join("evil.html");
    report(&manifest(OLD), &new, &file);
    let d = dom(&file, "");
    assert!(!d.contains("<img"), "an <img> element from the image");
    assert!(!d.contains("alert(2)</script>"), "a script from the image");
    assert!(
        d.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the name is not shown"
    );
    // In the finding (its provenance and file diff) and in the list of changed files.
    let etcd = findings(&d)
        .into_iter()
        .find(|f| f.contains("data-units=\"docker.service etcd2.service\""))
        .expect("the docker -> etcd2 finding");
    assert!(etcd.contains("docker.service.d/&lt;img src=x onerror=alert(1)&gt;.conf:2"));
    assert!(etcd.contains("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    let f = dom(&file, "#q=onerror");
    assert_eq!(
        rows_of(&f, "u-rows"),
        1,
        "the drop-in is not in the file list"
    );
}
