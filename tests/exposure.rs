//! Exposure against moto: the same drift on a group attached to an instance with a public IP in a
//! subnet routed to an internet gateway, on a group used only by a private-subnet instance, and
//! on a group attached to nothing gives three exposures, three scores, in that order; a policy can
//! match on exposure; a network ACL through its subnet's route; a bucket whose Block Public
//! Access was switched off while its policy is public; and a clean run makes no exposure read.

mod common;

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use common::*;
use serde_json::{json, Value};

async fn subnet(m: &Moto, vpc: &str, cidr: &str) -> String {
    m.ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string()
}

/// An instance in `subnet` with these groups; returns its primary interface.
async fn instance(m: &Moto, subnet: &str, groups: &[&str]) -> String {
    let mut run = m
        .ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet);
    for g in groups {
        run = run.security_group_ids(*g);
    }
    let out = run.send().await.unwrap();
    out.instances()[0].network_interfaces()[0]
        .network_interface_id()
        .unwrap()
        .to_string()
}

struct Estate {
    public: String,
    private: String,
    idle: String,
    public_eni: String,
    public_ip: String,
    acl: String,
    state: State,
}

/// Three groups declaring the same world-open HTTPS rule: `public` on an instance with an
/// Elastic IP in a subnet routed to an internet gateway (tagged as confidential data), `private`
/// on an instance in a subnet without such a route, `idle` on nothing.
async fn estate(m: &Moto) -> Estate {
    let vpc = m.vpc().await;
    let front = subnet(m, &vpc, "10.0.1.0/24").await;
    let back = subnet(m, &vpc, "10.0.2.0/24").await;
    m.route_to_internet(&vpc, &front).await;
    let public = m.group(&vpc, &unique("web")).await;
    let private = m.group(&vpc, &unique("db")).await;
    let idle = m.group(&vpc, &unique("old")).await;
    for g in [&public, &private, &idle] {
        m.allow_in(g, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    }
    let public_eni = instance(m, &front, &[&public]).await;
    let public_ip = m.elastic_ip(&public_eni).await;
    instance(m, &back, &[&private]).await;

    let acl = m.acl(&vpc).await;
    m.acl_entry(&acl, 100, false, "6", "allow", "10.0.0.0/8", 443, 443)
        .await;
    m.ec2
        .replace_network_acl_association()
        .association_id(acl_association(m, &front).await)
        .network_acl_id(&acl)
        .send()
        .await
        .unwrap();

    let group = |id: &str, name: &str| {
        sg_attrs(
            id,
            &vpc,
            name,
            vec![sg_block("tcp", 443, 443, &["0.0.0.0/0"])],
            vec![],
        )
    };
    let mut web = group(&public, "web");
    web["tags_all"]["data-classification"] = json!("confidential");
    let state = State::new()
        .add("aws_security_group.web", web)
        .add("aws_security_group.db", group(&private, "db"))
        .add("aws_security_group.old", group(&idle, "old"))
        .add(
            "aws_network_acl.front",
            acl_attrs(
                &acl,
                &vpc,
                vec![acl_entry(100, "allow", "6", "10.0.0.0/8", 443, 443)],
                vec![],
            ),
        );
    Estate {
        public,
        private,
        idle,
        public_eni,
        public_ip,
        acl,
        state,
    }
}

/// The association of the subnet with its VPC's default ACL, to move it to another ACL.
async fn acl_association(m: &Moto, subnet: &str) -> String {
    let out = m
        .ec2
        .describe_network_acls()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(subnet)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.network_acls()
        .iter()
        .flat_map(|a| a.associations())
        .find(|a| a.subnet_id() == Some(subnet))
        .and_then(|a| a.network_acl_association_id())
        .unwrap()
        .to_string()
}

fn calls(run: &Run, service: &str, op: &str) -> u64 {
    run.json()["summary"]["api_calls"][service][op]
        .as_u64()
        .unwrap_or(0)
}

fn by_address<'a>(drifts: &'a [Value], address: &str) -> &'a Value {
    drifts
        .iter()
        .find(|d| d["address"] == address)
        .unwrap_or_else(|| panic!("no drift on {address}: {drifts:#?}"))
}

