//! Security groups attached to instances and network interfaces, end to end against moto: a clean
//! instance passes; a world-open group attached by hand blocks (critical); a declared group
//! swapped for another is a change on its declarer plus an unmanaged group; an attachment
//! resource outranks the instance's stale copy; a detached attachment resource is reported on
//! itself; a deleted interface is one missing drift. Load balancers, launch templates, Lambda
//! functions (moto) and ElastiCache (a loopback stand-in for its query API) the same way.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::json;

struct Host {
    instance: String,
    eni: String,
}

async fn subnet(m: &Moto, vpc: &str) -> String {
    m.ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block("10.0.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string()
}

async fn host(m: &Moto, subnet: &str, groups: &[&str]) -> Host {
    let image = m
        .ec2
        .describe_images()
        .send()
        .await
        .unwrap()
        .images()
        .first()
        .and_then(|i| i.image_id())
        .unwrap_or("ami-12c6146b")
        .to_string();
    let mut run = m
        .ec2
        .run_instances()
        .image_id(image)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet);
    for g in groups {
        run = run.security_group_ids(*g);
    }
    let out = run.send().await.unwrap();
    let inst = &out.instances()[0];
    Host {
        instance: inst.instance_id().unwrap().to_string(),
        eni: inst.network_interfaces()[0]
            .network_interface_id()
            .unwrap()
            .to_string(),
    }
}

async fn set_groups(m: &Moto, eni: &str, groups: &[&str]) {
    m.ec2
        .modify_network_interface_attribute()
        .network_interface_id(eni)
        .set_groups(Some(groups.iter().map(|g| g.to_string()).collect()))
        .send()
        .await
        .unwrap();
}

fn instance_attrs(h: &Host, groups: &[&str]) -> serde_json::Value {
    json!({"id": h.instance, "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{}", h.instance),
           "ami": "ami-12c6146b", "instance_type": "t3.micro", "primary_network_interface_id": h.eni,
           "vpc_security_group_ids": groups, "security_groups": [], "tags": {}, "tags_all": {}})
}

#[tokio::test]
async fn groups_attached_detached_and_swapped() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let subnet = subnet(&m, &vpc).await;
    let app = m.group(&vpc, &unique("app")).await;
    m.allow_in(&app, perm("tcp", 443, 443, "10.0.0.0/8")).await;
    let debug = m.group(&vpc, &unique("debug")).await;
    m.allow_in(&debug, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let web = m.group(&vpc, &unique("web")).await;
    m.allow_in(&web, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    let h = host(&m, &subnet, &[&app]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add("aws_instance.web", instance_attrs(&h, &[&app]))
        .write(dir.path(), "hosts.tfstate");

    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let calls = &run.json()["summary"]["api_calls"]["ec2"];
    assert_eq!(calls["DescribeNetworkInterfaces"], 1, "{calls}");

    // "Just for debugging": a group with SSH from anywhere attached by hand.
    set_groups(&m, &h.eni, &[&app, &debug]).await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &run.drifts()[0];
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "severity"]),
        ["aws_instance.web unmanaged weakens AWS-SG-ATTACHMENT-ADMIN critical"]
    );
    assert_eq!(d["actual_text"], format!("security group {debug}"));
    // The host has no public address: the world-open group reaches it from private networks only.
    assert_eq!(d["risk"]["exposure"], "private", "{d:#}");
    // Made public (an Elastic IP, its subnet routed to an internet gateway): the same drift is
    // on the internet, through the groups' rules together.
    m.route_to_internet(&vpc, &subnet).await;
    let ip = m.elastic_ip(&h.eni).await;
    let run = check_json(&m.url, &[&path]);
    let d = &run.drifts()[0];
    assert_eq!(d["risk"]["exposure"], "internet", "{d:#}");
    let why = d["risk"]["reasons"].to_string();
    assert!(why.contains(&ip) && why.contains(&h.instance), "{why}");
    assert!(
        why.contains(
            "security groups' inbound rules admit the internet (tcp port 22 from 0.0.0.0/0)"
        ),
        "{why}"
    );

    // A group with only AWS's default allow-all egress: a difference, not "admin ports open to
    // the internet" (its widest rule is outbound).
    let outbound = m
        .ec2
        .create_security_group()
        .group_name(unique("outbound"))
        .description("console default")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    set_groups(&m, &h.eni, &[&app, &outbound]).await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "severity"]),
        ["aws_instance.web unmanaged weakens AWS-SG-ATTACHMENT medium"]
    );

    // A group that allows only part of what the declared one does: a difference the code does
    // not know, of no weakening effect.
    let narrower = m.group(&vpc, &unique("narrower")).await;
    m.allow_in(&narrower, perm("tcp", 443, 443, "10.1.0.0/16"))
        .await;
    set_groups(&m, &h.eni, &[&app, &narrower]).await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        ["aws_instance.web unmanaged unknown AWS-SG-ATTACHMENT"]
    );

    // Back as declared: clean again.
    set_groups(&m, &h.eni, &[&app]).await;
    assert_eq!(check_json(&m.url, &[&path]).code, 0);

    // A standalone interface (moto keeps an instance's launch groups on its primary interface
    // whatever is set, so the swap is shown here): the declared group swapped for a wide one is
    // a change on the interface (strengthens) and an unmanaged group (weakens).
    let eni = m
        .ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .groups(&app)
        .send()
        .await
        .unwrap()
        .network_interface()
        .unwrap()
        .network_interface_id()
        .unwrap()
        .to_string();
    let path = State::new()
        .add(
            "aws_network_interface.svc",
            json!({"id": eni, "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/{eni}"),
                   "subnet_id": subnet, "security_groups": [app], "tags": {}}),
        )
        .write(dir.path(), "eni.tfstate");
    assert_eq!(check_json(&m.url, &[&path]).code, 0);
    set_groups(&m, &eni, &[&web]).await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        [
            "aws_network_interface.svc changed strengthens AWS-SG-ATTACHMENT",
            "aws_network_interface.svc unmanaged weakens AWS-SG-ATTACHMENT",
        ]
    );
}

