//! Live reads: groups the objects to read by family and region, splits them into batches of the
//! family's size, and runs the batches concurrently with a bound. The first failure ends the
//! read: a check with a hole in it must not pass.

pub mod aws;

use std::collections::{BTreeMap, HashMap};

use futures::{stream, StreamExt, TryStreamExt};

use crate::error::Result;
use crate::kinds::{Family, LiveObject};
use aws::AwsContext;

/// Cloud ids to read, by region.
pub type RegionIds = BTreeMap<String, Vec<String>>;

/// What to read: for each family, region → ids.
pub type Plan<'a> = Vec<(&'a dyn Family, RegionIds)>;

/// Live objects by (family name, cloud id). Absent ids do not exist.
pub type LiveSet = HashMap<(&'static str, String), LiveObject>;

pub async fn read(aws: &AwsContext, plan: &Plan<'_>, concurrency: usize) -> Result<LiveSet> {
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
                .fetch(aws, region, ids)
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
