//! `driftgate metrics`: MTTR, recurrence and exception rate from the drift history.
//!
//! An **episode** is one appearance of a finding (its fingerprint) over consecutive runs that
//! checked its address; it is **remediated** at the first later run that checked the address
//! (in the same state lineage, when known) without it. A run over another state says nothing
//! about it. The numbers are computed from episodes, never from single runs, so re-running a
//! pipeline cannot move them.

pub mod html;
pub mod render;

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::history::store::Store;
use crate::history::{self, Record};

pub const TARGET_MTTR_CRITICAL_HOURS: f64 = 48.0;
pub const TARGET_RECURRENCE_RATE: f64 = 0.05;
pub const TARGET_EXCEPTION_RATE: f64 = 0.20;
const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
/// Records read at once from a cloud store.
const CONCURRENT_READS: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub fingerprint: String,
    pub address: String,
    pub policy: String,
    pub severity: String,
    pub lineage: Option<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub remediated: Option<Timestamp>,
    /// Covered by a break-glass ticket at some run.
    pub ticketed: bool,
    /// Judged by a `warn` policy at some run.
    pub warned: bool,
    pub ticket_created: Option<Timestamp>,
    pub ticket_expires: Option<Timestamp>,
}

/// `module.a["x"].aws_security_group.b[0]` → `module.a.aws_security_group.b`: the resource block
/// that instances of one `count`/`for_each` share.
pub fn block_address(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for c in address.chars() {
        if depth > 0 {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
        } else if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

fn episode_id(fingerprint: &str, lineage: Option<&str>) -> String {
    format!("{fingerprint}\u{0}{}", lineage.unwrap_or_default())
}

fn time(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

/// Episodes from records, oldest run first (ties by their order in `records`).
pub fn episodes(records: &[Record]) -> Vec<Episode> {
    let mut order: Vec<(Timestamp, usize)> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| time(&r.run_at).map(|t| (t, i)))
        .collect();
    order.sort();
    let mut done = Vec::new();
    let mut open: HashMap<String, Episode> = HashMap::new();
    for (at, i) in order {
        let run = &records[i];
        let mut seen = std::collections::HashSet::new();
        for f in &run.findings {
            // Two workspaces with the same addresses and the same drift are two findings.
            let id = episode_id(&f.fingerprint, f.lineage.as_deref());
            seen.insert(id.clone());
            let ticket = f.ticket.as_ref();
            let ep = open.entry(id).or_insert_with(|| Episode {
                fingerprint: f.fingerprint.clone(),
                address: f.address.clone(),
                policy: f.policy.clone(),
                severity: f.severity.clone(),
                lineage: f.lineage.clone(),
                first_seen: at,
                last_seen: at,
                remediated: None,
                ticketed: false,
                warned: false,
                ticket_created: None,
                ticket_expires: None,
            });
            ep.last_seen = at;
            ep.warned |= f.enforcement == "warn";
            if let Some(t) = ticket {
                ep.ticketed = true;
                let created = time(&t.created_at);
                if ep.ticket_created.is_none() || created < ep.ticket_created {
                    ep.ticket_created = created;
                    ep.ticket_expires = t.expires_at.as_deref().and_then(time);
                }
            }
        }
        let checked: std::collections::HashSet<&str> =
            run.checked.iter().map(String::as_str).collect();
        let lineages: Vec<&str> = run
            .states
            .iter()
            .filter_map(|s| s.lineage.as_deref())
            .collect();
        let fixed: Vec<String> = open
            .values()
            .filter(|ep| {
                !seen.contains(&episode_id(&ep.fingerprint, ep.lineage.as_deref()))
                    && checked.contains(ep.address.as_str())
                    && match ep.lineage.as_deref() {
                        Some(l) => lineages.is_empty() || lineages.contains(&l),
                        None => true,
                    }
            })
            .map(|ep| episode_id(&ep.fingerprint, ep.lineage.as_deref()))
            .collect();
        for id in fixed {
            if let Some(mut ep) = open.remove(&id) {
                ep.remediated = Some(at);
                done.push(ep);
            }
        }
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| (a.first_seen, &a.fingerprint).cmp(&(b.first_seen, &b.fingerprint)));
    done
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Window {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mttr {
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub remediated: usize,
    pub open: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenFinding {
    pub address: String,
    pub policy: String,
    pub severity: String,
    pub first_seen: String,
    pub age_hours: f64,
    pub ticketed: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recurring {
    pub address: String,
    pub block: String,
    pub policy: String,
    pub remediated_at: String,
    pub came_back_at: String,
    pub came_back_as: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tickets {
    /// Episodes covered by a ticket at some run.
    pub covered: usize,
    /// Hours from ticket creation to remediation, over covered episodes remediated in the window.
    pub hours_to_remediation_mean: Option<f64>,
    /// Covered episodes remediated after their ticket's window ended, or still open past it.
    pub outlived_window: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Targets {
    pub mttr_critical_hours: f64,
    pub recurrence_rate: f64,
    pub exception_rate: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Met {
    /// Mean hours to remediate critical findings under the target, and no critical finding open
    /// longer than it (leaving a finding open must not look better than fixing it slowly).
    pub mttr_critical: bool,
    pub recurrence_rate: bool,
    pub exception_rate: bool,
}

/// One week of the window, for the charts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Week {
    /// The week's first day.
    pub start: String,
    /// Open episodes at the week's end, per severity.
    pub open: BTreeMap<String, usize>,
    /// Mean hours to remediate over episodes remediated that week (all severities).
    pub mttr_hours: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metrics {
    pub version: u32,
    pub window: Window,
    pub runs: usize,
    pub episodes: usize,
    pub mttr_hours: BTreeMap<String, Mttr>,
    pub recurrence_rate: Option<f64>,
    pub exception_rate: Option<f64>,
    pub targets: Targets,
    pub met: Met,
    pub tickets: Tickets,
    pub oldest_open: Vec<OpenFinding>,
    pub recurring: Vec<Recurring>,
    pub weeks: Vec<Week>,
}

impl Metrics {
    pub fn all_met(&self) -> bool {
        self.met.mttr_critical && self.met.recurrence_rate && self.met.exception_rate
    }
}

fn hours(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_second() - from.as_second()) as f64 / 3600.0
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// Two decimals: the numbers are read by people and compared by SQL tests.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The metrics over `[from, to]` from `records` (all of them up to `to`: an episode that began
/// before the window still counts from its first appearance).
pub fn compute(records: &[Record], from: Timestamp, to: Timestamp) -> Metrics {
    let runs = records
        .iter()
        .filter_map(|r| time(&r.run_at))
        .filter(|t| *t >= from && *t <= to)
        .count();
    let upto: Vec<Record> = records
        .iter()
        .filter(|r| time(&r.run_at).is_some_and(|t| t <= to))
        .cloned()
        .collect();
    let all = episodes(&upto);
    let in_window: Vec<&Episode> = all
        .iter()
        .filter(|e| e.first_seen <= to && e.remediated.is_none_or(|r| r >= from))
        .collect();
    let remediated: Vec<&Episode> = in_window
        .iter()
        .copied()
        .filter(|e| e.remediated.is_some_and(|r| r >= from && r <= to))
        .collect();

    let mut mttr = BTreeMap::new();
    for sev in SEVERITIES {
        let durations: Vec<f64> = remediated
            .iter()
            .filter(|e| e.severity == sev)
            .filter_map(|e| e.remediated.map(|r| hours(e.first_seen, r)))
            .collect();
        let open = in_window
            .iter()
            .filter(|e| e.severity == sev && e.remediated.is_none())
            .count();
        mttr.insert(
            sev.to_string(),
            Mttr {
                mean: mean(&durations).map(round),
                median: median(&durations).map(round),
                remediated: durations.len(),
                open,
            },
        );
    }

    // Recurrence: a remediated episode followed in the window by a new one of the same
    // fingerprint, or of the same policy on another instance of the same block.
    let mut recurring = Vec::new();
    for e in &remediated {
        let Some(fixed) = e.remediated else { continue };
        let block = block_address(&e.address);
        let again = all.iter().find(|n| {
            n.first_seen > fixed
                && n.first_seen <= to
                && n.lineage == e.lineage
                && (n.fingerprint == e.fingerprint
                    || (n.policy == e.policy && block_address(&n.address) == block))
        });
        if let Some(n) = again {
            recurring.push(Recurring {
                address: e.address.clone(),
                block,
                policy: e.policy.clone(),
                remediated_at: fixed.to_string(),
                came_back_at: n.first_seen.to_string(),
                came_back_as: n.address.clone(),
            });
        }
    }
    let recurrence_rate =
        (!remediated.is_empty()).then(|| round4(recurring.len() as f64 / remediated.len() as f64));

    let excepted = in_window.iter().filter(|e| e.ticketed || e.warned).count();
    let exception_rate =
        (!in_window.is_empty()).then(|| round4(excepted as f64 / in_window.len() as f64));

    let covered: Vec<&&Episode> = in_window.iter().filter(|e| e.ticketed).collect();
    let ticket_hours: Vec<f64> = covered
        .iter()
        .filter_map(|e| match (e.ticket_created, e.remediated) {
            (Some(c), Some(r)) if r >= from => Some(hours(c, r)),
            _ => None,
        })
        .collect();
    let outlived = covered
        .iter()
        .filter(|e| match e.ticket_expires {
            Some(x) => e.remediated.unwrap_or(to) > x,
            None => false,
        })
        .count();

    let mut oldest: Vec<OpenFinding> = in_window
        .iter()
        .filter(|e| e.remediated.is_none())
        .map(|e| OpenFinding {
            address: e.address.clone(),
            policy: e.policy.clone(),
            severity: e.severity.clone(),
            first_seen: e.first_seen.to_string(),
            age_hours: round(hours(e.first_seen, to)),
            ticketed: e.ticketed,
        })
        .collect();
    oldest.sort_by(|a, b| {
        b.age_hours
            .total_cmp(&a.age_hours)
            .then(a.address.cmp(&b.address))
    });
    oldest.truncate(20);

    let critical_open_too_long = in_window.iter().any(|e| {
        e.severity == "critical"
            && e.remediated.is_none()
            && hours(e.first_seen, to) >= TARGET_MTTR_CRITICAL_HOURS
    });
    let critical_mean = mttr.get("critical").and_then(|m| m.mean);
    let met = Met {
        mttr_critical: critical_mean.is_none_or(|m| m < TARGET_MTTR_CRITICAL_HOURS)
            && !critical_open_too_long,
        recurrence_rate: recurrence_rate.is_none_or(|r| r < TARGET_RECURRENCE_RATE),
        exception_rate: exception_rate.is_none_or(|r| r < TARGET_EXCEPTION_RATE),
    };

    Metrics {
        version: 1,
        window: Window {
            from: from.to_string(),
            to: to.to_string(),
        },
        runs,
        episodes: in_window.len(),
        mttr_hours: mttr,
        recurrence_rate,
        exception_rate,
        targets: Targets {
            mttr_critical_hours: TARGET_MTTR_CRITICAL_HOURS,
            recurrence_rate: TARGET_RECURRENCE_RATE,
            exception_rate: TARGET_EXCEPTION_RATE,
        },
        met,
        tickets: Tickets {
            covered: covered.len(),
            hours_to_remediation_mean: mean(&ticket_hours).map(round),
            outlived_window: outlived,
        },
        oldest_open: oldest,
        recurring,
        weeks: weeks(&all, from, to),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn weeks(all: &[Episode], from: Timestamp, to: Timestamp) -> Vec<Week> {
    const WEEK: i64 = 7 * 24 * 3600;
    let mut out = Vec::new();
    let mut start = from.as_second();
    // At most two years of weeks: a chart, not a ledger.
    while start <= to.as_second() && out.len() < 105 {
        let end = (start + WEEK).min(to.as_second() + 1);
        let (Ok(s), Ok(e)) = (
            Timestamp::from_second(start),
            Timestamp::from_second(end - 1),
        ) else {
            break;
        };
        let mut open = BTreeMap::new();
        for sev in SEVERITIES {
            let n = all
                .iter()
                .filter(|ep| {
                    ep.severity == sev && ep.first_seen <= e && ep.remediated.is_none_or(|r| r > e)
                })
                .count();
            open.insert(sev.to_string(), n);
        }
        let fixed: Vec<f64> = all
            .iter()
            .filter_map(|ep| {
                ep.remediated
                    .filter(|r| *r >= s && *r <= e)
                    .map(|r| hours(ep.first_seen, r))
            })
            .collect();
        out.push(Week {
            start: s.strftime("%Y-%m-%d").to_string(),
            open,
            mttr_hours: mean(&fixed).map(round),
        });
        start += WEEK;
    }
    out
}

/// Every record up to `to`, read concurrently. A record that cannot be read or parsed is an
/// error naming it, never skipped: a metric that silently misses runs lies.
pub async fn load(store: &Store, to: Timestamp, progress: bool) -> Result<Vec<Record>> {
    let keys = store.list("runs/").await?;
    let last_day = to.strftime("%Y/%m/%d").to_string();
    let mut wanted = Vec::new();
    for key in keys {
        let rest = key.strip_prefix("runs/").unwrap_or(&key);
        let day = rest.get(..10).unwrap_or_default();
        let shaped = day.len() == 10
            && day.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'/',
                _ => b.is_ascii_digit(),
            })
            && key.ends_with(".json");
        if !shaped {
            return Err(Error::new(
                format!("history {key}"),
                "not a history record name (runs/YYYY/MM/DD/….json): remove it or move it out of runs/",
            ));
        }
        if day <= last_day.as_str() {
            wanted.push(key);
        }
    }
    if progress {
        eprintln!("driftgate: reading {} history record(s)", wanted.len());
    }
    let records: Vec<Record> = futures::stream::iter(wanted.into_iter().map(|key| async move {
        let bytes = store.get(&key).await?;
        history::parse(&key, &bytes)
    }))
    .buffered(CONCURRENT_READS)
    .try_collect()
    .await?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_addresses() {
        assert_eq!(
            block_address(r#"module.net["eu"].aws_security_group.web[0]"#),
            "module.net.aws_security_group.web"
        );
        assert_eq!(
            block_address(r#"aws_security_group.x["a]b\"c"]"#),
            "aws_security_group.x"
        );
        assert_eq!(block_address("aws_kms_key.k"), "aws_kms_key.k");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
