//! IAM policy documents end to end against moto: equivalent documents are not drift, a widened
//! default version is, and so are changed or deleted inline role policies.

mod common;

use common::*;
use serde_json::{json, Value};

async fn iam(m: &Moto) -> aws_sdk_iam::Client {
    moto_client!(aws_sdk_iam, &m.url)
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn policy_documents() {
    let m = moto().await;
    let iam = iam(&m).await;
    let name = unique("app-logs");
    // Created as the console or another tool would write it.
    let live_doc = r#"{"Statement":[{"Action":["logs:PutLogEvents","logs:CreateLogStream"],"Resource":"*","Effect":"Allow","Sid":"Logs"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::audit"}],"Version":"2012-10-17"}"#;
    let policy = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(live_doc)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    let role = unique("app");
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let inline = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}}"#;
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("jobs")
        .policy_document(inline)
        .send()
        .await
        .unwrap();

    // Terraform's rendering (aws_iam_policy_document): other order, other Sid, lists.
    let tf_doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Deny", "Action": ["s3:DeleteBucket"], "Resource": ["arn:aws:s3:::audit"]},
        {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": ["*"]}
    ]});
    let state = State::new()
        .add(
            "aws_iam_policy.logs",
            json!({"arn": arn, "id": arn, "name": name, "path": "/", "description": "",
                   "policy": serde_json::to_string_pretty(&tf_doc).unwrap(), "policy_id": "ANPA0", "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_role_policy.jobs",
            json!({"id": format!("{role}:jobs"), "name": "jobs", "name_prefix": null, "role": role,
                   "policy": "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"sqs:SendMessage\",\n      \"Resource\": \"arn:aws:sqs:us-east-1:123456789012:jobs\"\n    }\n  ]\n}"}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "iam.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["objects_checked"], 2);
    assert_eq!(report["summary"]["api_calls"]["iam"]["GetPolicyVersion"], 1);

    // Someone makes a new default version that allows everything.
    let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::audit"}]}"#;
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(wide)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    // ...and narrows the role's inline policy to another queue.
    let other = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:other"}}"#;
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("jobs")
        .policy_document(other)
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["address", "kind", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "aws_iam_policy.logs changed strengthens AWS-IAM-POLICY",
            "aws_iam_policy.logs unmanaged weakens AWS-IAM-FULL-ADMIN",
            "aws_iam_role_policy.jobs changed strengthens AWS-IAM-POLICY",
            "aws_iam_role_policy.jobs unmanaged weakens AWS-IAM-POLICY",
        ]
    );
    let admin = run
        .drifts()
        .into_iter()
        .find(|d| d["policy"] == "AWS-IAM-FULL-ADMIN")
        .unwrap();
    assert_eq!(admin["severity"], "critical");
    assert!(admin["references"]
        .as_array()
        .unwrap()
        .contains(&Value::from("CIS AWS Foundations v3.0.0 1.16")));
    assert_eq!(admin["actual_text"], "Allow * on *");

    // The inline policy is deleted: missing.
    iam.delete_role_policy()
        .role_name(&role)
        .policy_name("jobs")
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 1);
    assert!(run
        .drifts()
        .iter()
        .any(|d| d["address"] == "aws_iam_role_policy.jobs"
            && d["kind"] == "missing"
            && d["policy"] == "AWS-IAM-MISSING"));
}

#[tokio::test]
async fn roles_trust_boundary_and_attachments() {
    let m = moto().await;
    let iam = iam(&m).await;
    let role = unique("worker");
    let created = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let role_arn = created.role().unwrap().arn().to_string();
    let boundary_doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let boundary = iam
        .create_policy()
        .policy_name(unique("boundary"))
        .policy_document(boundary_doc)
        .send()
        .await
        .unwrap();
    let boundary_arn = boundary.policy().unwrap().arn().unwrap().to_string();
    iam.put_role_permissions_boundary()
        .role_name(&role)
        .permissions_boundary(&boundary_arn)
        .send()
        .await
        .unwrap();
    let reader = iam
        .create_policy()
        .policy_name(unique("reader"))
        .policy_document(boundary_doc)
        .send()
        .await
        .unwrap();
    let reader_arn = reader.policy().unwrap().arn().unwrap().to_string();
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(&reader_arn)
        .send()
        .await
        .unwrap();

    let trust_tf = json!({"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "ec2.amazonaws.com"}}]});
    let state = State::new()
        .add(
            "aws_iam_role.worker",
            json!({"arn": role_arn, "id": role, "name": role, "path": "/", "assume_role_policy": trust_tf.to_string(),
                   "permissions_boundary": boundary_arn, "managed_policy_arns": [reader_arn.clone()],
                   "inline_policy": [], "max_session_duration": 3600, "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_role_policy_attachment.reader",
            json!({"id": format!("{role}-x"), "role": role, "policy_arn": reader_arn}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "roles.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The console: a new trusted account, the boundary removed, an admin policy attached.
    let admin = iam
        .create_policy()
        .policy_name("AdministratorAccess")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .map(|p| p.policy().unwrap().arn().unwrap().to_string())
        .unwrap_or_else(|_| "arn:aws:iam::123456789012:policy/AdministratorAccess".to_string());
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(&admin)
        .send()
        .await
        .unwrap();
    iam.delete_role_permissions_boundary()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    let wider = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#;
    iam.update_assume_role_policy()
        .role_name(&role)
        .policy_document(wider)
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["attribute", "kind", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "assume_role_policy unmanaged weakens AWS-IAM-TRUST",
            "managed_policy unmanaged weakens AWS-IAM-FULL-ADMIN",
            "permissions_boundary changed weakens AWS-IAM-BOUNDARY",
        ]
    );
    let trust = run
        .drifts()
        .into_iter()
        .find(|d| d["attribute"] == "assume_role_policy")
        .unwrap();
    assert!(
        trust["actual_text"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::111122223333:root"),
        "{trust}"
    );
    assert_eq!(trust["address"], "aws_iam_role.worker");
    // Every drift of the role carries the role's reach: another account may assume it now.
    for d in run.drifts() {
        assert_eq!(d["risk"]["exposure"], "cross-account", "{d:#}");
        assert!(
            d["risk"]["reasons"]
                .to_string()
                .contains("lets in account 111122223333"),
            "{d:#}"
        );
    }

    // The attachment declared by a resource is detached: missing on that resource.
    iam.detach_role_policy()
        .role_name(&role)
        .policy_arn(&reader_arn)
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert!(run
        .drifts()
        .iter()
        .any(|d| d["address"] == "aws_iam_role_policy_attachment.reader"
            && d["kind"] == "missing"
            && d["effect"] == "strengthens"));
    let _: Value = run.json();
}

#[tokio::test]
async fn user_and_group_inline_policies() {
    let m = moto().await;
    let iam = iam(&m).await;
    let user = unique("deployer");
    let group = unique("ops");
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}"#;
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("ecr")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name(&group)
        .policy_name("ecr")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let tf = |field: &str, who: &str| {
        json!({"id": format!("{who}:ecr"), "name": "ecr", field: who,
               "policy": "{\"Statement\":[{\"Action\":[\"ecr:GetAuthorizationToken\"],\"Effect\":\"Allow\",\"Resource\":[\"*\"]}],\"Version\":\"2012-10-17\"}"})
    };
    let state = State::new()
        .add("aws_iam_user_policy.ecr", tf("user", &user))
        .add("aws_iam_group_policy.ecr", tf("group", &group));
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "principals.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["iam"]["GetUserPolicy"],
        1
    );

    let admin =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam.put_group_policy()
        .group_name(&group)
        .policy_name("ecr")
        .policy_document(admin)
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = run
        .drifts()
        .into_iter()
        .find(|d| d["kind"] == "unmanaged")
        .unwrap();
    assert_eq!(d["address"], "aws_iam_group_policy.ecr");
    assert_eq!(d["policy"], "AWS-IAM-FULL-ADMIN");
    assert_eq!(d["cloud_id"], format!("group/{group}:ecr"));
}

#[tokio::test]
async fn users_and_groups_attachments_and_boundary() {
    let m = moto().await;
    let iam = iam(&m).await;
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    let policy = iam
        .create_policy()
        .policy_name(unique("list"))
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_string();
    let user = unique("ci");
    let group = unique("readers");
    let created = iam.create_user().user_name(&user).send().await.unwrap();
    let user_arn = created.user().unwrap().arn().to_string();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();

    let state = |boundary: Value| {
        State::new()
            .add("aws_iam_user.ci", json!({"arn": user_arn, "id": user, "name": user, "path": "/", "permissions_boundary": boundary, "force_destroy": false, "tags": {}, "tags_all": {}}))
            .add("aws_iam_group.readers", json!({"arn": format!("arn:aws:iam::123456789012:group/{group}"), "id": group, "name": group, "path": "/"}))
            .add("aws_iam_user_policy_attachment.ci", json!({"id": format!("{user}-1"), "user": user, "policy_arn": policy_arn}))
            .add("aws_iam_policy_attachment.readers", json!({"id": "readers", "name": "readers", "policy_arn": policy_arn, "groups": [group], "users": [], "roles": []}))
    };
    let dir = tempfile::tempdir().unwrap();
    let path = state(Value::Null).write(dir.path(), "principals.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // An admin policy attached to the user by hand, the group's declared attachment removed, and
    // (moto cannot set user boundaries) a state whose boundary no longer exists live.
    let _ = iam
        .create_policy()
        .policy_name("AdministratorAccess")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await;
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn("arn:aws:iam::123456789012:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    iam.detach_group_policy()
        .group_name(&group)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let path = state(json!(policy_arn)).write(dir.path(), "principals2.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["address", "kind", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "aws_iam_policy_attachment.readers missing strengthens AWS-IAM-ATTACHMENTS",
            "aws_iam_user.ci changed weakens AWS-IAM-BOUNDARY",
            "aws_iam_user.ci unmanaged weakens AWS-IAM-FULL-ADMIN",
        ]
    );
}

#[tokio::test]
async fn role_inline_policies() {
    let m = moto().await;
    let iam = iam(&m).await;
    let role = unique("svc");
    let created = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let arn = created.role().unwrap().arn().to_string();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("queue")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("managed-elsewhere")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    // The role declares `queue` inline; `managed-elsewhere` belongs to an aws_iam_role_policy.
    let state = State::new()
        .add(
            "aws_iam_role.svc",
            json!({"arn": arn, "id": role, "name": role, "assume_role_policy": TRUST, "managed_policy_arns": [],
                   "inline_policy": [{"name": "queue", "policy": "{\"Statement\":[{\"Action\":\"sqs:SendMessage\",\"Effect\":\"Allow\",\"Resource\":\"*\"}],\"Version\":\"2012-10-17\"}"}]}),
        )
        .add("aws_iam_role_policy.elsewhere", json!({"id": format!("{role}:managed-elsewhere"), "role": role, "name": "managed-elsewhere", "policy": doc}));
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "role.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    // With an aws_iam_role_policy on the role, the role's inline_policy is a copy: only the
    // separate resource's content is compared, and `queue` is then undeclared.
    let got: Vec<String> = run
        .drifts()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["address"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
                d["attribute"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        ["aws_iam_role.svc unmanaged inline_policy"],
        "{}",
        run.stdout
    );

    // Without separate resources the role's inline policies are what it declares.
    let state = State::new().add(
        "aws_iam_role.svc",
        json!({"arn": arn, "id": role, "name": role, "assume_role_policy": TRUST, "managed_policy_arns": [],
               "inline_policy": [{"name": "queue", "policy": doc}, {"name": "managed-elsewhere", "policy": doc}]}),
    );
    let path = state.write(dir.path(), "role2.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let admin =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("queue")
        .policy_document(admin)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("debug")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    let got = drift_lines(&run, &["attribute", "kind", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "inline_policy changed weakens AWS-IAM-FULL-ADMIN",
            "inline_policy unmanaged weakens AWS-IAM-ROLE-INLINE",
        ]
    );
}

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

/// The exclusive resources of provider 5.63+ own a role's, user's or group's whole set of
/// managed policies (or inline policy names): beside them the role's `managed_policy_arns = []`
/// copy is not configuration, and a user (which has no copy) is not drift either.
#[tokio::test]
async fn exclusive_attachments_and_inline_policy_names() {
    let m = moto().await;
    let iam = iam(&m).await;
    let role = unique("excl-role");
    let user = unique("excl-user");
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name(&user).send().await.unwrap();
    let mut arns = Vec::new();
    for name in [unique("read"), unique("admin")] {
        let doc = DOC;
        let p = iam
            .create_policy()
            .policy_name(&name)
            .policy_document(doc)
            .send()
            .await
            .unwrap();
        arns.push(p.policy().unwrap().arn().unwrap().to_string());
    }
    let (ro, admin) = (arns[0].as_str(), arns[1].as_str());
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(ro)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(ro)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("declared")
        .policy_document(DOC)
        .send()
        .await
        .unwrap();
    let user_arn = format!("arn:aws:iam::123456789012:user/{user}");
    let state = State::new()
        .add(
            "aws_iam_role.app",
            json!({"name": role, "arn": format!("arn:aws:iam::123456789012:role/{role}"),
                   "assume_role_policy": TRUST, "permissions_boundary": null,
                   "managed_policy_arns": [], "inline_policy": []}),
        )
        .add(
            "aws_iam_role_policy_attachments_exclusive.app",
            json!({"role_name": role, "policy_arns": [ro]}),
        )
        .add(
            "aws_iam_user.ci",
            json!({"name": user, "arn": user_arn, "permissions_boundary": null}),
        )
        .add(
            "aws_iam_user_policy_attachments_exclusive.ci",
            json!({"user_name": user, "policy_arns": [ro]}),
        )
        .add(
            "aws_iam_user_policies_exclusive.ci",
            json!({"user_name": user, "policy_names": ["declared"]}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "iam.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // By hand: AdministratorAccess on the role and the user, and a second inline user policy.
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(admin)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(admin)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("backdoor")
        .policy_document(DOC.replace("s3:GetObject", "*"))
        .send()
        .await
        .unwrap();
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        drift_lines(
            &run,
            &["address", "kind", "attribute", "effect", "actual_text"]
        ),
        [
            format!("aws_iam_role.app unmanaged managed_policy weakens managed policy {admin}"),
            "aws_iam_user.ci unmanaged inline_policy weakens inline policy backdoor".to_string(),
            format!("aws_iam_user.ci unmanaged managed_policy weakens managed policy {admin}"),
        ]
    );
}

/// `--iam-reads auto` chooses for the whole run: more than 10 IAM objects in all (here 9 roles, a
/// user and a group) and every IAM family reads from the account listing, the two principals too;
/// 10 or fewer and each object is read directly.
#[tokio::test]
async fn auto_lists_the_account_above_ten_iam_objects_in_all() {
    let m = moto().await;
    let iam = iam(&m).await;
    let trust_tf = json!({"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "ec2.amazonaws.com"}}]});
    let mut state = State::new();
    for i in 0..9 {
        let role = unique("auto");
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
        state = state.add(
            &format!("aws_iam_role.r{i}"),
            json!({"arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "id": role, "name": role, "path": "/",
                   "assume_role_policy": trust_tf.to_string(), "permissions_boundary": null,
                   "managed_policy_arns": [], "inline_policy": [], "tags": {}, "tags_all": {}}),
        );
    }
    let user = unique("auto-user");
    iam.create_user().user_name(&user).send().await.unwrap();
    let group = unique("auto-group");
    iam.create_group().group_name(&group).send().await.unwrap();
    let ten = state.clone().add(
        "aws_iam_user.u",
        json!({"arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "id": user, "name": user, "path": "/",
               "permissions_boundary": null}),
    );
    let eleven = ten.clone().add(
        "aws_iam_group.g",
        json!({"arn": format!("arn:aws:iam::{ACCOUNT}:group/{group}"), "id": group, "name": group, "path": "/"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let calls = |state: &State, name: &str| {
        let path = state.write(dir.path(), name);
        let run = check_json(&m.url, &[&path]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        run.json()["summary"]["api_calls"]["iam"].clone()
    };
    let listed = calls(&eleven, "eleven.tfstate");
    assert_eq!(listed["GetAccountAuthorizationDetails"], 2, "{listed}");
    assert_eq!(listed.as_object().unwrap().len(), 1, "{listed}");
    let direct = calls(&ten, "ten.tfstate");
    assert!(
        direct.get("GetAccountAuthorizationDetails").is_none(),
        "{direct}"
    );
    assert_eq!(direct["GetRole"], 9, "{direct}");
    assert_eq!(direct["GetUser"], 1, "{direct}");
}