#[tokio::test]
async fn attachment_resources_decide_over_the_instance_copy() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let subnet = subnet(&m, &vpc).await;
    let app = m.group(&vpc, &unique("app")).await;
    let extra = m.group(&vpc, &unique("extra")).await;
    m.allow_in(&extra, perm("tcp", 8080, 8080, "10.0.0.0/8"))
        .await;
    let h = host(&m, &subnet, &[&app]).await;
    set_groups(&m, &h.eni, &[&app, &extra]).await;
    // The instance's list is the provider's refreshed copy; the attachment resources decide.
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add("aws_instance.web", instance_attrs(&h, &[&app, &extra]))
        .add(
            "aws_network_interface_sg_attachment.app",
            json!({"id": format!("{app}_{}", h.eni), "network_interface_id": h.eni, "security_group_id": app}),
        )
        .add(
            "aws_network_interface_sg_attachment.extra",
            json!({"id": format!("{extra}_{}", h.eni), "network_interface_id": h.eni, "security_group_id": extra}),
        )
        .write(dir.path(), "att.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The extra group detached by hand: reported on the attachment resource that declares it.
    set_groups(&m, &h.eni, &[&app]).await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect"]),
        ["aws_network_interface_sg_attachment.extra missing strengthens"]
    );

    // A deleted interface is one missing drift, never an error or a pass.
    let path = State::new()
        .add(
            "aws_network_interface.gone",
            json!({"id": "eni-0123456789abcdef0", "subnet_id": subnet, "security_groups": [app]}),
        )
        .write(dir.path(), "gone.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind"]),
        ["aws_network_interface.gone missing"]
    );
}

