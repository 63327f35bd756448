//! Which firewalls apply to an instance: `google_compute_instance`'s network tags (`tags`) and
//! service account (`service_account`). A VPC firewall reaches the instances of its network whose
//! tags or service account it targets, so a tag added by hand ("just for debugging") opens the
//! instance as surely as a rule edited by hand, and changes no firewall.
//!
//! The live read brings, beside the instance's tags and account, the firewalls of its networks
//! that could change meaning with them (hidden attribute `targeting_firewalls`, never compared):
//! those targeting one of its live tags or its live account, and every deny firewall with
//! targets. From them a tag added by hand weakens when an allow firewall that does not already
//! reach the instance targets it (its facts: that firewall's widest entry, so "admin ports from
//! the internet" policies apply); a tag removed weakens when a deny firewall targets it.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::firewall::{host, network_path, selects, Targeting};
use super::{fetch_objects, last_segment, owned_object, project_of, Api, GcpRead};
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{bad, str_list, About, Family, Subject};
use crate::model::{
    Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure, Facts, Item, LiveObject, Reach,
};
use crate::state::Resource;

pub const INSTANCES: About = About {
    name: "gcp_instance",
    cloud: Cloud::Gcp,
    label: "instance(s) with their network tags and service account",
    resource_types: &["google_compute_instance"],
    batch_size: super::BATCH,
};

pub struct Instances;

const TAGS: &str = "tags";
const ACCOUNT: &str = "service_account";
/// The instance's networks (`projects/P/global/networks/N`), for finding its firewalls.
const NETWORKS: &str = "networks";
/// Firewalls whose meaning for the instance its tags or account decide.
const FIREWALLS: &str = "targeting_firewalls";

const READ: GcpRead = GcpRead {
    api: Api::Compute {
        list_op: "instances.list",
    },
    get_op: "instances.get",
    to_items: live_items,
};

/// Any tag: what it opens is decided from the firewalls, on the live side.
fn tag(name: &str, facts: Facts) -> Item {
    Item {
        identity: None,
        key: name.to_string(),
        value: json!({ "tag": name }),
        summary: format!("network tag {name}"),
        facts,
    }
}

/// The service account and its OAuth scopes (one per instance: a swap is a change of the slot).
fn account(email: &str, mut scopes: Vec<String>, facts: Facts) -> Item {
    scopes.sort();
    scopes.dedup();
    let short: Vec<&str> = scopes.iter().map(|s| last_segment(s)).collect();
    Item {
        identity: Some(ACCOUNT.into()),
        key: format!("{email} {}", scopes.join(",")),
        value: json!({ "email": email, "scopes": scopes }),
        summary: format!("service account {email} (scopes {})", short.join(", ")),
        facts,
    }
}

fn granting() -> Facts {
    Facts {
        grants: true,
        ..Facts::none()
    }
}

/// The instance's path: `id` as provider 3+ records it, else from project, zone and name.
fn instance_id(r: &Resource) -> Result<String> {
    if let Some(id) = r.attr_str("id").filter(|id| id.starts_with("projects/")) {
        return Ok(id.to_string());
    }
    match (
        r.attr_str("project"),
        r.attr_str("zone"),
        r.attr_str("name"),
    ) {
        (Some(p), Some(z), Some(n)) if !p.is_empty() && !z.is_empty() && !n.is_empty() => Ok(
            format!("projects/{p}/zones/{}/instances/{n}", last_segment(z)),
        ),
        _ => Err(bad(
            r,
            "has no `id` of the form projects/PROJECT/zones/ZONE/instances/NAME",
        )),
    }
}

/// The instance as the Compute API answers it: `tags.items`, `serviceAccounts[]`,
/// `networkInterfaces[].network`.
fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let mut out = Vec::new();
    for t in str_list(body.pointer("/tags/items")) {
        out.push((TAGS, tag(&t, granting())));
    }
    let accounts = body
        .get("serviceAccounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for a in &accounts {
        let email = a
            .get("email")
            .and_then(Value::as_str)
            .ok_or("a service account without `email`")?;
        out.push((
            ACCOUNT,
            account(email, str_list(a.get("scopes")), granting()),
        ));
    }
    for n in body
        .get("networkInterfaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(link) = n.get("network").and_then(Value::as_str) {
            let path = network_path(link);
            out.push((NETWORKS, network_item(&path)));
        }
    }
    Ok(out)
}

fn network_item(path: &str) -> Item {
    Item {
        identity: Some(format!("network {path}")),
        key: path.to_string(),
        value: json!({ "network": path }),
        summary: format!("network {path}"),
        facts: Facts::none(),
    }
}

