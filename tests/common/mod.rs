//! Test harness: a real AWS API (moto server, started by scripts/test.sh) driven with the AWS SDK,
//! state files written in the layout Terraform's AWS provider writes (attribute names and shapes
//! copied from the driftctl fixtures in tests/fixtures/shared), and the real driftgate binary.

#![allow(dead_code)]
// The helpers mirror the EC2 and provider parameters one to one.
#![allow(clippy::too_many_arguments)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aws_sdk_ec2::types::{IpPermission, IpRange, PortRange, RuleAction, Tag};
use serde_json::{json, Value};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

pub fn moto_url() -> String {
    std::env::var("DRIFTGATE_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "DRIFTGATE_MOTO_URL is not set: these tests need a moto server. \
             Run the suite with scripts/test.sh, which installs and starts one."
        )
    })
}

/// A client of an AWS SDK crate (`aws_sdk_iam`, `aws_sdk_kms`, …) pointed at moto.
#[macro_export]
macro_rules! moto_client {
    ($sdk:ident, $url:expr) => {{
        let creds = $sdk::config::Credentials::new("testing", "testing", None, None, "tests");
        $sdk::Client::from_conf(
            $sdk::config::Builder::new()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new($crate::common::REGION))
                .credentials_provider(creds)
                .endpoint_url($url)
                .build(),
        )
    }};
}

pub struct Moto {
    pub url: String,
    pub ec2: aws_sdk_ec2::Client,
}

pub async fn moto() -> Moto {
    let url = moto_url();
    let creds = aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "tests");
    let conf = aws_sdk_ec2::config::Builder::new()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new(REGION))
        .credentials_provider(creds)
        .endpoint_url(&url)
        .build();
    Moto {
        url,
        ec2: aws_sdk_ec2::Client::from_conf(conf),
    }
}

pub fn perm(proto: &str, from: i32, to: i32, cidr: &str) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol(proto);
    if proto != "-1" {
        p = p.from_port(from).to_port(to);
    }
    if cidr.contains(':') {
        p.ipv6_ranges(
            aws_sdk_ec2::types::Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .build(),
        )
        .build()
    } else {
        p.ip_ranges(IpRange::builder().cidr_ip(cidr).build())
            .build()
    }
}

impl Moto {
    /// Each test works in a VPC of its own, so tests share one server without interfering.
    pub async fn vpc(&self) -> String {
        let out = self
            .ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .unwrap();
        out.vpc().unwrap().vpc_id().unwrap().to_string()
    }

    /// A group as Terraform creates it: the default allow-all egress rule is revoked.
    pub async fn group(&self, vpc: &str, name: &str) -> String {
        let id = self
            .ec2
            .create_security_group()
            .group_name(name)
            .description("Managed by Terraform")
            .vpc_id(vpc)
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_string();
        self.revoke_out(&id, perm("-1", 0, 0, "0.0.0.0/0")).await;
        id
    }

