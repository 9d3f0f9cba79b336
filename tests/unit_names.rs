//! Unit names as systemctl takes them, in every command that names a unit: no suffix means
//! `.service`, aliases lead to their unit, a template instance nothing references is loaded
//! from its template, globs in `--focus`; a name the image does not know is exit 2 with the
//! closest names, never an empty answer or a false "no path".

use assert_cmd::Command;

const OLD: &str = "fixtures/coreos-899";
const NEW: &str = "fixtures/coreos-1010";

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-q")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The first line of stdout, trimmed (the root of a tree).
fn first(o: &std::process::Output) -> String {
    stdout(o).lines().next().unwrap_or("").trim().to_string()
}

/// Exit 2, nothing on stdout, one line on stderr containing `needle`.
#[track_caller]
fn refused(o: &std::process::Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(o.stdout.is_empty(), "{}", stdout(o));
    let e = stderr(o);
    assert!(e.contains(needle), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn deps_takes_a_name_without_suffix() {
    let short = unitdiff(&["deps", NEW, "docker"]);
    let long = unitdiff(&["deps", NEW, "docker.service"]);
    assert_eq!(short.status.code(), Some(0), "{}", stderr(&short));
    assert!(first(&short) == "docker.service");
    assert!(stdout(&short).contains("flanneld.service"));
    assert_eq!(stdout(&short), stdout(&long));
    // Two roots too.
    let o = unitdiff(&["deps", OLD, NEW, "docker"]);
    assert!(stdout(&o).contains("+ ") && stdout(&o).contains("flanneld.service"));
}

#[test]
fn deps_of_an_unknown_unit_is_an_error_with_the_closest_names() {
    let o = unitdiff(&["deps", NEW, "dockr"]);
    refused(&o, "no unit dockr.service");
    assert!(stderr(&o).contains("did you mean docker.service"));
    refused(
        &unitdiff(&["deps", OLD, NEW, "nosuch.service"]),
        "no unit nosuch.service",
    );
}

#[test]
fn why_never_says_no_path_for_a_unit_it_does_not_know() {
    // `multi-user` is multi-user.service to systemctl: unknown, and the target is suggested.
    let o = unitdiff(&["why", NEW, "multi-user", "docker"]);
    refused(&o, "no unit multi-user.service");
    assert!(stderr(&o).contains("did you mean multi-user.target"));
    refused(
        &unitdiff(&["why", NEW, "multi-user.target", "dockerd"]),
        "did you mean docker.service",
    );
    // Known names (short or long) find the path.
    let o = unitdiff(&["why", NEW, "multi-user.target", "flanneld"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("docker.service"), "{}", stdout(&o));
}

#[test]
fn cat_takes_short_names_and_suggests() {
    let o = unitdiff(&["cat", NEW, "docker"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("40-flannel.conf"));
    refused(&unitdiff(&["cat", NEW, "flanneld.sevice"]), "did you mean");
}

#[test]
fn focus_takes_short_names_and_globs_and_refuses_unknown_units() {
    let dot = |focus: &str| unitdiff(&["diff", OLD, NEW, "--format", "dot", "--focus", focus]);
    let long = dot("docker.service");
    assert_eq!(long.status.code(), Some(1));
    assert_eq!(stdout(&dot("docker")), stdout(&long));
    let glob = dot("flannel*");
    assert_eq!(glob.status.code(), Some(1), "{}", stderr(&glob));
    assert!(stdout(&glob).contains("flanneld.service"));
    refused(&dot("nosuch.service"), "no unit nosuch.service");
    refused(&dot("nosuch-*"), "no unit matches nosuch-*");
    refused(
        &unitdiff(&["graph", NEW, "--format", "dot", "--focus", "dockr"]),
        "did you mean docker.service",
    );
}

#[test]
fn aliases_lead_to_their_unit() {
    let root = "fixtures/rules/alias";
    let o = unitdiff(&["deps", root, "al2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(first(&o) == "real.service", "{}", stdout(&o));
    let o = unitdiff(&["cat", root, "al"]);
    assert!(stdout(&o).starts_with("# /etc/systemd/system/real.service"));
}

#[test]
fn an_instance_nothing_references_is_loaded_from_its_template() {
    let root = "fixtures/rules/templates";
    let o = unitdiff(&["deps", root, "getty@tty9", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(first(&o) == "getty@tty9.service", "{t}");
    // %n and %p expanded for this instance.
    assert!(t.contains("getty@tty9.service-self.target"), "{t}");
    assert!(t.contains("getty-helper.service"), "{t}");
    let o = unitdiff(&["cat", root, "getty@tty9"]);
    assert!(stdout(&o).starts_with("# /usr/lib/systemd/system/getty@.service"));
    // A template is not a unit with dependencies; an instance of no template is unknown.
    refused(&unitdiff(&["deps", root, "getty@"]), "is a template");
    refused(
        &unitdiff(&["deps", root, "nosuch@x"]),
        "no unit nosuch@x.service",
    );
}