fn firewall_item(f: &Targeting) -> Item {
    Item {
        identity: Some(format!("firewall {}", f.name)),
        key: f.name.clone(),
        value: json!({
            "firewall": f.name,
            "network": f.network,
            "allow": f.allow,
            "target_tags": f.target_tags,
            "target_service_accounts": f.target_accounts,
        }),
        summary: format!("firewall {}", f.name),
        facts: f.facts.clone(),
    }
}

/// How drifted instances are reached: their external addresses (one `instances.get` each), then
/// what the enabled allow firewalls that select them now admit (one listing per network
/// project). Deny firewalls are not weighed against them: the exposure may be overstated, never
/// understated.
async fn instances_reach(
    clouds: &Clouds,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let gcp = clouds.gcp()?;
    let mut listed: BTreeMap<String, Vec<Targeting>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for o in objects {
        let id = o.live.cloud_id.clone();
        let Some(body) = gcp.compute_get(&id, "instances.get").await? else {
            out.insert(
                id.clone(),
                Reach::new(Exposure::Unused, format!("{id} no longer exists")),
            );
            continue;
        };
        let name = last_segment(&id).to_string();
        let h = host(&name, &body);
        for network in &h.networks {
            let Some(project) = project_of(network).map(str::to_string) else {
                continue;
            };
            if listed.contains_key(&project) {
                continue;
            }
            let parent = format!("projects/{project}/global/firewalls");
            let mut firewalls = Vec::new();
            for (fw, body) in gcp.compute_list(&parent, "firewalls.list").await? {
                firewalls.push(Targeting::from_api(&body).map_err(|e| {
                    Error::new(
                        format!("Google Cloud compute.firewalls.list {parent}"),
                        format!("firewall {fw}: unexpected answer from the API: {e}"),
                    )
                })?);
            }
            listed.insert(project, firewalls);
        }
        let applying: Vec<(&'static str, Item)> = listed
            .values()
            .flatten()
            .filter(|f| f.allow && !f.disabled && selects(f, &h))
            .map(|f| (FIREWALLS, firewall_item(f)))
            .collect();
        let paths: Vec<String> = if h.external.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "instance {name} has external IP {}",
                h.external.join(", ")
            )]
        };
        let reach = crate::families::reach_by_paths(
            &paths,
            crate::families::inbound_admits(&applying).map(|(e, why)| {
                (
                    e,
                    why.replace("its inbound rules", "the firewalls that select it"),
                )
            }),
            format!("instance {name} has no external IP"),
        );
        out.insert(id, reach);
    }
    Ok(out)
}

/// A firewall carried in `FIREWALLS`, read back.
struct Carried<'a> {
    allow: bool,
    tags: Vec<&'a str>,
    accounts: Vec<&'a str>,
    facts: &'a Facts,
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn carried(live: &LiveObject) -> Vec<Carried<'_>> {
    live.items
        .iter()
        .filter(|(a, _)| *a == FIREWALLS)
        .map(|(_, i)| Carried {
            allow: i.value["allow"].as_bool().unwrap_or(true),
            tags: strs(&i.value["target_tags"]),
            accounts: strs(&i.value["target_service_accounts"]),
            facts: &i.facts,
        })
        .collect()
}

/// The tags and account email the state declares for the instance.
fn declared_targets(expected: &ExpectedObject) -> (BTreeSet<String>, Option<String>) {
    let tags = expected
        .items
        .iter()
        .filter(|e| e.attribute == TAGS)
        .map(|e| e.item.key.clone())
        .collect();
    let email = expected
        .items
        .iter()
        .find(|e| e.attribute == ACCOUNT)
        .and_then(|e| e.item.value["email"].as_str().map(str::to_string));
    (tags, email)
}

/// Does this firewall already reach the instance through what the state declares?
fn reaches(f: &Carried, tags: &BTreeSet<String>, email: Option<&str>) -> bool {
    (f.tags.is_empty() && f.accounts.is_empty())
        || f.tags.iter().any(|t| tags.contains(*t))
        || email.is_some_and(|e| f.accounts.contains(&e))
}

/// The carried firewalls that target `tag` and reach the instance through nothing else the
/// state declares (`tags`, `email`).
fn only_through<'a>(
    all: &'a [Carried<'a>],
    tag: &str,
    tags: &BTreeSet<String>,
    email: Option<&str>,
) -> Vec<&'a Carried<'a>> {
    all.iter()
        .filter(|f| f.tags.contains(&tag))
        .filter(|f| !reaches(f, tags, email))
        .collect()
}