    pub async fn default_group(&self, vpc: &str) -> String {
        let out = self
            .ec2
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(vpc)
                    .build(),
            )
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-name")
                    .values("default")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.security_groups()[0].group_id().unwrap().to_string()
    }

    pub async fn allow_in(&self, sg: &str, p: IpPermission) {
        self.ec2
            .authorize_security_group_ingress()
            .group_id(sg)
            .ip_permissions(p)
            .send()
            .await
            .unwrap();
    }

    pub async fn allow_out(&self, sg: &str, p: IpPermission) {
        self.ec2
            .authorize_security_group_egress()
            .group_id(sg)
            .ip_permissions(p)
            .send()
            .await
            .unwrap();
    }

    pub async fn revoke_in(&self, sg: &str, p: IpPermission) {
        self.ec2
            .revoke_security_group_ingress()
            .group_id(sg)
            .ip_permissions(p)
            .send()
            .await
            .unwrap();
    }

    pub async fn revoke_out(&self, sg: &str, p: IpPermission) {
        self.ec2
            .revoke_security_group_egress()
            .group_id(sg)
            .ip_permissions(p)
            .send()
            .await
            .unwrap();
    }

    pub async fn delete_group(&self, sg: &str) {
        self.ec2
            .delete_security_group()
            .group_id(sg)
            .send()
            .await
            .unwrap();
    }

    pub async fn tag(&self, id: &str, key: &str, value: &str) {
        self.ec2
            .create_tags()
            .resources(id)
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .unwrap();
    }

    pub async fn acl(&self, vpc: &str) -> String {
        let out = self
            .ec2
            .create_network_acl()
            .vpc_id(vpc)
            .send()
            .await
            .unwrap();
        out.network_acl()
            .unwrap()
            .network_acl_id()
            .unwrap()
            .to_string()
    }

    pub async fn acl_entry(
        &self,
        acl: &str,
        rule: i32,
        egress: bool,
        proto: &str,
        action: &str,
        cidr: &str,
        from: i32,
        to: i32,
    ) {
        let mut req = self
            .ec2
            .create_network_acl_entry()
            .network_acl_id(acl)
            .rule_number(rule)
            .egress(egress)
            .protocol(proto)
            .rule_action(RuleAction::from(action))
            .cidr_block(cidr);
        if proto == "6" || proto == "17" {
            req = req.port_range(PortRange::builder().from(from).to(to).build());
        }
        req.send().await.unwrap();
    }

    pub async fn replace_acl_entry(
        &self,
        acl: &str,
        rule: i32,
        egress: bool,
        proto: &str,
        action: &str,
        cidr: &str,
        from: i32,
        to: i32,
    ) {
        let mut req = self
            .ec2
            .replace_network_acl_entry()
            .network_acl_id(acl)
            .rule_number(rule)
            .egress(egress)
            .protocol(proto)
            .rule_action(RuleAction::from(action))
            .cidr_block(cidr);
        if proto == "6" || proto == "17" {
            req = req.port_range(PortRange::builder().from(from).to(to).build());
        }
        req.send().await.unwrap();
    }

    /// Routes the subnet's 0.0.0.0/0 to a new internet gateway of the VPC; returns the gateway.
    pub async fn route_to_internet(&self, vpc: &str, subnet: &str) -> String {
        let igw = self
            .ec2
            .create_internet_gateway()
            .send()
            .await
            .unwrap()
            .internet_gateway()
            .unwrap()
            .internet_gateway_id()
            .unwrap()
            .to_string();
        self.ec2
            .attach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(vpc)
            .send()
            .await
            .unwrap();
        let table = self
            .ec2
            .create_route_table()
            .vpc_id(vpc)
            .send()
            .await
            .unwrap()
            .route_table()
            .unwrap()
            .route_table_id()
            .unwrap()
            .to_string();
        self.ec2
            .create_route()
            .route_table_id(&table)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&igw)
            .send()
            .await
            .unwrap();
        self.ec2
            .associate_route_table()
            .route_table_id(&table)
            .subnet_id(subnet)
            .send()
            .await
            .unwrap();
        igw
    }

    /// An Elastic IP on the interface; returns the address.
    pub async fn elastic_ip(&self, eni: &str) -> String {
        let ip = self
            .ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .unwrap()
            .allocation_id()
            .unwrap()
            .to_string();
        self.ec2
            .associate_address()
            .allocation_id(&ip)
            .network_interface_id(eni)
            .send()
            .await
            .unwrap();
        let out = self
            .ec2
            .describe_network_interfaces()
            .network_interface_ids(eni)
            .send()
            .await
            .unwrap();
        out.network_interfaces()[0]
            .association()
            .and_then(|a| a.public_ip())
            .expect("moto puts the Elastic IP on the interface")
            .to_string()
    }

    pub async fn delete_acl(&self, acl: &str) {
        self.ec2
            .delete_network_acl()
            .network_acl_id(acl)
            .send()
            .await
            .unwrap();
    }
}