/// An internet-facing load balancer: an extra world-open group attached by hand weakens; a
/// deleted load balancer is one missing drift. Read 20 ARNs per `DescribeLoadBalancers`.
#[tokio::test]
async fn load_balancer_groups() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let mut subnets = Vec::new();
    for (cidr, az) in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")] {
        let s = m
            .ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let web = m.group(&vpc, &unique("lb-web")).await;
    m.allow_in(&web, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    let admin = m.group(&vpc, &unique("lb-admin")).await;
    m.allow_in(&admin, perm("tcp", 3389, 3389, "0.0.0.0/0"))
        .await;
    let elb = moto_client!(aws_sdk_elasticloadbalancingv2, &m.url);
    let lb = elb
        .create_load_balancer()
        .name(unique("edge").chars().take(32).collect::<String>())
        .set_subnets(Some(subnets.clone()))
        .security_groups(&web)
        .send()
        .await
        .unwrap();
    let arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add(
            "aws_lb.edge",
            json!({"arn": arn, "id": arn, "name": "edge", "internal": false, "load_balancer_type": "application",
                   "security_groups": [web], "subnets": subnets, "tags": {}, "tags_all": {}}),
        )
        .write(dir.path(), "lb.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["elbv2"]["DescribeLoadBalancers"],
        1
    );

    elb.set_security_groups()
        .load_balancer_arn(&arn)
        .security_groups(&web)
        .security_groups(&admin)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "severity"]),
        ["aws_lb.edge unmanaged weakens AWS-SG-ATTACHMENT-ADMIN critical"]
    );

    elb.delete_load_balancer()
        .load_balancer_arn(&arn)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind"]),
        ["aws_lb.edge missing"]
    );
}

/// A launch template: its latest version's groups, top level and per interface, against the
/// state; a new version with a world-open group on an interface weakens.
#[tokio::test]
async fn launch_template_latest_version() {
    use aws_sdk_ec2::types::{
        LaunchTemplateInstanceNetworkInterfaceSpecificationRequest as Nic,
        RequestLaunchTemplateData as Data,
    };
    let m = moto().await;
    let vpc = m.vpc().await;
    let app = m.group(&vpc, &unique("lt-app")).await;
    let open = m.group(&vpc, &unique("lt-open")).await;
    m.allow_in(&open, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let nic = |groups: &[&str]| {
        let mut n = Nic::builder().device_index(0);
        for g in groups {
            n = n.groups(*g);
        }
        n.build()
    };
    let lt = m
        .ec2
        .create_launch_template()
        .launch_template_name(unique("fleet"))
        .launch_template_data(
            Data::builder()
                .image_id("ami-12c6146b")
                .network_interfaces(nic(&[&app]))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = lt
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add(
            "aws_launch_template.fleet",
            json!({"id": id, "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:launch-template/{id}"),
                   "name": "fleet", "image_id": "ami-12c6146b", "latest_version": 1, "default_version": 1,
                   "vpc_security_group_ids": [], "security_group_names": [],
                   "network_interfaces": [{"device_index": 0, "security_groups": [app],
                                           "associate_public_ip_address": "", "delete_on_termination": ""}],
                   "tags": {}, "tags_all": {}}),
        )
        .write(dir.path(), "lt.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["ec2"]["DescribeLaunchTemplateVersions"],
        1
    );

    // A new version made in the console, its interface guarded by a world-open group.
    m.ec2
        .create_launch_template_version()
        .launch_template_id(&id)
        .launch_template_data(
            Data::builder()
                .image_id("ami-12c6146b")
                .network_interfaces(nic(&[&app, &open]))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "actual_text"]),
        [format!(
            "aws_launch_template.fleet unmanaged weakens AWS-SG-ATTACHMENT-ADMIN security group {open} on interface 0"
        )]
    );
}

/// A zip archive with no files (its end-of-central-directory record alone): moto keeps the code
/// without running it.
const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

async fn function(m: &Moto, name: &str, subnet: &str, groups: &[&str]) -> String {
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let role = iam
        .create_role()
        .role_name(unique("fn-role"))
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let lambda = moto_client!(aws_sdk_lambda, &m.url);
    let mut vpc = aws_sdk_lambda::types::VpcConfig::builder().subnet_ids(subnet);
    for g in groups {
        vpc = vpc.security_group_ids(*g);
    }
    lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role.role().unwrap().arn())
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP))
                .build(),
        )
        .vpc_config(vpc.build())
        .send()
        .await
        .unwrap()
        .function_arn()
        .unwrap()
        .to_string()
}

fn function_attrs(name: &str, arn: &str, subnet: &str, groups: &[&str]) -> serde_json::Value {
    json!({"id": name, "function_name": name, "arn": arn, "qualified_arn": format!("{arn}:$LATEST"),
           "runtime": "python3.12", "handler": "index.handler",
           "vpc_config": [{"security_group_ids": groups, "subnet_ids": [subnet], "vpc_id": "vpc-123abc",
                           "ipv6_allowed_for_dual_stack": false}],
           "tags": {}, "tags_all": {}})
}

