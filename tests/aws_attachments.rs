//! Security groups attached to instances and network interfaces, end to end against moto: a clean
//! instance passes; a world-open group attached by hand blocks (critical); a declared group
//! swapped for another is a change on its declarer plus an unmanaged group; an attachment
//! resource outranks the instance's stale copy; a detached attachment resource is reported on
//! itself; a deleted interface is one missing drift.

mod common;

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
