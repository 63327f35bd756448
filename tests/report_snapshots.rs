//! Snapshot tests of the reports, through the real pipeline (kinds → diff → verdict → report) on
//! a real state fixture (driftctl's security group state) with a live side made to drift.
//! Review changes with `cargo insta review` (or accept with INSTA_UPDATE=always).

use driftgate::model::{Exposure, LiveObject, Reach};
use driftgate::policy::PolicySet;
use driftgate::report::{console, gitlab, json, junit, markdown, sarif, Report, Summary};
use driftgate::state::{self, Resource};
use driftgate::{check, diff, families, verdict};
use serde_json::json;

fn report() -> Report {
    let path = "tests/fixtures/shared/driftctl/state/aws_vpc_security_group/terraform.tfstate";
    let (source, resources) = state::parse(path, &std::fs::read(path).unwrap()).unwrap();
    let family = families::all()[0];
    let mine: Vec<&Resource> = families::resources_of(family, &resources);
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
        // How each group is reached, as the exposure stage would read it.
        let reach = if obj.is_default {
            Reach::new(
                Exposure::Internet,
                format!(
                    "{} is attached to eni-0b1c2d3e (i-0a1b2c3d), with public IP 198.51.100.7 in \
                     subnet subnet-1, which routes 0.0.0.0/0 to igw-1",
                    obj.cloud_id
                ),
            )
        } else {
            Reach::new(
                Exposure::Unused,
                format!(
                    "no network interface or load balancer uses {}",
                    obj.cloud_id
                ),
            )
        };
        for mut d in diff::compare(family, obj, "eu-west-3", Some(&live)) {
            d.reach = Some(reach.clone());
            drifts.push(d);
        }
    }
    let policies = PolicySet::load(&[], &check::known_types()).unwrap();
    let findings = verdict::judge(drifts, &policies, &Default::default());
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
    report.checked = mine
        .iter()
        .map(|r| (r.address.clone(), r.resource_type.clone()))
        .collect();
    report.policies = policies.policies;
    // One drift found in the source, one not (it then points at the state file).
    report.drifts[0].location = Some(driftgate::verdict::SourceLocation {
        file: "network/main.tf".into(),
        line: 12,
    });
    // The one found (it weakens) can be accepted into the code by `driftgate fix`.
    report.drifts[0].fix = Some("accept");
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
    let (checked, policies) = (report.checked.clone(), report.policies.clone());
    let mut report = Report::new(summary, report.drifts, Some(bg));
    report.generated_at = "2026-11-28T12:00:00Z".into();
    report.checked = checked;
    report.policies = policies;
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

/// Runs a Python snippet with the virtualenv's Python (scripts/test.sh sets DRIFTGATE_PYTHON).
fn python(code: &str, args: &[&str]) -> String {
    let py = std::env::var("DRIFTGATE_PYTHON").unwrap_or_else(|_| {
        panic!("DRIFTGATE_PYTHON is not set: run the suite with scripts/test.sh (it provides jsonschema)")
    });
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let dir = tempfile::tempdir().unwrap();
    for (name, report) in [("plain", report()), ("tickets", report_with_tickets())] {
        let path = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&path, sarif::render(&report)).unwrap();
        let verdict = python(
            "import json,sys,jsonschema\n\
             schema=json.load(open(sys.argv[1])); doc=json.load(open(sys.argv[2]))\n\
             jsonschema.Draft4Validator.check_schema(schema)\n\
             errors=sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)\n\
             print('valid' if not errors else '\\n'.join(e.message for e in errors[:5]))",
            &[
                "tests/fixtures/sarif-schema-2.1.0.json",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(verdict.trim(), "valid", "{name}");
    }

    let doc: serde_json::Value =
        serde_json::from_str(&sarif::render(&report_with_tickets())).unwrap();
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), report().policies.len(), "one rule per policy");
    let admin = rules
        .iter()
        .find(|r| r["id"] == "AWS-SG-ADMIN-IPV4")
        .unwrap();
    // A rule with findings ranks by its worst one (critical × internet: score 12, 9.1); one
    // without, by its severity alone (critical: 9.5).
    assert_eq!(admin["properties"]["security-severity"], "9.1");
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "AWS-SG-ADMIN-IPV4")
        .unwrap();
    assert_eq!(result["properties"]["security-severity"], "9.1");
    assert_eq!(result["properties"]["exposure"], "internet");
    let quiet = rules
        .iter()
        .find(|r| r["id"] == "AWS-SG-ADMIN-IPV6")
        .unwrap();
    assert_eq!(quiet["properties"]["security-severity"], "9.5");
    assert!(admin["properties"]["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("security")));
    assert!(admin["help"]["text"]
        .as_str()
        .unwrap()
        .contains("Remove the rule"));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // Covered by a ticket: a note; still blocking: an error. Located in source, else the state.
    assert_eq!(
        (results[0]["level"].as_str(), results[1]["level"].as_str()),
        (Some("note"), Some("error"))
    );
    let loc = |r: &serde_json::Value| {
        let p = &r["locations"][0]["physicalLocation"];
        (
            p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
            p["region"]["startLine"].as_i64().unwrap(),
        )
    };
    assert_eq!(loc(&results[0]), ("network/main.tf".to_string(), 12));
    assert!(loc(&results[1]).0.ends_with("terraform.tfstate"));
    let fp = |r: &serde_json::Value| {
        r["partialFingerprints"]["driftgate/v1"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(fp(&results[0]), fp(&results[1]));
    let again: serde_json::Value = serde_json::from_str(&sarif::render(&report())).unwrap();
    assert_eq!(
        fp(&again["runs"][0]["results"][0]),
        fp(&results[0]),
        "stable across runs and ticket state"
    );
}

#[test]
fn junit_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, junit::render(&report_with_tickets())).unwrap();
    let counts = python(
        "import sys, xml.etree.ElementTree as ET\n\
         root=ET.parse(sys.argv[1]).getroot()\n\
         cases=root.findall('.//testcase')\n\
         print(len(cases), len(root.findall('.//failure')), len(root.findall('.//skipped')), root.find('testsuite').get('failures'))",
        &[path.to_str().unwrap()],
    );
    // Two resources checked: one failing (expired ticket), one skipped (covered).
    assert_eq!(counts.trim(), "2 1 1 1");
    insta::assert_snapshot!(junit::render(&report_with_tickets()));
}

#[test]
fn gitlab_code_quality() {
    let issues: serde_json::Value =
        serde_json::from_str(&gitlab::render(&report_with_tickets())).unwrap();
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 2);
    for i in issues {
        for field in ["description", "check_name", "fingerprint", "severity"] {
            assert!(i[field].is_string(), "{field}: {i}");
        }
        assert!(i["location"]["path"].is_string());
        assert!(i["location"]["lines"]["begin"].is_u64());
    }
    assert_eq!(
        issues[0]["severity"], "info",
        "covered drift does not block the merge request"
    );
    assert_eq!(issues[1]["severity"], "major", "blocking medium drift");
    assert_eq!(
        issues[0]["location"],
        json!({"path": "network/main.tf", "lines": {"begin": 12}})
    );
}

#[test]
fn markdown_summary() {
    insta::assert_snapshot!(markdown::render(&report_with_tickets()));
    let cut = markdown::truncated(&report_with_tickets(), 400);
    assert!(cut.len() <= 400, "{}", cut.len());
    assert!(cut.contains("Truncated"));
}

#[test]
fn github_annotations() {
    insta::assert_snapshot!(driftgate::ci::annotations(&report_with_tickets()));
}
