//! The plain data every stage shares: what an object's security view is made of (items, facts,
//! declarers), the expected and live views of one object, and the drift between them. The ground
//! floor: it imports nothing of the project, so any stage can read it and it can be read first.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

/// FNV-1a (64 bit), written out because what it names must never change between Rust versions
/// (std's hasher may): drift fingerprints across runs, the shard of a state in a sweep.
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The port coverage of a rule, for policies such as "admin ports open to the world".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ports {
    /// Every port (protocol "all").
    All,
    Range(i32, i32),
    /// The protocol has no ports (ICMP, ESP, ...).
    None,
}

impl Ports {
    pub fn includes(&self, port: i32) -> bool {
        match *self {
            Ports::All => true,
            Ports::Range(from, to) => from <= port && port <= to,
            Ports::None => false,
        }
    }
}

/// What policies and risk scoring may ask about one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facts {
    /// The item allows something (an allow rule); false for a deny entry.
    pub grants: bool,
    pub direction: Option<&'static str>,
    /// The port ranges the item covers (an Azure rule may list several); empty: none.
    pub ports: Vec<Ports>,
    /// Canonical CIDRs the item applies to (`0.0.0.0/0` means the whole IPv4 internet).
    pub cidrs: Vec<String>,
    /// Named properties policies can ask for (`full-admin`: allows every action on every resource).
    pub labels: Vec<&'static str>,
}

impl Facts {
    pub fn open_to_internet(&self) -> bool {
        self.cidrs.iter().any(|c| c == "0.0.0.0/0" || c == "::/0")
    }

    /// Facts that allow nothing (a group without rules).
    pub fn none() -> Facts {
        Facts {
            grants: false,
            direction: None,
            ports: Vec::new(),
            cidrs: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// The widest of several rules' facts, to speak for what attaching all of them opens: open
    /// to the internet on an admin port, then open to the internet, then any inbound rule, then
    /// any allow. None: allows nothing.
    pub fn widest(all: impl IntoIterator<Item = Facts>) -> Facts {
        let rank = |f: &Facts| {
            let inbound = f.direction == Some("ingress");
            let admin = f.ports.iter().any(|p| p.includes(22) || p.includes(3389));
            (
                f.grants,
                inbound && f.open_to_internet() && admin,
                inbound && f.open_to_internet(),
                inbound,
            )
        };
        all.into_iter()
            .max_by_key(|f| rank(f))
            .unwrap_or_else(Facts::none)
    }
}

/// One comparable piece of an object's security view: a rule, an ACL entry, one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Items with the same identity are the same slot (an ACL rule number, a setting's name):
    /// if their keys differ, the slot changed. Items without identity are set members.
    pub identity: Option<String>,
    /// Canonical meaning: equal keys mean equal security effect, whatever the text said.
    pub key: String,
    /// Structured form for the JSON report.
    pub value: Value,
    /// One line for humans: `tcp 22 from 0.0.0.0/0`.
    pub summary: String,
    pub facts: Facts,
}

/// The Terraform resource that declares an item or manages an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Declarer {
    pub address: String,
    pub resource_type: String,
    pub sources: Vec<String>,
    /// The item comes from a block inside the object's own resource (inline rules), not from a
    /// resource of its own. A separate resource is the more precise place to point at.
    pub inline: bool,
    pub sensitive_paths: Vec<String>,
    /// The provider configuration (`provider["registry.terraform.io/hashicorp/aws"].west`): resources
    /// of one configuration share a region, which helps resources that record none.
    pub provider: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedItem {
    pub attribute: &'static str,
    pub item: Item,
    pub by: Declarer,
}

/// What the state says one live object should look like.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedObject {
    pub family: &'static str,
    pub cloud_id: String,
    /// From the resource's ARN or `region` attribute; `None` means "the default region".
    pub region: Option<String>,
    /// From the ARN or owner attribute, to refuse reading it with another account's credentials.
    pub account: Option<String>,
    /// The resource that manages the object as a whole. Without one (only rule resources point at
    /// an object managed elsewhere), live items that no resource declares are not ours to judge.
    pub owner: Option<Declarer>,
    pub items: Vec<ExpectedItem>,
    pub tags: BTreeMap<String, String>,
    /// A default object (default security group, default ACL): stricter policies apply.
    pub is_default: bool,
    /// Attributes the state does not record for this object: their live items are not compared
    /// (only what the state knows is drift).
    pub ignore: Vec<&'static str>,
    /// Slots (attribute, identity) that live may have without drift: declared by resources of
    /// another family, which compares them (a role's inline policies declared by
    /// `aws_iam_role_policy`). Their absence is that family's drift, not this one's.
    pub tolerated: Vec<(&'static str, String)>,
}

/// Where an object is read: its region, and the other AWS account it belongs to when it is read
/// with a role of that account (`--aws-role`); `None` is the run's own credentials.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub account: Option<String>,
    pub region: String,
}

/// A configuration item as AWS Config recorded it (`--aws-source config:…`): what a family turns
/// into its live view instead of reading the object's own API.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigItem {
    pub account: String,
    pub region: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: Option<String>,
    /// `configurationItemCaptureTime`, RFC 3339.
    pub captured_at: String,
    /// `configuration`, parsed (Config sends it as a JSON string).
    pub configuration: Value,
    /// `supplementaryConfiguration`: each value parsed where it is JSON, else the string as sent.
    pub supplementary: BTreeMap<String, Value>,
}

