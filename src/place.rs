//! Where each object is read: its region, and, for an AWS object of another account, that account
//! (read with the role `--aws-role` names there). Both come from the state: the object's own ARN,
//! `region` or owner id, else what the other resources of its provider configuration in the same
//! state record, else (regions only) the environment. Never guessed: a wrong region or account
//! makes an object look deleted.

use std::collections::{BTreeMap, BTreeSet};

use futures::{stream, StreamExt, TryStreamExt};

use crate::clients::aws::{AwsContext, AwsSettings, AwsSource};
use crate::error::{Error, Result};
use crate::families::{self, Family};
use crate::model::{Cloud, Declarer, ExpectedObject, Place};
use crate::state::Resource;

/// Where each object is read, and the account each AWS object belongs to (for the report; `None`
/// when the state names no account at all and the credentials' account was not asked).
pub struct Placed {
    pub places: Vec<Place>,
    pub accounts: Vec<Option<String>>,
    /// The clients of the other accounts, with their role assumed.
    pub assumed: BTreeMap<String, AwsContext>,
}

/// Places every object: `regions` as [`regions`] resolved them; AWS accounts from the state,
/// compared with the account of the run's credentials. An object of another account is read with
/// `--aws-role` in that account, through the aggregator (`--aws-source config:NAME`), or
/// refused (read with these credentials it would look deleted).
pub async fn place(
    aws: Option<&AwsContext>,
    settings: &AwsSettings,
    expected: &[(&dyn Family, ExpectedObject)],
    resources: &[Resource],
    regions: Vec<String>,
    concurrency: usize,
    progress: bool,
) -> Result<Placed> {
    let role = settings.role.as_ref();
    let aggregated = matches!(settings.source, AwsSource::Aggregator(_));
    let mut placed = Placed {
        places: regions
            .into_iter()
            .map(|region| Place {
                account: None,
                region,
            })
            .collect(),
        accounts: expected.iter().map(|_| None).collect(),
        assumed: BTreeMap::new(),
    };
    let Some(aws) = aws else {
        return Ok(placed);
    };
    let aws_objects: Vec<usize> = (0..expected.len())
        .filter(|&i| expected[i].0.about().cloud == Cloud::Aws)
        .collect();
    let Some(&first) = aws_objects.first() else {
        return Ok(placed);
    };
    let known = state_accounts(expected, resources);
    // The state names no account: everything is read with the run's credentials, and the
    // account of a drift is asked for after the comparison, only if there is one.
    if known.iter().all(|k| *k == Known::Unknown) {
        return Ok(placed);
    }
    let caller = aws.caller_account(&placed.places[first].region).await?;
    // Other account → the region of its first object (where its role is assumed).
    let mut others: BTreeMap<String, String> = BTreeMap::new();
    for &i in &aws_objects {
        let (obj, place) = (&expected[i].1, &mut placed.places[i]);
        let account = match &known[i] {
            Known::Own(a) | Known::Config(a) => a.clone(),
            Known::Unknown => caller.clone(),
        };
        placed.accounts[i] = Some(account.clone());
        if account == caller {
            continue;
        }
        // An aggregator reads every account it collects with the run's credentials; without a
        // role, such an object can only be read through it.
        if role.is_none() && aggregated {
            place.account = Some(account);
            continue;
        }
        if role.is_none() {
            let why = match &known[i] {
                Known::Config(_) => " (as the other resources of its provider configuration do)",
                _ => "",
            };
            return Err(Error::new(
                who(obj),
                format!(
                    "belongs to AWS account {account}{why}, but the credentials are for account \
                     {caller}; run driftgate with credentials for {account}, or give \
                     --aws-role 'arn:aws:iam::{{account}}:role/NAME' to read each account with a \
                     role of its own"
                ),
            ));
        }
        others
            .entry(account.clone())
            .or_insert_with(|| place.region.clone());
        place.account = Some(account);
    }
    if let (Some(role), false) = (role, others.is_empty()) {
        if progress {
            eprintln!(
                "driftgate: assuming {} in {} other account(s)…",
                role.for_account("{account}"),
                others.len()
            );
        }
        placed.assumed = stream::iter(others)
            .map(|(account, region)| async move {
                let ctx = aws.assume(role, &account, &region).await?;
                Ok::<_, Error>((account, ctx))
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
    }
    Ok(placed)
}

/// What the state tells of an object's account.
#[derive(Debug, Clone, PartialEq)]
enum Known {
    /// Its own ARN or owner id.
    Own(String),
    /// The one account the other resources of its provider configuration record.
    Config(String),
    Unknown,
}

/// Each object's account as the state tells it (for AWS objects; others: `Unknown`).
fn state_accounts(
    expected: &[(&dyn Family, ExpectedObject)],
    resources: &[Resource],
) -> Vec<Known> {
    let mut by_config: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for r in resources {
        if let (_, Some(account)) = families::aws::region_account(r) {
            for source in &r.sources {
                by_config
                    .entry((source.as_str(), r.provider.as_str()))
                    .or_default()
                    .insert(account.clone());
            }
        }
    }
    expected
        .iter()
        .map(|(family, obj)| {
            if family.about().cloud != Cloud::Aws {
                return Known::Unknown;
            }
            if let Some(a) = &obj.account {
                return Known::Own(a.clone());
            }
            let known: BTreeSet<String> = configs(obj)
                .iter()
                .filter_map(|c| by_config.get(c))
                .flatten()
                .cloned()
                .collect();
            // Several accounts cannot meet here: states of several accounts are grouped by
            // account before their objects are made (check.rs), and each object is given its
            // group's account.
            match (known.len(), known.into_iter().next()) {
                (1, Some(a)) => Known::Config(a),
                _ => Known::Unknown,
            }
        })
        .collect()
}

/// The resources that declare an object.
fn declarers(obj: &ExpectedObject) -> Vec<&Declarer> {
    obj.owner
        .iter()
        .chain(obj.items.iter().map(|i| &i.by))
        .collect()
}

/// The (state, provider configuration) pairs of the resources that declare an object.
fn configs(obj: &ExpectedObject) -> BTreeSet<(&str, &str)> {
    declarers(obj)
        .iter()
        .flat_map(|d| d.sources.iter().map(|s| (s.as_str(), d.provider.as_str())))
        .collect()
}

/// The resource to name in an error about an object.
fn who(obj: &ExpectedObject) -> String {
    declarers(obj)
        .first()
        .map(|d| d.address.clone())
        .unwrap_or_else(|| obj.cloud_id.clone())
}

/// Each object's region: its own (ARN, provider v6 `region`); else the one region of the other
/// resources of its provider configuration *in the same state* (a provider configuration belongs
/// to its root module: two states' root providers are two configurations, whatever their names);
/// else, for the root's unaliased provider, the environment's region (AWS_REGION, profile); else
/// an error naming the resource. Guessing the region of a resource behind a provider alias would
/// make it look deleted, and so would picking one of several candidate regions.
pub fn regions(
    expected: &[(&dyn Family, ExpectedObject)],
    resources: &[Resource],
    default: Option<String>,
) -> Result<Vec<String>> {
    // (state, provider configuration) → the regions its resources record.
    let mut by_config: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for r in resources {
        if let (Some(region), _) = families::aws::region_account(r) {
            for source in &r.sources {
                by_config
                    .entry((source.as_str(), r.provider.as_str()))
                    .or_default()
                    .insert(region.clone());
            }
        }
    }
    expected
        .iter()
        .map(|(_, obj)| {
            if let Some(region) = &obj.region {
                return Ok(region.clone());
            }
            let configs = configs(obj);
            let known: BTreeSet<&String> = configs
                .iter()
                .filter_map(|c| by_config.get(c))
                .flatten()
                .collect();
            let who = who(obj);
            let providers: BTreeSet<&str> = configs.iter().map(|(_, p)| *p).collect();
            let states: BTreeSet<&str> = configs.iter().map(|(s, _)| *s).collect();
            let list = |set: BTreeSet<&str>| set.into_iter().collect::<Vec<_>>().join(", ");
            match known.len() {
                1 => return Ok(known.into_iter().next().cloned().unwrap_or_default()),
                0 => {}
                _ => {
                    return Err(Error::new(
                        who,
                        format!(
                            "cannot tell which AWS region {} is in: the state records no ARN or \
                             region for it, and the other resources of its provider \
                             configuration ({} in {}) are in several regions ({}); give the \
                             resource's own region in the state (provider v6 `region`)",
                            obj.cloud_id,
                            list(providers),
                            list(states),
                            known.into_iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            }
            if providers.iter().all(|p| is_root_default_provider(p)) {
                return default.clone().ok_or_else(|| {
                    Error::new(
                        who,
                        format!(
                            "cannot tell which AWS region {} is in: the state records no ARN or \
                             region for it; set AWS_REGION",
                            obj.cloud_id
                        ),
                    )
                });
            }
            Err(Error::new(
                who,
                format!(
                    "cannot tell which AWS region {} is in: the state records no ARN or region for \
                     it, and its provider configuration ({}) is not the default one",
                    obj.cloud_id,
                    list(providers)
                ),
            ))
        })
        .collect()
}

/// `provider["registry.terraform.io/hashicorp/aws"]` (or 0.12's `provider.aws`): not an alias,
/// not configured inside a module.
fn is_root_default_provider(p: &str) -> bool {
    (p.starts_with("provider[") && p.ends_with("\"]")) || p == "provider.aws"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(address: &str, t: &str, provider: &str, attrs: serde_json::Value) -> Resource {
        Resource {
            address: address.into(),
            resource_type: t.into(),
            provider: provider.into(),
            attributes: attrs,
            sensitive_paths: vec![],
            sources: vec!["s".into()],
        }
    }

    const ROOT: &str = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    const WEST: &str = "provider[\"registry.terraform.io/hashicorp/aws\"].west";

    fn regions_of(resources: &[Resource], default: Option<&str>) -> Result<Vec<String>> {
        let family = families::all()[0];
        let rules: Vec<&Resource> = resources
            .iter()
            .filter(|r| r.resource_type == "aws_security_group_rule")
            .collect();
        let objs: Vec<(&dyn Family, ExpectedObject)> = family
            .expected(&rules)
            .unwrap()
            .into_iter()
            .map(|o| (family, o))
            .collect();
        regions(&objs, resources, default.map(str::to_string))
    }

    #[test]
    fn region_of_a_rule_without_arn() {
        let rule = |p: &str| {
            res(
                "aws_security_group_rule.r",
                "aws_security_group_rule",
                p,
                json!({"type": "ingress", "security_group_id": "sg-ext", "protocol": "tcp",
                       "from_port": 1, "to_port": 1, "cidr_blocks": ["10.0.0.0/8"]}),
            )
        };
        let vpc_in = |p: &str, region: &str| {
            res(
                "aws_vpc.v",
                "aws_vpc",
                p,
                json!({"arn": format!("arn:aws:ec2:{region}:1:vpc/vpc-1")}),
            )
        };
        // Root provider, nothing else known: the environment's region.
        assert_eq!(
            regions_of(&[rule(ROOT)], Some("eu-west-1")).unwrap(),
            ["eu-west-1"]
        );
        assert!(regions_of(&[rule(ROOT)], None)
            .unwrap_err()
            .to_string()
            .contains("set AWS_REGION"));
        // Other resources of the same provider configuration know better than the environment.
        assert_eq!(
            regions_of(&[rule(ROOT), vpc_in(ROOT, "ap-south-1")], Some("eu-west-1")).unwrap(),
            ["ap-south-1"]
        );
        assert_eq!(
            regions_of(&[rule(WEST), vpc_in(WEST, "us-west-2")], Some("eu-west-1")).unwrap(),
            ["us-west-2"]
        );
        // An alias whose region nothing tells: refuse rather than look in the wrong region.
        let e =
            regions_of(&[rule(WEST), vpc_in(ROOT, "us-east-1")], Some("eu-west-1")).unwrap_err();
        assert!(e.to_string().contains("is not the default one"), "{e}");
        assert!(is_root_default_provider("provider.aws"));
        assert!(!is_root_default_provider("provider.aws.west"));
        assert!(!is_root_default_provider(
            "module.m.provider[\"registry.terraform.io/hashicorp/aws\"]"
        ));
    }

    #[test]
    fn provider_configurations_belong_to_their_state() {
        // `--state 'envs/*/terraform.tfstate'`: two root modules, each with the root provider.
        let in_state = |mut r: Resource, s: &str| {
            r.sources = vec![s.into()];
            r
        };
        let rule = |s: &str| {
            in_state(
                res(
                    "aws_security_group_rule.r",
                    "aws_security_group_rule",
                    ROOT,
                    json!({"type": "ingress", "security_group_id": format!("sg-{s}"),
                           "protocol": "tcp", "from_port": 1, "to_port": 1,
                           "cidr_blocks": ["10.0.0.0/8"]}),
                ),
                s,
            )
        };
        let vpc = |s: &str, region: &str| {
            in_state(
                res(
                    "aws_vpc.v",
                    "aws_vpc",
                    ROOT,
                    json!({"arn": format!("arn:aws:ec2:{region}:1:vpc/vpc-1")}),
                ),
                s,
            )
        };
        let all = [
            rule("east"),
            vpc("east", "us-east-1"),
            rule("west"),
            vpc("west", "eu-west-1"),
        ];
        assert_eq!(
            regions_of(&all, Some("us-east-1")).unwrap(),
            ["us-east-1", "eu-west-1"]
        );
        // A state with no regional resource does not borrow another state's region.
        let all = [rule("east"), vpc("east", "us-east-1"), rule("other")];
        assert_eq!(
            regions_of(&all, Some("ap-south-1")).unwrap(),
            ["us-east-1", "ap-south-1"]
        );
        // Within one state, two candidate regions are refused, never picked.
        let all = [
            rule("east"),
            vpc("east", "us-east-1"),
            vpc("east", "us-west-2"),
        ];
        let e = regions_of(&all, Some("us-east-1")).unwrap_err().to_string();
        assert!(e.contains("several regions (us-east-1, us-west-2)"), "{e}");
    }

    #[test]
    fn a_region_attribute_that_is_not_the_resources_own_is_not_used() {
        // Provider v5: `region` of an aggregate authorization is the aggregator's region; its ARN
        // tells where it lives.
        let auth = |attrs: serde_json::Value| {
            res(
                "aws_config_aggregate_authorization.a",
                "aws_config_aggregate_authorization",
                ROOT,
                attrs,
            )
        };
        let v5 = auth(json!({"region": "eu-west-1", "account_id": "2",
            "arn": "arn:aws:config:us-east-1:1:aggregation-authorization/2/eu-west-1"}));
        assert_eq!(
            families::aws::region_account(&v5).0.as_deref(),
            Some("us-east-1")
        );
        let rule = res(
            "aws_security_group_rule.r",
            "aws_security_group_rule",
            ROOT,
            json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp",
                   "from_port": 1, "to_port": 1, "cidr_blocks": ["10.0.0.0/8"]}),
        );
        assert_eq!(
            regions_of(&[rule.clone(), v5], None).unwrap(),
            ["us-east-1"]
        );
        // Without an ARN, v5's `region` says nothing about the resource.
        let bare = auth(json!({"region": "eu-west-1", "account_id": "2"}));
        assert_eq!(families::aws::region_account(&bare).0, None);
        // v6 moved that meaning to `authorized_aws_region`: `region` is then its own.
        let v6 = auth(json!({"region": "ap-south-1", "authorized_aws_region": "eu-west-1"}));
        assert_eq!(
            families::aws::region_account(&v6).0.as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(regions_of(&[rule, v6], None).unwrap(), ["ap-south-1"]);
    }
}
