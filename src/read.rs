//! Live reads: groups the objects to read by family and place (account, region), splits them into
//! batches of the family's size (of 100 configuration items through AWS Config), and runs the
//! batches concurrently with a bound. The first failure ends the read: a check with a hole in it
//! must not pass.

use std::collections::{BTreeMap, HashMap};

use futures::{stream, StreamExt, TryStreamExt};

use crate::clients::aws::AwsSource;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::aws::config_items;
use crate::families::{ConfigKey, ConfigRef, Family};
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

/// What a read found: the live objects, and for those seen through AWS Config when each was
/// captured (`configurationItemCaptureTime`).
#[derive(Default)]
pub struct Read {
    pub live: LiveSet,
    pub captured: HashMap<LiveKey, String>,
}

/// One batch: through the family's own API, or through AWS Config (cloud id and how Config
/// names it, all of one resource type).
enum Batch<'p> {
    Direct(&'p dyn Family, &'p Clouds, &'p Place, &'p [String]),
    Config(&'p dyn Family, &'p Place, Vec<(String, ConfigRef)>),
}

/// Reads the plan. `direct`: never through AWS Config (confirming what Config showed).
pub async fn read(
    clouds: &Clouds,
    plan: &Plan<'_>,
    concurrency: usize,
    direct: bool,
) -> Result<Read> {
    let via_config = !direct
        && clouds
            .aws
            .as_ref()
            .is_some_and(|a| *a.source() != AwsSource::Api);
    let mut batches = Vec::new();
    for (family, places) in plan {
        for (place, ids) in places {
            // By Config resource type; what Config has no type for is read directly.
            let mut by_type: BTreeMap<&'static str, Vec<(String, ConfigRef)>> = BTreeMap::new();
            let mut direct_ids: Vec<String> = Vec::new();
            for id in ids {
                match family.config_ref(id).filter(|_| via_config) {
                    Some(r) => by_type
                        .entry(r.resource_type)
                        .or_default()
                        .push((id.clone(), r)),
                    None => direct_ids.push(id.clone()),
                }
            }
            for refs in by_type.into_values() {
                for chunk in refs.chunks(config_items::BATCH) {
                    batches.push(Batch::Config(*family, place, chunk.to_vec()));
                }
            }
            if direct_ids.len() == ids.len() {
                let clients = clients_of(clouds, place)?;
                for chunk in ids.chunks(family.about().batch_size.max(1)) {
                    batches.push(Batch::Direct(*family, clients, place, chunk));
                }
            } else if !direct_ids.is_empty() {
                return Err(Error::new(
                    format!("{} {}", family.about().label, direct_ids[0]),
                    "AWS Config names the other objects of this family but not this one",
                ));
            }
        }
    }
    let results: Vec<Found> = stream::iter(batches)
        .map(|batch| async move {
            match batch {
                Batch::Direct(family, clients, place, ids) => {
                    let objs = family.fetch(clients, &place.region, ids).await?;
                    Ok(Found {
                        family: family.about().name,
                        account: place.account.clone(),
                        objs,
                        captured: Vec::new(),
                    })
                }
                Batch::Config(family, place, refs) => {
                    through_config(clouds, family, place, &refs).await
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut read = Read::default();
    for found in results {
        for (id, at) in found.captured {
            read.captured
                .insert((found.family, found.account.clone(), id), at);
        }
        for obj in found.objs {
            read.live.insert(
                (found.family, found.account.clone(), obj.cloud_id.clone()),
                obj,
            );
        }
    }
    Ok(read)
}

/// What one batch found.
struct Found {
    family: &'static str,
    account: Option<String>,
    objs: Vec<LiveObject>,
    /// (cloud id, capture time) of the objects seen through AWS Config.
    captured: Vec<(String, String)>,
}

impl Found {
    fn empty(family: &dyn Family, place: &Place) -> Self {
        Found {
            family: family.about().name,
            account: place.account.clone(),
            objs: Vec::new(),
            captured: Vec::new(),
        }
    }
}

/// The clients that read `place` directly.
fn clients_of<'c>(clouds: &'c Clouds, place: &Place) -> Result<&'c Clouds> {
    clouds
        .try_for_account(place.account.as_deref())
        .ok_or_else(|| {
            let account = place.account.as_deref().unwrap_or_default();
            Error::new(
            format!("AWS account {account}"),
            "no credentials to read its objects directly: give --aws-role to read every account \
             with a role of its own",
        )
        })
}

/// One batch through AWS Config: the aggregator (the run's credentials) or the account's own
/// recorder (that account's credentials). Items named by something else than the cloud id are
/// found by name first. Ids Config shows no view of are read directly, where credentials for
/// their account exist, and otherwise end the run: never taken as in sync.
async fn through_config(
    clouds: &Clouds,
    family: &dyn Family,
    place: &Place,
    refs: &[(String, ConfigRef)],
) -> Result<Found> {
    let run = clouds.aws()?;
    let aws = match run.source() {
        AwsSource::Aggregator(_) => run,
        _ => clients_of(clouds, place)?.aws()?,
    };
    let account = match &place.account {
        Some(a) => a.clone(),
        None => run.caller_account(&place.region).await?,
    };
    let Some(config_type) = refs.first().map(|(_, r)| r.resource_type) else {
        return Ok(Found::empty(family, place));
    };
    // Config resource id → the cloud ids its item shows (a role's inline policies share the
    // role's item), by the region Config keeps the item in.
    type Ids = BTreeMap<String, Vec<String>>;
    let mut by_region: BTreeMap<String, Ids> = BTreeMap::new();
    let mut name_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (cloud_id, r) in refs {
        match &r.key {
            ConfigKey::Id(id) => by_region
                .entry(place.region.clone())
                .or_default()
                .entry(id.clone())
                .or_default()
                .push(cloud_id.clone()),
            ConfigKey::Name(name) => name_of
                .entry(name.clone())
                .or_default()
                .push(cloud_id.clone()),
        }
    }
    // Why Config showed nothing of an object, by cloud id.
    let mut why: HashMap<String, String> = HashMap::new();
    if !name_of.is_empty() {
        let names: Vec<String> = name_of.keys().cloned().collect();
        let resolved =
            config_items::resolve(aws, &account, &place.region, config_type, &names).await?;
        for (name, id, region) in resolved.found {
            let cloud_ids = name_of.get(&name).cloned().unwrap_or_default();
            // An aggregator is asked for the item where it was recorded (`global` for IAM); an
            // account's recorder answers in the region it is asked in.
            let region = match run.source() {
                AwsSource::Aggregator(_) => region,
                _ => place.region.clone(),
            };
            by_region
                .entry(region)
                .or_default()
                .entry(id)
                .or_default()
                .extend(cloud_ids);
        }
        for (name, reason) in resolved.missing {
            for cloud_id in name_of.get(&name).into_iter().flatten() {
                why.insert(cloud_id.clone(), reason.clone());
            }
        }
    }
    let mut items = Vec::new();
    for (region, ids) in &by_region {
        let config_ids: Vec<String> = ids.keys().cloned().collect();
        let recorded = config_items::read(aws, &account, region, config_type, &config_ids).await?;
        items.extend(recorded.items);
        for (id, reason) in recorded.missing {
            for cloud_id in ids.get(&id).into_iter().flatten() {
                why.insert(cloud_id.clone(), reason.clone());
            }
        }
    }
    let cloud_ids: Vec<String> = refs.iter().map(|(id, _)| id.clone()).collect();
    let view = family.live_from_config(&cloud_ids, &items)?;
    let mut objs = view.objects;
    let captured = view.captured.into_iter().collect();
    // Whatever Config gave no view of (no item, deleted, unprocessed, or an item without what the
    // family compares) is read directly: never taken as in sync, nor as deleted.
    let missing: Vec<String> = cloud_ids
        .iter()
        .filter(|id| !objs.iter().any(|o| &o.cloud_id == *id) && !view.absent.contains(id))
        .cloned()
        .collect();
    if let Some(first) = missing.first() {
        let Some(clients) = clouds.try_for_account(place.account.as_deref()) else {
            let why = why
                .get(first)
                .map(String::as_str)
                .unwrap_or("AWS Config's item of it lacks what driftgate compares");
            return Err(Error::new(
                format!(
                    "{config_type} {first} in AWS account {account}, {}",
                    place.region
                ),
                format!(
                    "{why}, and there are no credentials for account {account} to read it \
                     directly (give --aws-role, or record {config_type} in AWS Config)"
                ),
            ));
        };
        for chunk in missing.chunks(family.about().batch_size.max(1)) {
            objs.extend(family.fetch(clients, &place.region, chunk).await?);
        }
    }
    Ok(Found {
        family: family.about().name,
        account: place.account.clone(),
        objs,
        captured,
    })
}
