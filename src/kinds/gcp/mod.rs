//! Google Cloud resource families (google provider) and what they share.
//!
//! Objects are read by their path in the REST APIs (`projects/P/global/firewalls/N`); a 404 is a
//! deleted object. Labels play the role of tags for risk scoring.

pub mod compute_disk;
pub mod firewall;
pub mod iam;
pub mod sql_instance;
pub mod storage_bucket;

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Declarer, ExpectedObject};
use crate::state::Resource;

/// A new expected object for the resource that manages it as a whole.
pub fn owned_object(
    family: &'static str,
    id: &str,
    region: String,
    r: &Resource,
) -> ExpectedObject {
    ExpectedObject {
        family,
        cloud_id: id.to_string(),
        region: Some(region),
        account: None,
        owner: Some(Declarer::of(r, true)),
        items: Vec::new(),
        tags: labels(r),
        is_default: false,
        ignore: Vec::new(),
        tolerated: Vec::new(),
    }
}

/// `labels` (or `effective_labels`, which adds provider defaults) as tags.
pub fn labels(r: &Resource) -> BTreeMap<String, String> {
    r.attr("effective_labels")
        .or_else(|| r.attr("labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The first element of a nested block (`settings[0]`), Terraform's shape for single blocks.
pub fn block(v: Option<&Value>) -> Option<&Value> {
    v.and_then(Value::as_array).and_then(|a| a.first())
}

/// `projects/P/...` → P.
pub fn project_of(path: &str) -> Option<&str> {
    path.strip_prefix("projects/")?.split('/').next()
}

/// The last path segment of a self link or id (`.../zones/us-central1-c` → `us-central1-c`).
pub fn last_segment(s: &str) -> &str {
    s.trim_end_matches('/').rsplit('/').next().unwrap_or(s)
}
