//! Plans as input, end to end against moto. `terraform show -json tfplan` of a plan made with
//! refresh holds the refreshed (live) values in `prior_state` and what refresh changed in
//! `resource_drift` (`change.before`: the state as recorded). driftgate must compare the recorded
//! state with the cloud: a console change that refresh saw blocks, a group deleted outside
//! Terraform is missing, a clean plan passes, and a `-refresh=false` plan reads as it is.

mod common;

use common::*;
use serde_json::{json, Value};

fn write(dir: &std::path::Path, name: &str, doc: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn a_refreshed_plan_is_read_as_the_recorded_state() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let web_name = unique("plan-web");
    let web = m.group(&vpc, &web_name).await;
    m.allow_in(&web, perm("tcp", 443, 443, "10.0.0.0/8")).await;
    let db_name = unique("plan-db");
    let db = m.group(&vpc, &db_name).await;
    let https = sg_block("tcp", 443, 443, &["10.0.0.0/8"]);
    let recorded = State::new()
        .add(
            "module.edge.aws_security_group.this[\"web\"]",
            sg_attrs(&web, &vpc, &web_name, vec![https.clone()], vec![]),
        )
        .add(
            "aws_security_group.db",
            sg_attrs(&db, &vpc, &db_name, vec![], vec![]),
        );
    let dir = tempfile::tempdir().unwrap();

    // A plan with nothing changed outside Terraform: no `resource_drift`.
    let clean = write(
        dir.path(),
        "clean.json",
        &plan_json(&recorded, Some(&recorded)),
    );
    let run = check_json(&m.url, &[&clean]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["states"][0]["format"],
        "show-json-plan"
    );

    // SSH from anywhere added in the console, and the db group deleted; then `terraform plan`
    // refreshes: prior_state holds the live rules and no db group.
    m.allow_in(&web, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    m.ec2
        .delete_security_group()
        .group_id(&db)
        .send()
        .await
        .unwrap();
    let ssh = sg_block("tcp", 22, 22, &["0.0.0.0/0"]);
    let refreshed = State::new().add(
        "module.edge.aws_security_group.this[\"web\"]",
        sg_attrs(&web, &vpc, &web_name, vec![https, ssh], vec![]),
    );
    let doc = plan_json(&recorded, Some(&refreshed));
    let path = write(dir.path(), "refreshed.json", &doc);
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "policy"]),
        [
            "aws_security_group.db missing AWS-SG-MISSING",
            "module.edge.aws_security_group.this[\"web\"] unmanaged AWS-SG-ADMIN-IPV4",
        ]
    );
    let states = &run.json()["summary"]["states"][0];
    assert_eq!(states["format"], "show-json-plan-refreshed");
    assert_eq!(states["resources"], 2);

    // The same plan made with -refresh=false: prior_state is the recorded state, the console
    // change is found by reading the cloud.
    let stale = write(dir.path(), "no-refresh.json", &plan_json(&recorded, None));
    let run = check_json(&m.url, &[&stale]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "policy"]),
        [
            "aws_security_group.db missing AWS-SG-MISSING",
            "module.edge.aws_security_group.this[\"web\"] unmanaged AWS-SG-ADMIN-IPV4",
        ]
    );
    assert_eq!(
        run.json()["summary"]["states"][0]["format"],
        "show-json-plan"
    );

    // A resource_drift entry Terraform would never write: exit 2 naming the field.
    let mut broken = doc.clone();
    broken["resource_drift"][0]["change"] = json!("update");
    let path = write(dir.path(), "broken.json", &broken);
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`resource_drift[0].change` is a string, expected an object"),
        "{}",
        run.stderr
    );
}

/// `--live plan` against a closed endpoint and without credentials: every read must come from
/// the plan.
fn check_live_plan(path: &std::path::Path) -> Run {
    let p = path.display().to_string();
    driftgate_env(
        "http://127.0.0.1:9",
        &["check", "--format", "json", "--live", "plan", "--plan", &p],
        None,
        &[("AWS_ACCESS_KEY_ID", None), ("AWS_SECRET_ACCESS_KEY", None)],
    )
}

#[test]
fn live_plan_judges_what_refresh_read_without_reading_the_cloud() {
    let vpc = "vpc-0a1b2c3d4e5f60718";
    let block = |port: i64, cidr: &str| sg_block("tcp", port, port, &[cidr]);
    let rule = |id: &str, port: i64| {
        let mut a = sg_rule_attrs("ingress", "sg-0api", "tcp", port, port, &["10.0.0.0/8"]);
        a["id"] = json!(id);
        a
    };
    // web: inline rules. api: its ingress managed by two rule resources (the group's own
    // `ingress` is the provider's copy). db: a group with no rules.
    let recorded = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(
                "sg-0web",
                vpc,
                "web",
                vec![block(443, "10.0.0.0/8")],
                vec![],
            ),
        )
        .add(
            "module.svc.aws_security_group.api",
            sg_attrs(
                "sg-0api",
                vpc,
                "api",
                vec![block(443, "10.0.0.0/8"), block(8443, "10.0.0.0/8")],
                vec![],
            ),
        )
        .add(
            "module.svc.aws_security_group_rule.https",
            rule("sgrule-1", 443),
        )
        .add(
            "module.svc.aws_security_group_rule.alt",
            rule("sgrule-2", 8443),
        )
        .add(
            "aws_security_group.db",
            sg_attrs("sg-0db", vpc, "db", vec![], vec![]),
        );
    let dir = tempfile::tempdir().unwrap();

    let clean = write(
        dir.path(),
        "clean.json",
        &plan_json(&recorded, Some(&recorded)),
    );
    let run = check_live_plan(&clean);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["summary"]["api_calls"], json!({}));
    assert_eq!(run.json()["summary"]["objects_checked"], 3);
    assert!(
        run.stderr
            .contains("or the plan was made with -refresh=false"),
        "{}",
        run.stderr
    );

    // In the console: SSH from anywhere on web and on api, api's 8443 rule revoked (refresh
    // drops its rule resource), db deleted. The plan's refresh read all of it.
    let refreshed = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(
                "sg-0web",
                vpc,
                "web",
                vec![block(443, "10.0.0.0/8"), block(22, "0.0.0.0/0")],
                vec![],
            ),
        )
        .add(
            "module.svc.aws_security_group.api",
            sg_attrs(
                "sg-0api",
                vpc,
                "api",
                vec![block(443, "10.0.0.0/8"), block(22, "0.0.0.0/0")],
                vec![],
            ),
        )
        .add(
            "module.svc.aws_security_group_rule.https",
            rule("sgrule-1", 443),
        );
    let drifted = write(
        dir.path(),
        "drifted.json",
        &plan_json(&recorded, Some(&refreshed)),
    );
    let run = check_live_plan(&drifted);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "policy"]),
        [
            "aws_security_group.db missing AWS-SG-MISSING",
            "aws_security_group.web unmanaged AWS-SG-ADMIN-IPV4",
            "module.svc.aws_security_group.api unmanaged AWS-SG-ADMIN-IPV4",
            "module.svc.aws_security_group_rule.alt missing AWS-SG-RULES",
        ]
    );
    assert_eq!(run.json()["summary"]["api_calls"], json!({}));

    // A state has no refreshed values: --live plan refuses it instead of comparing it with
    // itself.
    let state = recorded.write(dir.path(), "terraform.tfstate");
    let run = check_live_plan(&state);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not `terraform show -json` of a plan"),
        "{}",
        run.stderr
    );
}
