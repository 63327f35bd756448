//! AWS resource families and the normalization they share (protocols, CIDRs, ports).

pub mod bucket_access;
pub mod config_items;
pub mod ebs;
pub mod iam;
pub mod iam_entities;
pub mod iam_principal;
pub mod iam_role;
pub mod kms;
pub mod network_acl;
pub mod policy_code;
pub mod policy_document;
pub mod rds;
pub mod reach;
pub mod s3_account;
pub mod s3_acl;
pub mod s3_bucket;
pub mod s3_public_access;
pub mod security_group;
pub mod sg_attachment;

use serde_json::Value;

use super::arn_region_account;
pub use super::{as_int, drop_computed_inline, str_list};
use crate::model::Ports;
pub use crate::model::{cidr, cidr_contains};
use crate::state::Resource;

/// Canonical IP protocol name: `tcp`/`6` → `tcp`, `-1`/`all` → `all`, other numbers as numbers.
/// EC2 answers with numbers for NACLs and names or numbers for security groups; Terraform keeps
/// whatever the configuration said.
pub fn protocol(raw: &str) -> Result<String, String> {
    let p = raw.trim().to_ascii_lowercase();
    let canonical = match p.as_str() {
        "-1" | "all" => "all",
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" => "icmp",
        "icmpv6" | "58" => "icmpv6",
        other => match other.parse::<u8>() {
            Ok(n) => return Ok(n.to_string()),
            Err(_) => return Err(format!("unknown IP protocol `{raw}`")),
        },
    };
    Ok(canonical.to_string())
}

/// The ports a rule of this protocol covers. EC2 ignores ports for protocols other than TCP and
/// UDP (ICMP uses the two numbers as type and code), so they must not take part in comparison.
pub fn ports(protocol: &str, from: Option<i64>, to: Option<i64>) -> Ports {
    match protocol {
        "all" => Ports::All,
        "tcp" | "udp" => {
            let from = from.unwrap_or(0);
            let to = to.unwrap_or(65535);
            // The EC2 API answers -1/-1 for "all ports" in some legacy rules.
            if from <= 0 && (to == -1 || to >= 65535) {
                Ports::Range(0, 65535)
            } else {
                Ports::Range(from as i32, to as i32)
            }
        }
        _ => Ports::None,
    }
}

/// ICMP type and code (-1 = any) for ICMP protocols, else nothing.
pub fn icmp(protocol: &str, kind: Option<i64>, code: Option<i64>) -> Option<(i64, i64)> {
    matches!(protocol, "icmp" | "icmpv6").then(|| (kind.unwrap_or(-1), code.unwrap_or(-1)))
}

pub fn ports_text(p: Ports) -> String {
    match p {
        Ports::All => "all ports".into(),
        Ports::Range(0, 65535) => "ports 0-65535".into(),
        Ports::Range(a, b) if a == b => format!("port {a}"),
        Ports::Range(a, b) => format!("ports {a}-{b}"),
        Ports::None => String::new(),
    }
}

pub fn ports_json(p: Ports) -> (Value, Value) {
    match p {
        Ports::Range(a, b) => (Value::from(a), Value::from(b)),
        _ => (Value::Null, Value::Null),
    }
}

/// Types whose provider-v5 `region` attribute names another region than the resource's own, with
/// the attribute provider v6 moved that meaning to (its presence says the state is v6, where
/// `region` is the resource's region like everywhere else).
const REGION_MEANS_ANOTHER: &[(&str, &str)] = &[
    // The aggregator's region that is authorized to collect from this account.
    (
        "aws_config_aggregate_authorization",
        "authorized_aws_region",
    ),
    // The region a stack instance is deployed to; the stack set lives in the provider's.
    (
        "aws_cloudformation_stack_set_instance",
        "stack_set_instance_region",
    ),
];

/// Region and account of an AWS resource. The ARN wins; a `region` attribute counts only where it
/// is the resource's own region (provider v6's per-resource `region`, v5's computed bucket
/// region), never for types where v5 used it for something else.
pub fn region_account(r: &Resource) -> (Option<String>, Option<String>) {
    let (arn_region, arn_account) = r
        .attr_str("arn")
        .and_then(arn_region_account)
        .unwrap_or((None, None));
    let attribute_is_own = REGION_MEANS_ANOTHER
        .iter()
        .find(|(t, _)| *t == r.resource_type)
        .is_none_or(|(_, v6)| r.attr(v6).is_some());
    let region = arn_region.or_else(|| {
        attribute_is_own
            .then(|| r.attr_str("region").filter(|s| !s.is_empty()))
            .flatten()
            .map(str::to_string)
    });
    (region, arn_account.or_else(|| crate::state::own_account(r)))
}

/// KMS keys are written as ARNs or bare ids; both name the same key: the id.
pub fn kms_key_id(key: &str) -> &str {
    key.rsplit_once(":key/").map(|(_, id)| id).unwrap_or(key)
}

pub fn int_attr(r: &Resource, name: &str) -> Option<i64> {
    r.attr(name).and_then(as_int)
}

