//! `driftgate fix` end to end against moto: console fixes (rules revoked by hand) written into
//! the Terraform that declares them, byte for byte outside the edits, and the cases where a
//! literal edit would not be honest reported as manual.

mod common;
#[path = "common/forge.rs"]
mod forge;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::Value;

const MAIN_TF: &str = r#"# Web tier: SSH from the office network only.
resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = var.vpc_id

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0", "10.0.0.0/8"] # TODO: drop the open range
  }

  # HTTPS from anywhere, for now.
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "admin" {
  name   = "admin"
  vpc_id = var.vpc_id
}

resource "aws_security_group_rule" "rdp" {
  type              = "ingress"
  security_group_id = aws_security_group.admin.id
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group" "db" {
  name   = "db"
  vpc_id = var.vpc_id

  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = var.db_clients
  }
}
"#;

/// What the code says once the console fixes are in it.
const FIXED_TF: &str = r#"# Web tier: SSH from the office network only.
resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = var.vpc_id

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"] # TODO: drop the open range
  }
}

resource "aws_security_group" "admin" {
  name   = "admin"
  vpc_id = var.vpc_id
}

resource "aws_security_group" "db" {
  name   = "db"
  vpc_id = var.vpc_id

  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = var.db_clients
  }
}

removed {
  from = aws_security_group_rule.rdp

  lifecycle {
    destroy = false
  }
}
"#;

struct Estate {
    _dir: tempfile::TempDir,
    code: std::path::PathBuf,
    state: std::path::PathBuf,
}

/// The three groups as the code made them, then fixed by hand in the console: SSH and HTTPS no
/// longer from anywhere, RDP revoked, the database's clients cut down.
async fn estate(m: &Moto, main_tf: &str) -> Estate {
    let vpc = m.vpc().await;
    let web = m.group(&vpc, "web").await;
    let admin = m.group(&vpc, "admin").await;
    let db = m.group(&vpc, "db").await;
    for (sg, p) in [
        (&web, perm("tcp", 22, 22, "0.0.0.0/0")),
        (&web, perm("tcp", 22, 22, "10.0.0.0/8")),
        (&web, perm("tcp", 443, 443, "0.0.0.0/0")),
        (&admin, perm("tcp", 3389, 3389, "0.0.0.0/0")),
        (&db, perm("tcp", 5432, 5432, "10.1.0.0/16")),
        (&db, perm("tcp", 5432, 5432, "10.2.0.0/16")),
    ] {
        m.ec2
            .authorize_security_group_ingress()
            .group_id(sg)
            .ip_permissions(p)
            .send()
            .await
            .unwrap();
    }
    let state = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(
                &web,
                &vpc,
                "web",
                vec![
                    sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"]),
                    sg_block("tcp", 443, 443, &["0.0.0.0/0"]),
                ],
                vec![],
            ),
        )
        .add(
            "aws_security_group.admin",
            sg_attrs(&admin, &vpc, "admin", vec![], vec![]),
        )
        .add(
            "aws_security_group_rule.rdp",
            sg_rule_attrs("ingress", &admin, "tcp", 3389, 3389, &["0.0.0.0/0"]),
        )
        .add(
            "aws_security_group.db",
            sg_attrs(
                &db,
                &vpc,
                "db",
                vec![sg_block("tcp", 5432, 5432, &["10.1.0.0/16", "10.2.0.0/16"])],
                vec![],
            ),
        );
    for (sg, p) in [
        (&web, perm("tcp", 22, 22, "0.0.0.0/0")),
        (&web, perm("tcp", 443, 443, "0.0.0.0/0")),
        (&admin, perm("tcp", 3389, 3389, "0.0.0.0/0")),
        (&db, perm("tcp", 5432, 5432, "10.2.0.0/16")),
    ] {
        m.ec2
            .revoke_security_group_ingress()
            .group_id(sg)
            .ip_permissions(p)
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), main_tf).unwrap();
    let state = state.write(dir.path(), "terraform.tfstate");
    Estate {
        _dir: dir,
        code,
        state,
    }
}

/// An estate of this state and this `main.tf` in `infra/`.
fn estate_of(state: &State, tf: &str) -> Estate {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), tf).unwrap();
    Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    }
}

/// A root module and one local module, `infra/modules/NAME/main.tf`.
fn estate_with_module(state: &State, root: &str, (name, module): (&str, &str)) -> Estate {
    let e = estate_of(state, root);
    let dir = e.code.join("modules").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), module).unwrap();
    e
}

