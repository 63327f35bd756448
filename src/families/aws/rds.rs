//! RDS: `aws_db_instance` (`publicly_accessible`, `storage_encrypted`, `kms_key_id`,
//! `vpc_security_group_ids`) and `aws_rds_cluster` (the same but public access, which is per
//! instance). Passwords and other write-only attributes are never read, compared or printed.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{kms_key_id, region_account, str_list};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, tags_of, About, Family};
use crate::model::{
    Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
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
}

impl Family for DbClusters {
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
