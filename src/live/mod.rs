//! Live reads: groups the objects to read by family and region, splits them into batches of the
//! family's size, and runs the batches concurrently with a bound. The first failure ends the
//! read: a check with a hole in it must not pass.

pub mod aws;
pub mod azure;
pub mod gcp;

use std::collections::{BTreeMap, HashMap};

use futures::{stream, StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::kinds::{Cloud, Family, LiveObject};
use aws::AwsContext;
use azure::AzureContext;
use gcp::GcpContext;

/// The clients of the clouds this run reads. A cloud's credentials are loaded only when the
/// states hold resources of that cloud, so an AWS-only pipeline needs no Azure login.
#[derive(Default)]
pub struct Clouds {
    pub aws: Option<AwsContext>,
    pub azure: Option<AzureContext>,
    pub gcp: Option<GcpContext>,
}

impl Clouds {
    pub fn aws(&self) -> Result<&AwsContext> {
        self.aws.as_ref().ok_or_else(|| not_loaded(Cloud::Aws))
    }

    pub fn azure(&self) -> Result<&AzureContext> {
        self.azure.as_ref().ok_or_else(|| not_loaded(Cloud::Azure))
    }

    pub fn gcp(&self) -> Result<&GcpContext> {
        self.gcp.as_ref().ok_or_else(|| not_loaded(Cloud::Gcp))
    }

    /// API calls per service and operation, all clouds together (service names do not clash:
    /// `ec2`, `arm`, `compute`, ...).
    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut all = BTreeMap::new();
        if let Some(a) = &self.aws {
            all.extend(a.calls());
        }
        if let Some(a) = &self.azure {
            all.extend(a.calls());
        }
        if let Some(g) = &self.gcp {
            all.extend(g.calls());
        }
        all
    }
}

/// API calls per (service, operation), for the report's `summary.api_calls`.
#[derive(Default)]
pub struct CallCounter(std::sync::Mutex<BTreeMap<(String, String), u64>>);

impl CallCounter {
    pub fn add(&self, service: &str, operation: &str) {
        let mut calls = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *calls
            .entry((service.to_string(), operation.to_string()))
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let calls = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((service, op), n) in calls.iter() {
            out.entry(service.clone())
                .or_default()
                .insert(op.clone(), *n);
        }
        out
    }
}

fn not_loaded(cloud: Cloud) -> Error {
    // A bug, not a user error: the check loads every cloud its families need.
    Error::new(
        "driftgate",
        format!("internal error: {} client not loaded", cloud.title()),
    )
}

/// Cloud ids to read, by region.
pub type RegionIds = BTreeMap<String, Vec<String>>;

/// What to read: for each family, region → ids.
pub type Plan<'a> = Vec<(&'a dyn Family, RegionIds)>;

/// Live objects by (family name, cloud id). Absent ids do not exist.
pub type LiveSet = HashMap<(&'static str, String), LiveObject>;

/// The plan for these objects: (family, region, cloud id) grouped by family and region.
pub fn plan<'a>(
    objects: impl IntoIterator<Item = (&'a dyn Family, &'a String, &'a String)>,
) -> Plan<'a> {
    let mut by_family: BTreeMap<&'static str, (&'a dyn Family, RegionIds)> = BTreeMap::new();
    for (family, region, id) in objects {
        by_family
            .entry(family.name())
            .or_insert((family, BTreeMap::new()))
            .1
            .entry(region.clone())
            .or_default()
            .push(id.clone());
    }
    by_family.into_values().collect()
}

pub async fn read(clouds: &Clouds, plan: &Plan<'_>, concurrency: usize) -> Result<LiveSet> {
    let mut batches = Vec::new();
    for (family, regions) in plan {
        for (region, ids) in regions {
            for chunk in ids.chunks(family.batch_size().max(1)) {
                batches.push((*family, region.as_str(), chunk));
            }
        }
    }
    let results: Vec<(&'static str, Vec<LiveObject>)> = stream::iter(batches)
        .map(|(family, region, ids)| async move {
            family
                .fetch(clouds, region, ids)
                .await
                .map(|objs| (family.name(), objs))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut live = LiveSet::new();
    for (family, objs) in results {
        for obj in objs {
            live.insert((family, obj.cloud_id.clone()), obj);
        }
    }
    Ok(live)
}