// ---- state files, in the attribute layout of the AWS provider ----

pub fn sg_arn(id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{id}")
}

/// An inline `ingress`/`egress` block of `aws_security_group`.
pub fn sg_block(proto: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
    let (v4, v6): (Vec<&str>, Vec<&str>) = cidrs.iter().partition(|c| !c.contains(':'));
    json!({"cidr_blocks": v4, "description": "", "from_port": from, "ipv6_cidr_blocks": v6,
           "prefix_list_ids": [], "protocol": proto, "security_groups": [], "self": false,
           "to_port": to})
}

pub fn sg_attrs(id: &str, vpc: &str, name: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    json!({"arn": sg_arn(id), "description": "Managed by Terraform", "egress": egress, "id": id,
           "ingress": ingress, "name": name, "name_prefix": "", "owner_id": ACCOUNT,
           "revoke_rules_on_delete": false, "tags": {"Name": name}, "tags_all": {"Name": name},
           "timeouts": null, "vpc_id": vpc})
}

pub fn sg_rule_attrs(
    kind: &str,
    sg: &str,
    proto: &str,
    from: i64,
    to: i64,
    cidrs: &[&str],
) -> Value {
    json!({"cidr_blocks": cidrs, "description": "", "from_port": from, "id": format!("sgrule-{}", from * 7 + to),
           "ipv6_cidr_blocks": null, "prefix_list_ids": null, "protocol": proto, "security_group_id": sg,
           "security_group_rule_id": "", "self": false, "source_security_group_id": null, "timeouts": null,
           "to_port": to, "type": kind})
}

pub fn vpc_rule_attrs(
    sg: &str,
    proto: &str,
    from: Option<i64>,
    to: Option<i64>,
    cidr: &str,
) -> Value {
    json!({"arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group-rule/sgr-0123"),
           "cidr_ipv4": cidr, "cidr_ipv6": null, "description": null, "from_port": from, "id": "sgr-0123",
           "ip_protocol": proto, "prefix_list_id": null, "referenced_security_group_id": null,
           "security_group_id": sg, "security_group_rule_id": "sgr-0123", "tags": null, "tags_all": {},
           "to_port": to})
}

pub fn acl_entry(rule: i64, action: &str, proto: &str, cidr: &str, from: i64, to: i64) -> Value {
    json!({"action": action, "cidr_block": cidr, "from_port": from, "icmp_code": 0, "icmp_type": 0,
           "ipv6_cidr_block": "", "protocol": proto, "rule_no": rule, "to_port": to})
}

pub fn acl_attrs(id: &str, vpc: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    json!({"arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{id}"), "egress": egress, "id": id,
           "ingress": ingress, "owner_id": ACCOUNT, "subnet_ids": [], "tags": {}, "tags_all": {}, "vpc_id": vpc})
}

pub fn acl_rule_attrs(
    acl: &str,
    rule: i64,
    egress: bool,
    proto: &str,
    action: &str,
    cidr: &str,
    from: i64,
    to: i64,
) -> Value {
    json!({"cidr_block": cidr, "egress": egress, "from_port": from, "icmp_code": null, "icmp_type": null,
           "id": format!("nacl-{rule}"), "ipv6_cidr_block": "", "network_acl_id": acl, "protocol": proto,
           "rule_action": action, "rule_number": rule, "to_port": to})
}

/// A state v4 document. Instances added under the same module/type/name become one resource
/// with several instances (count or for_each), as Terraform writes them.
#[derive(Default, Clone)]
pub struct State {
    resources: Vec<Value>,
}

impl State {
    pub fn new() -> Self {
        State::default()
    }

