//! End to end against moto: real AWS API calls by the real binary, states in Terraform's layout,
//! drift made in "the console" (the SDK), exit codes and report contents asserted.

mod common;

use common::*;
use serde_json::{json, Value};

/// A clean estate with every shape the family supports: inline rules in one block with several
/// CIDRs, equivalent spellings (`6` vs `tcp`, host bits in a CIDR), rules split across inline
/// blocks and both kinds of rule resources, a default group, a for_each group in a module, an ACL
/// with inline entries and a rule resource.
struct Estate {
    web: String,
    api: String,
    edge: String,
    default_sg: String,
    acl: String,
    state: State,
}

async fn estate(m: &Moto) -> Estate {
    let vpc = m.vpc().await;
    let web = m.group(&vpc, "web").await;
    m.allow_in(&web, perm("tcp", 443, 443, "10.0.0.0/8")).await;
    m.allow_in(&web, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    m.allow_in(&web, perm("tcp", 8080, 8080, "2001:db8::/64"))
        .await;
    m.allow_out(&web, perm("-1", 0, 0, "0.0.0.0/0")).await;

    // Rules from separate resources; the group's inline copy is stale (a rule resource for
    // port 9000 was destroyed after the last refresh), which must not be drift.
    let api = m.group(&vpc, "api").await;
    m.allow_in(&api, perm("tcp", 22, 22, "10.1.0.0/16")).await;
    m.allow_in(&api, perm("tcp", 5432, 5432, "10.2.0.0/16"))
        .await;
    m.allow_out(&api, perm("tcp", 443, 443, "0.0.0.0/0")).await;

    let edge = m.group(&vpc, "edge-web").await;
    m.allow_in(&edge, perm("tcp", 80, 80, "0.0.0.0/0")).await;

    let default_sg = m.default_group(&vpc).await;

    let acl = m.acl(&vpc).await;
    m.acl_entry(&acl, 100, false, "6", "allow", "10.0.0.0/8", 443, 443)
        .await;
    m.acl_entry(&acl, 200, false, "6", "deny", "0.0.0.0/0", 22, 22)
        .await;
    m.acl_entry(&acl, 100, true, "-1", "allow", "0.0.0.0/0", 0, 0)
        .await;

    let state = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(
                &web,
                &vpc,
                "web",
                vec![
                    sg_block("6", 443, 443, &["10.0.0.1/8", "0.0.0.0/0"]),
                    sg_block("tcp", 8080, 8080, &["2001:DB8::/64"]),
                ],
                vec![sg_block("-1", 0, 0, &["0.0.0.0/0"])],
            ),
        )
        .add(
            "aws_security_group.api",
            sg_attrs(
                &api,
                &vpc,
                "api",
                vec![
                    sg_block("tcp", 22, 22, &["10.1.0.0/16"]),
                    sg_block("tcp", 9000, 9000, &["10.9.0.0/16"]),
                ],
                vec![sg_block("tcp", 443, 443, &["0.0.0.0/0"])],
            ),
        )
        .add(
            "aws_security_group_rule.api_ssh",
            sg_rule_attrs("ingress", &api, "tcp", 22, 22, &["10.1.0.0/16"]),
        )
        .add(
            "aws_vpc_security_group_ingress_rule.api_pg",
            vpc_rule_attrs(&api, "tcp", Some(5432), Some(5432), "10.2.0.0/16"),
        )
        .add(
            "module.edge.aws_security_group.this[\"web\"]",
            sg_attrs(
                &edge,
                &vpc,
                "edge-web",
                vec![sg_block("tcp", 80, 80, &["0.0.0.0/0"])],
                vec![],
            ),
        )
        .add(
            "aws_default_security_group.default",
            sg_attrs(
                &default_sg,
                &vpc,
                "default",
                vec![],
                vec![sg_block("-1", 0, 0, &["0.0.0.0/0"])],
            ),
        )
        // Egress inline; ingress by rule resources, so the ACL's inline `ingress` is the
        // provider's refreshed copy of them.
        .add(
            "aws_network_acl.private[0]",
            acl_attrs(
                &acl,
                &vpc,
                vec![
                    acl_entry(100, "allow", "6", "10.0.0.0/8", 443, 443),
                    acl_entry(200, "deny", "6", "0.0.0.0/0", 22, 22),
                ],
                vec![acl_entry(100, "allow", "-1", "0.0.0.0/0", 0, 0)],
            ),
        )
        .add(
            "aws_network_acl_rule.allow_https",
            acl_rule_attrs(&acl, 100, false, "tcp", "allow", "10.0.0.0/8", 443, 443),
        )
        .add(
            "aws_network_acl_rule.deny_ssh",
            acl_rule_attrs(&acl, 200, false, "6", "deny", "0.0.0.0/0", 22, 22),
        );
    Estate {
        web,
        api,
        edge,
        default_sg,
        acl,
        state,
    }
}

