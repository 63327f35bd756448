//! RDS: `aws_db_instance` (`publicly_accessible`, `storage_encrypted`, `kms_key_id`,
//! `vpc_security_group_ids`) and `aws_rds_cluster` (the same but public access, which is per
//! instance). Passwords and other write-only attributes are never read, compared or printed.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::config_items::Fields;
use super::{kms_key_id, reach, region_account, str_list};
use crate::clients::aws::AwsContext;
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, tags_of, About, ConfigRef, Family, FromConfig, Subject};
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure, Facts, Item,
    LiveObject, Reach,
};
use crate::state::Resource;

pub const DB_INSTANCES: About = About {
    name: "db_instance",
    cloud: Cloud::Aws,
    label: "RDS instance(s)",
    // A cluster's instances are DB instances too: `DescribeDBInstances` answers for both.
    resource_types: &["aws_db_instance", "aws_rds_cluster_instance"],
    // RDS accepts up to 100 values in one filter.
    batch_size: 100,
};

pub const DB_CLUSTERS: About = About {
    name: "rds_cluster",
    cloud: Cloud::Aws,
    label: "RDS cluster(s)",
    resource_types: &["aws_rds_cluster"],
    batch_size: 100,
};

pub struct DbInstances;
pub struct DbClusters;

fn facts(grants: bool) -> Facts {
    Facts {
        grants,
        direction: None,
        ports: vec![],
        cidrs: vec![],
        labels: vec![],
    }
}

fn flag(name: &str, on: bool, on_grants: bool) -> Item {
    Item {
        identity: Some(name.to_string()),
        key: on.to_string(),
        value: json!({ name: on }),
        summary: format!("{name} = {on}"),
        facts: facts(on == on_grants),
    }
}

fn key_item(key: &str) -> Item {
    let id = kms_key_id(key);
    Item {
        identity: Some("kms_key_id".into()),
        key: id.to_string(),
        value: json!({ "kms_key_id": key }),
        summary: if key.is_empty() {
            "no KMS key".into()
        } else {
            format!("kms_key_id = {key}")
        },
        facts: facts(false),
    }
}

fn sg_item(id: &str) -> Item {
    Item {
        identity: None,
        key: id.to_string(),
        value: json!({ "vpc_security_group_id": id }),
        summary: format!("security group {id}"),
        facts: facts(true),
    }
}

struct View<'a> {
    public: Option<bool>,
    encrypted: bool,
    key: &'a str,
    groups: Vec<String>,
}

/// The view of an `AWS::RDS::DBInstance` or `AWS::RDS::DBCluster` item: the RDS answer in
/// camelCase. Found by name (the item's id is the `db-…`/`cluster-…` resource id); the cluster
/// schema spells the identifier `dbclusterIdentifier`, so the item's resource name is used.
fn view_from_config(
    ids: &[String],
    items_of: &[ConfigItem],
    label: &'static str,
    public: bool,
) -> Result<FromConfig> {
    let mut out = FromConfig::default();
    for item in items_of {
        let f = Fields::of(item, label);
        let c = f.root();
        let id = item
            .resource_name
            .clone()
            .or_else(|| f.text(c, "dBInstanceIdentifier"))
            .ok_or_else(|| f.bad("has no identifier"))?;
        if !ids.contains(&id) {
            continue;
        }
        let public = match public {
            true => Some(
                f.flag(c, "publiclyAccessible")?
                    .ok_or_else(|| f.bad("has no `publiclyAccessible`"))?,
            ),
            false => None,
        };
        let encrypted = f
            .flag(c, "storageEncrypted")?
            .ok_or_else(|| f.bad("has no `storageEncrypted`"))?;
        let key = f.text(c, "kmsKeyId").unwrap_or_default();
        let mut groups = Vec::new();
        for g in f.list(c, "vpcSecurityGroups")? {
            groups.push(
                f.text(g, "vpcSecurityGroupId")
                    .ok_or_else(|| f.bad("has a VPC security group without its id"))?,
            );
        }
        let view = View {
            public,
            encrypted,
            key: &key,
            groups,
        };
        let obj = LiveObject {
            cloud_id: id,
            items: items(view),
            is_default: false,
        };
        out.seen(obj, item);
    }
    Ok(out)
}

/// Public access turned off, or storage found encrypted: the flag written into the block. (A
/// key or security groups changed by hand are not written: their values are references.)
fn codify(r: &crate::families::CodifyRequest) -> crate::families::Codify {
    match r.attribute {
        Some(a @ ("publicly_accessible" | "storage_encrypted")) => {
            crate::families::codify_setting(r, &[], &[a])
        }
        _ => crate::families::Codify::Unsupported,
    }
}

