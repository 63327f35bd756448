//! Live reads: groups the objects to read by family and region, splits them into batches of the
//! family's size, and runs the batches concurrently with a bound. The first failure ends the
//! read: a check with a hole in it must not pass.

use std::collections::{BTreeMap, HashMap};

use futures::{stream, StreamExt, TryStreamExt};

use crate::clients::Clouds;
use crate::error::Result;
use crate::families::Family;
use crate::model::{LiveObject, Place};

/// Cloud ids to read, by place.
pub type PlaceIds = BTreeMap<Place, Vec<String>>;

/// What to read: for each family, place → ids.
pub type Plan<'a> = Vec<(&'a dyn Family, PlaceIds)>;

/// Live objects by (family name, account read with a role, cloud id): two accounts may each hold
/// an IAM role of the same name. Absent ids do not exist.
pub type LiveSet = HashMap<LiveKey, LiveObject>;
pub type LiveKey = (&'static str, Option<String>, String);

/// The plan for these objects: (family, place, cloud id) grouped by family and place.
pub fn plan<'a>(
    objects: impl IntoIterator<Item = (&'a dyn Family, &'a Place, &'a String)>,
) -> Plan<'a> {
    let mut by_family: BTreeMap<&'static str, (&'a dyn Family, PlaceIds)> = BTreeMap::new();
    for (family, place, id) in objects {
        by_family
            .entry(family.about().name)
            .or_insert((family, BTreeMap::new()))
            .1
            .entry(place.clone())
            .or_default()
            .push(id.clone());
    }
    by_family.into_values().collect()
}

pub async fn read(clouds: &Clouds, plan: &Plan<'_>, concurrency: usize) -> Result<LiveSet> {
    let mut batches = Vec::new();
    for (family, places) in plan {
        for (place, ids) in places {
            let clients = clouds.for_account(place.account.as_deref())?;
            for chunk in ids.chunks(family.about().batch_size.max(1)) {
                batches.push((*family, clients, place, chunk));
            }
        }
    }
    let results: Vec<(LiveKeyPart, Vec<LiveObject>)> = stream::iter(batches)
        .map(|(family, clients, place, ids)| async move {
            family
                .fetch(clients, &place.region, ids)
                .await
                .map(|objs| ((family.about().name, place.account.clone()), objs))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut live = LiveSet::new();
    for ((family, account), objs) in results {
        for obj in objs {
            live.insert((family, account.clone(), obj.cloud_id.clone()), obj);
        }
    }
    Ok(live)
}

type LiveKeyPart = (&'static str, Option<String>);
