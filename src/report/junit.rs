//! JUnit XML (GitLab test reports, any CI): one test case per checked resource, a failure per
//! resource with blocking drift, skipped for drift covered by a break-glass ticket.

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use super::{sarif, Report};

pub fn render(report: &Report) -> String {
    let mut suite = TestSuite::new("driftgate");
    for (address, resource_type) in &report.checked {
        let mine: Vec<_> = report
            .drifts
            .iter()
            .filter(|f| &f.address == address)
            .collect();
        let blocking: Vec<_> = mine.iter().filter(|f| f.blocking).collect();
        let status = if !blocking.is_empty() {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let text: Vec<String> = blocking
                .iter()
                .map(|f| format!("[{}] {}", f.policy, sarif::message(f)))
                .collect();
            s.set_message(format!("{} blocking drift(s)", blocking.len()))
                .set_type(blocking[0].policy.clone())
                .set_description(text.join("\n"));
            s
        } else if mine.iter().any(|f| f.ticket.is_some()) {
            let mut s = TestCaseStatus::skipped();
            let t: Vec<String> = mine
                .iter()
                .filter_map(|f| f.ticket.as_ref())
                .map(|t| format!("covered by {} {} until {}", t.tracker, t.id, t.expires_at))
                .collect();
            s.set_message(t.join("; "));
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(address.clone(), status);
        case.set_classname(resource_type.clone());
        let warnings: Vec<String> = mine
            .iter()
            .filter(|f| !f.blocking)
            .map(|f| sarif::message(f))
            .collect();
        if !warnings.is_empty() {
            case.set_system_out(warnings.join("\n"));
        }
        suite.add_test_case(case);
    }
    let mut junit = JUnit::new("driftgate");
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
}
