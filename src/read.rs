//! Live reads: groups the objects to read by family and region, splits them into batches of the
//! family's size, and runs the batches concurrently with a bound. The first failure ends the
//! read: a check with a hole in it must not pass.

use std::collections::{BTreeMap, HashMap};

use futures::{stream, StreamExt, TryStreamExt};

use crate::clients::Clouds;
use crate::error::Result;
use crate::families::Family;
use crate::model::LiveObject;

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
            .entry(family.about().name)
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
            for chunk in ids.chunks(family.about().batch_size.max(1)) {
                batches.push((*family, region.as_str(), chunk));
            }
        }
    }
    let results: Vec<(&'static str, Vec<LiveObject>)> = stream::iter(batches)
        .map(|(family, region, ids)| async move {
            family
                .fetch(clouds, region, ids)
                .await
                .map(|objs| (family.about().name, objs))
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
