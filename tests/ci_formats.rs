//! `unitdiff check`'s CI formats against their documented shapes: SARIF 2.1.0 validated with
//! the official JSON schema (tests/data), GitHub workflow commands parsed back with the
//! runner's escaping, JUnit XML parsed back with quick-xml, GitLab Code Quality fields.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;

const ALLOW: &str = r#"schema = "unitdiff.policy.v1"

[[allow]]
rule = "new-hard-dependency"
unit = "docker.service"
kind = "Requires"
target = "flanneld.service"
reason = "flannel provides docker's network, 100% wanted: yes, really"
"#;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    crate_dir()
        .join("fixtures")
        .join(name)
        .display()
        .to_string()
}

fn run(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::cargo_bin("unitdiff").unwrap();
    c.current_dir(cwd)
        .env("UNITDIFF_TODAY", "2026-11-30")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("PAGER");
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

fn coreos(cwd: &Path, format: &str) -> Output {
    run(
        cwd,
        &[
            "check",
            &fixture("coreos-899"),
            &fixture("coreos-1010"),
            "--format",
            format,
        ],
        &[],
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// A pair with many findings of every level: a removed unit (OLD locations), new hard
/// dependencies, admin drop-ins with `%`, `,` and `:` in their names, a unit that is only
/// referenced (no file: rule-made locations).
fn busy_pair(dir: &Path) -> (String, String) {
    let (old, new) = (dir.join("old"), dir.join("new"));
    let lib = "usr/lib/systemd/system";
    for root in [&old, &new] {
        write(
            root,
            &format!("{lib}/base.target"),
            "[Unit]\nDescription=base\n",
        );
        for i in 0..14 {
            write(
                root,
                &format!("{lib}/s{i:02}.service"),
                "[Service]\nExecStart=/bin/true\n",
            );
        }
    }
    write(
        &old,
        &format!("{lib}/gone.service"),
        "[Service]\nExecStart=/bin/true\n",
    );
    for i in 0..14 {
        write(
            &new,
            &format!("etc/systemd/system/s{i:02}.service.d/50-odd,name:{i}%.conf"),
            &format!("[Unit]\nRequires=h{i:02}.service\nAfter=base.target\n"),
        );
        write(
            &new,
            &format!("{lib}/h{i:02}.service"),
            "[Service]\nExecStart=/bin/true\n",
        );
    }
    (old.display().to_string(), new.display().to_string())
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(crate_dir().join("tests/data/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::draft7::new(&schema).expect("the vendored schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, sarif: &Value) {
    let errors: Vec<String> = v
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF is not valid: {errors:#?}");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let v = schema_validator();
    let d = tempfile::tempdir().unwrap();
    let o = coreos(d.path(), "sarif");
    assert_eq!(o.status.code(), Some(1));
    let sarif = json(&o);
    assert_valid(&v, &sarif);
    // The validator does reject what the schema forbids.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!v.is_valid(&broken));
    let mut broken = sarif.clone();
    broken.as_object_mut().unwrap().remove("version");
    assert!(!v.is_valid(&broken));

    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(run["automationDetails"]["id"], "unitdiff/check/");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), unitdiff::findings::RULES.len());
    for r in rules {
        for k in ["shortDescription", "fullDescription", "help"] {
            assert!(!r[k]["text"].as_str().unwrap().is_empty(), "{r}");
        }
    }
    let bases = &run["originalUriBaseIds"];
    assert!(
        bases["OLDROOT"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("file://")
    );
    assert!(
        bases["NEWROOT"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("coreos-1010/")
    );
    // The same findings as the JSON report, in the same order.
    let j = json(&coreos(d.path(), "json"));
    let findings = j["findings"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["rule"]);
        assert_eq!(r["partialFingerprints"]["unitdiff/v1"], f["fingerprint"]);
        assert_eq!(
            r["partialFingerprints"]["primaryLocationLineHash"],
            f["fingerprint"]
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
        assert!(loc["artifactLocation"]["uri"].is_string(), "{r}");
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
    // The story's finding: the drop-in's line, in NEW, with its witness as a code flow.
    let first = &results[0];
    assert_eq!(first["ruleId"], "new-hard-dependency");
    assert_eq!(first["level"], "error");
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "NEWROOT");
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "etc/systemd/system/docker.service.d/40-flannel.conf"
    );
    assert_eq!(loc["region"]["startLine"], 2);
    let flow = &first["codeFlows"][0]["threadFlows"][0]["locations"][0]["location"];
    assert_eq!(
        flow["message"]["text"],
        "docker.service Requires flanneld.service"
    );
    assert!(first.get("suppressions").is_none());
}

#[test]
fn sarif_of_allowed_removed_and_rule_made_findings() {
    let v = schema_validator();
    // Allowed: a suppression with the reason and the policy's line; still listed.
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("unitdiff.toml"), ALLOW).unwrap();
    let o = coreos(d.path(), "sarif");
    assert_eq!(o.status.code(), Some(0));
    let sarif = json(&o);
    assert_valid(&v, &sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let allowed = results
        .iter()
        .find(|r| r["ruleId"] == "new-hard-dependency")
        .expect("the allowed finding is still listed");
    let s = &allowed["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["status"], "accepted");
    assert!(
        s["justification"]
            .as_str()
            .unwrap()
            .contains("flannel provides")
    );
    assert_eq!(
        s["location"]["physicalLocation"]["artifactLocation"]["uri"],
        "unitdiff.toml"
    );
    assert_eq!(s["location"]["physicalLocation"]["region"]["startLine"], 3);

    // A removed unit points into OLD; findings no line wrote still have a location.
    let d = tempfile::tempdir().unwrap();
    let (old, new) = busy_pair(d.path());
    let o = run(d.path(), &["check", &old, &new, "--format", "sarif"], &[]);
    let sarif = json(&o);
    assert_valid(&v, &sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let removed = results
        .iter()
        .find(|r| r["ruleId"] == "unit-removed")
        .expect("unit-removed");
    let loc = &removed["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uriBaseId"], "OLDROOT");
    assert_eq!(loc["uri"], "usr/lib/systemd/system/gone.service");
    // Odd characters in a drop-in's name are percent-encoded in the URI.
    assert!(
        results.iter().any(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .contains("50-odd%2Cname%3A0%25.conf")
        ),
        "{sarif}"
    );
    for r in results {
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1));
    }
}

/// One parsed workflow command.
#[derive(Debug)]
struct WorkflowCommand {
    name: String,
    props: Vec<(String, String)>,
    data: String,
}

fn unescape_data(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

fn unescape_property(s: &str) -> String {
    unescape_data(&s.replace("%3A", ":").replace("%2C", ","))
}

/// Parse a line as the runner does: `::name k=v,k=v::data`.
fn parse_command(line: &str) -> WorkflowCommand {
    let rest = line.strip_prefix("::").expect("starts with ::");
    let (head, data) = rest.split_once("::").expect("a second ::");
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').expect("k=v");
            (k.to_string(), unescape_property(v))
        })
        .collect();
    WorkflowCommand {
        name: name.to_string(),
        props,
        data: unescape_data(data),
    }
}

#[test]
fn github_escaping_follows_the_runner() {
    use unitdiff::report::github::{data, property};
    assert_eq!(data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
    assert_eq!(property("100% a:b,c\r\nd"), "100%25 a%3Ab%2Cc%0D%0Ad");
    // `%` first: an escape in the input is not decoded by the runner.
    assert_eq!(property("%3A"), "%253A");
    for s in ["a%0Ab", "x:y,z", "line\nbreak\r", "%%,::"] {
        assert_eq!(unescape_property(&property(s)), s);
        assert_eq!(unescape_data(&data(s)), s);
    }
}

#[test]
fn github_commands_errors_first_ten_per_level_and_files() {
    let d = tempfile::tempdir().unwrap();
    let (old, new) = busy_pair(d.path());
    let summary = d.path().join("summary.md");
    let outputs = d.path().join("outputs");
    fs::write(&outputs, "before=1\n").unwrap();
    let o = run(
        d.path(),
        &["check", &old, &new, "--format", "github"],
        &[
            ("GITHUB_STEP_SUMMARY", &summary),
            ("GITHUB_OUTPUT", &outputs),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    let cmds: Vec<WorkflowCommand> = out.lines().map(parse_command).collect();
    assert!(!cmds.is_empty());
    // Errors, then warnings, then notices.
    let rank = |n: &str| match n {
        "error" => 0,
        "warning" => 1,
        "notice" => 2,
        other => panic!("unexpected command {other}"),
    };
    let ranks: Vec<i32> = cmds.iter().map(|c| rank(&c.name)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{out}");
    for name in ["error", "warning", "notice"] {
        let n = cmds.iter().filter(|c| c.name == name).count();
        assert!(n <= 10, "{n} {name}s");
    }
    assert_eq!(cmds.iter().filter(|c| c.name == "error").count(), 10);
    // The last notice counts what was left out.
    let last = cmds.last().unwrap();
    assert_eq!(last.name, "notice");
    assert!(last.data.contains("more errors"), "{}", last.data);
    // Properties decode back to the paths, with `%`, `,`, `:` intact.
    let odd = cmds
        .iter()
        .find(|c| {
            c.props
                .iter()
                .any(|(k, v)| k == "file" && v.contains("50-odd,name:"))
        })
        .expect("an annotation on an odd drop-in");
    let file = &odd.props.iter().find(|(k, _)| k == "file").unwrap().1;
    assert!(file.ends_with("%.conf") && file.starts_with(&new), "{file}");
    assert!(
        odd.props
            .iter()
            .any(|(k, v)| k == "line" && v.parse::<u32>().unwrap() >= 1)
    );
    assert!(odd.props.iter().any(|(k, _)| k == "title"));
    // Every command is one line (a newline in data is %0A).
    assert!(out.lines().all(|l| l.starts_with("::")));

    let s = fs::read_to_string(&summary).unwrap();
    assert!(s.starts_with("# systemd dependency changes"), "{s}");
    assert!(
        s.contains("## Findings") && s.contains("Gate **failed**"),
        "{s}"
    );
    assert!(s.len() < 1024 * 1024);
    let outs = fs::read_to_string(&outputs).unwrap();
    assert!(outs.starts_with("before=1\n"), "appended: {outs}");
    let j = json(&run(
        d.path(),
        &["check", &old, &new, "--format", "json"],
        &[],
    ));
    let count = |l: &str| {
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["level"] == l && f["status"] == "new")
            .count()
    };
    for l in ["error", "warn", "info"] {
        assert!(
            outs.contains(&format!("\n{l}={}\n", count(l))),
            "{l}: {outs}"
        );
    }
    assert!(outs.contains("failed=true\n"), "{outs}");
}

#[test]
fn github_accepted_findings_are_counted_not_annotated() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("unitdiff.toml"), ALLOW).unwrap();
    let o = coreos(d.path(), "github");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let cmds: Vec<WorkflowCommand> = out.lines().map(parse_command).collect();
    assert!(!cmds.iter().any(|c| c.name == "error"), "{out}");
    let last = cmds.last().unwrap();
    assert!(last.data.contains("1 accepted finding"), "{}", last.data);
}

/// A parsed test case: name, child element (failure, skipped…), its message.
type Case = (String, Option<String>, String);

/// The JUnit document as (suite attributes, test cases).
fn parse_junit(xml: &str) -> (Vec<(String, String)>, Vec<Case>) {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut suites_attrs, mut cases) = (Vec::new(), Vec::new());
    let mut current: Option<Case> = None;
    let mut depth_seen = Vec::new();
    loop {
        let ev = r.read_event().expect("well-formed XML");
        let (e, empty) = match &ev {
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(e) => {
                if e.name().as_ref() == b"testcase"
                    && let Some(c) = current.take()
                {
                    cases.push(c);
                }
                depth_seen.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
        let attrs: Vec<(String, String)> = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.normalized_value(quick_xml::XmlVersion::default())
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match name.as_str() {
            "testsuites" => assert!(depth_seen.is_empty(), "testsuites is the root"),
            "testsuite" => {
                assert_eq!(depth_seen, ["testsuites"]);
                suites_attrs = attrs.clone();
            }
            "testcase" => {
                assert_eq!(depth_seen, ["testsuites", "testsuite"]);
                let c = (get("name").expect("name"), None, String::new());
                if empty {
                    cases.push(c);
                } else {
                    current = Some(c);
                }
            }
            "failure" | "skipped" | "error" => {
                let c = current.as_mut().expect("inside a testcase");
                c.1 = Some(name.clone());
                c.2 = get("message").unwrap_or_default();
            }
            _ => {}
        }
        if !empty {
            depth_seen.push(name);
        }
    }
    (suites_attrs, cases)
}

#[test]
fn junit_one_testcase_per_rule_allowed_as_skipped() {
    let d = tempfile::tempdir().unwrap();
    let o = coreos(d.path(), "junit");
    let xml = stdout(&o);
    let (suite, cases) = parse_junit(&xml);
    let names: Vec<&str> = cases.iter().map(|c| c.0.as_str()).collect();
    let rules: Vec<&str> = unitdiff::findings::RULES
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        names, rules,
        "one testcase per rule, in the registry's order"
    );
    let attr = |k: &str| {
        suite
            .iter()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(attr("tests"), cases.len());
    let failures: Vec<&str> = cases
        .iter()
        .filter(|c| c.1.as_deref() == Some("failure"))
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(failures, ["new-hard-dependency"]);
    assert_eq!(attr("failures"), 1);
    assert!(
        xml.contains("docker.service now Requires flanneld.service"),
        "{xml}"
    );

    // Allowed: the rule's testcase is skipped, the gate passes, names do not change.
    fs::write(d.path().join("unitdiff.toml"), ALLOW).unwrap();
    let o = coreos(d.path(), "junit");
    assert_eq!(o.status.code(), Some(0));
    let (suite, cases2) = parse_junit(&stdout(&o));
    let names2: Vec<&str> = cases2.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names2, rules);
    let nhd = cases2
        .iter()
        .find(|c| c.0 == "new-hard-dependency")
        .unwrap();
    assert_eq!(nhd.1.as_deref(), Some("skipped"));
    assert!(nhd.2.contains("1 accepted"), "{}", nhd.2);
    let attr = |k: &str| {
        suite
            .iter()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(attr("failures"), 0);
    assert_eq!(attr("skipped"), 1);
}

#[test]
fn gitlab_code_quality_fields() {
    let d = tempfile::tempdir().unwrap();
    let (old, new) = busy_pair(d.path());
    for (o, n) in [
        (old.clone(), new.clone()),
        (fixture("coreos-899"), fixture("coreos-1010")),
    ] {
        let out = run(d.path(), &["check", &o, &n, "--format", "gitlab"], &[]);
        let v = json(&out);
        let issues = v.as_array().expect("an array");
        assert!(!issues.is_empty());
        let rules: BTreeSet<&str> = unitdiff::findings::RULES
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        let mut fps = BTreeSet::new();
        for i in issues {
            assert!(!i["description"].as_str().unwrap().is_empty(), "{i}");
            assert!(rules.contains(i["check_name"].as_str().unwrap()), "{i}");
            let fp = i["fingerprint"].as_str().unwrap();
            assert!(fps.insert(fp.to_string()), "duplicate fingerprint {fp}");
            assert!(
                ["info", "minor", "major", "critical", "blocker"]
                    .contains(&i["severity"].as_str().unwrap()),
                "{i}"
            );
            assert!(!i["location"]["path"].as_str().unwrap().is_empty(), "{i}");
            assert!(
                i["location"]["lines"]["begin"].as_u64().unwrap() >= 1,
                "{i}"
            );
        }
    }
    // Severities follow the levels; the story's finding is critical at its line.
    let v = json(&coreos(d.path(), "gitlab"));
    let first = &v[0];
    assert_eq!(first["check_name"], "new-hard-dependency");
    assert_eq!(first["severity"], "critical");
    assert!(
        first["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("coreos-1010/etc/systemd/system/docker.service.d/40-flannel.conf")
    );
    assert_eq!(first["location"]["lines"]["begin"], 2);
}

#[test]
fn several_ci_reports_in_one_run() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).display().to_string();
    let o = run(
        d.path(),
        &[
            "check",
            &fixture("coreos-899"),
            &fixture("coreos-1010"),
            "--report",
            &format!("sarif={}", p("r.sarif")),
            "--report",
            &format!("junit={}", p("r.xml")),
            "--report",
            &format!("gitlab={}", p("r.json")),
            "--report",
            &format!("markdown={}", p("r.md")),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let sarif: Value = serde_json::from_str(&fs::read_to_string(p("r.sarif")).unwrap()).unwrap();
    assert_valid(&schema_validator(), &sarif);
    parse_junit(&fs::read_to_string(p("r.xml")).unwrap());
    let gl: Value = serde_json::from_str(&fs::read_to_string(p("r.json")).unwrap()).unwrap();
    assert!(gl.is_array());
    let md = fs::read_to_string(p("r.md")).unwrap();
    let findings = md.find("## Findings").unwrap();
    let units = md.find("## Changed units").unwrap();
    assert!(findings < units);
    assert!(md.contains("1. **error** `new-hard-dependency`"), "{md}");
}