fn only_drift(run: &Run) -> Value {
    let drifts = run.drifts();
    assert_eq!(
        drifts.len(),
        1,
        "expected one drift: {:#?}\nstderr: {}",
        drifts,
        run.stderr
    );
    drifts[0].clone()
}

#[tokio::test]
async fn clean_estate_passes() {
    let m = moto().await;
    let e = estate(&m).await;
    let dir = tempfile::tempdir().unwrap();
    let path = e.state.write(dir.path(), "terraform.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let report = run.json();
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["drifts"], json!([]));
    assert_eq!(report["summary"]["resources_checked"], 9);
    assert_eq!(report["summary"]["objects_checked"], 5);
    // Batched: one DescribeSecurityGroups for four groups, one DescribeNetworkAcls.
    assert_eq!(
        report["summary"]["api_calls"]["ec2"]["DescribeSecurityGroups"],
        1
    );
    assert_eq!(
        report["summary"]["api_calls"]["ec2"]["DescribeNetworkAcls"],
        1
    );
    assert!(
        run.stderr.contains("reading"),
        "progress on stderr: {}",
        run.stderr
    );

    let human = driftgate(&m.url, &["check", "--state", path.to_str().unwrap()], None);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.contains("verdict: PASS"), "{}", human.stdout);
    assert!(
        !human.stdout.contains('\x1b'),
        "no colour when not a terminal"
    );
}

#[tokio::test]
async fn world_ssh_rule_added_in_console_blocks() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.web, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(d["address"], "aws_security_group.web");
    assert_eq!(d["cloud_id"], json!(e.web));
    assert_eq!(d["kind"], "unmanaged");
    assert_eq!(d["attribute"], "ingress");
    assert_eq!(d["effect"], "weakens");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["policy"], "AWS-SG-ADMIN-IPV4");
    assert!(d["references"]
        .as_array()
        .unwrap()
        .contains(&json!("CIS AWS Foundations v3.0.0 5.2")));
    assert_eq!(d["expected"], Value::Null);
    assert_eq!(d["actual"]["cidr_ipv4"], "0.0.0.0/0");
    assert_eq!(d["actual"]["from_port"], 22);
    assert_eq!(d["blocking"], true);
    assert_eq!(d["ticket"], Value::Null);
    // Nothing uses the group in this estate: no interface, no load balancer.
    assert_eq!(d["risk"]["exposure"], "unused");
    assert_eq!(
        d["risk"]["reasons"][0],
        format!("no network interface or load balancer uses {}", e.web)
    );
    assert_eq!(run.json()["verdict"], "block");
}

#[tokio::test]
async fn ipv6_world_rule_added() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.web, perm("tcp", 3389, 3389, "::/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(d["policy"], "AWS-SG-ADMIN-IPV6");
    assert_eq!(d["actual"]["cidr_ipv6"], "::/0");
}

#[tokio::test]
async fn rule_removed_in_console_is_drift_too() {
    let m = moto().await;
    let e = estate(&m).await;
    m.revoke_in(&e.web, perm("tcp", 443, 443, "10.0.0.0/8"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        summary(&d),
        r#""aws_security_group.web" "changed" "ingress" "strengthens""#
    );
    assert_eq!(d["expected"]["cidr_ipv4"], "10.0.0.0/8");
    assert_eq!(d["actual"], Value::Null);
    assert_eq!(d["policy"], "AWS-SG-RULES");
}

#[tokio::test]
async fn rule_resource_revoked_is_missing_on_the_rule_resource() {
    let m = moto().await;
    let e = estate(&m).await;
    m.revoke_in(&e.api, perm("tcp", 5432, 5432, "10.2.0.0/16"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        summary(&d),
        r#""aws_vpc_security_group_ingress_rule.api_pg" "missing" "ingress" "strengthens""#
    );
}

#[tokio::test]
async fn console_rule_beside_rule_resources_is_named_on_the_group() {
    let m = moto().await;
    let e = estate(&m).await;
    // Port 9000 is in the group's stale inline copy: still drift, since no resource declares it.
    m.allow_in(&e.api, perm("tcp", 9000, 9000, "10.9.0.0/16"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        summary(&d),
        r#""aws_security_group.api" "unmanaged" "ingress" "weakens""#
    );
}

#[tokio::test]
async fn group_deleted_is_missing() {
    let m = moto().await;
    let e = estate(&m).await;
    m.delete_group(&e.edge).await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        d["address"],
        r#"module.edge.aws_security_group.this["web"]"#
    );
    assert_eq!(d["kind"], "missing");
    assert_eq!(d["attribute"], Value::Null);
    assert_eq!(d["policy"], "AWS-SG-MISSING");
    assert_eq!(d["actual"], Value::Null);
}

#[tokio::test]
async fn module_for_each_address_is_reported_in_terraform_syntax() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.edge, perm("udp", 53, 53, "10.0.0.0/8")).await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        d["address"],
        r#"module.edge.aws_security_group.this["web"]"#
    );
    assert_eq!(d["actual_text"], "udp port 53 from 10.0.0.0/8");
}