/// Each fix or manual item (`kind`) of fix's JSON as its address, file and line.
fn places(doc: &Value, kind: &str) -> Vec<(String, String, u64)> {
    doc[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn place(address: &str, file: &str, line: u64) -> (String, String, u64) {
    (address.to_string(), file.to_string(), line)
}

/// `driftgate fix --write --format json --quiet` and these flags: its JSON, after exit 0.
fn fix_json(m: &Moto, e: &Estate, extra: &[&str]) -> Value {
    let mut args = vec!["--write", "--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    let run = fix(m, e, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn fix(m: &Moto, e: &Estate, extra: &[&str]) -> Run {
    fix_env(m, e, extra, &[])
}

/// `driftgate fix --format json --quiet --address ADDRESS` (nothing written).
fn fix_only(m: &Moto, e: &Estate, address: &str) -> Run {
    fix(m, e, &["--format", "json", "--quiet", "--address", address])
}

/// Nothing written, and the first item by hand says `why`.
fn only_manual(run: &Run, why: &str) {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    let reason = doc["manual"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(why), "{why} not in {doc:#}");
}

fn fix_env(m: &Moto, e: &Estate, extra: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut args = vec![
        "fix",
        "--state",
        e.state.to_str().unwrap(),
        "--source-dir",
        "infra",
    ];
    args.extend_from_slice(extra);
    driftgate_at(e.code.parent().unwrap(), &m.url, &args, None, env)
}

#[tokio::test]
async fn console_fixes_are_codified_and_the_rest_is_manual() {
    let m = moto().await;
    let e = estate(&m, MAIN_TF).await;

    // The diff: paths from the working directory, nothing written yet.
    let run = fix(&m, &e, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("--- a/infra/main.tf\n+++ b/infra/main.tf\n"),
        "{}",
        run.stdout
    );
    for line in [
        "-    cidr_blocks = [\"0.0.0.0/0\", \"10.0.0.0/8\"] # TODO: drop the open range\n",
        "+    cidr_blocks = [\"10.0.0.0/8\"] # TODO: drop the open range\n",
        "-  # HTTPS from anywhere, for now.\n",
    ] {
        assert!(run.stdout.contains(line), "{line} not in\n{}", run.stdout);
    }
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        MAIN_TF
    );
    // `git apply` takes it as it is.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(e.code.parent().unwrap())
            .output()
            .unwrap()
    };
    if git(&["init", "-q"]).status.success() {
        std::fs::write(e.code.parent().unwrap().join("fix.patch"), &run.stdout).unwrap();
        let applied = git(&["apply", "--check", "fix.patch"]);
        assert!(
            applied.status.success(),
            "{}",
            String::from_utf8_lossy(&applied.stderr)
        );
    }

    // JSON: each fix with its place and policy; the variable-fed list is manual.
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    let fixes = doc["fixes"].as_array().unwrap();
    let by =
        |addr: &str| -> Vec<&Value> { fixes.iter().filter(|f| f["address"] == addr).collect() };
    assert_eq!(by("aws_security_group.web").len(), 2, "{doc:#}");
    assert_eq!(by("aws_security_group_rule.rdp").len(), 1, "{doc:#}");
    for f in fixes {
        assert_eq!(f["action"], "codify");
        assert_eq!(f["file"], "infra/main.tf");
        assert!(f["policy"].as_str().is_some_and(|p| !p.is_empty()), "{f}");
        assert_eq!(f["replaces_resource"], false);
    }
    assert_eq!(by("aws_security_group.web")[0]["line"], 11);
    assert_eq!(by("aws_security_group.web")[1]["line"], 14);
    assert_eq!(by("aws_security_group_rule.rdp")[0]["line"], 28);
    let manual = doc["manual"].as_array().unwrap();
    assert_eq!(manual.len(), 1, "{doc:#}");
    assert_eq!(manual[0]["address"], "aws_security_group.db");
    assert_eq!(manual[0]["line"], 45, "{doc:#}");
    assert!(
        manual[0]["want"].as_str().unwrap().contains("10.2.0.0/16"),
        "{doc:#}"
    );

    // `check` says which findings `driftgate fix` writes, in JSON and in words.
    let check = |format: &str| {
        driftgate_at(
            e.code.parent().unwrap(),
            &m.url,
            &[
                "check",
                "--state",
                e.state.to_str().unwrap(),
                "--source-dir",
                "infra",
                "--format",
                format,
                "--quiet",
            ],
            None,
            &[],
        )
    };
    let run = check("json");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let fix_of = |addr: &str| -> Vec<&Value> {
        doc["drifts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["address"] == addr)
            .map(|d| &d["fix"])
            .collect()
    };
    assert_eq!(fix_of("aws_security_group.web"), ["codify", "codify"]);
    assert_eq!(fix_of("aws_security_group_rule.rdp"), ["codify"]);
    assert_eq!(fix_of("aws_security_group.db"), ["manual"]);
    let run = check("console");
    assert_eq!(
        run.stdout
            .matches("`driftgate fix` can write this change into the code")
            .count(),
        3,
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("`driftgate fix` names the expression to change by hand"));
    let sarif: Value = serde_json::from_str(&check("sarif").stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results
            .iter()
            .filter(|r| r["properties"]["fix"] == "codify")
            .count(),
        3
    );
    assert!(check("markdown")
        .stdout
        .contains("<sub>`driftgate fix` can write this change into the code"));
    // Without the source, nothing is claimed.
    let run = driftgate_at(
        e.code.parent().unwrap(),
        &m.url,
        &[
            "check",
            "--state",
            e.state.to_str().unwrap(),
            "--source-dir",
            "/nonexistent",
            "--format",
            "json",
        ],
        None,
        &[],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        doc["drifts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["fix"].is_null()),
        "{doc:#}"
    );

    // --write: the file becomes the fixed code, every other byte as it was, and it parses.
    let run = fix(&m, &e, &["--write"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("3 fix(es) written, 1 to do by hand"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("by hand: aws_security_group.db (infra/main.tf:45)"),
        "{}",
        run.stderr
    );
    let fixed = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert_eq!(fixed, FIXED_TF);
}

/// Weakening drift is not written unless asked; the same code in CRLF stays CRLF; a resource
/// with `count` is manual.
#[tokio::test]
async fn traps_crlf_count_and_weakening() {
    let m = moto().await;
    let crlf = MAIN_TF.replace('\n', "\r\n");
    let e = estate(&m, &crlf).await;
    let run = fix(&m, &e, &["--write", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fixed = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert_eq!(fixed, FIXED_TF.replace('\n', "\r\n"));

    let counted = MAIN_TF.replace(
        "resource \"aws_security_group\" \"web\" {\n",
        "resource \"aws_security_group\" \"web\" {\n  count  = length(var.tiers)\n",
    );
    let e = estate(&m, &counted).await;
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let manual: Vec<&Value> = doc["manual"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["address"] == "aws_security_group.web")
        .collect();
    assert_eq!(manual.len(), 2, "{doc:#}");
    assert!(manual[0]["reason"].as_str().unwrap().contains("`count`"));

    // An override file beside the code: Terraform merges it over the blocks, so what applies
    // may be written there. Nothing is edited.
    let e = estate(&m, MAIN_TF).await;
    let over = "resource \"aws_security_group\" \"web\" {\n  description = \"web tier\"\n}\n";
    std::fs::write(e.code.join("web_override.tf"), over).unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet", "--write"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    // The three console fixes; the database's root variable is manual as before.
    let overridden = doc["manual"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["reason"]
                .as_str()
                .unwrap()
                .contains("infra/web_override.tf overrides blocks of this module")
        })
        .count();
    assert_eq!(overridden, 3, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        MAIN_TF
    );

    // A rule opened by hand weakens: not codified, even with nothing else to do.
    let e = estate(&m, MAIN_TF).await;
    let web = serde_json::from_str::<Value>(&std::fs::read_to_string(&e.state).unwrap()).unwrap()
        ["resources"][0]["instances"][0]["attributes"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    m.ec2
        .authorize_security_group_ingress()
        .group_id(&web)
        .ip_permissions(perm("tcp", 3306, 3306, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let run = fix(
        &m,
        &e,
        &["--format", "json", "--address", "aws_security_group.web"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 2, "{doc:#}");
    assert!(
        run.stderr
            .contains("1 finding(s) do not strengthen and are left out of the code")
            && run.stderr.contains("tcp port 3306 from 0.0.0.0/0"),
        "{}",
        run.stderr
    );
    // Accepted: the incident's rule is written into the group as a new inline block, marked
    // `accept`; the console fixes are codified as before.
    let run = fix(
        &m,
        &e,
        &[
            "--accept-weakening",
            "--address",
            "aws_security_group.web",
            "--format",
            "json",
            "--write",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let actions: Vec<&str> = doc["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "accept").count(),
        1,
        "{doc:#}"
    );
    assert_eq!(actions.len(), 3, "{doc:#}");
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert!(
        written.contains(
            "  ingress {\n    from_port   = 3306\n    to_port     = 3306\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n\nresource \"aws_security_group\" \"admin\""
        ),
        "{written}"
    );
    assert!(hcl_edit::parser::parse_body(&written).is_ok());
    // Written once: the rule is in the code now.
    let run = fix(
        &m,
        &e,
        &[
            "--accept-weakening",
            "--address",
            "aws_security_group.web",
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
}

#[test]
fn a_source_dir_that_is_not_there_is_exit_2() {
    let run = driftgate(
        "http://127.0.0.1:9",
        &[
            "fix",
            "--state",
            "x.tfstate",
            "--source-dir",
            "/nonexistent/infra",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--source-dir /nonexistent/infra"),
        "{}",
        run.stderr
    );
}

/// Rotation and Block Public Access turned on by hand: the literal becomes `true`, and a setting
/// the code leaves to its default gets a line of its own, in the block's indentation.
#[tokio::test]
async fn rotation_and_block_public_access_turned_on_by_hand() {
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    let m = moto().await;
    let kms = moto_client!(aws_sdk_kms, &m.url);
    let s3 = s3_client(&m);
    let key = kms.create_key().description("data").send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    let key_id = meta.key_id().to_string();
    let policy = kms
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .to_string();
    let bucket = unique("fix-data");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let pab = |on: bool| {
        PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(on)
            .restrict_public_buckets(on)
            .build()
    };
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(pab(false))
        .send()
        .await
        .unwrap();
    let state = State::new()
        .add(
            "aws_kms_key.data",
            serde_json::json!({"arn": meta.arn(), "id": key_id, "key_id": key_id, "description": "data",
                "customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT",
                "enable_key_rotation": false, "is_enabled": true, "policy": policy, "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_s3_bucket_public_access_block.data",
            serde_json::json!({"id": bucket, "bucket": bucket, "block_public_acls": true,
                "block_public_policy": false, "ignore_public_acls": true, "restrict_public_buckets": false}),
        );
    let tf = format!(
        "resource \"aws_kms_key\" \"data\" {{\n    description         = \"data\"\n    enable_key_rotation = false # rotated by the vendor\n}}\n\n\
         resource \"aws_s3_bucket_public_access_block\" \"data\" {{\n    bucket = \"{bucket}\"\n\n    block_public_acls   = true\n    ignore_public_acls  = true\n    block_public_policy = false\n}}\n"
    );
    // The console: rotation on, the two other settings on.
    kms.enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(pab(true))
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), &tf).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    let run = fix(&m, &e, &["--write", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let want = format!(
        "resource \"aws_kms_key\" \"data\" {{\n    description         = \"data\"\n    enable_key_rotation = true # rotated by the vendor\n}}\n\n\
         resource \"aws_s3_bucket_public_access_block\" \"data\" {{\n    restrict_public_buckets = true\n    bucket = \"{bucket}\"\n\n    block_public_acls   = true\n    ignore_public_acls  = true\n    block_public_policy = true\n}}\n"
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        want
    );
    // Run again before the state has caught up (no apply yet): the code already says what is
    // live, so there is nothing left to write.
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 0, "{doc:#}");
    let run = fix(&m, &e, &["--quiet"]);
    assert_eq!(run.stdout, "");
}

/// The bundled example: a console fix of its web tier becomes a patch of its own main.tf that
/// `git apply` takes, and nothing else of the file moves; the emptied direction stays managed.
#[tokio::test]
async fn the_quickstart_console_fix_is_a_patch_of_its_code() {
    let m = moto().await;
    let python = std::env::var("DRIFTGATE_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DRIFTGATE_PYTHON is not set: run the suite with scripts/test.sh (it provides boto3)"
        )
    });
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("examples/quickstart");
    std::fs::create_dir_all(&code).unwrap();
    let main_tf = std::fs::read_to_string(root.join("examples/quickstart/main.tf")).unwrap();
    std::fs::write(code.join("main.tf"), &main_tf).unwrap();
    let state = dir.path().join("fixed.tfstate");
    let seeded = std::process::Command::new(python)
        .arg(root.join("examples/quickstart/seed.py"))
        .arg(&m.url)
        .arg(&state)
        .arg("--console-fix")
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let run = driftgate_at(
        dir.path(),
        &m.url,
        &[
            "fix",
            "--quiet",
            "--state",
            state.to_str().unwrap(),
            "--source-dir",
            "examples/quickstart",
        ],
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let removed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    assert_eq!(
        removed,
        [
            "-  egress {",
            "-    protocol    = \"-1\"",
            "-    from_port   = 0",
            "-    to_port     = 0",
            "-    cidr_blocks = [\"0.0.0.0/0\"]",
            "-  }",
        ],
        "{}",
        run.stdout
    );
    // Its last egress block gone, the group says so: without `egress = []` the provider would
    // stop managing egress, and a rule added in the console later would join the state unseen.
    let added: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(added, ["+  egress = []"], "{}", run.stdout);
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    if git(&["init", "-q"]).status.success() {
        std::fs::write(dir.path().join("fix.patch"), &run.stdout).unwrap();
        let applied = git(&["apply", "fix.patch"]);
        assert!(
            applied.status.success(),
            "{}",
            String::from_utf8_lossy(&applied.stderr)
        );
        let after = std::fs::read_to_string(code.join("main.tf")).unwrap();
        assert!(hcl_edit::parser::parse_body(&after).is_ok());
        let lines = |ls: &[&str]| ls.iter().map(|l| l.len()).sum::<usize>();
        assert_eq!(after.len() + lines(&removed), main_tf.len() + lines(&added));
    }
}

/// A network ACL entry removed by hand leaves the code; one changed by hand is written over the
/// declared one, field by field.
#[tokio::test]
async fn network_acl_entries_removed_and_changed_by_hand() {
    use aws_sdk_ec2::types::{PortRange, RuleAction};
    let m = moto().await;
    let vpc = m.vpc().await;
    let acl = m
        .ec2
        .create_network_acl()
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .network_acl()
        .unwrap()
        .network_acl_id()
        .unwrap()
        .to_string();
    for (n, port, cidr) in [(100, 22, "0.0.0.0/0"), (110, 443, "10.0.0.0/8")] {
        m.ec2
            .create_network_acl_entry()
            .network_acl_id(&acl)
            .rule_number(n)
            .protocol("6")
            .rule_action(RuleAction::Allow)
            .egress(false)
            .cidr_block(cidr)
            .port_range(PortRange::builder().from(port).to(port).build())
            .send()
            .await
            .unwrap();
    }
    let state = State::new().add(
        "aws_network_acl.private",
        acl_attrs(
            &acl,
            &vpc,
            vec![
                acl_entry(100, "allow", "tcp", "0.0.0.0/0", 22, 22),
                acl_entry(110, "allow", "tcp", "10.0.0.0/8", 443, 443),
            ],
            vec![],
        ),
    );
    let tf = "resource \"aws_network_acl\" \"private\" {\n  vpc_id = var.vpc_id\n\n  ingress {\n    rule_no    = 100\n    action     = \"allow\"\n    protocol   = \"tcp\"\n    from_port  = 22\n    to_port    = 22\n    cidr_block = \"0.0.0.0/0\"\n  }\n\n  ingress {\n    rule_no    = 110\n    action     = \"allow\"\n    protocol   = \"tcp\"\n    from_port  = 443\n    to_port    = 443\n    cidr_block = \"10.0.0.0/8\" # the VPCs\n  }\n}\n";
    // The console: SSH from anywhere deleted, HTTPS narrowed to one VPC.
    m.ec2
        .delete_network_acl_entry()
        .network_acl_id(&acl)
        .rule_number(100)
        .egress(false)
        .send()
        .await
        .unwrap();
    m.ec2
        .replace_network_acl_entry()
        .network_acl_id(&acl)
        .rule_number(110)
        .protocol("6")
        .rule_action(RuleAction::Allow)
        .egress(false)
        .cidr_block("10.1.0.0/16")
        .port_range(PortRange::builder().from(443).to(443).build())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), tf).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    let run = fix(
        &m,
        &e,
        &[
            "--write",
            "--quiet",
            "--accept-weakening",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let fixes = doc["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2, "{doc:#}");
    // Narrowed by hand is stricter than the code: both are codified, at their lines.
    let mut lines: Vec<i64> = fixes.iter().map(|f| f["line"].as_i64().unwrap()).collect();
    lines.sort();
    assert_eq!(lines, [4, 19], "{doc:#}");
    assert!(fixes.iter().all(|f| f["action"] == "codify"), "{doc:#}");
    let want = "resource \"aws_network_acl\" \"private\" {\n  vpc_id = var.vpc_id\n\n  ingress {\n    rule_no    = 110\n    action     = \"allow\"\n    protocol   = \"tcp\"\n    from_port  = 443\n    to_port    = 443\n    cidr_block = \"10.1.0.0/16\" # the VPCs\n  }\n}\n";
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        want
    );

    // The same entries as a list of objects (the attribute form the provider takes too).
    let entry = |n: i64, port: i64, cidr: &str| {
        format!("    {{\n      rule_no    = {n}\n      action     = \"allow\"\n      protocol   = \"tcp\"\n      from_port  = {port}\n      to_port    = {port}\n      cidr_block = \"{cidr}\"\n    }},\n")
    };
    let listed = |entries: &str| {
        format!("resource \"aws_network_acl\" \"private\" {{\n  vpc_id = var.vpc_id\n\n  ingress = [\n{entries}  ]\n}}\n")
    };
    let ssh = entry(100, 22, "0.0.0.0/0");
    let https = entry(110, 443, "10.0.0.0/8");
    std::fs::write(e.code.join("main.tf"), listed(&format!("{ssh}{https}"))).unwrap();
    let run = fix(
        &m,
        &e,
        &[
            "--write",
            "--quiet",
            "--accept-weakening",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        listed(&entry(110, 443, "10.1.0.0/16"))
    );
}

/// A module used twice: its code feeds both groups, so a console fix of one is not written into
/// it (that would change the other too); it is manual, at the module's block.
#[tokio::test]
async fn a_module_used_twice_is_manual() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let (a, b) = (m.group(&vpc, "a").await, m.group(&vpc, "b").await);
    for sg in [&a, &b] {
        m.ec2
            .authorize_security_group_ingress()
            .group_id(sg)
            .ip_permissions(perm("tcp", 22, 22, "0.0.0.0/0"))
            .send()
            .await
            .unwrap();
    }
    let group = |id: &str, name: &str| {
        sg_attrs(
            id,
            &vpc,
            name,
            vec![sg_block("tcp", 22, 22, &["0.0.0.0/0"])],
            vec![],
        )
    };
    let state = State::new()
        .add("module.a.aws_security_group.this", group(&a, "a"))
        .add("module.b.aws_security_group.this", group(&b, "b"));
    m.ec2
        .revoke_security_group_ingress()
        .group_id(&a)
        .ip_permissions(perm("tcp", 22, 22, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let root = "module \"a\" {\n  source = \"./modules/sg\"\n}\n\nmodule \"b\" {\n  source = \"./modules/sg\"\n}\n";
    let module = "variable \"name\" {\n  default = \"x\"\n}\n\nresource \"aws_security_group\" \"this\" {\n  name = var.name\n\n  ingress {\n    from_port   = 22\n    to_port     = 22\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n";
    let e = estate_with_module(&state, root, ("sg", module));
    let run = fix(&m, &e, &["--write", "--quiet", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 0, "{doc:#}");
    let manual = &doc["manual"][0];
    assert_eq!(
        manual["address"], "module.a.aws_security_group.this",
        "{doc:#}"
    );
    assert_eq!(manual["file"], "infra/modules/sg/main.tf", "{doc:#}");
    assert_eq!(manual["line"], 5, "{doc:#}");
    assert!(
        manual["reason"]
            .as_str()
            .unwrap()
            .contains("module.b.aws_security_group.this"),
        "{doc:#}"
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("modules/sg/main.tf")).unwrap(),
        module
    );
}

/// The console fixes as a ready pull request: one branch and commit on `main`, the body naming
/// each fix; the same fixes again update it; other fixes open another; a branch driftgate did not
/// make, a base that moved, or an API error write nothing and end the run.
#[tokio::test]
async fn fixes_open_a_ready_pull_request_and_a_rerun_updates_it() {
    let m = moto().await;
    let e = estate(&m, MAIN_TF).await;
    let root = e.code.parent().unwrap().to_str().unwrap().to_string();
    let gh = forge::github(&[("infra/main.tf", MAIN_TF), ("README.md", "infra\n")]);
    let url = gh.url();
    let env = |url: &str| {
        vec![
            ("GITHUB_API_URL", Some(url.to_string())),
            ("GITHUB_TOKEN", Some("ghs_secret".to_string())),
            ("GITHUB_WORKSPACE", Some(root.clone())),
        ]
    };
    let run_pr = |url: &str, extra: &[&str]| {
        let owned = env(url);
        let env: Vec<(&str, Option<&str>)> =
            owned.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        let mut args = vec!["--pr", "github:acme/infra"];
        args.extend_from_slice(extra);
        fix_env(&m, &e, &args, &env)
    };

    let run = run_pr(&url, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "https://github.com/acme/infra/pull/1\n");
    assert!(
        run.stderr
            .contains("driftgate: opened https://github.com/acme/infra/pull/1"),
        "{}",
        run.stderr
    );
    // Nothing is written in the checkout.
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        MAIN_TF
    );
    let branch = {
        let g = gh.git.lock().unwrap();
        assert_eq!(g.requests.len(), 1);
        let pr = &g.requests[0];
        assert_eq!(pr["draft"], false);
        assert_eq!(pr["base"]["ref"], "main");
        let branch = pr["head"]["ref"].as_str().unwrap().to_string();
        assert!(
            branch.starts_with("driftgate/fix-") && branch.len() == "driftgate/fix-".len() + 10,
            "{branch}"
        );
        // One commit on main with the fixed file; the other file as it was.
        let head = &g.branches[&branch];
        let (message, files, parent) = &g.commits[head];
        assert_eq!(parent.as_ref(), Some(&g.branches["main"]));
        assert_eq!(files["infra/main.tf"], FIXED_TF);
        assert_eq!(files["README.md"], "infra\n");
        assert!(message.contains("Driftgate-Fix-Set: "), "{message}");
        assert!(
            message.contains("- aws_security_group_rule.rdp (codify)"),
            "{message}"
        );
        let body = pr["body"].as_str().unwrap();
        for needle in [
            "<!-- driftgate:fix:",
            "| `aws_security_group.web`<br>infra/main.tf:11 |",
            "`aws_security_group_rule.rdp`<br>infra/main.tf:28",
            "tcp port 22 from 0.0.0.0/0 → absent",
            "| medium (0.5, exposure unused) | AWS-SG-RULES<br>Security group rules differ",
            "codify: the live setting is stricter",
            "`terraform plan` should show",
            "- no change for `aws_security_group.web`",
            "`aws_security_group_rule.rdp` will no longer be managed by Terraform",
            "**By hand**",
            "`aws_security_group.db` (infra/main.tf:45)",
        ] {
            assert!(body.contains(needle), "{needle} not in:\n{body}");
        }
        branch
    };
    assert!(!run.stderr.contains("ghs_secret") && !run.stdout.contains("ghs_secret"));
    let writes_before = gh.writes().len();

    // The same fixes again: the open pull request is updated, nothing else is written.
    let run = run_pr(&url, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "https://github.com/acme/infra/pull/1\n");
    assert!(
        run.stderr.contains("updated the open request"),
        "{}",
        run.stderr
    );
    assert_eq!(
        gh.writes()[writes_before..],
        ["PATCH /repos/acme/infra/pulls/1"]
    );
    assert_eq!(gh.git.lock().unwrap().requests.len(), 1);

    // JSON says the same.
    let run = run_pr(&url, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["pull_request"]["outcome"], "updated");
    assert_eq!(doc["pull_request"]["branch"], branch.as_str());

    // Other fixes: another branch and pull request, against the base asked for.
    let run = run_pr(
        &url,
        &["--address", "aws_security_group_rule.rdp", "--base", "main"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "https://github.com/acme/infra/pull/2\n");
    {
        let g = gh.git.lock().unwrap();
        assert_ne!(g.requests[1]["head"]["ref"], branch.as_str());
        assert_eq!(
            g.requests[1]["title"],
            "driftgate: write the live change of aws_security_group_rule.rdp into the code"
        );
    }

    // Closed without merging: the same fixes are not proposed again every night.
    gh.git.lock().unwrap().requests[0]["state"] = "closed".into();
    let writes_before = gh.writes().len();
    let run = run_pr(&url, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("not reopened"), "{}", run.stderr);
    assert_eq!(gh.writes().len(), writes_before);

    // A branch of that name that driftgate did not make: not touched.
    let other = forge::github(&[("infra/main.tf", MAIN_TF)]);
    {
        let mut g = other.git.lock().unwrap();
        let main = g.branches["main"].clone();
        let files = g.commits[&main].1.clone();
        let sha = g.commit("someone's work", files, Some(main));
        g.branches.insert(branch.clone(), sha);
    }
    let run = run_pr(&other.url(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "branch {branch} exists and driftgate did not create it"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(other.writes(), Vec::<String>::new());

    // The base moved since the checkout: the commit would undo that, so nothing is written.
    let moved = forge::github(&[("infra/main.tf", &MAIN_TF.replace("for now", "until Q3"))]);
    let run = run_pr(&moved.url(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("infra/main.tf on main differs from the checkout"),
        "{}",
        run.stderr
    );
    assert_eq!(moved.writes(), Vec::<String>::new());
    assert!(run.stdout.is_empty());

    // An API error ends the run naming the call, never the token.
    let failing = forge::github(&[("infra/main.tf", MAIN_TF)]);
    failing.git.lock().unwrap().fail = Some(("POST /repos/acme/infra/pulls".into(), 500));
    let run = run_pr(&failing.url(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("github:acme/infra POST /repos/acme/infra/pulls"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("ghs_secret"));
    assert!(run.stdout.is_empty());
    // No token: said, before anything is sent.
    let run = fix_env(
        &m,
        &e,
        &["--pr", "github:acme/infra"],
        &[
            ("GITHUB_API_URL", Some(url.as_str())),
            ("GITHUB_WORKSPACE", Some(root.as_str())),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("GITHUB_TOKEN is not set"),
        "{}",
        run.stderr
    );
    // A mistyped target is refused before the check.
    let run = fix(&m, &e, &["--pr", "github:acme"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--pr"), "{}", run.stderr);
}

/// The same on GitLab: one commit with actions from the base commit, a merge request, and the
/// re-run that updates it; the job token is used when it is all there is.
#[tokio::test]
async fn fixes_open_a_merge_request_and_a_rerun_updates_it() {
    let m = moto().await;
    let e = estate(&m, MAIN_TF).await;
    let root = e.code.parent().unwrap().to_str().unwrap().to_string();
    let gl = forge::gitlab(&[("infra/main.tf", MAIN_TF)]);
    let api = format!("{}/api/v4", gl.url());
    let env = [
        ("CI_API_V4_URL", Some(api.as_str())),
        ("CI_JOB_TOKEN", Some("glcbt-secret")),
        ("CI_PROJECT_DIR", Some(root.as_str())),
    ];
    let run = fix_env(&m, &e, &["--pr", "gitlab:acme/infra"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "https://gitlab.com/acme/infra/-/merge_requests/1\n"
    );
    {
        let g = gl.git.lock().unwrap();
        let mr = &g.requests[0];
        assert_eq!(mr["target_branch"], "main");
        let branch = mr["source_branch"].as_str().unwrap();
        assert!(branch.starts_with("driftgate/fix-"));
        let (message, files, parent) = &g.commits[&g.branches[branch]];
        assert_eq!(parent.as_ref(), Some(&g.branches["main"]));
        assert_eq!(files["infra/main.tf"], FIXED_TF);
        assert!(message.contains("Driftgate-Fix-Set: "));
        assert!(mr["description"]
            .as_str()
            .unwrap()
            .contains("infra/main.tf:11"));
    }
    let hits = gl.server.hits();
    assert!(hits
        .iter()
        .all(|h| h.header("job-token") == Some("glcbt-secret")));
    assert_eq!(
        gl.writes(),
        [
            "POST /api/v4/projects/acme%2Finfra/repository/commits",
            "POST /api/v4/projects/acme%2Finfra/merge_requests"
        ]
    );
    let run = fix_env(&m, &e, &["--pr", "gitlab:acme/infra"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("updated the open request"),
        "{}",
        run.stderr
    );
    assert_eq!(gl.writes().len(), 3);
    assert_eq!(
        gl.writes()[2],
        "PUT /api/v4/projects/acme%2Finfra/merge_requests/1"
    );
    assert!(!run.stderr.contains("glcbt-secret"));
}

const EDGE_MODULE: &str = r#"variable "ssh_cidrs" {
  type = list(string)
}

resource "aws_security_group" "this" {
  name = "edge"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.ssh_cidrs
  }

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.https_cidrs
  }
}
"#;

const EDGE_VARIABLES: &str = r#"variable "https_cidrs" {
  description = "Who reaches the edge over HTTPS."
  default     = ["0.0.0.0/0", "192.0.2.0/24"]
}
"#;

const VALUES_ROOT: &str = r#"locals {
  admin_cidrs = ["0.0.0.0/0", "10.9.0.0/16"] # the VPN
  db_clients  = ["10.1.0.0/16", "10.2.0.0/16"]
}

module "edge" {
  source    = "./modules/edge"
  ssh_cidrs = ["0.0.0.0/0", "10.0.0.0/8"]
}

resource "aws_security_group" "admin" {
  name = "admin"

  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = local.admin_cidrs
  }
}

resource "aws_security_group" "db" {
  name = "db"

  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = local.db_clients
  }

  egress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = local.db_clients
  }
}
"#;

/// Values that come through a module argument, a variable default and a local are fixed where
/// they are written; a local that feeds two places is manual, pointed at the reference.
#[tokio::test]
async fn values_behind_variables_and_locals_are_fixed_where_written() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let edge = m.group(&vpc, "edge").await;
    let admin = m.group(&vpc, "admin").await;
    let db = m.group(&vpc, "db").await;
    let rules = [
        (&edge, perm("tcp", 22, 22, "0.0.0.0/0")),
        (&edge, perm("tcp", 22, 22, "10.0.0.0/8")),
        (&edge, perm("tcp", 443, 443, "0.0.0.0/0")),
        (&edge, perm("tcp", 443, 443, "192.0.2.0/24")),
        (&admin, perm("tcp", 3389, 3389, "0.0.0.0/0")),
        (&admin, perm("tcp", 3389, 3389, "10.9.0.0/16")),
        (&db, perm("tcp", 5432, 5432, "10.1.0.0/16")),
        (&db, perm("tcp", 5432, 5432, "10.2.0.0/16")),
    ];
    for (sg, p) in rules.clone() {
        m.allow_in(sg, p).await;
    }
    for cidr in ["10.1.0.0/16", "10.2.0.0/16"] {
        m.allow_out(&db, perm("tcp", 5432, 5432, cidr)).await;
    }
    let state = State::new()
        .add(
            "module.edge.aws_security_group.this",
            sg_attrs(
                &edge,
                &vpc,
                "edge",
                vec![
                    sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"]),
                    sg_block("tcp", 443, 443, &["0.0.0.0/0", "192.0.2.0/24"]),
                ],
                vec![],
            ),
        )
        .add(
            "aws_security_group.admin",
            sg_attrs(
                &admin,
                &vpc,
                "admin",
                vec![sg_block("tcp", 3389, 3389, &["0.0.0.0/0", "10.9.0.0/16"])],
                vec![],
            ),
        )
        .add(
            "aws_security_group.db",
            sg_attrs(
                &db,
                &vpc,
                "db",
                vec![sg_block("tcp", 5432, 5432, &["10.1.0.0/16", "10.2.0.0/16"])],
                vec![sg_block("tcp", 5432, 5432, &["10.1.0.0/16", "10.2.0.0/16"])],
            ),
        );
    // The console fixes.
    m.revoke_in(&edge, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    m.revoke_in(&edge, perm("tcp", 443, 443, "192.0.2.0/24"))
        .await;
    m.revoke_in(&admin, perm("tcp", 3389, 3389, "0.0.0.0/0"))
        .await;
    m.revoke_in(&db, perm("tcp", 5432, 5432, "10.2.0.0/16"))
        .await;

    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(code.join("modules/edge")).unwrap();
    std::fs::write(code.join("main.tf"), VALUES_ROOT).unwrap();
    std::fs::write(code.join("modules/edge/main.tf"), EDGE_MODULE).unwrap();
    std::fs::write(code.join("modules/edge/variables.tf"), EDGE_VARIABLES).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let fixes = doc["fixes"].as_array().unwrap();
    let at: Vec<(String, String, u64)> = fixes
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        at.contains(&(
            "module.edge.aws_security_group.this".into(),
            "infra/main.tf".into(),
            8
        )),
        "{doc:#}"
    );
    assert!(
        at.contains(&(
            "module.edge.aws_security_group.this".into(),
            "infra/modules/edge/variables.tf".into(),
            3
        )),
        "{doc:#}"
    );
    assert!(
        at.contains(&("aws_security_group.admin".into(), "infra/main.tf".into(), 2)),
        "{doc:#}"
    );
    assert_eq!(fixes.len(), 3, "{doc:#}");
    let summaries: Vec<&str> = fixes
        .iter()
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert!(
        summaries
            .iter()
            .any(|s| s.ends_with("(in var.ssh_cidrs ← module.edge's `ssh_cidrs`)")),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.ends_with("(in var.https_cidrs (default))")),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.ends_with("(in local.admin_cidrs (locals))")),
        "{summaries:?}"
    );
    let manual = doc["manual"].as_array().unwrap();
    assert_eq!(manual.len(), 1, "{doc:#}");
    assert_eq!(manual[0]["address"], "aws_security_group.db");
    assert_eq!(manual[0]["file"], "infra/main.tf");
    assert_eq!(manual[0]["line"], 29, "{doc:#}");
    assert!(
        manual[0]["reason"]
            .as_str()
            .unwrap()
            .contains("local.db_clients is read 2 times in the root module"),
        "{doc:#}"
    );

    let run = fix(&m, &e, &["--write", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let root = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert_eq!(
        root,
        VALUES_ROOT
            .replace(
                "admin_cidrs = [\"0.0.0.0/0\", \"10.9.0.0/16\"]",
                "admin_cidrs = [\"10.9.0.0/16\"]"
            )
            .replace(
                "ssh_cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"]",
                "ssh_cidrs = [\"10.0.0.0/8\"]"
            )
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("modules/edge/variables.tf")).unwrap(),
        EDGE_VARIABLES.replace(", \"192.0.2.0/24\"", "")
    );
    // The module's own code is untouched: the values live elsewhere.
    assert_eq!(
        std::fs::read_to_string(e.code.join("modules/edge/main.tf")).unwrap(),
        EDGE_MODULE
    );
    // Once written, nothing is left to write.
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 0, "{doc:#}");
    assert_eq!(doc["manual"].as_array().unwrap().len(), 1, "{doc:#}");
}

const FOR_EACH_TF: &str = r#"locals {
  groups = {
    web = {
      ssh = ["0.0.0.0/0", "10.0.0.0/8"] # office and, for now, anyone
    }
    api = { ssh = ["0.0.0.0/0"] }
  }
}

resource "aws_security_group" "this" {
  for_each = local.groups
  name     = each.key

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = each.value.ssh
  }
}
"#;

/// `for_each` over a map written in the code: the drifted instance's entry is changed, the other
/// instances' entries stay as they are.
#[tokio::test]
async fn for_each_map_entries_are_fixed_for_their_instance_only() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let web = m.group(&vpc, "web").await;
    let api = m.group(&vpc, "api").await;
    for (sg, cidr) in [
        (&web, "0.0.0.0/0"),
        (&web, "10.0.0.0/8"),
        (&api, "0.0.0.0/0"),
    ] {
        m.allow_in(sg, perm("tcp", 22, 22, cidr)).await;
    }
    let state = State::new()
        .add(
            r#"aws_security_group.this["web"]"#,
            sg_attrs(
                &web,
                &vpc,
                "web",
                vec![sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"])],
                vec![],
            ),
        )
        .add(
            r#"aws_security_group.this["api"]"#,
            sg_attrs(
                &api,
                &vpc,
                "api",
                vec![sg_block("tcp", 22, 22, &["0.0.0.0/0"])],
                vec![],
            ),
        );
    m.revoke_in(&web, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), FOR_EACH_TF).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    let run = fix(&m, &e, &["--write", "--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"][0]["line"], 4, "{doc:#}");
    assert!(
        doc["fixes"][0]["summary"]
            .as_str()
            .unwrap()
            .ends_with("(in each.value.ssh ← for_each[\"web\"])"),
        "{doc:#}"
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        FOR_EACH_TF.replace(
            "ssh = [\"0.0.0.0/0\", \"10.0.0.0/8\"] # office",
            "ssh = [\"10.0.0.0/8\"] # office"
        )
    );

    // api's only peer revoked: the ingress block would go, and it is every instance's.
    m.revoke_in(&api, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let run = fix_only(&m, &e, r#"aws_security_group.this["api"]"#);
    only_manual(&run, "every instance of its `for_each` shares");

    // The entry's list read twice in the block (ingress and egress): web's range cannot leave
    // it without leaving the egress rule too; api's block would go for every instance.
    let twice = FOR_EACH_TF.replace(
        "  }\n}\n",
        "  }\n\n  egress {\n    from_port   = 22\n    to_port     = 22\n    protocol    = \"tcp\"\n    cidr_blocks = each.value.ssh\n  }\n}\n",
    );
    std::fs::write(e.code.join("main.tf"), &twice).unwrap();
    let run = fix_only(&m, &e, r#"aws_security_group.this["web"]"#);
    only_manual(&run, "each.value.ssh is read more than once");
    let run = fix_only(&m, &e, r#"aws_security_group.this["api"]"#);
    only_manual(&run, "every instance of its `for_each` shares");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        twice
    );
}

/// An `aws_security_group_rule` letting TCP `port` in from `cidrs`, under its own id.
fn ingress_rule(sg: &str, id: &str, port: i64, cidrs: &[&str]) -> Value {
    let mut a = sg_rule_attrs("ingress", sg, "tcp", port, port, cidrs);
    a["id"] = Value::from(id);
    a
}

const RULES_TF: &str = r#"locals {
  # Who may reach the admin group, by port.
  admin_rules = {
    rdp = { port = 3389, cidrs = ["0.0.0.0/0"] } # opened during the outage
    ssh = {
      port  = 22
      cidrs = ["10.0.0.0/8"]
    }
  }
}

resource "aws_security_group_rule" "admin" {
  for_each          = local.admin_rules
  type              = "ingress"
  security_group_id = var.admin_group
  from_port         = each.value.port
  to_port           = each.value.port
  protocol          = "tcp"
  cidr_blocks       = each.value.cidrs
}

resource "aws_security_group_rule" "https" {
  for_each          = toset(["0.0.0.0/0", "10.0.0.0/8"])
  type              = "ingress"
  security_group_id = var.admin_group
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = [each.value]
}

output "rule_ids" {
  value = values(aws_security_group_rule.https)[*].id
}
"#;

/// Rule resources under `for_each`, one instance revoked in the console: its entry leaves the
/// map (a `locals` value) or the `toset` list, the other instances' entries stay, and no
/// `removed` block is written (it cannot name one instance; the plan forgets an object gone). A
/// reference to that very instance keeps it (manual); one to the whole resource does not.
#[tokio::test]
async fn for_each_instances_revoked_by_hand_leave_their_entry() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let admin = m.group(&vpc, "admin").await;
    let rule = |id: &str, port: i64, cidr: &str| ingress_rule(&admin, id, port, &[cidr]);
    let state = State::new()
        .add(
            "aws_security_group.admin",
            sg_attrs(&admin, &vpc, "admin", vec![], vec![]),
        )
        .add(
            r#"aws_security_group_rule.admin["rdp"]"#,
            rule("sgrule-rdp", 3389, "0.0.0.0/0"),
        )
        .add(
            r#"aws_security_group_rule.admin["ssh"]"#,
            rule("sgrule-ssh", 22, "10.0.0.0/8"),
        )
        .add(
            r#"aws_security_group_rule.https["0.0.0.0/0"]"#,
            rule("sgrule-https-any", 443, "0.0.0.0/0"),
        )
        .add(
            r#"aws_security_group_rule.https["10.0.0.0/8"]"#,
            rule("sgrule-https-office", 443, "10.0.0.0/8"),
        );
    // Only the narrow rules are left live.
    m.allow_in(&admin, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    m.allow_in(&admin, perm("tcp", 443, 443, "10.0.0.0/8"))
        .await;
    let e = estate_of(&state, RULES_TF);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let fixes = doc["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2, "{doc:#}");
    let summary = |addr: &str| {
        fixes
            .iter()
            .find(|f| f["address"] == addr)
            .and_then(|f| f["summary"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        summary(r#"aws_security_group_rule.admin["rdp"]"#)
            .contains("its `for_each` entry \"rdp\" goes"),
        "{doc:#}"
    );
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert_eq!(
        written,
        RULES_TF
            .replace(
                "    rdp = { port = 3389, cidrs = [\"0.0.0.0/0\"] } # opened during the outage\n",
                ""
            )
            .replace(
                "toset([\"0.0.0.0/0\", \"10.0.0.0/8\"])",
                "toset([\"10.0.0.0/8\"])"
            )
    );
    assert!(hcl_edit::parser::parse_body(&written).is_ok());
    // Before the apply, a second run finds the instances no longer declared: nothing to write.
    let again = fix_json(&m, &e, &[]);
    assert_eq!(again["fixes"], serde_json::json!([]), "{again:#}");
    assert_eq!(again["manual"], serde_json::json!([]), "{again:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        written
    );

    // Code that names the revoked instance itself, or an instance chosen by an expression
    // (which may be it): without its entry the plan would fail.
    for reference in [r#"["rdp"]"#, "[each.key]"] {
        let named = format!(
            "{RULES_TF}\nresource \"aws_ssm_parameter\" \"rule\" {{\n  for_each = toset([\"rdp\"])\n  name     = each.key\n  value    = aws_security_group_rule.admin{reference}.id\n}}\n"
        );
        std::fs::write(e.code.join("main.tf"), &named).unwrap();
        let run = fix_only(&m, &e, r#"aws_security_group_rule.admin["rdp"]"#);
        only_manual(&run, "other code of the module refers to");
    }
}

/// A range revoked by hand from a `for_each` rule whose port is read twice (`from_port` and
/// `to_port` of one `each.value.port`): the port is read to find the rule, and the range leaves
/// this instance's own list in the map.
#[tokio::test]
async fn for_each_rules_read_through_a_shared_field_are_narrowed_in_their_entry() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let admin = m.group(&vpc, "admin").await;
    let ssh = ingress_rule(&admin, "sgrule-ssh", 22, &["0.0.0.0/0", "10.0.0.0/8"]);
    let rdp = ingress_rule(&admin, "sgrule-rdp", 3389, &["10.0.0.0/8"]);
    let state = State::new()
        .add(
            "aws_security_group.admin",
            sg_attrs(&admin, &vpc, "admin", vec![], vec![]),
        )
        .add(r#"aws_security_group_rule.admin["ssh"]"#, ssh)
        .add(r#"aws_security_group_rule.admin["rdp"]"#, rdp);
    m.allow_in(&admin, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    m.allow_in(&admin, perm("tcp", 3389, 3389, "10.0.0.0/8"))
        .await;
    let tf = RULES_TF
        .replace(
            "    rdp = { port = 3389, cidrs = [\"0.0.0.0/0\"] } # opened during the outage\n",
            "    rdp = { port = 3389, cidrs = [\"10.0.0.0/8\"] }\n",
        )
        .replace(
            "cidrs = [\"10.0.0.0/8\"]\n",
            "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"]\n",
        );
    let tf = &tf[..tf
        .find("resource \"aws_security_group_rule\" \"https\"")
        .unwrap()];
    let e = estate_of(&state, tf);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        tf.replace(
            "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"]\n",
            "cidrs = [\"10.0.0.0/8\"]\n"
        )
    );
}

/// `for_each = { for r in local.rules : r.name => r }`, the usual way to key a list of rule
/// objects: an instance revoked by hand takes its element out of the list, and a range narrowed
/// by hand leaves its element's own list.
#[tokio::test]
async fn for_each_over_a_keyed_for_expression_edits_the_list_elements() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let admin = m.group(&vpc, "admin").await;
    let rule = |id: &str, port: i64, cidrs: &[&str]| ingress_rule(&admin, id, port, cidrs);
    let state = State::new()
        .add(
            "aws_security_group.admin",
            sg_attrs(&admin, &vpc, "admin", vec![], vec![]),
        )
        .add(
            r#"aws_security_group_rule.admin["ssh"]"#,
            rule("sgrule-ssh", 22, &["0.0.0.0/0", "10.0.0.0/8"]),
        )
        .add(
            r#"aws_security_group_rule.admin["rdp"]"#,
            rule("sgrule-rdp", 3389, &["0.0.0.0/0"]),
        );
    m.allow_in(&admin, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    let tf = "locals {\n  rules = [\n    { name = \"ssh\", port = 22, cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] },\n    # Opened during the outage.\n    { name = \"rdp\", port = 3389, cidrs = [\"0.0.0.0/0\"] },\n  ]\n}\n\nresource \"aws_security_group_rule\" \"admin\" {\n  for_each          = { for r in local.rules : r.name => r }\n  type              = \"ingress\"\n  security_group_id = var.admin_group\n  from_port         = each.value.port\n  to_port           = each.value.port\n  protocol          = \"tcp\"\n  cidr_blocks       = each.value.cidrs\n}\n";
    let e = estate_of(&state, tf);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 2, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        tf.replace(
            "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] }",
            "cidrs = [\"10.0.0.0/8\"] }"
        )
        .replace(
            "    # Opened during the outage.\n    { name = \"rdp\", port = 3389, cidrs = [\"0.0.0.0/0\"] },\n",
            ""
        )
    );
    // A filtered `for` is not the list itself: manual.
    let filtered = tf.replace(": r.name => r }", ": r.name => r if r.port != 0 }");
    std::fs::write(e.code.join("main.tf"), &filtered).unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    only_manual(&run, "`for` expression");
}

const LIST_LOCALS_TF: &str = r#"locals {
  office = "10.0.0.0/8"
}

resource "aws_security_group" "bastion" {
  name = "bastion"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0", local.office]
  }
}
"#;

/// A list mixing literals and a `local` element, read as what the local stands for: an element
/// revoked by hand that is written as a literal leaves the list; the one the local stands for
/// leaves it as the reference (the local itself is not changed).
#[tokio::test]
async fn list_elements_written_as_locals_are_read_as_their_value() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "bastion").await;
    let state = State::new().add(
        "aws_security_group.bastion",
        sg_attrs(
            &sg,
            &vpc,
            "bastion",
            vec![sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"])],
            vec![],
        ),
    );
    m.allow_in(&sg, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    let e = estate_of(&state, LIST_LOCALS_TF);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        LIST_LOCALS_TF.replace("[\"0.0.0.0/0\", local.office]", "[local.office]")
    );

    // The office range revoked instead: the reference leaves the list, the local stays.
    m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    m.revoke_in(&sg, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    std::fs::write(e.code.join("main.tf"), LIST_LOCALS_TF).unwrap();
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        LIST_LOCALS_TF.replace("[\"0.0.0.0/0\", local.office]", "[\"0.0.0.0/0\"]")
    );
}

/// Resources declared by a registry module: its code is not here, so every fix is manual at the
/// module's call (an object gone live too: that the index does not know the resource does not
/// mean the code stopped declaring it).
#[tokio::test]
async fn resources_of_a_registry_module_are_manual_at_its_call() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "web").await;
    m.allow_in(&sg, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    let state = State::new()
        .add(
            "module.web_sg.aws_security_group.this_name_prefix[0]",
            sg_attrs(
                &sg,
                &vpc,
                "web",
                vec![sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"])],
                vec![],
            ),
        )
        .add(
            // Deleted by hand.
            "module.web_sg.aws_security_group.this[0]",
            sg_attrs("sg-0123456789abcdef0", &vpc, "gone", vec![], vec![]),
        );
    let tf = "module \"web_sg\" {\n  source  = \"terraform-aws-modules/security-group/aws\"\n  version = \"5.1.0\"\n\n  name   = \"web\"\n  vpc_id = var.vpc_id\n}\n";
    let e = estate_of(&state, tf);
    // The deletion is accepted (its effect is unknown): it is written, or said, too.
    let doc = fix_json(&m, &e, &["--accept-weakening"]);
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    let manual = doc["manual"].as_array().unwrap();
    assert_eq!(manual.len(), 2, "{doc:#}");
    for item in manual {
        assert_eq!(item["file"], "infra/main.tf", "{doc:#}");
        assert_eq!(item["line"], 1, "{doc:#}");
        assert!(
            item["reason"].as_str().unwrap().starts_with(
                "module.web_sg comes from \"terraform-aws-modules/security-group/aws\""
            ),
            "{doc:#}"
        );
    }
    assert_eq!(std::fs::read_to_string(e.code.join("main.tf")).unwrap(), tf);
}

const DYNAMIC_TF: &str = r#"locals {
  # Who reaches the app, by port.
  ingress_rules = [
    {
      port  = 22
      cidrs = ["0.0.0.0/0", "10.0.0.0/8"] # office, and anyone for now
    },
    {
      port  = 3389
      cidrs = ["0.0.0.0/0"]
    },
    { port = 443, cidrs = ["0.0.0.0/0"] },
  ]
}

resource "aws_security_group" "app" {
  name   = "app"
  vpc_id = var.vpc_id

  dynamic "ingress" {
    for_each = local.ingress_rules
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidrs
    }
  }
}
"#;

/// The state of the group `DYNAMIC_TF` makes: SSH from anyone and the office, RDP and HTTPS
/// from anyone.
fn app_state(sg: &str, vpc: &str) -> State {
    State::new().add(
        "aws_security_group.app",
        sg_attrs(
            sg,
            vpc,
            "app",
            vec![
                sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"]),
                sg_block("tcp", 3389, 3389, &["0.0.0.0/0"]),
                sg_block("tcp", 443, 443, &["0.0.0.0/0"]),
            ],
            vec![],
        ),
    )
}

/// The group of `app_state` in moto, fixed by hand in the console: SSH from anyone and RDP
/// revoked, SSH from the office and HTTPS left.
async fn app_fixed_by_hand(m: &Moto) -> (String, State) {
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "app").await;
    let state = app_state(&sg, &vpc);
    m.allow_in(&sg, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    m.allow_in(&sg, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    (sg, state)
}

/// Inline rules made by a `dynamic` block over a literal list: a range revoked by hand leaves
/// its element's list, a rule revoked whole takes its element out, and the content every
/// element shares is not touched. A second run finds nothing left; a list read by another
/// block too is manual; an inline `for_each` list is edited where it is.
#[tokio::test]
async fn dynamic_blocks_over_literal_lists_are_fixed_in_their_elements() {
    let m = moto().await;
    let (_, state) = app_fixed_by_hand(&m).await;
    let e = estate_of(&state, DYNAMIC_TF);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let fixes = doc["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2, "{doc:#}");
    assert!(
        fixes.iter().all(|f| f["summary"]
            .as_str()
            .unwrap()
            .contains("local.ingress_rules[")),
        "{doc:#}"
    );
    let fixed = DYNAMIC_TF
        .replace(
            "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] # office",
            "cidrs = [\"10.0.0.0/8\"] # office",
        )
        .replace(
            "    {\n      port  = 3389\n      cidrs = [\"0.0.0.0/0\"]\n    },\n",
            "",
        );
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert_eq!(written, fixed);
    assert!(hcl_edit::parser::parse_body(&written).is_ok());
    let again = fix_json(&m, &e, &[]);
    assert_eq!(again["fixes"], serde_json::json!([]), "{again:#}");
    assert_eq!(again["manual"], serde_json::json!([]), "{again:#}");

    // The list read by another block too: its elements are not this group's alone.
    let shared = format!("{DYNAMIC_TF}\noutput \"rules\" {{\n  value = local.ingress_rules\n}}\n");
    std::fs::write(e.code.join("main.tf"), &shared).unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    only_manual(&run, "dynamic");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        shared
    );

    // The list written in the block itself, iterated under another name.
    let inline = "resource \"aws_security_group\" \"app\" {\n  name = \"app\"\n\n  dynamic \"ingress\" {\n    for_each = [\n      { port = 22, cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] },\n      { port = 3389, cidrs = [\"0.0.0.0/0\"] },\n      { port = 443, cidrs = [\"0.0.0.0/0\"] },\n    ]\n    iterator = rule\n    content {\n      from_port   = rule.value.port\n      to_port     = rule.value.port\n      protocol    = \"tcp\"\n      cidr_blocks = rule.value.cidrs\n    }\n  }\n}\n";
    std::fs::write(e.code.join("main.tf"), inline).unwrap();
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        inline
            .replace(
                "{ port = 22, cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] }",
                "{ port = 22, cidrs = [\"10.0.0.0/8\"] }"
            )
            .replace("      { port = 3389, cidrs = [\"0.0.0.0/0\"] },\n", "")
    );
}

/// `--harden` over a `dynamic` block, in sync with the cloud: SSH from the internet leaves its
/// element's list (narrowed to `--admin-cidr` it would be the element's list too), RDP's only
/// range takes its element out, HTTPS stays.
#[tokio::test]
async fn harden_edits_the_elements_of_a_dynamic_block() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "app").await;
    for (port, cidr) in [
        (22, "0.0.0.0/0"),
        (22, "10.0.0.0/8"),
        (3389, "0.0.0.0/0"),
        (443, "0.0.0.0/0"),
    ] {
        m.allow_in(&sg, perm("tcp", port, port, cidr)).await;
    }
    let state = app_state(&sg, &vpc);
    let e = estate_of(&state, DYNAMIC_TF);
    assert_eq!(fix_json(&m, &e, &[])["fixes"], serde_json::json!([]));
    let doc = fix_json(&m, &e, &["--harden"]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let actions = fix_lines(&doc, &["action"]);
    assert_eq!(actions, ["harden", "harden"], "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        DYNAMIC_TF
            .replace(
                "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] # office",
                "cidrs = [\"10.0.0.0/8\"] # office",
            )
            .replace(
                "    {\n      port  = 3389\n      cidrs = [\"0.0.0.0/0\"]\n    },\n",
                "",
            )
    );
    // Narrowed to the admins' range instead: written in each element's own list.
    std::fs::write(e.code.join("main.tf"), DYNAMIC_TF).unwrap();
    let doc = fix_json(&m, &e, &["--harden", "--admin-cidr", "192.0.2.0/24"]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    let content = &DYNAMIC_TF[DYNAMIC_TF.find("resource").unwrap()..];
    assert!(written.ends_with(content), "{written}");
    assert!(
        written.contains("      port  = 3389\n      cidrs = [\"192.0.2.0/24\"]\n"),
        "{written}"
    );
    assert_eq!(
        written.matches("0.0.0.0/0").count(),
        1,
        "only HTTPS's: {written}"
    );
}

/// `--harden`, with no drift at all: SSH and RDP from the internet go (or are narrowed to
/// `--admin-cidr`), rotation and Block Public Access are turned on; HTTPS from the internet is
/// not an admin port and stays. Each names the policy of its pattern.
#[tokio::test]
async fn harden_writes_the_well_known_patterns_without_drift() {
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    let m = moto().await;
    let vpc = m.vpc().await;
    let bastion = m.group(&vpc, "bastion").await;
    let admin = m.group(&vpc, "admin").await;
    m.allow_in(&bastion, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    m.allow_in(&bastion, perm("tcp", 443, 443, "0.0.0.0/0"))
        .await;
    m.allow_in(&admin, perm("tcp", 3389, 3389, "0.0.0.0/0"))
        .await;
    let kms = moto_client!(aws_sdk_kms, &m.url);
    let key = kms.create_key().description("data").send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    let key_id = meta.key_id().to_string();
    let policy = kms
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .to_string();
    let s3 = s3_client(&m);
    let bucket = unique("harden");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let logs = unique("logs");
    s3.create_bucket().bucket(&logs).send().await.unwrap();
    let state = State::new()
        .add(
            "aws_security_group.bastion",
            sg_attrs(
                &bastion,
                &vpc,
                "bastion",
                vec![
                    sg_block("tcp", 22, 22, &["0.0.0.0/0"]),
                    sg_block("tcp", 443, 443, &["0.0.0.0/0"]),
                ],
                vec![],
            ),
        )
        .add("aws_security_group.admin", sg_attrs(&admin, &vpc, "admin", vec![], vec![]))
        .add(
            "aws_security_group_rule.rdp",
            sg_rule_attrs("ingress", &admin, "tcp", 3389, 3389, &["0.0.0.0/0"]),
        )
        .add(
            "aws_kms_key.data",
            serde_json::json!({"arn": meta.arn(), "id": key_id, "key_id": key_id, "description": "data",
                "customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT",
                "enable_key_rotation": false, "is_enabled": true, "policy": policy, "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_s3_bucket_public_access_block.data",
            serde_json::json!({"id": bucket, "bucket": bucket, "block_public_acls": true,
                "block_public_policy": false, "ignore_public_acls": true, "restrict_public_buckets": true}),
        )
        .add(
            "aws_s3_bucket.logs",
            serde_json::json!({"arn": format!("arn:aws:s3:::{logs}"), "bucket": logs, "id": logs,
                "region": "us-east-1", "tags": {}}),
        );
    let tf = format!(
        r#"resource "aws_security_group" "bastion" {{
  name = "bastion"

  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}

  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

resource "aws_security_group" "admin" {{
  name = "admin"
}}

resource "aws_security_group_rule" "rdp" {{
  type              = "ingress"
  security_group_id = aws_security_group.admin.id
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}}

resource "aws_kms_key" "data" {{
  description = "data"
}}

resource "aws_s3_bucket_public_access_block" "data" {{
  bucket                  = "{bucket}"
  block_public_acls       = true
  block_public_policy     = false
  ignore_public_acls      = true
  restrict_public_buckets = true
}}

resource "aws_s3_bucket" "logs" {{
  bucket = "{logs}"
}}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), &tf).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    // In sync: nothing to fix without --harden.
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");

    let run = fix(&m, &e, &["--harden", "--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let fixes = doc["fixes"].as_array().unwrap();
    let of =
        |addr: &str| -> Vec<&Value> { fixes.iter().filter(|f| f["address"] == addr).collect() };
    assert!(fixes.iter().all(|f| f["action"] == "harden"), "{doc:#}");
    assert_eq!(fixes.len(), 5, "{doc:#}");
    assert_eq!(
        of("aws_s3_bucket.logs")[0]["policy"],
        "AWS-S3-PUBLIC-ACCESS-BLOCK-MISSING"
    );
    assert_eq!(
        of("aws_security_group.bastion")[0]["policy"],
        "AWS-SG-ADMIN-IPV4"
    );
    assert!(of("aws_security_group.bastion")[0]["references"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("CIS AWS Foundations v3.0.0 5.2")));
    assert_eq!(of("aws_security_group.bastion")[0]["severity"], "critical");
    assert_eq!(
        of("aws_security_group_rule.rdp")[0]["policy"],
        "AWS-SG-ADMIN-IPV4"
    );
    assert_eq!(of("aws_kms_key.data")[0]["policy"], "AWS-KMS-ROTATION-OFF");
    assert_eq!(
        of("aws_s3_bucket_public_access_block.data").len(),
        1,
        "{doc:#}"
    );

    let written = |extra: &[&str]| {
        std::fs::write(e.code.join("main.tf"), &tf).unwrap();
        let mut args = vec!["--harden", "--write", "--quiet"];
        args.extend_from_slice(extra);
        let run = fix(&m, &e, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        std::fs::read_to_string(e.code.join("main.tf")).unwrap()
    };
    let rdp = "resource \"aws_security_group_rule\" \"rdp\" {\n  type              = \"ingress\"\n  security_group_id = aws_security_group.admin.id\n  from_port         = 3389\n  to_port           = 3389\n  protocol          = \"tcp\"\n  cidr_blocks       = [\"0.0.0.0/0\"]\n}\n\n";
    let ssh = "  ingress {\n    from_port   = 22\n    to_port     = 22\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n\n";
    let common = |t: String| {
        t.replace(
            "  description = \"data\"\n",
            "  enable_key_rotation = true\n  description = \"data\"\n",
        )
        .replace(
            "block_public_policy     = false",
            "block_public_policy     = true",
        ) + "\nresource \"aws_s3_bucket_public_access_block\" \"logs\" {\n  bucket = aws_s3_bucket.logs.id\n\n  block_public_acls       = true\n  block_public_policy     = true\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}\n"
    };
    // Removed: the rule resource goes without a `removed` block (the apply revokes it).
    let removed = written(&[]);
    assert_eq!(removed, common(tf.replace(ssh, "").replace(rdp, "")));
    assert!(!removed.contains("removed {"));
    // Narrowed to the admin range.
    let narrowed = written(&["--admin-cidr", "203.0.113.0/24"]);
    assert_eq!(
        narrowed,
        common(
            tf.replace(ssh, &ssh.replace("0.0.0.0/0", "203.0.113.0/24"))
                .replace(rdp, &rdp.replace("0.0.0.0/0", "203.0.113.0/24"))
        )
    );
    // Once written, nothing is left to harden in the code.
    let run = fix(
        &m,
        &e,
        &[
            "--harden",
            "--admin-cidr",
            "203.0.113.0/24",
            "--format",
            "json",
            "--quiet",
        ],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    // Removed too: the rule resource is gone from the code, and nothing is asked by hand.
    let removed_again = {
        std::fs::write(e.code.join("main.tf"), &removed).unwrap();
        let run = fix(&m, &e, &["--harden", "--format", "json", "--quiet"]);
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    assert_eq!(
        removed_again["fixes"],
        serde_json::json!([]),
        "{removed_again:#}"
    );
    assert_eq!(
        removed_again["manual"],
        serde_json::json!([]),
        "{removed_again:#}"
    );
    // An admin range that is not one.
    let run = fix(&m, &e, &["--harden", "--admin-cidr", "0.0.0.0/0"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--admin-cidr 0.0.0.0/0"),
        "{}",
        run.stderr
    );
}

const IAM_TF: &str = r#"resource "aws_iam_policy" "app" {
  name = "app"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Read"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "arn:aws:s3:::app/*"
      },
      {
        # For the migration; remove afterwards.
        Effect   = "Allow"
        Action   = "s3:*"
        Resource = ["*"]
      }
    ]
  })
}

resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = <<-EOF
    {
      "Version": "2012-10-17",
      "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
      ]
    }
  EOF
}
"#;

/// IAM statements revoked in the console leave the document where the code writes it: a
/// `jsonencode` object and a JSON heredoc, matched by meaning (other order, other `Sid`s, a
/// string for a one-element list).
#[tokio::test]
async fn iam_statements_revoked_by_hand_leave_the_document() {
    let m = moto().await;
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let name = unique("app");
    let both = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app/*"},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let policy = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(both)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    let role = unique("app");
    let created = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role_arn = created.role().unwrap().arn().to_string();
    let state = State::new()
        .add(
            "aws_iam_policy.app",
            serde_json::json!({"arn": arn, "id": arn, "name": name, "path": "/", "description": "",
                   "policy": both, "policy_id": "ANPA0", "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_role.app",
            serde_json::json!({"arn": role_arn, "id": role, "name": role, "path": "/", "assume_role_policy": trust,
                   "managed_policy_arns": [], "inline_policy": [], "permissions_boundary": null,
                   "max_session_duration": 3600, "tags": {}, "tags_all": {}}),
        );
    // The console: the migration grant and the account's trust revoked.
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app/*"}]}"#)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.update_assume_role_policy()
        .role_name(&role)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), IAM_TF).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    let run = fix(&m, &e, &["--write", "--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 2, "{doc:#}");
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let fixed = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    let want = IAM_TF
        .replace(
            "      {\n        # For the migration; remove afterwards.\n        Effect   = \"Allow\"\n        Action   = \"s3:*\"\n        Resource = [\"*\"]\n      }\n",
            "",
        )
        .replace(
            ",\n        {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:root\"}, \"Action\": \"sts:AssumeRole\"}",
            "",
        );
    assert_eq!(fixed, want);
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");

    // The document in a `locals` value, encoded with `jsonencode(local.app_policy)`: the
    // statement leaves the local, where it is written.
    let role_tf = &want[want.find("resource \"aws_iam_role\"").unwrap()..];
    let local_tf = format!(
        "locals {{\n  app_policy = {{\n    Version = \"2012-10-17\"\n    Statement = [\n      {{ Sid = \"Read\", Effect = \"Allow\", Action = [\"s3:GetObject\"], Resource = \"arn:aws:s3:::app/*\" }},\n      {{ Effect = \"Allow\", Action = \"s3:*\", Resource = [\"*\"] }}, # the migration\n    ]\n  }}\n}}\n\nresource \"aws_iam_policy\" \"app\" {{\n  name   = \"app\"\n  policy = jsonencode(local.app_policy)\n}}\n\n{role_tf}"
    );
    std::fs::write(e.code.join("main.tf"), &local_tf).unwrap();
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert!(
        doc["fixes"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("local.app_policy"),
        "{doc:#}"
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        local_tf.replace(
            "      { Effect = \"Allow\", Action = \"s3:*\", Resource = [\"*\"] }, # the migration\n",
            ""
        )
    );
}

const OPS_DATA_TF: &str = r#"data "aws_iam_policy_document" "ops" {
  statement {
    sid       = "Describe"
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
  }

  # Break-glass during INC-42.
  statement {
    effect    = "Allow"
    actions   = ["ec2:TerminateInstances", "ec2:StopInstances"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = ["us-east-1"]
    }
  }
}
"#;

/// A statement revoked by hand from a policy the code renders with
/// `data "aws_iam_policy_document"` (in another file of the module): its `statement` block goes.
/// A data source that two resources read is manual.
#[tokio::test]
async fn statements_leave_the_policy_document_data_source() {
    let m = moto().await;
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let name = unique("ops");
    // As Terraform renders the data source.
    let both = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Describe","Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"},{"Effect":"Allow","Action":["ec2:TerminateInstances","ec2:StopInstances"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#;
    let policy = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(both)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    let state = State::new().add(
        "aws_iam_policy.ops",
        serde_json::json!({"arn": arn, "id": arn, "name": name, "path": "/", "description": "",
               "policy": both, "policy_id": "ANPA1", "tags": {}, "tags_all": {}}),
    );
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Describe","Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}"#)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    let main_tf = "resource \"aws_iam_policy\" \"ops\" {\n  name   = \"ops\"\n  policy = data.aws_iam_policy_document.ops.json\n}\n";
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), main_tf).unwrap();
    std::fs::write(code.join("policies.tf"), OPS_DATA_TF).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };
    let run = fix(&m, &e, &["--write", "--format", "json", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"][0]["file"], "infra/policies.tf", "{doc:#}");
    assert_eq!(doc["fixes"][0]["line"], 8, "{doc:#}");
    let start = OPS_DATA_TF.find("  # Break-glass").unwrap();
    let end = OPS_DATA_TF.rfind("  }\n}").unwrap() + "  }\n".len();
    let want = format!("{}{}", &OPS_DATA_TF[..start], &OPS_DATA_TF[end..]);
    assert_eq!(
        std::fs::read_to_string(e.code.join("policies.tf")).unwrap(),
        want.replace("  }\n\n}", "  }\n}")
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        main_tf
    );

    // Read by a second policy too: changing it would change both.
    std::fs::write(e.code.join("policies.tf"), OPS_DATA_TF).unwrap();
    std::fs::write(
        e.code.join("main.tf"),
        format!("{main_tf}\nresource \"aws_iam_policy\" \"ops_copy\" {{\n  policy = data.aws_iam_policy_document.ops.json\n}}\n"),
    )
    .unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    only_manual(&run, "is read 2 times");

    // One data source read by every instance of a `for_each`: not this instance's own.
    let keyed = serde_json::from_str::<Value>(&std::fs::read_to_string(&e.state).unwrap()).unwrap()
        ["resources"][0]["instances"][0]["attributes"]
        .clone();
    let state = State::new().add(r#"aws_iam_policy.ops["a"]"#, keyed);
    std::fs::write(&e.state, state.json().to_string()).unwrap();
    std::fs::write(
        e.code.join("main.tf"),
        "resource \"aws_iam_policy\" \"ops\" {\n  for_each = { a = {} }\n  policy   = data.aws_iam_policy_document.ops.json\n}\n",
    )
    .unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    only_manual(&run, "is read by every instance of the block's `for_each`");
}

/// Buckets whose ACL and encryption were fixed by hand. A provider v3 `aws_s3_bucket` declares
/// its policy, encryption and ACL in one block: each drift is written by the family whose view
/// it is of (the encryption and ACL families, not the first family of the type). A canned ACL
/// becomes the canned ACL of every grant that drifted together; an `access_control_policy`
/// loses the grant block revoked live; a grant added live is accepted as a canned ACL.
#[tokio::test]
async fn bucket_acls_and_legacy_bucket_settings_fixed_by_hand() {
    use aws_sdk_s3::types::{
        AccessControlPolicy, BucketCannedAcl, Grant, Grantee, Owner, Permission,
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule, Type,
    };
    let m = moto().await;
    let s3 = s3_client(&m);
    let names: Vec<String> = ["legacy", "pair", "logs", "site"]
        .iter()
        .map(|n| unique(&format!("fix-acl-{n}")))
        .collect();
    for b in &names {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let (legacy, pair, logs, site) = (&names[0], &names[1], &names[2], &names[3]);
    let owner = s3
        .get_bucket_acl()
        .bucket(logs)
        .send()
        .await
        .unwrap()
        .owner()
        .and_then(|o| o.id())
        .unwrap()
        .to_string();
    const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
    const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
    let sse = |alg: ServerSideEncryption| {
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(alg)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap()
    };
    let grant = |uri: Option<&str>, id: Option<&str>, p: Permission| {
        let grantee = match (uri, id) {
            (Some(u), _) => Grantee::builder().r#type(Type::Group).uri(u),
            (_, Some(i)) => Grantee::builder().r#type(Type::CanonicalUser).id(i),
            _ => unreachable!(),
        };
        Grant::builder()
            .grantee(grantee.build().unwrap())
            .permission(p)
            .build()
    };
    // The console: the legacy bucket made private and its encryption raised to SSE-KMS, the
    // public-read-write bucket made private, the log bucket's public read revoked, and the
    // private site bucket made public (an incident change to keep, with --accept-weakening).
    s3.put_bucket_encryption()
        .bucket(legacy)
        .server_side_encryption_configuration(sse(ServerSideEncryption::AwsKms))
        .send()
        .await
        .unwrap();
    for (b, acl) in [
        (legacy, BucketCannedAcl::Private),
        (pair, BucketCannedAcl::Private),
        (site, BucketCannedAcl::PublicRead),
    ] {
        s3.put_bucket_acl().bucket(b).acl(acl).send().await.unwrap();
    }
    s3.put_bucket_acl()
        .bucket(logs)
        .access_control_policy(
            AccessControlPolicy::builder()
                .owner(Owner::builder().id(&owner).build())
                .grants(grant(None, Some(&owner), Permission::FullControl))
                .grants(grant(Some(LOG_DELIVERY), None, Permission::Write))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let acp_grant = |uri: Option<&str>, id: Option<&str>, p: &str| {
        serde_json::json!({"grantee": [{"display_name": "", "email_address": "", "id": id.unwrap_or(""),
            "type": if uri.is_some() { "Group" } else { "CanonicalUser" }, "uri": uri.unwrap_or("")}], "permission": p})
    };
    let state = State::new()
        .add(
            "aws_s3_bucket.legacy",
            serde_json::json!({"arn": format!("arn:aws:s3:::{legacy}"), "bucket": legacy, "id": legacy,
                "region": "us-east-1", "acl": "public-read", "force_destroy": false, "grant": [], "tags": {},
                "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default":
                    [{"kms_master_key_id": "", "sse_algorithm": "AES256"}], "bucket_key_enabled": false}]}]}),
        )
        .add(
            "aws_s3_bucket_acl.pair",
            serde_json::json!({"id": format!("{pair},public-read-write"), "bucket": pair, "acl": "public-read-write", "expected_bucket_owner": ""}),
        )
        .add(
            "aws_s3_bucket_acl.logs",
            serde_json::json!({"id": logs, "bucket": logs, "acl": null, "expected_bucket_owner": "",
                "access_control_policy": [{"owner": [{"id": owner, "display_name": ""}], "grant": [
                    acp_grant(None, Some(&owner), "FULL_CONTROL"),
                    acp_grant(Some(LOG_DELIVERY), None, "WRITE"),
                    acp_grant(Some(ALL_USERS), None, "READ")]}]}),
        )
        .add(
            "aws_s3_bucket_acl.site",
            serde_json::json!({"id": format!("{site},private"), "bucket": site, "acl": "private", "expected_bucket_owner": ""}),
        );
    let tf = format!(
        r#"resource "aws_s3_bucket" "legacy" {{
  bucket = "{legacy}"
  acl    = "public-read" # the old website

  server_side_encryption_configuration {{
    rule {{
      apply_server_side_encryption_by_default {{
        sse_algorithm = "AES256"
      }}
    }}
  }}
}}

resource "aws_s3_bucket_acl" "pair" {{
  bucket = "{pair}"
  acl    = "public-read-write"
}}

resource "aws_s3_bucket_acl" "logs" {{
  bucket = "{logs}"

  access_control_policy {{
    grant {{
      grantee {{
        id   = "{owner}"
        type = "CanonicalUser"
      }}
      permission = "FULL_CONTROL"
    }}

    grant {{
      grantee {{
        type = "Group"
        uri  = "{LOG_DELIVERY}"
      }}
      permission = "WRITE"
    }}

    # Public listing, for the status page.
    grant {{
      grantee {{
        type = "Group"
        uri  = "{ALL_USERS}"
      }}
      permission = "READ"
    }}

    owner {{
      id = "{owner}"
    }}
  }}
}}

resource "aws_s3_bucket_acl" "site" {{
  bucket = "{site}"
  acl    = "private"
}}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), &tf).unwrap();
    let e = Estate {
        state: state.write(dir.path(), "terraform.tfstate"),
        code,
        _dir: dir,
    };

    // `check` says where a fix exists, for each drifted grant (two drifts, one canned ACL).
    let run = driftgate_at(
        e.code.parent().unwrap(),
        &m.url,
        &[
            "check",
            "--state",
            e.state.to_str().unwrap(),
            "--source-dir",
            "infra",
            "--format",
            "json",
        ],
        None,
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<String> = run
        .drifts()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["address"].as_str().unwrap(),
                d["attribute"].as_str().unwrap_or("-"),
                d["fix"]
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "aws_s3_bucket.legacy grant \"codify\"",
            "aws_s3_bucket.legacy sse_algorithm \"codify\"",
            "aws_s3_bucket_acl.logs grant \"codify\"",
            "aws_s3_bucket_acl.pair grant \"codify\"",
            "aws_s3_bucket_acl.pair grant \"codify\"",
            "aws_s3_bucket_acl.site grant \"accept\"",
        ],
        "{}",
        run.stdout
    );

    let run = fix(
        &m,
        &e,
        &[
            "--accept-weakening",
            "--format",
            "json",
            "--write",
            "--quiet",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let mut fixes = fix_lines(&doc, &["address", "action", "summary"]);
    fixes.sort();
    assert_eq!(
        fixes,
        [
            "aws_s3_bucket.legacy codify acl = \"private\"",
            "aws_s3_bucket.legacy codify sse_algorithm = \"aws:kms\"",
            "aws_s3_bucket_acl.logs codify no grant READ to AllUsers",
            "aws_s3_bucket_acl.pair codify acl = \"private\"",
            "aws_s3_bucket_acl.site accept acl = \"public-read\"",
        ],
        "{doc:#}"
    );
    let public_read = format!(
        r#"

    # Public listing, for the status page.
    grant {{
      grantee {{
        type = "Group"
        uri  = "{ALL_USERS}"
      }}
      permission = "READ"
    }}"#
    );
    let want = tf
        .replace(
            "acl    = \"public-read\" # the old website",
            "acl    = \"private\" # the old website",
        )
        .replace("sse_algorithm = \"AES256\"", "sse_algorithm = \"aws:kms\"")
        .replace("acl    = \"public-read-write\"", "acl    = \"private\"")
        .replace(&public_read, "")
        .replace(
            &format!("bucket = \"{site}\"\n  acl    = \"private\""),
            &format!("bucket = \"{site}\"\n  acl    = \"public-read\""),
        );
    assert_ne!(want, tf);
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        want
    );

    // The code now says what is live: nothing left to write.
    let run = fix(
        &m,
        &e,
        &["--accept-weakening", "--format", "json", "--quiet"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            doc["fixes"].as_array().unwrap().len(),
            doc["manual"].as_array().unwrap().len()
        ),
        (0, 0),
        "{doc:#}"
    );
}

/// Managed policies detached by hand leave the code where it declares them: a role's
/// `managed_policy_arns` loses the ARN, a user's `aws_iam_user_policy_attachment` goes (with a
/// `removed` block), an `aws_iam_policy_attachment` keeps its other roles; a permissions
/// boundary set by hand becomes the role's. One attached by hand and accepted joins the list on
/// a line of its own; what was written already is not written again.
#[tokio::test]
async fn managed_policies_detached_by_hand_leave_the_code() {
    let m = moto().await;
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let doc = |action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    let (mut arns, mut names) = (Vec::new(), Vec::new());
    for (name, action) in [
        ("read", "s3:GetObject"),
        ("admin", "*"),
        ("audit", "cloudtrail:LookupEvents"),
    ] {
        names.push(unique(name));
        let p = iam
            .create_policy()
            .policy_name(names.last().unwrap())
            .policy_document(doc(action))
            .send()
            .await
            .unwrap();
        arns.push(p.policy().unwrap().arn().unwrap().to_string());
    }
    let (read, admin, audit) = (arns[0].clone(), arns[1].clone(), arns[2].clone());
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let (app, worker, batch, user) = (
        unique("app"),
        unique("worker"),
        unique("batch"),
        unique("ci"),
    );
    let mut role_arns = Vec::new();
    for role in [&app, &worker, &batch] {
        let r = iam
            .create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        role_arns.push(r.role().unwrap().arn().to_string());
    }
    let user_arn = iam
        .create_user()
        .user_name(&user)
        .send()
        .await
        .unwrap()
        .user()
        .unwrap()
        .arn()
        .to_string();
    for (role, arn) in [
        (&app, &read),
        (&app, &admin),
        (&worker, &admin),
        (&batch, &admin),
    ] {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&read)
        .send()
        .await
        .unwrap();
    let role_state = |name: &str, arn: &str, managed: Vec<&String>| {
        serde_json::json!({"arn": arn, "id": name, "name": name, "path": "/", "assume_role_policy": trust,
               "managed_policy_arns": managed, "inline_policy": [], "permissions_boundary": null,
               "max_session_duration": 3600, "tags": {}, "tags_all": {}})
    };
    let state = State::new()
        .add("aws_iam_role.app", role_state(&app, &role_arns[0], vec![&read, &admin]))
        .add("aws_iam_role.worker", role_state(&worker, &role_arns[1], vec![]))
        .add("aws_iam_role.batch", role_state(&batch, &role_arns[2], vec![]))
        .add(
            "aws_iam_user.ci",
            serde_json::json!({"arn": user_arn, "id": user, "name": user, "path": "/", "permissions_boundary": null,
                   "force_destroy": false, "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_user_policy_attachment.ci",
            serde_json::json!({"id": format!("{user}-1"), "user": user, "policy_arn": read}),
        )
        .add(
            "aws_iam_policy.audit",
            serde_json::json!({"arn": audit, "id": audit, "name": names[2], "path": "/", "description": "",
                   "policy": doc("cloudtrail:LookupEvents"), "policy_id": "ANPA1", "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_policy_attachment.admins",
            serde_json::json!({"id": "admins", "name": "admins", "policy_arn": admin, "roles": [worker, batch],
                   "users": [], "groups": []}),
        );
    // The console: admin off the app and the worker, the CI user's read detached, a boundary
    // put on the app.
    for (role, arn) in [(&app, &admin), (&worker, &admin)] {
        iam.detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    iam.detach_user_policy()
        .user_name(&user)
        .policy_arn(&read)
        .send()
        .await
        .unwrap();
    iam.put_role_permissions_boundary()
        .role_name(&app)
        .permissions_boundary(&audit)
        .send()
        .await
        .unwrap();
    let role_tf = |label: &str, name: &str, rest: &str| {
        format!("resource \"aws_iam_role\" \"{label}\" {{\n  name               = \"{name}\"\n  assume_role_policy = jsonencode({{\n    Version   = \"2012-10-17\"\n    Statement = [{{ Effect = \"Allow\", Principal = {{ Service = \"ec2.amazonaws.com\" }}, Action = \"sts:AssumeRole\" }}]\n  }})\n{rest}}}\n")
    };
    let app_tf = |list: &str| {
        role_tf(
            "app",
            &app,
            &format!("\n  managed_policy_arns = [\n{list}  ]\n"),
        )
    };
    let rest = format!(
        "\n{}\n{}\nresource \"aws_iam_user\" \"ci\" {{\n  name = \"{user}\"\n}}\n\n# CI reads the artifacts.\nresource \"aws_iam_user_policy_attachment\" \"ci\" {{\n  user       = aws_iam_user.ci.name\n  policy_arn = \"{read}\"\n}}\n\nresource \"aws_iam_policy_attachment\" \"admins\" {{\n  name       = \"admins\"\n  policy_arn = \"{admin}\"\n  roles      = [aws_iam_role.worker.name, aws_iam_role.batch.name]\n}}\n",
        role_tf("worker", &worker, ""),
        role_tf("batch", &batch, "")
    );
    let tf = format!(
        "{}{rest}",
        app_tf(&format!(
            "    \"{read}\",\n    \"{admin}\", # until the migration is done\n"
        ))
    );
    let e = estate_of(&state, &tf);
    let doc = fix_json(&m, &e, &[]);
    let mut fixes = fix_lines(&doc, &["address", "action"]);
    fixes.sort();
    assert_eq!(
        fixes,
        [
            "aws_iam_policy_attachment.admins codify",
            "aws_iam_role.app codify",
            "aws_iam_role.app codify",
            "aws_iam_user_policy_attachment.ci codify",
        ],
        "{doc:#}"
    );
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    let app_fixed = app_tf(&format!("    \"{read}\",\n")).replace(
        "  name               = ",
        &format!("  permissions_boundary = \"{audit}\"\n  name               = "),
    );
    let want = format!(
        "{app_fixed}\n{}\n{}\nresource \"aws_iam_user\" \"ci\" {{\n  name = \"{user}\"\n}}\n\nresource \"aws_iam_policy_attachment\" \"admins\" {{\n  name       = \"admins\"\n  policy_arn = \"{admin}\"\n  roles      = [aws_iam_role.batch.name]\n}}\n\nremoved {{\n  from = aws_iam_user_policy_attachment.ci\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
        role_tf("worker", &worker, ""),
        role_tf("batch", &batch, "")
    );
    assert_eq!(written, want);

    // Later, audit attached to the app by hand and accepted: a line of its own in the list; the
    // fixes above are in the code already and are not written again.
    iam.attach_role_policy()
        .role_name(&app)
        .policy_arn(&audit)
        .send()
        .await
        .unwrap();
    let doc = fix_json(&m, &e, &["--accept-weakening"]);
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["fixes"][0]["action"], "accept", "{doc:#}");
    let accepted = want.replace(
        &format!("    \"{read}\",\n"),
        &format!("    \"{read}\",\n    aws_iam_policy.audit.arn,\n"),
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        accepted
    );

    // The admin policy detached from its last role by hand: the provider wants a principal at
    // least and drops an attachment that lists nobody, so the block goes (with a `removed`
    // block) rather than keeping `roles = []`.
    iam.detach_role_policy()
        .role_name(&batch)
        .policy_arn(&admin)
        .send()
        .await
        .unwrap();
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert!(
        !written.contains("resource \"aws_iam_policy_attachment\" \"admins\""),
        "{written}"
    );
    assert!(
        written.contains("removed {\n  from = aws_iam_policy_attachment.admins\n"),
        "{written}"
    );
    assert!(hcl_edit::parser::parse_body(&written).is_ok());
}

/// Objects deleted in the console, accepted: the code stops declaring them (a `removed` block
/// for each), whatever their family; one that other code still refers to stays, manual at the
/// reference, since without its block the plan would fail.
#[tokio::test]
async fn objects_deleted_by_hand_and_accepted_leave_the_code_unless_referenced() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let (old, db) = (m.group(&vpc, "old").await, m.group(&vpc, "db").await);
    let state = State::new()
        .add(
            "aws_security_group.old",
            sg_attrs(&old, &vpc, "old", vec![], vec![]),
        )
        .add(
            "aws_security_group.db",
            sg_attrs(&db, &vpc, "db", vec![], vec![]),
        );
    for sg in [&old, &db] {
        m.ec2
            .delete_security_group()
            .group_id(sg)
            .send()
            .await
            .unwrap();
    }
    // The old group's one inline rule goes with its block (not left behind as `ingress = []`).
    let tf = format!("resource \"aws_security_group\" \"old\" {{\n  name   = \"old\"\n  vpc_id = \"{vpc}\"\n\n  ingress {{\n    from_port   = 22\n    to_port     = 22\n    protocol    = \"tcp\"\n    cidr_blocks = [\"10.0.0.0/8\"]\n  }}\n}}\n\nresource \"aws_security_group\" \"db\" {{\n  name   = \"db\"\n  vpc_id = \"{vpc}\"\n}}\n\nresource \"aws_instance\" \"db\" {{\n  ami                    = \"ami-12c6146b\"\n  instance_type          = \"t3.micro\"\n  vpc_security_group_ids = [aws_security_group.db.id]\n}}\n");
    let e = estate_of(&state, &tf);
    // Without --accept-weakening a deletion is the gate's to judge: nothing is written.
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    let doc = fix_json(&m, &e, &["--accept-weakening"]);
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["fixes"][0]["address"], "aws_security_group.old");
    assert_eq!(doc["fixes"][0]["action"], "accept");
    assert_eq!(doc["manual"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["manual"][0]["address"], "aws_security_group.db");
    assert_eq!(doc["manual"][0]["line"], 21, "{doc:#}");
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    let kept = &tf[tf.find("resource \"aws_security_group\" \"db\"").unwrap()..];
    assert_eq!(
        written,
        format!("{kept}\nremoved {{\n  from = aws_security_group.old\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n")
    );
}

const SWITCHED_ROOT: &str = r#"module "edge" {
  source = "./modules/sg"
  count  = var.enabled ? 1 : 0

  ssh_cidrs = ["0.0.0.0/0", "10.0.0.0/8"] # narrow once the VPN is up
}
"#;

const SWITCHED_MODULE: &str = r#"variable "create" {
  type    = bool
  default = true
}

variable "ssh_cidrs" {
  type = list(string)
}

variable "web_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0", "192.0.2.0/24"]
}

# One switch for the module's resources, the way public modules are written.
resource "aws_security_group" "this" {
  count = var.create ? 1 : 0
  name  = "edge"
}

resource "aws_security_group_rule" "ssh" {
  count             = var.create ? 1 : 0
  type              = "ingress"
  security_group_id = aws_security_group.this[0].id
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = var.ssh_cidrs
}

resource "aws_security_group_rule" "rdp" {
  count             = var.create ? 1 : 0
  type              = "ingress"
  security_group_id = aws_security_group.this[0].id
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group_rule" "web" {
  count             = length(var.web_cidrs)
  type              = "ingress"
  security_group_id = aws_security_group.this[0].id
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = [var.web_cidrs[count.index]]
}
"#;

/// `count = var.create ? 1 : 0` on a module call and on its resources (every public module's
/// switch) makes at most one instance: its literals are that instance's alone, so the console
/// fixes are written as for a block without `count`: in the call's argument, the rule resource
/// removed. A `count` over a list feeds many instances: manual at the `count`, and removing one
/// instance would shift the others' indexes.
#[tokio::test]
async fn count_switches_of_one_instance_are_fixed_like_single_blocks() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let edge = m.group(&vpc, "edge").await;
    m.allow_in(&edge, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    m.allow_in(&edge, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    let state = State::new()
        .add(
            "module.edge[0].aws_security_group.this[0]",
            sg_attrs(&edge, &vpc, "edge", vec![], vec![]),
        )
        .add(
            "module.edge[0].aws_security_group_rule.ssh[0]",
            ingress_rule(&edge, "sgrule-ssh", 22, &["0.0.0.0/0", "10.0.0.0/8"]),
        )
        .add(
            "module.edge[0].aws_security_group_rule.rdp[0]",
            ingress_rule(&edge, "sgrule-rdp", 3389, &["0.0.0.0/0"]),
        )
        .add(
            "module.edge[0].aws_security_group_rule.web[0]",
            ingress_rule(&edge, "sgrule-web-any", 443, &["0.0.0.0/0"]),
        )
        .add(
            "module.edge[0].aws_security_group_rule.web[1]",
            ingress_rule(&edge, "sgrule-web-doc", 443, &["192.0.2.0/24"]),
        );
    let e = estate_with_module(&state, SWITCHED_ROOT, ("sg", SWITCHED_MODULE));
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(
        places(&doc, "fixes"),
        [
            place(
                "module.edge[0].aws_security_group_rule.rdp[0]",
                "infra/modules/sg/main.tf",
                31
            ),
            place(
                "module.edge[0].aws_security_group_rule.ssh[0]",
                "infra/main.tf",
                5
            ),
        ],
        "{doc:#}"
    );
    assert_eq!(
        places(&doc, "manual"),
        [place(
            "module.edge[0].aws_security_group_rule.web[1]",
            "infra/modules/sg/main.tf",
            42
        )],
        "{doc:#}"
    );
    let manual = doc["manual"].as_array().unwrap();
    assert!(
        manual[0]["reason"]
            .as_str()
            .unwrap()
            .contains("`count` over more than one instance"),
        "{doc:#}"
    );
    let root = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert_eq!(
        root,
        SWITCHED_ROOT.replace("[\"0.0.0.0/0\", \"10.0.0.0/8\"] #", "[\"10.0.0.0/8\"] #")
    );
    let module = std::fs::read_to_string(e.code.join("modules/sg/main.tf")).unwrap();
    let rdp = SWITCHED_MODULE
        .find("resource \"aws_security_group_rule\" \"rdp\"")
        .unwrap();
    let web = SWITCHED_MODULE
        .find("resource \"aws_security_group_rule\" \"web\"")
        .unwrap();
    assert_eq!(
        module,
        format!(
            "{}{}\nremoved {{\n  from = aws_security_group_rule.rdp\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
            &SWITCHED_MODULE[..rdp],
            &SWITCHED_MODULE[web..]
        )
    );
    assert!(hcl_edit::parser::parse_body(&module).is_ok());
}

const EACH_ROOT: &str = r#"locals {
  # One group per tier.
  groups = {
    web = {
      ssh_cidrs = ["0.0.0.0/0", "10.0.0.0/8"] # the office, and anyone until the VPN
      rules = {
        rdp   = { port = 3389, cidrs = ["0.0.0.0/0"] }
        https = { port = 443, cidrs = ["0.0.0.0/0"] }
      }
    }
    api = {
      ssh_cidrs = ["0.0.0.0/0"]
      rules     = {}
    }
  }
}

module "sg" {
  for_each = local.groups
  source   = "./modules/sg"

  name      = each.key
  ssh_cidrs = each.value.ssh_cidrs
  rules     = each.value.rules
}
"#;

const EACH_MODULE: &str = r#"variable "name" {
  type = string
}

variable "ssh_cidrs" {
  type = list(string)
}

variable "rules" {
  type = map(object({ port = number, cidrs = list(string) }))
}

resource "aws_security_group" "this" {
  name = var.name
}

resource "aws_security_group_rule" "ssh" {
  type              = "ingress"
  security_group_id = aws_security_group.this.id
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = var.ssh_cidrs
}

resource "aws_security_group_rule" "extra" {
  for_each          = var.rules
  type              = "ingress"
  security_group_id = aws_security_group.this.id
  from_port         = each.value.port
  to_port           = each.value.port
  protocol          = "tcp"
  cidr_blocks       = each.value.cidrs
}

resource "aws_security_group_rule" "icmp" {
  type              = "ingress"
  security_group_id = aws_security_group.this.id
  from_port         = -1
  to_port           = -1
  protocol          = "icmp"
  cidr_blocks       = ["10.0.0.0/8"]
}
"#;

/// A module called with `for_each` (one group per tier): what the call passes as `each.value`
/// is that instance's own, in its entry of the call's map, so a CIDR revoked by hand leaves the
/// entry's list and a rule revoked by hand leaves the entry's `rules`; the module's code is
/// every instance's, so a rule block that would go is manual.
#[tokio::test]
async fn a_module_called_with_for_each_is_fixed_in_its_instance_entry() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let web = m.group(&vpc, "web").await;
    let api = m.group(&vpc, "api").await;
    // Left live after the console fixes.
    m.allow_in(&web, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    m.allow_in(&web, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    let mut icmp = sg_rule_attrs("ingress", &web, "icmp", -1, -1, &["10.0.0.0/8"]);
    icmp["id"] = Value::from("sgrule-icmp");
    let state = State::new()
        .add(
            r#"module.sg["web"].aws_security_group.this"#,
            sg_attrs(&web, &vpc, "web", vec![], vec![]),
        )
        .add(
            r#"module.sg["web"].aws_security_group_rule.ssh"#,
            ingress_rule(&web, "sgrule-web-ssh", 22, &["0.0.0.0/0", "10.0.0.0/8"]),
        )
        .add(
            r#"module.sg["web"].aws_security_group_rule.extra["rdp"]"#,
            ingress_rule(&web, "sgrule-web-rdp", 3389, &["0.0.0.0/0"]),
        )
        .add(
            r#"module.sg["web"].aws_security_group_rule.extra["https"]"#,
            ingress_rule(&web, "sgrule-web-https", 443, &["0.0.0.0/0"]),
        )
        .add(r#"module.sg["web"].aws_security_group_rule.icmp"#, icmp)
        .add(
            r#"module.sg["api"].aws_security_group.this"#,
            sg_attrs(&api, &vpc, "api", vec![], vec![]),
        )
        .add(
            r#"module.sg["api"].aws_security_group_rule.ssh"#,
            ingress_rule(&api, "sgrule-api-ssh", 22, &["0.0.0.0/0"]),
        );
    let e = estate_with_module(&state, EACH_ROOT, ("sg", EACH_MODULE));
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(
        places(&doc, "fixes"),
        [
            place(
                r#"module.sg["web"].aws_security_group_rule.extra["rdp"]"#,
                "infra/main.tf",
                7
            ),
            place(
                r#"module.sg["web"].aws_security_group_rule.ssh"#,
                "infra/main.tf",
                5
            ),
        ],
        "{doc:#}"
    );
    assert_eq!(
        places(&doc, "manual"),
        [
            place(
                r#"module.sg["api"].aws_security_group_rule.ssh"#,
                "infra/modules/sg/main.tf",
                17
            ),
            place(
                r#"module.sg["web"].aws_security_group_rule.icmp"#,
                "infra/modules/sg/main.tf",
                36
            ),
        ],
        "{doc:#}"
    );
    for m in doc["manual"].as_array().unwrap() {
        assert!(
            m["reason"]
                .as_str()
                .unwrap()
                .contains("module.sg is called with `for_each`: its code is every instance's"),
            "{doc:#}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        EACH_ROOT
            .replace(
                "[\"0.0.0.0/0\", \"10.0.0.0/8\"] # the office",
                "[\"10.0.0.0/8\"] # the office"
            )
            .replace(
                "        rdp   = { port = 3389, cidrs = [\"0.0.0.0/0\"] }\n",
                ""
            )
    );
    assert_eq!(
        std::fs::read_to_string(e.code.join("modules/sg/main.tf")).unwrap(),
        EACH_MODULE
    );

    // A literal the call passes to every instance is not one instance's.
    let shared = EACH_ROOT.replace(
        "  ssh_cidrs = each.value.ssh_cidrs\n",
        "  ssh_cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"]\n",
    );
    std::fs::write(e.code.join("main.tf"), &shared).unwrap();
    let run = fix_only(&m, &e, r#"module.sg["web"].aws_security_group_rule.ssh"#);
    only_manual(
        &run,
        "what it passes other than `each.value` feeds every instance",
    );
    // A module per name of a set: the set's element is the instance's key, never edited.
    let per_name = "module \"sg\" {\n  for_each  = toset([\"web\"])\n  source    = \"./modules/sg\"\n  name      = each.key\n  ssh_cidrs = each.value\n  rules     = {}\n}\n";
    std::fs::write(e.code.join("main.tf"), per_name).unwrap();
    let run = fix_only(&m, &e, r#"module.sg["web"].aws_security_group_rule.ssh"#);
    only_manual(&run, "`each.value` of a set is the instance's key");
}

const EACH_DYNAMIC_TF: &str = r#"locals {
  groups = {
    web = {
      rules = [
        { port = 22, cidrs = ["0.0.0.0/0", "10.0.0.0/8"] }, # office, and anyone for now
        { port = 3389, cidrs = ["0.0.0.0/0"] },
        { port = 443, cidrs = ["0.0.0.0/0"] },
      ]
    }
  }
}

resource "aws_security_group" "tier" {
  for_each = local.groups
  name     = each.key

  dynamic "ingress" {
    for_each = each.value.rules
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidrs
    }
  }
}
"#;

/// A `dynamic` block over a list in the resource's own `for_each` entry (`each.value.rules`):
/// the elements are that instance's, so a CIDR revoked by hand leaves its element's list and a
/// rule revoked whole takes its element out; read by another attribute too, it is manual.
#[tokio::test]
async fn dynamic_blocks_over_the_instance_entry_are_fixed_in_its_elements() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "web").await;
    let state = State::new().add(
        r#"aws_security_group.tier["web"]"#,
        sg_attrs(
            &sg,
            &vpc,
            "web",
            vec![
                sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"]),
                sg_block("tcp", 3389, 3389, &["0.0.0.0/0"]),
                sg_block("tcp", 443, 443, &["0.0.0.0/0"]),
            ],
            vec![],
        ),
    );
    let e = estate_of(&state, EACH_DYNAMIC_TF);
    m.allow_in(&sg, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    m.allow_in(&sg, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 2, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        EACH_DYNAMIC_TF
            .replace(
                "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] }, # office",
                "cidrs = [\"10.0.0.0/8\"] }, # office"
            )
            .replace("        { port = 3389, cidrs = [\"0.0.0.0/0\"] },\n", "")
    );

    // The list read by the block a second time: its elements are not the rules' alone.
    let twice = EACH_DYNAMIC_TF.replace(
        "  name     = each.key\n",
        "  name     = each.key\n  tags     = { rules = length(each.value.rules) }\n",
    );
    std::fs::write(e.code.join("main.tf"), &twice).unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], serde_json::json!([]), "{doc:#}");
    assert!(!doc["manual"].as_array().unwrap().is_empty(), "{doc:#}");
}

/// `{ for k, v in MAP : k => v }` is the map itself: an instance revoked by hand leaves its
/// entry as with `for_each = MAP`; filtered (`if …`), the entries are not all instances, and it
/// is manual.
#[tokio::test]
async fn for_each_over_an_identity_for_is_the_map() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let admin = m.group(&vpc, "admin").await;
    let state = State::new()
        .add(
            "aws_security_group.admin",
            sg_attrs(&admin, &vpc, "admin", vec![], vec![]),
        )
        .add(
            r#"aws_security_group_rule.admin["rdp"]"#,
            ingress_rule(&admin, "sgrule-rdp", 3389, &["0.0.0.0/0"]),
        )
        .add(
            r#"aws_security_group_rule.admin["ssh"]"#,
            ingress_rule(&admin, "sgrule-ssh", 22, &["10.0.0.0/8"]),
        );
    m.allow_in(&admin, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    let identity = RULES_TF.replace(
        "for_each          = local.admin_rules",
        "for_each          = { for name, rule in local.admin_rules : name => rule }",
    );
    let e = estate_of(&state, &identity);
    let doc = fix_json(
        &m,
        &e,
        &["--address", r#"aws_security_group_rule.admin["rdp"]"#],
    );
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        identity.replace(
            "    rdp = { port = 3389, cidrs = [\"0.0.0.0/0\"] } # opened during the outage\n",
            ""
        )
    );
    let filtered = RULES_TF.replace(
        "for_each          = local.admin_rules",
        "for_each          = { for name, rule in local.admin_rules : name => rule if rule.port != 0 }",
    );
    std::fs::write(e.code.join("main.tf"), &filtered).unwrap();
    let run = fix_only(&m, &e, r#"aws_security_group_rule.admin["rdp"]"#);
    only_manual(&run, "a `for` expression other than");
}

/// Fields read by index (`ingress.value["cidrs"]`, the way many public modules write them) are
/// the fields they name: edited in their element as `ingress.value.cidrs` would be.
#[tokio::test]
async fn dynamic_fields_read_by_index_are_the_fields_they_name() {
    let m = moto().await;
    let (_, state) = app_fixed_by_hand(&m).await;
    let indexed = DYNAMIC_TF
        .replace("ingress.value.port", "ingress.value[\"port\"]")
        .replace("ingress.value.cidrs", "ingress.value[\"cidrs\"]");
    let e = estate_of(&state, &indexed);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        indexed
            .replace(
                "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] # office",
                "cidrs = [\"10.0.0.0/8\"] # office",
            )
            .replace(
                "    {\n      port  = 3389\n      cidrs = [\"0.0.0.0/0\"]\n    },\n",
                "",
            )
    );
}
const ATTRIBUTE_RULES_TF: &str = r#"resource "aws_security_group" "app" {
  name = "app"

  # The rules as a list of objects (attributes-as-blocks).
  ingress = [
    {
      description      = "ssh"
      from_port        = 22
      to_port          = 22
      protocol         = "tcp"
      cidr_blocks      = ["0.0.0.0/0", "10.0.0.0/8"]
      ipv6_cidr_blocks = []
      prefix_list_ids  = []
      security_groups  = []
      self             = false
    },
    {
      description      = "rdp"
      from_port        = 3389
      to_port          = 3389
      protocol         = "tcp"
      cidr_blocks      = ["0.0.0.0/0"]
      ipv6_cidr_blocks = []
      prefix_list_ids  = []
      security_groups  = []
      self             = false
    },
    {
      description      = "https"
      from_port        = 443
      to_port          = 443
      protocol         = "tcp"
      cidr_blocks      = ["0.0.0.0/0"]
      ipv6_cidr_blocks = []
      prefix_list_ids  = []
      security_groups  = []
      self             = false
    },
  ]
}
"#;

/// `ingress = [{ … }]`, the attribute form the provider takes for the same rules: read as the
/// blocks it stands for, so a CIDR revoked by hand leaves its object's list and a rule revoked
/// whole takes its object out (before, nothing was found and nothing said). A new rule cannot
/// be a block beside the list (Terraform refuses both forms), and a list that is not literal
/// cannot be read: both manual.
#[tokio::test]
async fn rules_written_as_a_list_of_objects_are_fixed_in_their_objects() {
    let m = moto().await;
    let (sg, state) = app_fixed_by_hand(&m).await;
    let e = estate_of(&state, ATTRIBUTE_RULES_TF);
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        places(&doc, "fixes"),
        [
            place("aws_security_group.app", "infra/main.tf", 11),
            place("aws_security_group.app", "infra/main.tf", 17),
        ],
        "{doc:#}"
    );
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    let rdp = ATTRIBUTE_RULES_TF
        .find("    {\n      description      = \"rdp\"")
        .unwrap();
    let https = ATTRIBUTE_RULES_TF
        .find("    {\n      description      = \"https\"")
        .unwrap();
    let fixed = format!(
        "{}{}",
        &ATTRIBUTE_RULES_TF[..rdp],
        &ATTRIBUTE_RULES_TF[https..]
    )
    .replace("[\"0.0.0.0/0\", \"10.0.0.0/8\"]", "[\"10.0.0.0/8\"]");
    assert_eq!(written, fixed);
    assert!(hcl_edit::parser::parse_body(&written).is_ok());
    let again = fix_json(&m, &e, &[]);
    assert_eq!(again["fixes"], serde_json::json!([]), "{again:#}");

    // An incident's rule, accepted: not a block beside the list.
    m.allow_in(&sg, perm("tcp", 3306, 3306, "0.0.0.0/0")).await;
    let run = fix(
        &m,
        &e,
        &["--format", "json", "--quiet", "--accept-weakening"],
    );
    only_manual(
        &run,
        "is written as a list of objects: the new rule joins that list",
    );
    // A list built by a call: not read as blocks, said so.
    let local = "locals {\n  rules = []\n}\n\nresource \"aws_security_group\" \"app\" {\n  name    = \"app\"\n  ingress = concat(local.rules, [])\n}\n";
    std::fs::write(e.code.join("main.tf"), local).unwrap();
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    only_manual(
        &run,
        "is written as an attribute (`ingress = …`) that is not a literal",
    );

    // The list in a local read by this group alone: edited where it is written.
    let body = ATTRIBUTE_RULES_TF
        .split_once("  ingress = [\n")
        .map(|(_, rest)| rest.trim_end_matches("}\n").trim_end_matches("  ]\n"))
        .unwrap();
    let in_local = format!(
        "locals {{\n  rules = [\n{body}  ]\n}}\n\nresource \"aws_security_group\" \"app\" {{\n  name    = \"app\"\n  ingress = local.rules\n}}\n"
    );
    let e = estate_of(&state, &in_local);
    let doc = fix_json(&m, &e, &["--address", "aws_security_group.app"]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    let summaries: Vec<&str> = doc["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert!(
        !summaries.is_empty() && summaries.iter().all(|s| s.contains("local.rules")),
        "{doc:#}"
    );
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert!(!written.contains("\"rdp\""), "{written}");
    assert!(
        written.contains("cidr_blocks      = [\"10.0.0.0/8\"]"),
        "{written}"
    );
    assert!(written.contains("  ingress = local.rules\n"), "{written}");
    assert!(hcl_edit::parser::parse_body(&written).is_ok());
}

/// Every inline rule of a direction revoked by hand: the blocks go and `ingress = []` takes
/// their place, since a security group without `ingress` in its code no longer manages it (the
/// provider reads the argument as optional and computed: rules added later in the console
/// would join the state unseen). One rule left keeps its block, and nothing is added.
#[tokio::test]
async fn the_last_inline_rule_gone_leaves_an_empty_list() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "app").await;
    let state = app_state(&sg, &vpc);
    let tf = "resource \"aws_security_group\" \"app\" {\n  name = \"app\"\n\n  ingress {\n    from_port   = 22\n    to_port     = 22\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\", \"10.0.0.0/8\"]\n  }\n\n  # Remote desktop, for the migration.\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n\n  ingress {\n    from_port   = 443\n    to_port     = 443\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n\n  tags = { Name = \"app\" }\n}\n";
    for crlf in [false, true] {
        let tf = if crlf {
            tf.replace('\n', "\r\n")
        } else {
            tf.to_string()
        };
        let e = estate_of(&state, &tf);
        let doc = fix_json(&m, &e, &[]);
        assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
        // SSH's two ranges, RDP and HTTPS.
        assert_eq!(doc["fixes"].as_array().unwrap().len(), 4, "{doc:#}");
        let emptied = "resource \"aws_security_group\" \"app\" {\n  name = \"app\"\n\n  ingress = []\n\n  tags = { Name = \"app\" }\n}\n";
        let emptied = if crlf {
            emptied.replace('\n', "\r\n")
        } else {
            emptied.to_string()
        };
        assert_eq!(
            std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
            emptied
        );
        assert!(doc["fixes"].as_array().unwrap().iter().any(|f| f["summary"]
            .as_str()
            .unwrap()
            .contains("`ingress = []` keeps the emptied rules managed")));
    }
    // HTTPS still live: its block stays, and no empty list is written.
    m.allow_in(&sg, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    let e = estate_of(&state, tf);
    fix_json(&m, &e, &[]);
    let written = std::fs::read_to_string(e.code.join("main.tf")).unwrap();
    assert!(!written.contains("ingress = []"), "{written}");
    assert!(written.contains("from_port   = 443"), "{written}");
}

/// A `dynamic "ingress"` over one element whose rule is revoked whole: taking the element out
/// would leave no `ingress` at all (unmanaged), so it is manual and says to write
/// `ingress = []`; a range of it revoked is still edited in the element.
#[tokio::test]
async fn the_last_element_of_a_dynamic_rule_list_is_not_removed() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "app").await;
    let state = State::new().add(
        "aws_security_group.app",
        sg_attrs(
            &sg,
            &vpc,
            "app",
            vec![sg_block("tcp", 22, 22, &["0.0.0.0/0", "10.0.0.0/8"])],
            vec![],
        ),
    );
    let tf = "locals {\n  rules = [\n    { port = 22, cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"] },\n  ]\n}\n\nresource \"aws_security_group\" \"app\" {\n  name = \"app\"\n\n  dynamic \"ingress\" {\n    for_each = local.rules\n    content {\n      from_port   = ingress.value.port\n      to_port     = ingress.value.port\n      protocol    = \"tcp\"\n      cidr_blocks = ingress.value.cidrs\n    }\n  }\n}\n";
    let e = estate_of(&state, tf);
    let run = fix(&m, &e, &["--format", "json", "--quiet"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let reasons: Vec<&str> = doc["manual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(
            |r| r.contains("is the last element of `dynamic \"ingress\"`")
                && r.contains("write `ingress = []`")
        ),
        "{doc:#}"
    );
    // One range left live: the element stays, narrowed.
    m.allow_in(&sg, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    let doc = fix_json(&m, &e, &[]);
    assert_eq!(doc["manual"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(e.code.join("main.tf")).unwrap(),
        tf.replace(
            "cidrs = [\"0.0.0.0/0\", \"10.0.0.0/8\"]",
            "cidrs = [\"10.0.0.0/8\"]"
        )
    );
}
