//! Exposure: how reachable each drifted object is (internet, cross-account, restricted, private,
//! unused), read from the cloud for drifted objects only, so a clean run makes no extra call.
//! Each family knows how its objects are reached ([`Family::exposure`]); this stage groups the
//! drifted objects by family and region, asks each group once, and gives every object a
//! [`Reach`]. A read that fails ends the run: policies may match on exposure.

use std::collections::BTreeMap;

use futures::{stream, StreamExt, TryStreamExt};

use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{Family, Subject};
use crate::model::{ExpectedObject, Exposure, LiveObject, Reach};

/// One drifted object: its family, state view, region and live view (`None`: it is gone).
pub struct Drifted<'a> {
    pub family: &'a dyn Family,
    pub expected: &'a ExpectedObject,
    pub region: &'a str,
    /// The other AWS account it is read in (`--aws-role`), `None` for the run's own.
    pub account: Option<&'a str>,
    pub live: Option<&'a LiveObject>,
}

/// The reach of each object, in the order given.
pub async fn assess(
    clouds: &Clouds,
    objects: &[Drifted<'_>],
    concurrency: usize,
) -> Result<Vec<Reach>> {
    // (family, account, region) → indices of the objects that still exist.
    let mut groups: BTreeMap<(&'static str, Option<&str>, &str), Vec<usize>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        if o.live.is_some() {
            groups
                .entry((o.family.about().name, o.account, o.region))
                .or_default()
                .push(i);
        }
    }
    let answers: Vec<(Vec<usize>, BTreeMap<String, Reach>)> = stream::iter(groups.into_values())
        .map(|members| async move {
            let first = &objects[members[0]];
            let subjects: Vec<Subject> = members
                .iter()
                .filter_map(|&i| {
                    objects[i].live.map(|live| Subject {
                        expected: objects[i].expected,
                        live,
                    })
                })
                .collect();
            let Some(clients) = clouds.try_for_account(first.account) else {
                // Read through an aggregator only: nothing reads its interfaces or routes.
                let why = format!(
                    "not read: no credentials for AWS account {} (seen through AWS Config only)",
                    first.account.unwrap_or_default()
                );
                let reaches = subjects
                    .iter()
                    .map(|s| {
                        (
                            s.expected.cloud_id.clone(),
                            Reach::new(Exposure::Unknown, why.clone()),
                        )
                    })
                    .collect();
                return Ok((members, reaches));
            };
            let reaches = first
                .family
                .exposure(clients, first.region, &subjects)
                .await?;
            Ok::<_, crate::error::Error>((members, reaches))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;

    let mut out: Vec<Option<Reach>> = vec![None; objects.len()];
    for (members, mut reaches) in answers {
        for i in members {
            out[i] = reaches.remove(&objects[i].expected.cloud_id);
        }
    }
    Ok(objects
        .iter()
        .zip(out)
        .map(|(o, reach)| match (reach, o.live) {
            (Some(r), _) => r,
            (None, None) => Reach::new(
                Exposure::Unused,
                format!("{} no longer exists", o.expected.cloud_id),
            ),
            (None, Some(_)) => not_assessed(o.family),
        })
        .collect())
}

/// The reach of an object whose family does not read one.
pub fn not_assessed(family: &dyn Family) -> Reach {
    Reach::new(
        Exposure::Unknown,
        format!(
            "driftgate does not read how {} are reached",
            family.about().label
        ),
    )
}