#[tokio::test]
async fn tags_only_change_is_not_drift() {
    let m = moto().await;
    let e = estate(&m).await;
    m.tag(&e.web, "Name", "renamed-in-console").await;
    m.tag(&e.web, "owner", "someone").await;
    m.tag(&e.acl, "Name", "x").await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["drifts"], json!([]));
}

#[tokio::test]
async fn default_group_opened() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.default_sg, perm("tcp", 443, 443, "10.0.0.0/8"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(d["address"], "aws_default_security_group.default");
    assert_eq!(d["policy"], "AWS-SG-DEFAULT-OPEN");
    assert!(d["references"]
        .as_array()
        .unwrap()
        .contains(&json!("CIS AWS Foundations v3.0.0 5.4")));
}

#[tokio::test]
async fn nacl_entry_added() {
    let m = moto().await;
    let e = estate(&m).await;
    m.acl_entry(&e.acl, 50, false, "6", "allow", "0.0.0.0/0", 22, 22)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        summary(&d),
        r#""aws_network_acl.private[0]" "unmanaged" "ingress" "weakens""#
    );
    assert_eq!(d["policy"], "AWS-NACL-ADMIN");
    assert_eq!(d["severity"], "critical");
    assert_eq!(d["actual"]["rule_no"], 50);
}

#[tokio::test]
async fn nacl_entry_replaced_and_rule_resource_removed() {
    let m = moto().await;
    let e = estate(&m).await;
    m.replace_acl_entry(&e.acl, 100, false, "6", "allow", "0.0.0.0/0", 443, 443)
        .await;
    m.ec2
        .delete_network_acl_entry()
        .network_acl_id(&e.acl)
        .rule_number(200)
        .egress(false)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<String> = run.drifts().iter().map(summary).collect();
    got.sort();
    assert_eq!(
        got,
        [
            r#""aws_network_acl_rule.allow_https" "changed" "ingress" "weakens""#,
            // Removing a deny entry opens traffic.
            r#""aws_network_acl_rule.deny_ssh" "missing" "ingress" "weakens""#,
        ]
    );
}

#[tokio::test]
async fn nacl_deleted_is_missing() {
    let m = moto().await;
    let e = estate(&m).await;
    m.delete_acl(&e.acl).await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "s.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        summary(&d),
        r#""aws_network_acl.private[0]" "missing" null "unknown""#
    );
    assert_eq!(d["policy"], "AWS-NACL-MISSING");
}

#[tokio::test]
async fn split_state_files_and_stdin_merge() {
    let m = moto().await;
    let e = estate(&m).await;
    // The group in one state, its rule resources in another: still one group, no drift.
    let doc = e.state.json();
    let (groups, rules): (Vec<Value>, Vec<Value>) = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .partition(|r| {
            r["type"] != "aws_security_group_rule"
                && r["type"] != "aws_vpc_security_group_ingress_rule"
        });
    let mut a = doc.clone();
    a["resources"] = json!(groups);
    let mut b = doc.clone();
    b["resources"] = json!(rules);
    let dir = tempfile::tempdir().unwrap();
    let pa = dir.path().join("network.tfstate");
    std::fs::write(&pa, a.to_string()).unwrap();
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--state",
            pa.to_str().unwrap(),
            "--state",
            "-",
        ],
        Some(b.to_string().as_bytes()),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let states = &run.json()["summary"]["states"];
    assert_eq!(states.as_array().unwrap().len(), 2);
    assert_eq!(states[1]["label"], "<stdin>");

    // And the same rule drift is found across the split.
    m.revoke_in(&e.api, perm("tcp", 22, 22, "10.1.0.0/16"))
        .await;
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--state",
            pa.to_str().unwrap(),
            "--state",
            "-",
        ],
        Some(b.to_string().as_bytes()),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(d["address"], "aws_security_group_rule.api_ssh");
    assert_eq!(d["sources"], json!(["<stdin>"]));
}

