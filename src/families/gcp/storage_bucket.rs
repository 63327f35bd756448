//! Cloud Storage buckets: `google_storage_bucket`'s public access prevention, uniform
//! bucket-level access and default KMS key.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{block, fetch_objects, owned_object, Api, GcpRead};
use crate::clients::gcp::Service;
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, setting, setting_effect, About, Family};
use crate::model::{Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject};
use crate::state::Resource;

pub const STORAGE_BUCKETS: About = About {
    name: "gcp_storage_bucket",
    cloud: Cloud::Gcp,
    label: "storage bucket(s)",
    resource_types: &["google_storage_bucket"],
    batch_size: super::BATCH,
};

pub struct StorageBuckets;

fn items(prevention: &str, uniform: bool, kms: Option<&str>) -> Vec<(&'static str, Item)> {
    // `unspecified` is what older buckets answer for "inherited from the organization".
    let prevention = match prevention.to_ascii_lowercase().as_str() {
        "enforced" => "enforced",
        _ => "inherited",
    };
    let kms = kms.filter(|k| !k.is_empty());
    vec![
        (
            "public_access_prevention",
            setting(
                "public_access_prevention",
                json!(prevention),
                prevention != "enforced",
            ),
        ),
        (
            "uniform_bucket_level_access",
            setting("uniform_bucket_level_access", json!(uniform), !uniform),
        ),
        (
            "encryption",
            setting(
                "encryption.default_kms_key_name",
                json!(kms.unwrap_or(super::GOOGLE_MANAGED)),
                kms.is_none(),
            ),
        ),
    ]
}

const READ: GcpRead = GcpRead {
    api: Api::Rest {
        service: Service::Storage,
        prefix: "/storage/v1/b/",
    },
    get_op: "buckets.get",
    to_items: |body| Ok(live_items(body)),
};

fn live_items(body: &Value) -> Vec<(&'static str, Item)> {
    let iam = body.get("iamConfiguration");
    let prevention = iam
        .and_then(|i| i.get("publicAccessPrevention"))
        .and_then(Value::as_str)
        .unwrap_or("inherited");
    let uniform = iam
        .and_then(|i| i.get("uniformBucketLevelAccess"))
        .and_then(|u| u.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let kms = body
        .get("encryption")
        .and_then(|e| e.get("defaultKmsKeyName"))
        .and_then(Value::as_str);
    items(prevention, uniform, kms)
}

impl Family for StorageBuckets {
    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        crate::families::harden_value(
            item,
            &["google_storage_bucket"],
            &["public_access_prevention"],
            &|v| v.as_str() != Some("enforced"),
            serde_json::json!("enforced"),
        )
    }

    fn about(&self) -> &'static About {
        &STORAGE_BUCKETS
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match r.attribute {
            Some(a @ ("public_access_prevention" | "uniform_bucket_level_access")) => {
                crate::families::codify_setting(r, &[], &[a])
            }
            Some("encryption") => super::codify_key(r, "encryption", "default_kms_key_name"),
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let name = r.attr_str("name").ok_or_else(|| bad(r, "has no `name`"))?;
            let location = r
                .attr_str("location")
                .unwrap_or("global")
                .to_ascii_lowercase();
            let mut obj = owned_object(self.about().name, name, location, r);
            let prevention = r
                .attr_str("public_access_prevention")
                .unwrap_or("inherited");
            let uniform = r
                .attr("uniform_bucket_level_access")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let kms = block(r.attr("encryption"))
                .and_then(|e| e.get("default_kms_key_name"))
                .and_then(Value::as_str);
            for (attribute, item) in items(prevention, uniform, kms) {
                obj.items.push(ExpectedItem {
                    attribute,
                    item,
                    by: Declarer::of(r, true),
                });
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        fetch_objects(clouds, ids, &READ)
    }

    fn effect_of_change(&self, _attribute: &str, expected: &Item, actual: &Item) -> Effect {
        setting_effect(expected, actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_buckets() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/gcp/c7n_flight_storage_buckets_list_iamConfiguration.json",
        )
        .unwrap();
        let flight: Value = serde_json::from_str(&text).unwrap();
        let buckets = flight["body"]["items"].as_array().unwrap();
        let summaries: Vec<Vec<String>> = buckets
            .iter()
            .map(|b| live_items(b).into_iter().map(|(_, i)| i.summary).collect())
            .collect();
        assert!(summaries.iter().all(|s| s.len() == 3));
        assert!(
            summaries
                .iter()
                .any(|s| s[1] == "uniform_bucket_level_access = true"),
            "{summaries:?}"
        );
        let enforced = items("enforced", true, None);
        let open = items("inherited", true, None);
        assert_eq!(setting_effect(&enforced[0].1, &open[0].1), Effect::Weakens);
        assert_eq!(
            items("unspecified", false, Some("")),
            items("inherited", false, None)
        );
    }
}