#[tokio::test]
async fn lambda_function_groups_read_one_by_one_and_listed() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let subnet = subnet(&m, &vpc).await;
    let app = m.group(&vpc, &unique("fn-app")).await;
    m.allow_in(&app, perm("tcp", 443, 443, "10.0.0.0/8")).await;
    let debug = m.group(&vpc, &unique("fn-debug")).await;
    m.allow_in(&debug, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let name = unique("fn");
    let arn = function(&m, &name, &subnet, &[&app]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add(
            "aws_lambda_function.api",
            function_attrs(&name, &arn, &subnet, &[&app]),
        )
        .write(dir.path(), "fn.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["lambda"],
        json!({"GetFunctionConfiguration": 1})
    );

    // A world-open SSH group added to the function's VPC config by hand.
    let lambda = moto_client!(aws_sdk_lambda, &m.url);
    lambda
        .update_function_configuration()
        .function_name(&name)
        .vpc_config(
            aws_sdk_lambda::types::VpcConfig::builder()
                .subnet_ids(&subnet)
                .security_group_ids(&app)
                .security_group_ids(&debug)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "actual_text"]),
        [format!(
            "aws_lambda_function.api unmanaged weakens AWS-SG-ATTACHMENT-ADMIN security group {debug}"
        )]
    );

    // Many functions: one listing reads them all; the one deleted is confirmed by a direct read.
    let mut state = State::new().add(
        "aws_lambda_function.api",
        function_attrs(&name, &arn, &subnet, &[&app, &debug]),
    );
    let mut gone = String::new();
    for i in 0..11 {
        let n = unique(&format!("fleet{i}"));
        let a = function(&m, &n, &subnet, &[&app]).await;
        state = state.add(
            &format!("aws_lambda_function.fleet[{i}]"),
            function_attrs(&n, &a, &subnet, &[&app]),
        );
        if i == 0 {
            lambda
                .delete_function()
                .function_name(&n)
                .send()
                .await
                .unwrap();
            gone = n;
        }
    }
    let path = state.write(dir.path(), "fleet.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "policy"]),
        ["aws_lambda_function.fleet[0] missing AWS-SG-ATTACHMENT-MISSING"],
        "{gone}"
    );
    let calls = &run.json()["summary"]["api_calls"]["lambda"];
    assert_eq!(calls["GetFunctionConfiguration"], 1, "{calls}");
    assert!(calls["ListFunctions"].as_u64().unwrap() >= 1, "{calls}");
}

/// One cache cluster as `DescribeCacheClusters` lists it (query protocol XML).
fn cache_cluster_xml(id: &str, group: Option<&str>, groups: &[&str]) -> String {
    let members: String = groups
        .iter()
        .map(|g| {
            format!(
                "<member><SecurityGroupId>{g}</SecurityGroupId><Status>active</Status></member>"
            )
        })
        .collect();
    let rg = group
        .map(|g| format!("<ReplicationGroupId>{g}</ReplicationGroupId>"))
        .unwrap_or_default();
    format!(
        "<CacheCluster><CacheClusterId>{id}</CacheClusterId><CacheNodeType>cache.t3.micro</CacheNodeType>\
         <Engine>redis</Engine><CacheClusterStatus>available</CacheClusterStatus><NumCacheNodes>1</NumCacheNodes>\
         {rg}<SecurityGroups>{members}</SecurityGroups>\
         <ARN>arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:{id}</ARN></CacheCluster>"
    )
}

fn query_xml(operation: &str, result: &str) -> tracker::Reply {
    tracker::Reply::status(
        200,
        &format!(
            "<{operation}Response xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\">\
             <{operation}Result>{result}</{operation}Result>\
             <ResponseMetadata><RequestId>5f2ca1f4-0000-4000-8000-000000000001</RequestId></ResponseMetadata>\
             </{operation}Response>"
        ),
    )
    .header("Content-Type", "text/xml")
}