/// The effect of a firewall set newly reaching the instance (or no longer reaching it, with
/// `gained` false): an allow firewall gained or a deny firewall lost weakens.
fn effect_of(firewalls: &[&Carried], gained: bool) -> Effect {
    let allow = firewalls.iter().any(|f| f.allow && f.facts.grants);
    let deny = firewalls.iter().any(|f| !f.allow);
    match (gained, allow, deny) {
        (true, true, _) | (false, _, true) => Effect::Weakens,
        (true, false, true) | (false, true, false) => Effect::Strengthens,
        _ => Effect::Unknown,
    }
}

/// A network tag removed by hand leaves the literal `tags` list; one added, accepted, joins it.
fn codify_tag(r: &crate::families::CodifyRequest) -> crate::families::Codify {
    use crate::families::{attribute_edit, literal_list, remove_matching, Codify, TextEdit};
    use hcl_edit::Span;
    let start = r.block.span().map_or(0, |s| s.start);
    let manual = |offset: usize, want: String| Codify::Manual {
        offset,
        reason: "`tags` is not a literal list of this resource".into(),
        want,
    };
    if let Some(tag) = r.actual.get("tag").and_then(Value::as_str) {
        let want = format!("tags with {tag}");
        let edit = match literal_list(&r.block.body, TAGS) {
            Err(at) => return manual(at, want),
            Ok(l) if l.iter().any(|(t, _)| t == tag) => {
                return Codify::Edits {
                    edits: Vec::new(),
                    summary: want,
                }
            }
            Ok(l) => match l.last() {
                Some((_, last)) => TextEdit {
                    range: last.end..last.end,
                    with: format!(", \"{tag}\""),
                },
                None => match attribute_edit(
                    &r.block.body,
                    start,
                    r.text,
                    TAGS,
                    &format!("[\"{tag}\"]"),
                ) {
                    Ok(e) => e,
                    Err(at) => return manual(at, want),
                },
            },
        };
        return Codify::Edits {
            edits: vec![edit],
            summary: format!("add the network tag {tag}"),
        };
    }
    let Some(tag) = r.expected.get("tag").and_then(Value::as_str) else {
        return Codify::Unsupported;
    };
    let want = format!("tags without {tag}");
    match remove_matching(r.text, &r.block.body, start, TAGS, &|t| t == tag) {
        Err(at) => manual(at, want),
        Ok(Some(edits)) => Codify::Edits {
            edits,
            summary: format!("remove the network tag {tag}"),
        },
        Ok(None) => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
    }
}

