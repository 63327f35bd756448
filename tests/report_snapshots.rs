//! Snapshot tests of the reports, through the real pipeline (kinds → diff → verdict → report) on
//! a real state fixture (driftctl's security group state) with a live side made to drift.
//! Review changes with `cargo insta review` (or accept with INSTA_UPDATE=always).

use driftgate::diff;
use driftgate::kinds::{self, LiveObject};
use driftgate::policy::PolicySet;
use driftgate::report::{console, json, Report, Summary};
use driftgate::state::{self, Resource};
use driftgate::{check, verdict};
use serde_json::json;

fn report() -> Report {
    let path = "tests/fixtures/shared/driftctl/state/aws_vpc_security_group/terraform.tfstate";
    let (source, resources) = state::parse(path, &std::fs::read(path).unwrap()).unwrap();
    let family = kinds::all()[0];
    let mine: Vec<&Resource> = resources
        .iter()
        .filter(|r| family.resource_types().contains(&r.resource_type.as_str()))
        .collect();
    let objects = family.expected(&mine).unwrap();

    // Live = state, except: the default group gained SSH from the world; group "foo" lost its
    // ingress; every other group is as declared.
    let mut drifts = Vec::new();
    for obj in &objects {
        let mut live = LiveObject {
            cloud_id: obj.cloud_id.clone(),
            items: obj
                .items
                .iter()
                .map(|e| (e.attribute, e.item.clone()))
                .collect(),
            is_default: obj.is_default,
        };
        if obj.is_default {
            let extra = Resource {
                address: "x".into(),
                resource_type: "aws_security_group".into(),
                provider: String::new(),
                attributes: json!({"id": obj.cloud_id, "ingress": [{"protocol": "tcp", "from_port": 22,
                    "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}),
                sensitive_paths: vec![],
                sources: vec![],
            };
            let added = family
                .expected(&[&extra])
                .unwrap()
                .remove(0)
                .items
                .remove(0);
            live.items.push((added.attribute, added.item));
        }
        if obj
            .owner
            .as_ref()
            .is_some_and(|o| o.address == "aws_security_group.test-sg")
        {
            live.items.retain(|(a, _)| *a != "ingress");
        }
        drifts.extend(diff::compare(family, obj, "eu-west-3", Some(&live)));
    }
    let policies = PolicySet::load(&[], &check::known_types()).unwrap();
    let findings = verdict::judge(drifts, &policies);
    let summary = Summary {
        resources_in_state: resources.len(),
        resources_checked: mine.len(),
        objects_checked: objects.len(),
        states: vec![source],
        regions: vec!["eu-west-3".into()],
        ..Summary::default()
    };
    let mut report = Report::new(summary, findings, None);
    report.generated_at = "2026-11-28T12:00:00Z".into();
    report
}

/// The same drifts with break-glass: the default group's drift covered by a young ticket, the
/// other group's named by an expired one, and a ticket naming nothing that drifted.
fn report_with_tickets() -> Report {
    use driftgate::breakglass::{self, Fetched, RawTicket, Settings, TrackerSpec};
    let mut report = report();
    let ticket = |id: &str, title: &str, created: &str| RawTicket {
        tracker: "github:acme/infra".into(),
        id: id.into(),
        url: format!(
            "https://github.com/acme/infra/issues/{}",
            id.trim_start_matches('#')
        ),
        title: title.into(),
        body: String::new(),
        open: true,
        labels: vec!["break-glass".into()],
        created_at: created.parse().unwrap(),
        author: "alice".into(),
        approved: None,
    };
    let fetched = vec![Fetched {
        tickets: vec![
            ticket(
                "#7",
                "INC-1: aws_default_security_group.test-default-sg",
                "2026-11-28T06:30:00Z",
            ),
            ticket("#3", "aws_security_group.test-sg", "2026-11-25T12:00:00Z"),
            ticket("#9", "aws_security_group.gone", "2026-11-28T10:00:00Z"),
        ],
        server_time: Some("2026-11-28T12:00:00Z".parse().unwrap()),
    }];
    let settings = Settings {
        trackers: vec![TrackerSpec::GitHub {
            repo: "acme/infra".into(),
        }],
        label: "break-glass".into(),
        max_age: std::time::Duration::from_secs(48 * 3600),
        require_approval: None,
    };
    let bg = breakglass::apply(
        &mut report.drifts,
        &fetched,
        &settings,
        "2026-11-28T12:00:00Z".parse().unwrap(),
    );
    let summary = report.summary.clone();
    let mut report = Report::new(summary, report.drifts, Some(bg));
    report.generated_at = "2026-11-28T12:00:00Z".into();
    report
}

#[test]
fn console_report_with_tickets() {
    insta::assert_snapshot!(console::render(&report_with_tickets(), false));
}

#[test]
fn json_report_with_tickets() {
    let value: serde_json::Value =
        serde_json::from_str(&json::render(&report_with_tickets())).unwrap();
    insta::assert_json_snapshot!(value["breakglass"]);
}

#[test]
fn console_report() {
    insta::assert_snapshot!(console::render(&report(), false));
}

#[test]
fn json_report() {
    let value: serde_json::Value = serde_json::from_str(&json::render(&report())).unwrap();
    insta::assert_json_snapshot!(value);
}