/// Where a drift's live side was seen when it was not read directly now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    /// `aws-config`.
    pub source: &'static str,
    /// When the source captured the live side (`configurationItemCaptureTime`).
    pub captured_at: String,
    /// Read again directly and still drifted (`false`: no credentials for that account, so the
    /// drift rests on the recorded item alone, which may lag behind the cloud).
    pub confirmed: bool,
}

/// The same view, read from the cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub cloud_id: String,
    pub items: Vec<(&'static str, Item)>,
    pub is_default: bool,
}

/// Which provider's credentials a family reads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

impl Cloud {
    pub fn title(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Azure => "Azure",
            Cloud::Gcp => "Google Cloud",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A setting or rule of a managed object differs from the state.
    Changed,
    /// What a resource declares does not exist live: a deleted group, a revoked rule resource.
    Missing,
    /// Live content that no Terraform resource declares, on an object the state manages.
    Unmanaged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Live allows more than the state: the next apply would close it, but until then it is open.
    Weakens,
    /// Live allows less (a console fix): the next apply would revert the fix.
    Strengthens,
    /// Neither is wider (a different rule), or the object is gone.
    Unknown,
}

/// How reachable a drifted object is, from the widest to the narrowest. Read from the cloud for
/// drifted objects only (`exposure::assess`); it ranks findings and policies may match on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, Hash,
)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Reachable from the internet now.
    Internet,
    /// Principals outside the account can use it (an IAM role another account or an identity
    /// provider may assume).
    CrossAccount,
    /// Reachable only from named ranges outside private networks (a VPN, a partner).
    Restricted,
    /// Reachable only from private networks.
    Private,
    /// Nothing uses it: no interface, instance or subnet is attached to it, or it no longer
    /// exists.
    Unused,
    /// Not read: the family has no notion of reachability, or the run made no cloud reads.
    Unknown,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Internet => "internet",
            Exposure::CrossAccount => "cross-account",
            Exposure::Restricted => "restricted",
            Exposure::Private => "private",
            Exposure::Unused => "unused",
            Exposure::Unknown => "unknown",
        }
    }
}

/// An object's exposure and the evidence for it, in words (`sg-0a… is attached to eni-0b… with
/// public IP 54.…`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reach {
    pub exposure: Exposure,
    pub reasons: Vec<String>,
}

impl Reach {
    pub fn new(exposure: Exposure, reason: impl Into<String>) -> Reach {
        Reach {
            exposure,
            reasons: vec![reason.into()],
        }
    }
}

/// One difference between state and live, before policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// The family whose view the drift is of (its `About::name`): several families share a
    /// resource type (an `aws_s3_bucket` declares a policy, an encryption and an ACL).
    pub family: &'static str,
    pub address: String,
    pub resource_type: String,
    pub cloud_id: String,
    pub region: String,
    /// The cloud account that owns the object, when the state says (an AWS ARN's account).
    pub account: Option<String>,
    pub kind: DriftKind,
    /// `None` when the whole object is missing.
    pub attribute: Option<String>,
    pub expected: Value,
    pub actual: Value,
    pub expected_summary: Option<String>,
    pub actual_summary: Option<String>,
    pub effect: Effect,
    /// Facts of the item as it is live (or as declared, when it is gone live).
    pub facts: Option<Facts>,
    pub is_default_object: bool,
    pub tags: BTreeMap<String, String>,
    pub sources: Vec<String>,
    /// The attribute is marked sensitive in the state: never print its values.
    pub sensitive: bool,
    /// How reachable the object is (`None`: not read).
    pub reach: Option<Reach>,
    /// `None`: the live side was read directly in this run.
    pub observed: Option<Observed>,
}

// ---- Canonical forms ----

/// Canonical CIDR: host bits cleared, IPv6 compressed and lower-case, so `10.0.0.1/8`,
/// `10.0.0.0/8` and ` 10.0.0.0/8` compare equal, as EC2 stores them.
pub fn cidr(raw: &str) -> std::result::Result<String, String> {
    let net: IpNet = raw
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a CIDR block"))?;
    Ok(net.trunc().to_string())
}

/// Is this canonical CIDR inside the private, shared or link-local ranges (RFC 1918, RFC 6598,
/// loopback, link-local; IPv6 unique-local and link-local)? Traffic from such ranges cannot come
/// from the internet.
pub fn is_private_cidr(c: &str) -> bool {
    const PRIVATE: [&str; 8] = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    ];
    PRIVATE.iter().any(|p| cidr_contains(p, c))
}

/// Does `outer` contain every address of `inner`? Both canonical.
pub fn cidr_contains(outer: &str, inner: &str) -> bool {
    match (outer.parse::<IpNet>(), inner.parse::<IpNet>()) {
        (Ok(o), Ok(i)) => o.contains(&i),
        _ => false,
    }
}

/// `region` and `account` of an ARN such as `arn:aws:ec2:us-east-1:123456789012:security-group/sg-1`.
pub fn arn_region_account(arn: &str) -> Option<(Option<String>, Option<String>)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Some((non_empty(region), non_empty(account)))
}