fn items(v: View) -> Vec<(&'static str, Item)> {
    let mut out = Vec::new();
    if let Some(p) = v.public {
        out.push(("publicly_accessible", flag("publicly_accessible", p, true)));
    }
    out.push((
        "storage_encrypted",
        flag("storage_encrypted", v.encrypted, false),
    ));
    out.push(("kms_key_id", key_item(v.key)));
    out.extend(
        v.groups
            .iter()
            .map(|g| ("vpc_security_group_ids", sg_item(g))),
    );
    out
}

fn expected(
    family: &'static str,
    resources: &[&Resource],
    id_attr: &str,
    with_public: bool,
) -> Result<Vec<ExpectedObject>> {
    let mut out = BTreeMap::new();
    for r in resources {
        let id = r
            .attr_str(id_attr)
            .ok_or_else(|| bad(r, &format!("has no `{id_attr}`")))?;
        let by = Declarer::of(r, true);
        let view = View {
            public: with_public.then(|| {
                r.attr("publicly_accessible")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            }),
            encrypted: r
                .attr("storage_encrypted")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            key: r.attr_str("kms_key_id").unwrap_or(""),
            groups: str_list(r.attr("vpc_security_group_ids")),
        };
        let (region, account) = region_account(r);
        // An Aurora instance owns only whether it is publicly accessible: its encryption, key
        // and security groups are the cluster's (compared on `aws_rds_cluster`), and its state
        // holds only computed copies of them.
        let cluster_member = r.resource_type == "aws_rds_cluster_instance";
        let ignore = if cluster_member {
            vec!["storage_encrypted", "kms_key_id", "vpc_security_group_ids"]
        } else {
            Vec::new()
        };
        let obj = ExpectedObject {
            family,
            cloud_id: id.to_string(),
            region,
            account,
            owner: Some(by.clone()),
            items: items(view)
                .into_iter()
                .filter(|(attribute, _)| !ignore.contains(attribute))
                .map(|(attribute, item)| ExpectedItem {
                    attribute,
                    item,
                    by: by.clone(),
                })
                .collect(),
            tags: tags_of(r),
            is_default: false,
            ignore,
            tolerated: Vec::new(),
        };
        if out.insert(id.to_string(), obj).is_some() {
            return Err(bad(
                r,
                &format!("manages {id}, which another resource manages too"),
            ));
        }
    }
    Ok(out.into_values().collect())
}

fn change(attribute: &str, expected: &Item, actual: &Item) -> Effect {
    match (attribute, expected.key.as_str(), actual.key.as_str()) {
        ("publicly_accessible", "false", "true") => Effect::Weakens,
        ("publicly_accessible", "true", "false") => Effect::Strengthens,
        ("storage_encrypted", "true", "false") => Effect::Weakens,
        ("storage_encrypted", "false", "true") => Effect::Strengthens,
        ("kms_key_id", e, "") if !e.is_empty() => Effect::Weakens,
        _ => Effect::Unknown,
    }
}

fn filter(name: &str, ids: &[String]) -> aws_sdk_rds::types::Filter {
    aws_sdk_rds::types::Filter::builder()
        .name(name)
        .set_values(Some(ids.to_vec()))
        .build()
}

impl Family for DbInstances {
    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        crate::families::harden_value(
            item,
            &["aws_db_instance", "aws_rds_cluster_instance"],
            &["publicly_accessible"],
            &|v| *v == serde_json::Value::Bool(true),
            serde_json::Value::Bool(false),
        )
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        codify(r)
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::name("AWS::RDS::DBInstance", cloud_id)
    }

    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        view_from_config(ids, items, "RDS instance", true)
    }

    fn about(&self) -> &'static About {
        &DB_INSTANCES
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        expected(DB_INSTANCES.name, resources, "identifier", true)
    }
    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            // A filter, not DBInstanceIdentifier: a deleted instance is then absent, not an error.
            let mut pages = aws
                .rds(region)
                .describe_db_instances()
                .filters(filter("db-instance-id", ids))
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                aws.count("rds", "DescribeDBInstances");
                let page = page.map_err(|e| aws.error("rds", "DescribeDBInstances", region, e))?;
                for db in page.db_instances() {
                    let Some(id) = db
                        .db_instance_identifier()
                        .filter(|i| ids.iter().any(|x| x == i))
                    else {
                        continue;
                    };
                    let view = View {
                        public: Some(db.publicly_accessible().unwrap_or(false)),
                        encrypted: db.storage_encrypted().unwrap_or(false),
                        key: db.kms_key_id().unwrap_or(""),
                        groups: db
                            .vpc_security_groups()
                            .iter()
                            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                            .collect(),
                    };
                    out.push(LiveObject {
                        cloud_id: id.to_string(),
                        items: items(view),
                        is_default: false,
                    });
                }
            }
            Ok(out)
        })
    }
    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        change(attribute, expected, actual)
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move { instances_reach(clouds.aws()?, region, objects).await })
    }
}

