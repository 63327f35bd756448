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

/// One object to read through AWS Config: its family, cloud id, and where Config keeps it.
type ConfigObject<'p> = (&'p dyn Family, String, ConfigRef);

/// One batch: through the family's own API, or through AWS Config (objects of one place and one
/// Config resource type, of any family: a bucket's item serves its policy, ACL, encryption and
/// Block Public Access families with one read).
enum Batch<'p> {
    Direct(&'p dyn Family, &'p Clouds, &'p Place, &'p [String]),
    Config(&'p Place, Vec<ConfigObject<'p>>),
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
    let mut through: BTreeMap<(&Place, &'static str), Vec<ConfigObject>> = BTreeMap::new();
    for (family, places) in plan {
        for (place, ids) in places {
            // What Config has no type for is read directly.
            let mut direct_ids: Vec<String> = Vec::new();
            for id in ids {
                match family.config_ref(id).filter(|_| via_config) {
                    Some(r) => through.entry((place, r.resource_type)).or_default().push((
                        *family,
                        id.clone(),
                        r,
                    )),
                    None => direct_ids.push(id.clone()),
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
    for ((place, _), mut objects) in through {
        // Batches of up to 100 distinct items; objects of one item stay together.
        objects.sort_by(|a, b| a.2.cmp(&b.2));
        let mut batch: Vec<ConfigObject> = Vec::new();
        let mut keys = 0;
        for object in objects {
            let new_key = batch.last().is_none_or(|last| last.2 != object.2);
            if new_key && keys == config_items::BATCH {
                batches.push(Batch::Config(place, std::mem::take(&mut batch)));
                keys = 0;
            }
            keys += usize::from(new_key);
            batch.push(object);
        }
        if !batch.is_empty() {
            batches.push(Batch::Config(place, batch));
        }
    }
    let results: Vec<Found> = stream::iter(batches)
        .map(|batch| async move {
            match batch {
                Batch::Direct(family, clients, place, ids) => {
                    let name = family.about().name;
                    let objs = family.fetch(clients, &place.region, ids).await?;
                    Ok(Found {
                        account: place.account.clone(),
                        objs: objs.into_iter().map(|o| (name, o)).collect(),
                        captured: Vec::new(),
                    })
                }
                Batch::Config(place, objects) => through_config(clouds, place, &objects).await,
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut read = Read::default();
    for found in results {
        for (family, id, at) in found.captured {
            read.captured
                .insert((family, found.account.clone(), id), at);
        }
        for (family, obj) in found.objs {
            read.live
                .insert((family, found.account.clone(), obj.cloud_id.clone()), obj);
        }
    }
    Ok(read)
}

/// What one batch found.
struct Found {
    account: Option<String>,
    /// (family name, object)
    objs: Vec<(&'static str, LiveObject)>,
    /// (family name, cloud id, capture time) of the objects seen through AWS Config.
    captured: Vec<(&'static str, String, String)>,
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
/// found by name first; each item is read once, whichever families it serves. Ids Config shows
/// no view of are read directly, where credentials for their account exist, and otherwise end
/// the run: never taken as in sync.
async fn through_config(
    clouds: &Clouds,
    place: &Place,
    objects: &[ConfigObject<'_>],
) -> Result<Found> {
    let mut found = Found {
        account: place.account.clone(),
        objs: Vec::new(),
        captured: Vec::new(),
    };
    let Some(config_type) = objects.first().map(|(_, _, r)| r.resource_type) else {
        return Ok(found);
    };
    let run = clouds.aws()?;
    let aws = match run.source() {
        AwsSource::Aggregator(_) => run,
        _ => clients_of(clouds, place)?.aws()?,
    };
    let account = match &place.account {
        Some(a) => a.clone(),
        None => run.caller_account(&place.region).await?,
    };
    // Config resource ids to read, by the region Config keeps the items in, and the names to
    // resolve to ids first.
    let mut by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    for (_, _, r) in objects {
        match &r.key {
            ConfigKey::Id(id) => by_region
                .entry(place.region.clone())
                .or_default()
                .push(id.clone()),
            ConfigKey::Name(name) => names.push(name.clone()),
        }
    }
    names.sort();
    names.dedup();
    // Why Config showed nothing of an item, by its key.
    let mut why: BTreeMap<ConfigKey, String> = BTreeMap::new();
    let mut id_of_name: HashMap<String, String> = HashMap::new();
    if !names.is_empty() {
        let resolved =
            config_items::resolve(aws, &account, &place.region, config_type, &names).await?;
        for (name, id, region) in resolved.found {
            // An aggregator is asked for the item where it was recorded (`global` for IAM); an
            // account's recorder answers in the region it is asked in.
            let region = match run.source() {
                AwsSource::Aggregator(_) => region,
                _ => place.region.clone(),
            };
            by_region.entry(region).or_default().push(id.clone());
            id_of_name.insert(name, id);
        }
        for (name, reason) in resolved.missing {
            why.insert(ConfigKey::Name(name), reason);
        }
    }
    let mut items = Vec::new();
    for (region, ids) in &mut by_region {
        ids.sort();
        ids.dedup();
        let recorded = config_items::read(aws, &account, region, config_type, ids).await?;
        items.extend(recorded.items);
        for (id, reason) in recorded.missing {
            why.insert(ConfigKey::Id(id), reason);
        }
    }
    // Each family's view of its objects, from the same items.
    let mut families: Vec<&dyn Family> = Vec::new();
    for (family, _, _) in objects {
        if !families
            .iter()
            .any(|f| f.about().name == family.about().name)
        {
            families.push(*family);
        }
    }
    for family in families {
        let name = family.about().name;
        let mine: Vec<&ConfigObject> = objects
            .iter()
            .filter(|(f, _, _)| f.about().name == name)
            .collect();
        let cloud_ids: Vec<String> = mine.iter().map(|(_, id, _)| id.clone()).collect();
        let view = family.live_from_config(&cloud_ids, &items)?;
        let mut objs = view.objects;
        found
            .captured
            .extend(view.captured.into_iter().map(|(id, at)| (name, id, at)));
        // Whatever Config gave no view of (no item, deleted, unprocessed, or an item without
        // what the family compares) is read directly: never taken as in sync, nor as deleted.
        let missing: Vec<&&ConfigObject> = mine
            .iter()
            .filter(|(_, id, _)| {
                !objs.iter().any(|o| &o.cloud_id == id) && !view.absent.contains(id)
            })
            .collect();
        if let Some((_, first, r)) = missing.first().map(|m| **m) {
            let Some(clients) = clouds.try_for_account(place.account.as_deref()) else {
                let resolved_key = match &r.key {
                    ConfigKey::Name(n) => id_of_name.get(n).cloned().map(ConfigKey::Id),
                    ConfigKey::Id(_) => None,
                };
                let why = why
                    .get(&r.key)
                    .or_else(|| resolved_key.and_then(|k| why.get(&k)))
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
            let ids: Vec<String> = missing.iter().map(|(_, id, _)| id.clone()).collect();
            for chunk in ids.chunks(family.about().batch_size.max(1)) {
                objs.extend(family.fetch(clients, &place.region, chunk).await?);
            }
        }
        found.objs.extend(objs.into_iter().map(|o| (name, o)));
    }
    Ok(found)
}