fn cache_attrs(kind: &str, id: &str, groups: &[&str]) -> serde_json::Value {
    let arn_kind = if kind == "cluster" {
        "cluster"
    } else {
        "replicationgroup"
    };
    let mut a = json!({"id": id, "arn": format!("arn:aws:elasticache:{REGION}:{ACCOUNT}:{arn_kind}:{id}"),
                       "engine": "redis", "node_type": "cache.t3.micro", "security_group_ids": groups,
                       "subnet_group_name": "cache", "tags": {}, "tags_all": {}});
    if kind == "cluster" {
        a["cluster_id"] = json!(id);
    } else {
        a["replication_group_id"] = json!(id);
    }
    a
}

/// ElastiCache through a loopback stand-in for its query API: moto 5.2.5 stores a cluster's
/// security groups but leaves `SecurityGroups` out of its answers, and its replication groups
/// have no member clusters. The stand-in answers with the documented XML; the attached groups'
/// rules come from moto.
#[tokio::test]
async fn cache_clusters_and_replication_groups() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let app = m.group(&vpc, &unique("cache-app")).await;
    m.allow_in(&app, perm("tcp", 6379, 6379, "10.0.0.0/8"))
        .await;
    let debug = m.group(&vpc, &unique("cache-debug")).await;
    m.allow_in(&debug, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let listing = [
        cache_cluster_xml("sessions", None, &[&app, &debug]),
        cache_cluster_xml("queue-001", Some("queue"), &[&app]),
        cache_cluster_xml("queue-002", Some("queue"), &[&app]),
    ]
    .concat();
    let not_found = tracker::Reply::status(
        404,
        "<ErrorResponse xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\"><Error><Type>Sender</Type>\
         <Code>CacheClusterNotFound</Code><Message>CacheCluster not found: old-cache</Message></Error>\
         <RequestId>5f2ca1f4-0000-4000-8000-000000000002</RequestId></ErrorResponse>",
    )
    .header("Content-Type", "text/xml");
    let no_group = tracker::Reply::status(
        404,
        "<ErrorResponse xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\"><Error><Type>Sender</Type>\
         <Code>ReplicationGroupNotFoundFault</Code><Message>ReplicationGroup retired not found.</Message></Error>\
         <RequestId>5f2ca1f4-0000-4000-8000-000000000003</RequestId></ErrorResponse>",
    )
    .header("Content-Type", "text/xml");
    let stand_in = |group_answer: tracker::Reply| {
        tracker::serve(
            "Wed, 02 Dec 2026 10:00:00 GMT",
            vec![
                ("/#CacheClusterId=old-cache", vec![not_found.clone()]),
                ("/#ReplicationGroupId=retired", vec![group_answer]),
                (
                    "/#Action=DescribeCacheClusters",
                    vec![query_xml(
                        "DescribeCacheClusters",
                        &format!("<CacheClusters>{listing}</CacheClusters>"),
                    )],
                ),
            ],
        )
    };
    let cache = stand_in(no_group);
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add(
            "aws_elasticache_cluster.sessions",
            cache_attrs("cluster", "sessions", &[&app]),
        )
        .add(
            "aws_elasticache_replication_group.queue",
            cache_attrs("group", "queue", &[&app]),
        )
        // A member of the replication group: its groups are the group's, only copied back.
        .add("aws_elasticache_cluster.queue_replica", {
            let mut a = cache_attrs("cluster", "queue-002", &[&app, &debug]);
            a["replication_group_id"] = json!("queue");
            a
        })
        .add(
            "aws_elasticache_cluster.old",
            cache_attrs("cluster", "old-cache", &[&app]),
        )
        .add(
            "aws_elasticache_replication_group.retired",
            cache_attrs("group", "retired", &[&app]),
        )
        .write(dir.path(), "cache.tfstate");
    let p = path.display().to_string();
    let run_with = |cache: &tracker::Server| {
        driftgate_env(
            &m.url,
            &["check", "--format", "json", "--state", &p],
            None,
            &[("AWS_ENDPOINT_URL_ELASTICACHE", Some(cache.url.as_str()))],
        )
    };
    let run = run_with(&cache);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "actual_text"]),
        [
            "aws_elasticache_cluster.old missing unknown AWS-SG-ATTACHMENT-MISSING does not exist".to_string(),
            format!(
                "aws_elasticache_cluster.sessions unmanaged weakens AWS-SG-ATTACHMENT-ADMIN security group {debug}"
            ),
            "aws_elasticache_replication_group.retired missing unknown AWS-SG-ATTACHMENT-MISSING does not exist".to_string(),
        ]
    );
    assert_eq!(
        run.json()["summary"]["api_calls"]["elasticache"],
        json!({"DescribeCacheClusters": 2, "DescribeReplicationGroups": 1})
    );

    // A 200 answer without its `ReplicationGroups`: not "no such group", exit 2 naming the call.
    let empty = query_xml("DescribeReplicationGroups", "");
    let run = run_with(&stand_in(empty));
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("DescribeReplicationGroups"),
        "{}",
        run.stderr
    );
}