/// Reads objects by id with a call that fails as a whole when one id does not exist (EC2's
/// `Describe*` with ids answers `*.NotFound`). `call` answers `None` for that case; the batch is
/// then halved until the missing ids are isolated, so a batch without deleted objects costs one
/// call and each deleted object about 2·log2(batch) more. Only that documented not-found answer
/// makes an id missing: a successful answer that lacks an id it was asked for is an anomaly (an
/// incomplete answer), never a deletion, and ends the read with an error naming `what`.
pub async fn read_by_ids<T, F, Fut>(
    what: &str,
    ids: &[String],
    id_of: impl Fn(&T) -> Option<&str>,
    call: F,
) -> crate::error::Result<Vec<T>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<Option<Vec<T>>>>,
{
    let mut out = Vec::new();
    let mut pending = vec![ids.to_vec()];
    while let Some(batch) = pending.pop() {
        match call(batch.clone()).await? {
            Some(found) => {
                let answered: std::collections::HashSet<&str> =
                    found.iter().filter_map(&id_of).collect();
                let absent: Vec<&str> = batch
                    .iter()
                    .map(String::as_str)
                    .filter(|id| !answered.contains(id))
                    .collect();
                if !absent.is_empty() {
                    return Err(crate::error::Error::new(
                        what,
                        format!(
                            "the answer to a read of {} id(s) lacks {}: an incomplete answer, not a \
                             deletion (a deleted id is answered with a NotFound error)",
                            batch.len(),
                            absent.join(", ")
                        ),
                    ));
                }
                out.extend(found)
            }
            None if batch.len() > 1 => {
                let (a, b) = batch.split_at(batch.len() / 2);
                pending.push(a.to_vec());
                pending.push(b.to_vec());
            }
            None => {}
        }
    }
    Ok(out)
}

/// EC2's answer to a read of an id that does not exist (`InvalidGroup.NotFound`,
/// `InvalidNetworkAclID.NotFound`; moto says `InvalidRouteTableID.NotFound` for ACLs).
pub fn is_not_found(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.ends_with(".NotFound"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The id of a test "object" (a String); `read_by_ids` hands it `&T`.
    #[allow(clippy::ptr_arg)]
    fn some_str(s: &String) -> Option<&str> {
        Some(s.as_str())
    }

    #[tokio::test]
    async fn read_by_ids_isolates_missing_ids() {
        let ids: Vec<String> = (0..200).map(|i| format!("sg-{i}")).collect();
        let missing = ["sg-7", "sg-150"];
        let calls = std::cell::Cell::new(0);
        let found = read_by_ids("test", &ids, some_str, |batch| {
            calls.set(calls.get() + 1);
            let any_missing = batch.iter().any(|id| missing.contains(&id.as_str()));
            async move { Ok((!any_missing).then_some(batch)) }
        })
        .await
        .unwrap();
        assert_eq!(found.len(), 198);
        assert!(!found.iter().any(|id| missing.contains(&id.as_str())));
        assert!(calls.get() <= 1 + 2 * 2 * 8, "{} calls", calls.get());

        let calls = std::cell::Cell::new(0);
        let all = read_by_ids("test", &ids, some_str, |batch| {
            calls.set(calls.get() + 1);
            async move { Ok(Some(batch)) }
        })
        .await
        .unwrap();
        assert_eq!((all.len(), calls.get()), (200, 1));

        // A successful answer without an id it was asked for is an anomaly, not a deletion.
        let e = read_by_ids("AWS ec2 X", &ids, some_str, |batch| async move {
            Ok(Some(batch.into_iter().filter(|id| id != "sg-42").collect()))
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("lacks sg-42: an incomplete answer"), "{e}");
    }

    #[test]
    fn protocols_normalize() {
        for (raw, want) in [
            ("-1", "all"),
            ("all", "all"),
            ("ALL", "all"),
            ("tcp", "tcp"),
            ("6", "tcp"),
            ("TCP", "tcp"),
            ("17", "udp"),
            ("1", "icmp"),
            ("58", "icmpv6"),
            ("50", "50"),
        ] {
            assert_eq!(protocol(raw).unwrap(), want, "{raw}");
        }
        assert!(protocol("tcpx").is_err());
        assert!(protocol("300").is_err());
    }

    #[test]
    fn cidrs_normalize() {
        assert_eq!(cidr("10.0.0.1/8").unwrap(), "10.0.0.0/8");
        assert_eq!(cidr(" 0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(cidr("2001:DB8:0:0::/64").unwrap(), "2001:db8::/64");
        assert_eq!(cidr("::/0").unwrap(), "::/0");
        assert!(cidr("10.0.0.0").is_err());
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr_contains("0.0.0.0/0", "10.0.0.0/8"));
        assert!(!cidr_contains("10.0.0.0/8", "0.0.0.0/0"));
        assert!(!cidr_contains("::/0", "10.0.0.0/8"));
    }

    #[test]
    fn ports_ignore_what_ec2_ignores() {
        assert_eq!(ports("all", Some(0), Some(0)), Ports::All);
        assert_eq!(ports("all", None, None), Ports::All);
        assert_eq!(ports("tcp", Some(22), Some(22)), Ports::Range(22, 22));
        assert_eq!(ports("tcp", Some(-1), Some(-1)), Ports::Range(0, 65535));
        assert_eq!(ports("50", Some(10), Some(55)), Ports::None);
        assert_eq!(ports("icmp", Some(8), Some(0)), Ports::None);
        assert_eq!(icmp("icmp", Some(8), Some(0)), Some((8, 0)));
        assert_eq!(icmp("tcp", Some(8), Some(0)), None);
    }
}