    pub fn add(mut self, address: &str, attrs: Value) -> Self {
        let (module, rest) = split_module(address);
        let (type_name, index) = match rest.find('[') {
            Some(i) => (&rest[..i], Some(parse_index(&rest[i..]))),
            None => (rest, None),
        };
        let (rtype, name) = type_name.split_once('.').unwrap();
        let mut instance = json!({"schema_version": 1, "attributes": attrs, "sensitive_attributes": [],
                                  "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ=="});
        if let Some(i) = &index {
            instance["index_key"] = i.clone();
        }
        let existing = self.resources.iter_mut().find(|r| {
            r["type"] == rtype
                && r["name"] == name
                && r.get("module").and_then(Value::as_str) == module
        });
        match existing {
            Some(r) => r["instances"].as_array_mut().unwrap().push(instance),
            None => {
                let mut r = json!({"mode": "managed", "type": rtype, "name": name,
                    "provider": format!("provider[\"registry.terraform.io/hashicorp/{}\"]", provider_of(rtype)),
                    "instances": [instance]});
                if let Some(m) = module {
                    r["module"] = json!(m);
                }
                if let Some(i) = &index {
                    r["each"] = json!(if i.is_string() { "map" } else { "list" });
                }
                self.resources.push(r);
            }
        }
        self
    }

    pub fn json(&self) -> Value {
        json!({"version": 4, "terraform_version": "1.9.8", "serial": 12,
               "lineage": "5e7a3a40-8e4f-5d36-9b7d-3a1c1f0c7f00", "outputs": {}, "resources": self.resources,
               "check_results": null})
    }

    /// The same resources as `terraform show -json` prints a state.
    pub fn show_json(&self) -> Value {
        let mut root = Vec::new();
        let mut modules: Vec<(String, Vec<Value>)> = Vec::new();
        for r in &self.resources {
            let module = r.get("module").and_then(Value::as_str);
            for inst in r["instances"].as_array().unwrap() {
                let mut address = format!(
                    "{}.{}",
                    r["type"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                );
                if let Some(m) = module {
                    address = format!("{m}.{address}");
                }
                if let Some(k) = inst.get("index_key") {
                    address = format!("{address}[{k}]");
                }
                let mut v = json!({"address": address, "mode": "managed", "type": r["type"], "name": r["name"],
                    "provider_name": format!("registry.terraform.io/hashicorp/{}", provider_of(r["type"].as_str().unwrap())),
                    "schema_version": 1,
                    "values": inst["attributes"], "sensitive_values": {}});
                if let Some(k) = inst.get("index_key") {
                    v["index"] = k.clone();
                }
                match module {
                    None => root.push(v),
                    Some(m) => match modules.iter_mut().find(|(a, _)| a == m) {
                        Some((_, list)) => list.push(v),
                        None => modules.push((m.to_string(), vec![v])),
                    },
                }
            }
        }
        let children: Vec<Value> = modules
            .into_iter()
            .map(|(address, resources)| json!({"address": address, "resources": resources}))
            .collect();
        json!({"format_version": "1.0", "terraform_version": "1.9.8",
               "values": {"root_module": {"resources": root, "child_modules": children}}})
    }

    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&self.json()).unwrap()).unwrap();
        path
    }
}

/// The provider of a resource type, by its prefix (`azurerm_`, `google_`, else `aws`).
fn provider_of(resource_type: &str) -> &'static str {
    ["azurerm", "google"]
        .into_iter()
        .find(|p| resource_type.starts_with(&format!("{p}_")))
        .unwrap_or("aws")
}

fn split_module(address: &str) -> (Option<&str>, &str) {
    // Module path = everything up to the last `module.NAME[...]` segment before `TYPE.NAME`.
    let mut end = 0;
    let mut rest = address;
    while let Some(stripped) = rest.strip_prefix("module.") {
        let seg_end = stripped.find('.').unwrap();
        let consumed = "module.".len() + seg_end + 1;
        end += consumed;
        rest = &rest[consumed..];
    }
    if end == 0 {
        (None, address)
    } else {
        (Some(&address[..end - 1]), rest)
    }
}

fn parse_index(s: &str) -> Value {
    let inner = &s[1..s.len() - 1];
    serde_json::from_str(inner).unwrap()
}