/// `driftgate fix` on an instance's groups, named by reference in the code: the group detached
/// in the console leaves `vpc_security_group_ids` (the state says which reference it is), and
/// a group attached by hand and accepted joins it by reference.
#[tokio::test]
async fn groups_detached_by_hand_leave_the_reference_list() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let subnet = subnet(&m, &vpc).await;
    let (app_name, debug_name, web_name) = (unique("app"), unique("debug"), unique("web"));
    let app = m.group(&vpc, &app_name).await;
    m.allow_in(&app, perm("tcp", 443, 443, "10.0.0.0/8")).await;
    let debug = m.group(&vpc, &debug_name).await;
    m.allow_in(&debug, perm("tcp", 22, 22, "10.0.0.0/8")).await;
    let web = m.group(&vpc, &web_name).await;
    m.allow_in(&web, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    // Debug was detached by hand (moto keeps an instance's launch groups on its primary
    // interface whatever is set, so the host is launched without it).
    let h = host(&m, &subnet, &[&app]).await;
    let dir = tempfile::tempdir().unwrap();
    let group = |id: &str, name: &str, port: i64, cidr: &str| {
        sg_attrs(
            id,
            &vpc,
            name,
            vec![sg_block("tcp", port, port, &[cidr])],
            vec![],
        )
    };
    let path = State::new()
        .add("aws_instance.web", instance_attrs(&h, &[&app, &debug]))
        .add(
            "aws_security_group.app",
            group(&app, &app_name, 443, "10.0.0.0/8"),
        )
        .add(
            "aws_security_group.debug",
            group(&debug, &debug_name, 22, "10.0.0.0/8"),
        )
        .add(
            "aws_security_group.web",
            group(&web, &web_name, 443, "0.0.0.0/0"),
        )
        .write(dir.path(), "hosts.tfstate");
    let instance_tf = |groups: &str| {
        format!("resource \"aws_instance\" \"web\" {{\n  ami           = \"ami-12c6146b\"\n  instance_type = \"t3.micro\"\n  vpc_security_group_ids = {groups}\n}}\n")
    };
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(
        code.join("main.tf"),
        instance_tf("[aws_security_group.app.id, aws_security_group.debug.id]"),
    )
    .unwrap();
    let fix = |extra: &[&str]| {
        let mut args = vec![
            "fix",
            "--quiet",
            "--write",
            "--format",
            "json",
            "--state",
            path.to_str().unwrap(),
            "--source-dir",
            "infra",
        ];
        args.extend_from_slice(extra);
        let run = driftgate_at(dir.path(), &m.url, &args, None, &[]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        (doc, std::fs::read_to_string(code.join("main.tf")).unwrap())
    };

    let (doc, written) = fix(&[]);
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["fixes"][0]["address"], "aws_instance.web", "{doc:#}");
    assert_eq!(doc["fixes"][0]["action"], "codify", "{doc:#}");
    assert_eq!(doc["manual"], json!([]), "{doc:#}");
    assert_eq!(written, instance_tf("[aws_security_group.app.id]"));

    // The world-open web group attached by hand, accepted: it joins by reference.
    set_groups(&m, &h.eni, &[&app, &web]).await;
    let (doc, written) = fix(&["--accept-weakening"]);
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["fixes"][0]["action"], "accept", "{doc:#}");
    assert_eq!(
        written,
        instance_tf("[aws_security_group.app.id, aws_security_group.web.id]")
    );
}
