//! JUnit XML (written by quick-junit): one test suite, one test case per rule of the
//! registry, so test names stay the same from run to run and a CI's test history follows
//! each rule. A rule with new findings that fail the gate is a failure (its findings in the
//! description); one whose findings are all accepted (allowed, baselined) or turned off by
//! the policy is skipped, with the count; otherwise it passes (findings below the gate are
//! listed in its system-out).

use super::check::CheckInput;
use super::ci;
use super::escape;
use crate::findings::{Checked, RULES, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;

fn listing(findings: &[&Checked], input: &CheckInput) -> String {
    let mut out = String::new();
    for c in findings {
        let f = &c.finding;
        let loc = ci::location(f, input);
        let _ = writeln!(
            out,
            "{} {}: {} ({}:{})",
            f.level,
            c.status.as_str(),
            escape::field(&f.message),
            escape::field(&loc.from_cwd(input)),
            loc.line
        );
        if let Some(note) = ci::status_note(c) {
            let _ = writeln!(out, "    {}", escape::field(&note));
        }
        if let Some(w) = ci::witness_line(f) {
            let _ = writeln!(out, "    witness: {}", escape::field(&w));
        }
        let _ = writeln!(out, "    fingerprint: {}", f.fingerprint);
    }
    out
}

/// The JUnit XML report of a check.
pub fn junit(input: &CheckInput) -> String {
    let r = input.result;
    let mut suite = TestSuite::new(format!(
        "unitdiff check {} -> {}{}",
        escape::field(&r.old_root),
        escape::field(&r.new_root),
        super::scope_note(r.scope)
    ));
    for info in RULES {
        let mine: Vec<&Checked> = r
            .findings
            .iter()
            .filter(|c| c.finding.rule == info.id)
            .collect();
        let failing: Vec<&Checked> = mine
            .iter()
            .copied()
            .filter(|c| c.status == Status::New && r.fail_on.fails(c.finding.level))
            .collect();
        let new = mine.iter().filter(|c| c.status == Status::New).count();
        let accepted = mine.len() - new;
        let off = r.off.get(&info.id).copied().unwrap_or(0);
        let status = if !failing.is_empty() {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "{} new {} finding(s) fail the gate (--fail-on {})",
                failing.len(),
                info.id.as_str(),
                r.fail_on.as_str()
            ));
            s.set_type(info.id.as_str());
            s.set_description(listing(&mine, input));
            s
        } else if new == 0 && (accepted > 0 || off > 0) {
            let mut s = TestCaseStatus::skipped();
            let msg = if off > 0 {
                format!("{off} finding(s) of a rule the policy turns off")
            } else {
                format!("{accepted} accepted finding(s) (allowed or baselined)")
            };
            s.set_message(msg);
            s.set_description(listing(&mine, input));
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(info.id.as_str(), status);
        case.set_classname("unitdiff.rules");
        if !failing.is_empty() || mine.is_empty() {
            // Nothing more to say.
        } else if new > 0 {
            case.set_system_out(listing(&mine, input));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("unitdiff");
    report.add_test_suite(suite);
    report.to_string().expect("JUnit XML serialises")
}