/// How drifted DB instances are reached: a publicly accessible instance in a subnet routed to an
/// internet gateway, by what its security groups admit; any other is private.
async fn instances_reach(
    aws: &AwsContext,
    region: &str,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let ids: Vec<String> = objects.iter().map(|o| o.live.cloud_id.clone()).collect();
    let mut dbs = Vec::new();
    for batch in ids.chunks(DB_INSTANCES.batch_size) {
        let mut pages = aws
            .rds(region)
            .describe_db_instances()
            .filters(filter("db-instance-id", batch))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            aws.count("rds", "DescribeDBInstances");
            let page = page.map_err(|e| aws.error("rds", "DescribeDBInstances", region, e))?;
            dbs.extend(page.db_instances().iter().cloned());
        }
    }
    let public: Vec<&aws_sdk_rds::types::DbInstance> = dbs
        .iter()
        .filter(|db| db.publicly_accessible() == Some(true))
        .collect();
    let mut subnets: BTreeMap<String, String> = BTreeMap::new();
    let mut groups: Vec<String> = Vec::new();
    for db in &public {
        if let Some(g) = db.db_subnet_group() {
            for s in g.subnets() {
                if let Some(id) = s.subnet_identifier() {
                    subnets.insert(id.to_string(), g.vpc_id().unwrap_or_default().to_string());
                }
            }
        }
        groups.extend(
            db.vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(str::to_string)),
        );
    }
    groups.sort();
    groups.dedup();
    let ec2 = aws.ec2(region);
    let routes = if subnets.is_empty() {
        BTreeMap::new()
    } else {
        reach::subnet_routes(aws, &ec2, region, &subnets).await?
    };
    // The groups' inbound rules, in their live view.
    let mut rules: BTreeMap<String, Vec<(&'static str, Item)>> = BTreeMap::new();
    for batch in groups.chunks(200) {
        let found =
            super::security_group::describe_groups(aws, &ec2, region, batch.to_vec()).await?;
        for sg in found.unwrap_or_default() {
            if let Some(obj) = super::security_group::live_object(&sg)? {
                rules.insert(obj.cloud_id, obj.items);
            }
        }
    }
    let mut out = BTreeMap::new();
    for db in &dbs {
        let Some(id) = db.db_instance_identifier() else {
            continue;
        };
        if db.publicly_accessible() != Some(true) {
            out.insert(
                id.to_string(),
                Reach::new(
                    Exposure::Private,
                    format!("{id} is not publicly accessible: it has no public address"),
                ),
            );
            continue;
        }
        let mine: Vec<String> = db
            .db_subnet_group()
            .map(|g| {
                g.subnets()
                    .iter()
                    .filter_map(|s| s.subnet_identifier().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let paths: Vec<String> = mine
            .iter()
            .filter_map(|s| {
                let igw = routes.get(s)?.igw_v4.as_ref()?;
                Some(format!(
                    "{id} is publicly accessible in subnet {s}, which routes 0.0.0.0/0 to {igw}"
                ))
            })
            .collect();
        let admitted: Vec<(&'static str, Item)> = db
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id())
            .filter_map(|g| rules.get(g))
            .flatten()
            .cloned()
            .collect();
        out.insert(
            id.to_string(),
            crate::families::reach_by_paths(
                &paths,
                crate::families::inbound_admits(&admitted).map(|(e, why)| {
                    (
                        e,
                        why.replace("its inbound", "its security groups' inbound"),
                    )
                }),
                format!(
                    "{id} is publicly accessible, but none of its subnets ({}) routes to an \
                     internet gateway",
                    mine.join(", ")
                ),
            ),
        );
    }
    Ok(out)
}

impl Family for DbClusters {
    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        codify(r)
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::name("AWS::RDS::DBCluster", cloud_id)
    }

    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        view_from_config(ids, items, "RDS cluster", false)
    }

    fn about(&self) -> &'static About {
        &DB_CLUSTERS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        expected(DB_CLUSTERS.name, resources, "cluster_identifier", false)
    }
    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let mut pages = aws
                .rds(region)
                .describe_db_clusters()
                .filters(filter("db-cluster-id", ids))
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                aws.count("rds", "DescribeDBClusters");
                let page = page.map_err(|e| aws.error("rds", "DescribeDBClusters", region, e))?;
                for c in page.db_clusters() {
                    let Some(id) = c
                        .db_cluster_identifier()
                        .filter(|i| ids.iter().any(|x| x == i))
                    else {
                        continue;
                    };
                    let view = View {
                        public: None,
                        encrypted: c.storage_encrypted().unwrap_or(false),
                        key: c.kms_key_id().unwrap_or(""),
                        groups: c
                            .vpc_security_groups()
                            .iter()
                            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                            .collect(),
                    };
                    out.push(LiveObject {
                        cloud_id: id.to_string(),
                        items: items(view),
                        is_default: false,
                    });
                }
            }
            Ok(out)
        })
    }
    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        change(attribute, expected, actual)
    }
}