#[tokio::test]
async fn the_same_drift_ranks_by_how_the_group_is_reached() {
    let m = moto().await;
    let e = estate(&m).await;
    let dir = tempfile::tempdir().unwrap();
    let path = e.state.write(dir.path(), "exposure.tfstate");

    // Clean: nothing drifted, so no exposure read at all.
    let clean = check_json(&m.url, &[&path]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    for op in ["DescribeNetworkInterfaces", "DescribeRouteTables"] {
        assert_eq!(calls(&clean, "ec2", op), 0, "{op} on a clean run");
    }
    assert_eq!(calls(&clean, "elbv2", "DescribeLoadBalancers"), 0);

    for g in [&e.public, &e.private, &e.idle] {
        m.allow_in(g, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    }
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let drifts = run.drifts();
    assert_eq!(drifts.len(), 3, "{drifts:#?}");
    let order: Vec<&str> = drifts
        .iter()
        .map(|d| d["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "aws_security_group.web",
            "aws_security_group.db",
            "aws_security_group.old"
        ],
        "sorted by risk"
    );
    let web = by_address(&drifts, "aws_security_group.web");
    assert_eq!(web["policy"], "AWS-SG-ADMIN-IPV4");
    assert_eq!(web["risk"]["exposure"], "internet");
    // critical 4 × internet 3 × confidential 2
    assert_eq!(web["risk"]["score"], 24.0);
    assert_eq!(web["risk"]["priority"], "urgent");
    let reasons = web["risk"]["reasons"].to_string();
    assert!(
        reasons.contains(&e.public_eni) && reasons.contains(&e.public_ip),
        "{reasons}"
    );
    assert!(reasons.contains("igw-"), "{reasons}");
    assert!(reasons.contains("0.0.0.0/0"), "{reasons}");

    let db = by_address(&drifts, "aws_security_group.db");
    assert_eq!(db["risk"]["exposure"], "private");
    assert_eq!(db["risk"]["score"], 4.0);
    assert_eq!(db["risk"]["priority"], "normal");
    assert!(
        db["risk"]["reasons"]
            .to_string()
            .contains("none with a public address"),
        "{}",
        db["risk"]["reasons"]
    );
    let old = by_address(&drifts, "aws_security_group.old");
    assert_eq!(old["risk"]["exposure"], "unused");
    assert_eq!(old["risk"]["score"], 2.0);
    assert_eq!(
        old["risk"]["reasons"],
        json!([format!(
            "no network interface or load balancer uses {}",
            e.idle
        )])
    );
    // One interface read for the three groups, one route table read for the one public subnet,
    // one load balancer listing for the two groups no interface shows reachable.
    assert_eq!(calls(&run, "ec2", "DescribeNetworkInterfaces"), 1);
    assert_eq!(calls(&run, "ec2", "DescribeRouteTables"), 1);
    assert_eq!(calls(&run, "elbv2", "DescribeLoadBalancers"), 1);

    // SARIF: each result's security-severity follows its score; the rule carries the highest.
    let sarif = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "sarif",
            "--state",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let severities: Vec<&str> = results
        .iter()
        .map(|r| r["properties"]["security-severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["9.9", "5.5", "3.3"]);
    let rule = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "AWS-SG-ADMIN-IPV4")
        .unwrap();
    assert_eq!(rule["properties"]["security-severity"], "9.9");

    // The console shows the exposure and its evidence.
    let human = driftgate(&m.url, &["check", "--state", path.to_str().unwrap()], None);
    assert!(
        human.stdout.contains("Exposure internet: ") && human.stdout.contains("urgent"),
        "{}",
        human.stdout
    );

    // Another data tag key: the confidential tag is no longer read, so web is not urgent.
    let other = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--sensitivity-tag",
            "owner-data",
            "--state",
            path.to_str().unwrap(),
        ],
        None,
    );
    let web = by_address(&other.drifts(), "aws_security_group.web").clone();
    assert_eq!(web["risk"]["sensitivity"], "unclassified");
    assert_eq!(web["risk"]["score"], 12.0);
    assert_eq!(web["risk"]["priority"], "normal");
}

#[tokio::test]
async fn policies_match_on_exposure() {
    let m = moto().await;
    let e = estate(&m).await;
    // A rule from a private range: medium everywhere (AWS-SG-RULES) unless a policy says more.
    for g in [&e.public, &e.private] {
        m.allow_in(g, perm("tcp", 8080, 8080, "10.5.0.0/16")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = e.state.write(dir.path(), "s.tfstate");
    let policy = dir.path().join("exposed.yaml");
    std::fs::write(
        &policy,
        "version: 1\npolicies:\n  - id: ORG-EXPOSED-GROUP\n    title: Any rule drift on a \
         group reachable from the internet\n    resource_types: [aws_security_group]\n    \
         attributes: [ingress]\n    when: { exposure: [internet] }\n    severity: critical\n",
    )
    .unwrap();
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
            "--state",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let drifts = run.drifts();
    let web = by_address(&drifts, "aws_security_group.web");
    assert_eq!(web["policy"], "ORG-EXPOSED-GROUP");
    assert_eq!(web["severity"], "critical");
    let db = by_address(&drifts, "aws_security_group.db");
    assert_ne!(db["policy"], "ORG-EXPOSED-GROUP");
    assert_eq!(db["risk"]["exposure"], "private");

    // A policy naming an exposure that is not one is refused with its file and line.
    std::fs::write(
        &policy,
        "version: 1\npolicies:\n  - id: X\n    title: t\n    resource_types: \
         [aws_security_group]\n    when: { exposure: [public] }\n    severity: low\n",
    )
    .unwrap();
    let bad = driftgate(
        &m.url,
        &[
            "check",
            "--policy",
            policy.to_str().unwrap(),
            "--state",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("exposed.yaml:6"), "{}", bad.stderr);
}

#[tokio::test]
async fn an_acl_is_reached_through_its_subnets_routes() {
    let m = moto().await;
    let e = estate(&m).await;
    m.acl_entry(&e.acl, 90, false, "6", "allow", "0.0.0.0/0", 3389, 3389)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = check_json(&m.url, &[&e.state.write(dir.path(), "acl.tfstate")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = by_address(&run.drifts(), "aws_network_acl.front").clone();
    assert_eq!(d["risk"]["exposure"], "internet", "{d:#}");
    let reasons = d["risk"]["reasons"].to_string();
    assert!(reasons.contains("routes 0.0.0.0/0 to igw-"), "{reasons}");
    assert!(reasons.contains("3389"), "{reasons}");
}

fn pab(on: bool) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(on)
        .block_public_policy(on)
        .ignore_public_acls(on)
        .restrict_public_buckets(on)
        .build()
}

/// An access key of a moto account of this test's own: the account-wide Block Public Access of
/// the shared default account is another test's to switch, and it decides exposure.
async fn own_account(m: &Moto, account: &str) -> (String, String) {
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let user = unique("exposure");
    let header = account.to_string();
    iam.create_user()
        .user_name(&user)
        .customize()
        .mutate_request(move |r| {
            r.headers_mut().insert("x-moto-account-id", header.clone());
        })
        .send()
        .await
        .unwrap();
    let header = account.to_string();
    let key = iam
        .create_access_key()
        .user_name(&user)
        .customize()
        .mutate_request(move |r| {
            r.headers_mut().insert("x-moto-account-id", header.clone());
        })
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

#[tokio::test]
async fn a_bucket_whose_block_public_access_is_off_under_a_public_policy_is_on_the_internet() {
    let m = moto().await;
    let (key, secret) = own_account(&m, "345678901234").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                &key, &secret, None, None, "tests",
            ))
            .endpoint_url(&m.url)
            .force_path_style(true)
            .build(),
    );
    let public = unique("site");
    let private = unique("logs");
    for b in [&public, &private] {
        s3.create_bucket().bucket(b).send().await.unwrap();
        s3.put_public_access_block()
            .bucket(b)
            .public_access_block_configuration(pab(true))
            .send()
            .await
            .unwrap();
    }
    let block = |b: &str| {
        json!({"id": b, "bucket": b, "block_public_acls": true, "block_public_policy": true,
               "ignore_public_acls": true, "restrict_public_buckets": true, "skip_destroy": null})
    };
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add("aws_s3_bucket_public_access_block.site", block(&public))
        .add("aws_s3_bucket_public_access_block.logs", block(&private))
        .write(dir.path(), "s3.tfstate");
    // Both switched off in the console; one then gets a public read policy.
    for b in [&public, &private] {
        s3.put_public_access_block()
            .bucket(b)
            .public_access_block_configuration(pab(false))
            .send()
            .await
            .unwrap();
    }
    s3.put_bucket_policy()
        .bucket(&public)
        .policy(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{public}/*")}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let run = driftgate_env(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--state",
            path.to_str().unwrap(),
        ],
        None,
        &[
            ("AWS_ACCESS_KEY_ID", Some(&key)),
            ("AWS_SECRET_ACCESS_KEY", Some(&secret)),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let drifts = run.drifts();
    for d in &drifts {
        let want = if d["cloud_id"] == json!(public) {
            "internet"
        } else {
            "private"
        };
        assert_eq!(d["risk"]["exposure"], want, "{d:#}");
    }
    let site = drifts
        .iter()
        .find(|d| d["cloud_id"] == json!(public))
        .unwrap();
    let why = site["risk"]["reasons"].to_string();
    assert!(why.contains("lets in any principal"), "{why}");
    assert!(why.contains("does not restrict public buckets"), "{why}");
    // Public before private, whatever the addresses.
    assert_eq!(drifts[0]["cloud_id"], json!(public));
    // Three reads per drifted bucket and one for the account's block.
    assert_eq!(calls(&run, "s3", "GetBucketAcl"), 2);
    assert_eq!(calls(&run, "s3", "GetBucketPolicy"), 2);
    assert_eq!(calls(&run, "s3control", "GetPublicAccessBlock"), 1);
    assert_eq!(calls(&run, "s3", "GetPublicAccessBlock"), 4);
}

/// A database made publicly accessible in a subnet routed to an internet gateway, behind a
/// group that admits PostgreSQL from anywhere: on the internet. The same made public behind a
/// group that admits only the VPC: private.
#[tokio::test]
async fn a_public_database_is_reached_through_its_subnets_and_groups() {
    let m = moto().await;
    let rds = moto_client!(aws_sdk_rds, &m.url);
    let vpc = m.vpc().await;
    let subnets = [
        subnet(&m, &vpc, "10.0.1.0/24").await,
        subnet(&m, &vpc, "10.0.2.0/24").await,
    ];
    m.route_to_internet(&vpc, &subnets[0]).await;
    let group_name = unique("dbnet");
    rds.create_db_subnet_group()
        .db_subnet_group_name(&group_name)
        .db_subnet_group_description("orders")
        .set_subnet_ids(Some(subnets.to_vec()))
        .send()
        .await
        .unwrap();
    let open = m.group(&vpc, &unique("pg-open")).await;
    m.allow_in(&open, perm("tcp", 5432, 5432, "0.0.0.0/0"))
        .await;
    let inner = m.group(&vpc, &unique("pg-inner")).await;
    m.allow_in(&inner, perm("tcp", 5432, 5432, "10.0.0.0/16"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::new();
    let mut ids = Vec::new();
    for (name, sg) in [("open", &open), ("inner", &inner)] {
        let id = unique(&format!("orders-{name}"));
        rds.create_db_instance()
            .db_instance_identifier(&id)
            .db_instance_class("db.t3.micro")
            .engine("postgres")
            .allocated_storage(20)
            .master_username("app")
            .master_user_password("never-printed-1")
            .publicly_accessible(false)
            .storage_encrypted(true)
            .db_subnet_group_name(&group_name)
            .vpc_security_group_ids(sg.as_str())
            .send()
            .await
            .unwrap();
        let live = rds
            .describe_db_instances()
            .db_instance_identifier(&id)
            .send()
            .await
            .unwrap();
        let db = &live.db_instances()[0];
        state = state.add(
            &format!("aws_db_instance.{name}"),
            json!({"arn": db.db_instance_arn(), "id": db.dbi_resource_id(), "identifier": id,
                   "engine": "postgres", "instance_class": "db.t3.micro", "publicly_accessible": false,
                   "storage_encrypted": true, "kms_key_id": db.kms_key_id().unwrap_or(""),
                   "vpc_security_group_ids": [sg], "db_subnet_group_name": group_name,
                   "username": "app", "tags": {}, "tags_all": {}}),
        );
        ids.push(id);
    }
    let path = state.write(dir.path(), "rds.tfstate");
    assert_eq!(check_json(&m.url, &[&path]).code, 0);
    for id in &ids {
        rds.modify_db_instance()
            .db_instance_identifier(id)
            .publicly_accessible(true)
            .apply_immediately(true)
            .send()
            .await
            .unwrap();
    }
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let drifts = run.drifts();
    let open = by_address(&drifts, "aws_db_instance.open");
    assert_eq!(open["risk"]["exposure"], "internet", "{open:#}");
    let why = open["risk"]["reasons"].to_string();
    assert!(
        why.contains(&format!("subnet {}", subnets[0]))
            && why.contains("tcp port 5432 from 0.0.0.0/0"),
        "{why}"
    );
    let inner = by_address(&drifts, "aws_db_instance.inner");
    assert_eq!(inner["risk"]["exposure"], "private", "{inner:#}");
    assert_eq!(
        drifts[0]["address"], "aws_db_instance.open",
        "the open one first"
    );
}