#[tokio::test]
async fn warn_enforcement_passes_with_exit_0() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.web, perm("tcp", 8443, 8443, "10.0.0.0/8"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let state = e.state.write(dir.path(), "s.tfstate");
    let policy = dir.path().join("warn.yaml");
    std::fs::write(
        &policy,
        "version: 1\npolicies:\n  - id: AWS-SG-RULES\n    title: Rule drift is only a warning here\n    \
         resource_types: [aws_security_group]\n    attributes: [ingress, egress]\n    severity: low\n    enforcement: warn\n",
    )
    .unwrap();
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--state",
            state.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"], "warn");
    assert_eq!(report["drifts"][0]["blocking"], false);
    assert_eq!(report["drifts"][0]["enforcement"], "warn");
    assert_eq!(report["summary"]["warnings"], 1);
}

#[tokio::test]
async fn output_file_and_console_together() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.web, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let state = e.state.write(dir.path(), "s.tfstate");
    let out = dir.path().join("drift.json");
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--output",
            &format!("json={}", out.display()),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("BLOCK critical"), "{}", run.stdout);
    assert!(
        run.stdout.contains("tcp port 22 from 0.0.0.0/0"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("verdict: BLOCK"), "{}", run.stdout);
    let written: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(written["verdict"], "block");

    let colored = driftgate(
        &m.url,
        &[
            "check",
            "--color",
            "always",
            "--state",
            state.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        colored.stdout.contains("\x1b[1;31mBLOCK"),
        "{}",
        colored.stdout
    );
}

#[tokio::test]
async fn config_file_sets_only_non_security_settings() {
    let m = moto().await;
    let e = estate(&m).await;
    let dir = tempfile::tempdir().unwrap();
    let state = e.state.write(dir.path(), "s.tfstate");
    let out = dir.path().join("from-config.json");
    let config = dir.path().join("driftgate.yaml");
    // Report paths in the config file are relative to the working directory.
    std::fs::write(
        &config,
        "format: json\noutput: [\"json=from-config.json\"]\nquiet: true\n",
    )
    .unwrap();
    let run = driftgate_at(
        dir.path(),
        &m.url,
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["verdict"], "pass");
    assert!(run.stderr.is_empty(), "quiet: {}", run.stderr);
    assert!(out.exists());
    // A flag wins over the file.
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "console",
            "--state",
            state.to_str().unwrap(),
        ],
        None,
    );
    assert!(run.stdout.contains("verdict: PASS"), "{}", run.stdout);

    std::fs::write(&config, "format: json\ntickets: [github:acme/infra]\n").unwrap();
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(":2: `tickets` decides what blocks"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn terraform_show_json_input() {
    let m = moto().await;
    let e = estate(&m).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("show.json");
    std::fs::write(&path, e.state.show_json().to_string()).unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["states"][0]["format"],
        "show-json-state"
    );
    assert_eq!(run.json()["summary"]["objects_checked"], 5);

    m.allow_in(&e.edge, perm("tcp", 3389, 3389, "0.0.0.0/0"))
        .await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = only_drift(&run);
    assert_eq!(
        d["address"],
        r#"module.edge.aws_security_group.this["web"]"#
    );
    assert_eq!(d["policy"], "AWS-SG-ADMIN-IPV4");
}