// ---- running the binary ----

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn drifts(&self) -> Vec<Value> {
        self.json()["drifts"].as_array().unwrap().clone()
    }
}

/// Runs driftgate with a clean AWS environment pointing at `endpoint`.
pub fn driftgate(endpoint: &str, args: &[&str], stdin: Option<&[u8]>) -> Run {
    driftgate_env(endpoint, args, stdin, &[])
}

/// Same, with environment changes: `(name, None)` removes a variable.
pub fn driftgate_env(
    endpoint: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, Option<&str>)],
) -> Run {
    // A neutral working directory: no .driftgate.yaml of the checkout is picked up.
    let home = tempfile::tempdir().unwrap();
    driftgate_at(home.path(), endpoint, args, stdin, env)
}

/// Same, run in `cwd` (also its HOME).
pub fn driftgate_at(
    cwd: &Path,
    endpoint: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, Option<&str>)],
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    for (k, _) in std::env::vars() {
        // The binary must see only what the test sets: no credentials, trackers or CI of the
        // machine running the tests.
        let foreign = [
            "AWS_",
            "GITHUB_",
            "GITLAB_",
            "JIRA_",
            "CI_",
            "ARM_",
            "AZURE_",
            "GOOGLE_",
            "ACTIONS_",
            "CLOUDSDK_",
            "DRIFTGATE_",
            "GCE_",
            "IDENTITY_",
            "MSI_",
            "IMDS_",
            "TF_",
            "TFE_",
        ];
        if foreign.iter().any(|p| k.starts_with(p)) || k == "NO_COLOR" || k == "CI" {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(cwd)
        .env("HOME", cwd)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", endpoint)
        // No SDK may probe a cloud metadata endpoint: AWS IMDS is off, and Google's metadata
        // server and Azure's managed identity endpoint point at a closed loopback port.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("GCE_METADATA_HOST", "127.0.0.1:9")
        .env("GCE_METADATA_IP", "127.0.0.1:9")
        .env("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token")
        .env("IDENTITY_HEADER", "driftgate-test")
        .args(args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `driftgate check --format json --state PATH...`
pub fn check_json(endpoint: &str, states: &[&Path]) -> Run {
    let mut args = vec!["check".to_string(), "--format".into(), "json".into()];
    for s in states {
        args.push("--state".into());
        args.push(s.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    driftgate(endpoint, &args, None)
}

/// `check_json` twice: IAM read per object and through the account listing
/// (`--iam-reads object|account`). Both must give the same exit code and the same drifts, to the
/// letter; the listing run must have listed. Returns the per-object run.
pub fn check_json_both_iam_reads(endpoint: &str, states: &[&Path]) -> Run {
    let run = |mode: &str| {
        let mut args = vec!["check", "--format", "json", "--iam-reads", mode];
        let paths: Vec<String> = states.iter().map(|s| s.display().to_string()).collect();
        for p in &paths {
            args.extend(["--state", p.as_str()]);
        }
        driftgate(endpoint, &args, None)
    };
    let (per_object, listed) = (run("object"), run("account"));
    assert_eq!(
        per_object.code, listed.code,
        "per object:\n{}\n{}\nlisted:\n{}\n{}",
        per_object.stdout, per_object.stderr, listed.stdout, listed.stderr
    );
    if per_object.code == 2 {
        return per_object;
    }
    assert_eq!(
        per_object.json()["drifts"],
        listed.json()["drifts"],
        "the IAM listing reads differently from per-object reads"
    );
    let calls = &listed.json()["summary"]["api_calls"]["iam"];
    assert!(
        calls.get("GetAccountAuthorizationDetails").is_some(),
        "the listing run did not list: {calls}"
    );
    per_object
}

/// A JSON file under tests/fixtures/shared (`azure/…`, `gcp/…`, `tfstate/…`).
pub fn shared_fixture(rel: &str) -> Value {
    let path = format!("{}/tests/fixtures/shared/{rel}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The asset of forseti's recorded Cloud Asset IAM export named `name`: its `iam_policy`.
pub fn recorded_iam_policy(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/shared/gcp/forseti_cai_export_iam_policies.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|a| a["name"] == name)
        .unwrap()["iam_policy"]
        .clone()
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}")
}

/// An S3 client for moto (path-style: bucket names cannot be hosts on 127.0.0.1).
pub fn s3_client(m: &Moto) -> aws_sdk_s3::Client {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests");
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(REGION))
            .credentials_provider(creds)
            .endpoint_url(&m.url)
            .force_path_style(true)
            .build(),
    )
}

/// Each drift as its `fields` joined by spaces, sorted; every field must be a string.
pub fn drift_lines(run: &Run, fields: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = run
        .drifts()
        .iter()
        .map(|d| {
            fields
                .iter()
                .map(|f| {
                    d[*f]
                        .as_str()
                        .unwrap_or_else(|| panic!("`{f}` is not a string in {d}"))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.sort();
    lines
}

/// Each fix of a `driftgate fix --format json` document as its `fields` joined by spaces
/// (strings as written, `line` as its number), in the document's order.
pub fn fix_lines(doc: &Value, fields: &[&str]) -> Vec<String> {
    doc["fixes"]
        .as_array()
        .unwrap_or_else(|| panic!("no `fixes` list in {doc:#}"))
        .iter()
        .map(|f| {
            fields
                .iter()
                .map(|k| match &f[*k] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("`{k}` is {other} in {f}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

pub fn summary(d: &Value) -> String {
    format!(
        "{} {} {} {}",
        d["address"], d["kind"], d["attribute"], d["effect"]
    )
}

/// Every resource of a `show -json` document's `values`, with its module address.
pub fn show_json_resources(show: &Value) -> Vec<(Option<String>, Value)> {
    fn walk(module: &Value, out: &mut Vec<(Option<String>, Value)>) {
        let address = module["address"].as_str().map(str::to_string);
        for r in module["resources"].as_array().into_iter().flatten() {
            out.push((address.clone(), r.clone()));
        }
        for c in module["child_modules"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(&show["values"]["root_module"], &mut out);
    out
}

/// The change entry Terraform writes for one resource instance (`resource_drift`,
/// `resource_changes`).
pub fn plan_change(
    module: &Option<String>,
    r: &Value,
    actions: &[&str],
    before: &Value,
    after: &Value,
) -> Value {
    let mut c = json!({"address": r["address"], "mode": "managed", "type": r["type"], "name": r["name"],
        "provider_name": r["provider_name"],
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {},
                   "before_sensitive": if before.is_null() { json!(false) } else { json!({}) },
                   "after_sensitive": if after.is_null() { json!(false) } else { json!({}) }}});
    if let Some(m) = module {
        c["module_address"] = json!(m);
    }
    if let Some(i) = r.get("index") {
        c["index"] = i.clone();
    }
    c
}

/// `terraform show -json` of a plan made against the `recorded` state. `refreshed`: what refresh
/// read (`None`: the plan was made with `-refresh=false`). The configuration is the recorded state,
/// so the plan proposes to undo every drift.
pub fn plan_json(recorded: &State, refreshed: Option<&State>) -> Value {
    let recorded_show = recorded.show_json();
    let prior = refreshed.map_or(recorded_show.clone(), State::show_json);
    let before: Vec<(Option<String>, Value)> = show_json_resources(&recorded_show);
    let after: Vec<(Option<String>, Value)> = show_json_resources(&prior);
    let mut drift = Vec::new();
    let mut changes = Vec::new();
    for (module, r) in &before {
        let live = after.iter().find(|(_, a)| a["address"] == r["address"]);
        match live {
            Some((_, a)) if a["values"] == r["values"] => {
                changes.push(plan_change(
                    module,
                    r,
                    &["no-op"],
                    &r["values"],
                    &r["values"],
                ));
            }
            Some((_, a)) => {
                drift.push(plan_change(
                    module,
                    r,
                    &["update"],
                    &r["values"],
                    &a["values"],
                ));
                changes.push(plan_change(
                    module,
                    r,
                    &["update"],
                    &a["values"],
                    &r["values"],
                ));
            }
            None => {
                drift.push(plan_change(
                    module,
                    r,
                    &["delete"],
                    &r["values"],
                    &Value::Null,
                ));
                changes.push(plan_change(
                    module,
                    r,
                    &["create"],
                    &Value::Null,
                    &r["values"],
                ));
            }
        }
    }
    let mut doc = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "planned_values": recorded_show["values"],
        "resource_changes": changes,
        "prior_state": prior,
        "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
                          "root_module": {}},
        "relevant_attributes": [],
        "timestamp": "2026-12-02T09:00:00Z", "applyable": true, "complete": true, "errored": false});
    if !drift.is_empty() {
        doc["resource_drift"] = json!(drift);
    }
    doc
}

// ---- release downloads ----

/// Serves fixed files over HTTP on loopback (release downloads); anything else is 404.
pub fn serve_files(files: std::collections::BTreeMap<String, Vec<u8>>) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = match files.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"Not Found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// driftgate-TARGET.tar.gz holding the binary under test as cargo-dist lays it out (under
/// driftgate-TARGET/, beside the README), and its SHA-256. For a musl TARGET the binary under
/// test stands in for the musl build: what is tested is how an installer fetches it.
pub fn release_archive(dir: &Path, target: &str) -> (Vec<u8>, String) {
    let stage = dir.join("release-stage");
    let inner = stage.join(format!("driftgate-{target}"));
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_driftgate"), inner.join("driftgate")).unwrap();
    std::fs::write(inner.join("README.md"), "# driftgate\n").unwrap();
    let archive = stage.join("a.tar.gz");
    let ok = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg(format!("driftgate-{target}"))
        .status()
        .unwrap();
    assert!(ok.success());
    let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
    let sum = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let bytes = std::fs::read(&archive).unwrap();
    std::fs::remove_dir_all(&stage).unwrap();
    (bytes, sum)
}

/// Every file under `dir`, at any depth (none when it does not exist).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// ---- other accounts (moto maps a role assumed in account N to N's backend) ----

/// EC2 and IAM clients of moto's `account`, through a role assumed there.
pub async fn account(m: &Moto, account: &str) -> (aws_sdk_ec2::Client, aws_sdk_iam::Client) {
    let sts = moto_client!(aws_sdk_sts, &m.url);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/test-setup"))
        .role_session_name("tests")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let creds = aws_sdk_ec2::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "tests",
    );
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::new()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new(REGION))
            .credentials_provider(creds.clone())
            .endpoint_url(&m.url)
            .build(),
    );
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::new()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new(REGION))
            .credentials_provider(creds)
            .endpoint_url(&m.url)
            .build(),
    );
    (ec2, iam)
}

/// A security group allowing HTTPS from 10.0.0.0/8 in the default VPC of `ec2`'s account:
/// (group id, VPC id).
pub async fn https_group(ec2: &aws_sdk_ec2::Client, name: &str) -> (String, String) {
    let vpc = ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let id = ec2
        .create_security_group()
        .group_name(name)
        .description("Managed by Terraform")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(perm("tcp", 443, 443, "10.0.0.0/8"))
        .send()
        .await
        .unwrap();
    (id, vpc)
}

/// The state of that group, owned by `account`.
pub fn group_state(id: &str, vpc: &str, name: &str, account: &str) -> Value {
    let mut attrs = sg_attrs(
        id,
        vpc,
        name,
        vec![sg_block("tcp", 443, 443, &["10.0.0.0/8"])],
        vec![sg_block("-1", 0, 0, &["0.0.0.0/0"])],
    );
    attrs["arn"] = json!(format!(
        "arn:aws:ec2:{REGION}:{account}:security-group/{id}"
    ));
    attrs["owner_id"] = json!(account);
    attrs
}