impl Family for Instances {
    fn about(&self) -> &'static About {
        &INSTANCES
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match r.attribute {
            Some(TAGS) => codify_tag(r),
            _ => crate::families::Codify::Unsupported,
        }
    }

    /// A tag or service account nobody declares: judged by the firewalls it makes reach the
    /// instance that did not reach it through the declared tags and account. An account where
    /// the state has none gives the instance cloud credentials: weakens.
    fn effect_of_unmanaged(
        &self,
        expected: &ExpectedObject,
        live: &LiveObject,
        attribute: &str,
        item: &Item,
    ) -> Effect {
        match attribute {
            TAGS => {
                let (tags, email) = declared_targets(expected);
                let all = carried(live);
                effect_of(
                    &only_through(&all, &item.key, &tags, email.as_deref()),
                    true,
                )
            }
            ACCOUNT => Effect::Weakens,
            _ => Effect::Unknown,
        }
    }

    /// A declared tag removed: the firewalls that reached the instance only through it no
    /// longer do (a lost deny firewall weakens). Allow firewalls targeting a tag the instance no
    /// longer has are not read, so losing only those is of unknown effect.
    fn effect_of_missing(
        &self,
        expected: &ExpectedObject,
        live: &LiveObject,
        attribute: &str,
        item: &Item,
    ) -> Effect {
        if attribute != TAGS {
            return Effect::Unknown;
        }
        let (mut tags, email) = declared_targets(expected);
        tags.remove(&item.key);
        let all = carried(live);
        effect_of(
            &only_through(&all, &item.key, &tags, email.as_deref()),
            false,
        )
    }

    /// Another account, or other scopes: a swap onto an account that allow firewalls target
    /// weakens, as do wider scopes; narrower scopes on the same account strengthen.
    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        if attribute != ACCOUNT {
            return Effect::Unknown;
        }
        let scopes = |i: &Item| -> BTreeSet<String> {
            str_list(i.value.get("scopes")).into_iter().collect()
        };
        let (e, a) = (scopes(expected), scopes(actual));
        if actual.facts.grants && actual.facts.direction.is_some() {
            return Effect::Weakens;
        }
        if expected.value["email"] != actual.value["email"] || !e.is_subset(&a) && !a.is_subset(&e)
        {
            return Effect::Unknown;
        }
        if a.is_subset(&e) {
            Effect::Strengthens
        } else {
            Effect::Weakens
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let id = instance_id(r)?;
            let mut obj = owned_object(self.about().name, &id, "global".into(), r);
            obj.ignore = vec![NETWORKS, FIREWALLS];
            let by = Declarer::of(r, true);
            for t in str_list(r.attr("tags")) {
                obj.items.push(ExpectedItem {
                    attribute: TAGS,
                    item: tag(&t, granting()),
                    by: by.clone(),
                });
            }
            for a in r
                .attr("service_account")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(email) = a.get("email").and_then(Value::as_str) else {
                    return Err(bad(r, "has a `service_account` without `email`"));
                };
                obj.items.push(ExpectedItem {
                    attribute: ACCOUNT,
                    item: account(email, str_list(a.get("scopes")), granting()),
                    by: by.clone(),
                });
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move { instances_reach(clouds, objects).await })
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let mut found = fetch_objects(clouds, ids, &READ).await?;
            let gcp = clouds.gcp()?;
            // Firewalls belong to the network's project: a Shared VPC's host project, not the
            // instance's own.
            let projects: BTreeSet<String> = found
                .iter()
                .flat_map(|o| o.items.iter())
                .filter(|(a, _)| *a == NETWORKS)
                .filter_map(|(_, i)| project_of(&i.key).map(str::to_string))
                .collect();
            // One listing of each such project's firewalls (500 a page) serves all its instances.
            let mut firewalls: BTreeMap<String, Vec<Targeting>> = BTreeMap::new();
            for p in projects {
                let parent = format!("projects/{p}/global/firewalls");
                for (name, body) in gcp.compute_list(&parent, "firewalls.list").await? {
                    let f = Targeting::from_api(&body).map_err(|e| {
                        Error::new(
                            format!("Google Cloud compute.firewalls.list {parent}"),
                            format!("firewall {name}: unexpected answer from the API: {e}"),
                        )
                    })?;
                    firewalls.entry(f.network.clone()).or_default().push(f);
                }
            }
            for obj in &mut found {
                let networks: Vec<String> = obj
                    .items
                    .iter()
                    .filter(|(a, _)| *a == NETWORKS)
                    .map(|(_, i)| i.key.clone())
                    .collect();
                let tags: BTreeSet<String> = obj
                    .items
                    .iter()
                    .filter(|(a, _)| *a == TAGS)
                    .map(|(_, i)| i.key.clone())
                    .collect();
                let email = obj
                    .items
                    .iter()
                    .find(|(a, _)| *a == ACCOUNT)
                    .and_then(|(_, i)| i.value["email"].as_str().map(str::to_string));
                let relevant: Vec<&Targeting> = networks
                    .iter()
                    .flat_map(|n| firewalls.get(n).into_iter().flatten())
                    .filter(|f| !f.disabled)
                    .filter(|f| {
                        let targeted = f.target_tags.iter().any(|t| tags.contains(t))
                            || email
                                .as_ref()
                                .is_some_and(|e| f.target_accounts.contains(e));
                        let targets_some =
                            !f.target_tags.is_empty() || !f.target_accounts.is_empty();
                        targeted || (!f.allow && targets_some)
                    })
                    .collect();
                // What each live tag and the account open: the widest allow firewall targeting it.
                for (attribute, item) in obj.items.iter_mut() {
                    let targeting = |f: &&&Targeting| match *attribute {
                        TAGS => f.target_tags.contains(&item.key),
                        ACCOUNT => item.value["email"]
                            .as_str()
                            .is_some_and(|e| f.target_accounts.iter().any(|a| a == e)),
                        _ => false,
                    };
                    if *attribute == TAGS || *attribute == ACCOUNT {
                        let wide = Facts::widest(
                            relevant
                                .iter()
                                .filter(targeting)
                                .filter(|f| f.allow)
                                .map(|f| f.facts.clone()),
                        );
                        item.facts = if wide.grants { wide } else { granting() };
                    }
                }
                obj.items
                    .extend(relevant.iter().map(|f| (FIREWALLS, firewall_item(f))));
            }
            Ok(found)
        })
    }
}