#[tokio::test]
async fn github_actions_runner_gets_summary_annotations_and_outputs() {
    let m = moto().await;
    let e = estate(&m).await;
    m.allow_in(&e.web, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let state = e.state.write(dir.path(), "s.tfstate");
    let src = dir.path().join("infra");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("main.tf"),
        "provider \"aws\" {}\n\nresource \"aws_security_group\" \"web\" {\n  name = \"web\"\n}\n",
    )
    .unwrap();
    let summary = dir.path().join("summary.md");
    let output = dir.path().join("output.txt");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let json_out = dir.path().join("drift.json");
    let run = driftgate_env(
        &m.url,
        &[
            "check",
            "--format",
            "sarif",
            "--state",
            state.to_str().unwrap(),
            "--source-dir",
            src.to_str().unwrap(),
            "--output",
            &format!("json={}", json_out.display()),
        ],
        None,
        &[
            ("GITHUB_ACTIONS", Some("true")),
            ("GITHUB_STEP_SUMMARY", Some(summary.to_str().unwrap())),
            ("GITHUB_OUTPUT", Some(output.to_str().unwrap())),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    // stdout is pure SARIF; the annotation goes to stderr and points at the declaring block.
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let loc = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("infra/main.tf"),
        "{loc}"
    );
    assert_eq!(loc["region"]["startLine"], 3);
    assert!(run.stderr.contains("::error file="), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("main.tf,line=3,title=AWS-SG-ADMIN-IPV4"),
        "{}",
        run.stderr
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### ⛔ driftgate: BLOCK"),
        "{md}"
    );
    let out = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        out,
        format!("verdict=block\nblocking=1\nreport={}\n", json_out.display())
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();
    assert!(report["drifts"][0]["location"]["file"]
        .as_str()
        .unwrap()
        .ends_with("infra/main.tf"));
}

#[tokio::test]
async fn state_from_the_s3_backend_with_a_workspace() {
    let m = moto().await;
    let e = estate(&m).await;
    let s3 = s3_client(&m);
    let bucket = format!("tfstate-{}", e.web.trim_start_matches("sg-"));
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("env:/prod/network/terraform.tfstate")
        .body(aws_sdk_s3::primitives::ByteStream::from(
            e.state.json().to_string().into_bytes(),
        ))
        .send()
        .await
        .unwrap();
    let url = format!("s3://{bucket}/network/terraform.tfstate");
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--state",
            &url,
            "--workspace",
            "prod",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(
        report["summary"]["states"][0]["label"],
        format!("s3://{bucket}/env:/prod/network/terraform.tfstate")
    );
    assert_eq!(report["summary"]["api_calls"]["s3"]["GetObject"], 1);
    assert_eq!(report["summary"]["objects_checked"], 5);

    // The default workspace's key does not exist: exit 2 naming the URL, never an empty pass.
    let run = driftgate(&m.url, &["check", "--state", &url], None);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "state {url}: AWS s3 GetObject in us-east-1: NoSuchKey"
        )),
        "{}",
        run.stderr
    );
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--state",
            "s3://no-such-bucket-driftgate/x.tfstate",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("NoSuchBucket"), "{}", run.stderr);
}

#[tokio::test]
async fn paths_in_reports_are_named_from_the_repository_root() {
    // `working-directory: infra`, `--source-dir live`, a local module reached through `..`, and
    // the state pulled to a temporary directory outside the checkout: every report names files
    // as the repository does, or code scanning and GitLab drop the findings.
    let m = moto().await;
    let vpc = m.vpc().await;
    let web = m.group(&vpc, "paths-web").await;
    let other = m.group(&vpc, "paths-other").await;
    for g in [&web, &other] {
        m.allow_in(g, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    }
    let repo = tempfile::tempdir().unwrap();
    let infra = repo.path().join("infra");
    std::fs::create_dir_all(infra.join("live")).unwrap();
    std::fs::create_dir_all(infra.join("modules/sg")).unwrap();
    std::fs::write(
        infra.join("live/main.tf"),
        "module \"net\" {\n  source = \"../modules/sg\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        infra.join("modules/sg/main.tf"),
        "variable \"vpc\" {}\n\nresource \"aws_security_group\" \"web\" {\n  vpc_id = var.vpc\n}\n",
    )
    .unwrap();
    let runner_temp = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "module.net.aws_security_group.web",
            sg_attrs(&web, &vpc, "paths-web", vec![], vec![]),
        )
        .add(
            "aws_security_group.other",
            sg_attrs(&other, &vpc, "paths-other", vec![], vec![]),
        )
        .write(runner_temp.path(), "state.json");
    let quality = runner_temp.path().join("cq.json");
    let run = driftgate_at(
        &infra,
        &m.url,
        &[
            "check",
            "--format",
            "sarif",
            "--state",
            state.to_str().unwrap(),
            "--source-dir",
            "live",
            "--output",
            &format!("gitlab={}", quality.display()),
        ],
        None,
        &[
            ("GITHUB_ACTIONS", Some("true")),
            ("GITHUB_WORKSPACE", repo.path().to_str()),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut uris: Vec<(String, i64)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_i64().unwrap(),
            )
        })
        .collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            // Not declared in the source: the root module's file stands for it, not the state
            // in the runner's temporary directory.
            ("infra/live/main.tf".to_string(), 1),
            ("infra/modules/sg/main.tf".to_string(), 3),
        ]
    );
    assert!(
        run.stderr
            .contains("::error file=infra/modules/sg/main.tf,line=3,"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("::error file=infra/live/main.tf,line=1,"),
        "{}",
        run.stderr
    );
    let cq: Value = serde_json::from_slice(&std::fs::read(&quality).unwrap()).unwrap();
    let mut paths: Vec<&str> = cq
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["location"]["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["infra/live/main.tf", "infra/modules/sg/main.tf"]);
}
