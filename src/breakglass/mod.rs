//! Break-glass tickets: a blocking drift is allowed (reported, not blocking) while an open ticket
//! in a configured tracker, carrying the break-glass label, created less than `max_age` ago by the
//! tracker's own clock, names the drifted resource's Terraform address as a whole token. After
//! the window the same drift blocks again: the ticket forces reconciliation in code.
//!
//! Ticket data never comes from the repository under check: trackers are asked over their REST
//! APIs, and their timestamps and clock (HTTP `Date`) are used, not the runner's.
//!
//! `mod.rs` is pure (matching and windows, tested with an injected clock); the trackers do I/O.

pub mod github;
pub mod gitlab;
use crate::http;
pub mod jira;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::verdict::{Finding, Ticket};

/// `github:OWNER/REPO`, `gitlab:GROUP/PROJECT` (or a numeric id), `jira:PROJECTKEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerSpec {
    GitHub { repo: String },
    GitLab { project: String },
    Jira { project: String },
}

impl TrackerSpec {
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::new(format!("--tickets {s}"), why.to_string());
        let (kind, target) = s.split_once(':').ok_or_else(|| {
            bad("expected github:OWNER/REPO, gitlab:GROUP/PROJECT or jira:PROJECTKEY")
        })?;
        let target = target.trim();
        match kind {
            "github" => {
                let parts: Vec<&str> = target.split('/').collect();
                if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                    return Err(bad("a GitHub tracker is OWNER/REPO"));
                }
                Ok(TrackerSpec::GitHub {
                    repo: target.to_string(),
                })
            }
            "gitlab" if !target.is_empty() => Ok(TrackerSpec::GitLab {
                project: target.to_string(),
            }),
            "jira"
                if !target.is_empty()
                    && target
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Ok(TrackerSpec::Jira {
                    project: target.to_string(),
                })
            }
            "gitlab" | "jira" => Err(bad("the project is missing or not a valid key")),
            other => Err(bad(&format!(
                "unknown tracker `{other}` (github, gitlab or jira)"
            ))),
        }
    }

    /// `github:owner/repo`, as the report names the tracker.
    pub fn name(&self) -> String {
        match self {
            TrackerSpec::GitHub { repo } => format!("github:{repo}"),
            TrackerSpec::GitLab { project } => format!("gitlab:{project}"),
            TrackerSpec::Jira { project } => format!("jira:{project}"),
        }
    }
}

/// A labelled ticket as a tracker reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTicket {
    pub tracker: String,
    pub id: String,
    pub url: String,
    pub title: String,
    pub body: String,
    pub open: bool,
    pub labels: Vec<String>,
    /// Creation time by the tracker's clock.
    pub created_at: Timestamp,
    pub author: String,
    /// Whether the approval label was added by someone other than the author (only asked for
    /// with `--require-approval`).
    pub approved: Option<bool>,
}

/// Where GitHub and GitLab keep the fields of an issue (the shapes differ only in names).
pub(crate) struct IssueShape {
    pub number: &'static str,
    pub url: &'static str,
    pub body: &'static str,
    pub open_state: &'static str,
    /// JSON pointer to the author's login.
    pub author: &'static str,
}

/// A GitHub or GitLab issue object as a ticket.
pub(crate) fn rest_issue(
    tracker: &str,
    item: &serde_json::Value,
    shape: &IssueShape,
) -> std::result::Result<RawTicket, String> {
    use serde_json::Value;
    let text = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let number = item
        .get(shape.number)
        .and_then(Value::as_u64)
        .ok_or(format!("an issue has no `{}`", shape.number))?;
    let created = item
        .get("created_at")
        .and_then(Value::as_str)
        .ok_or(format!("issue #{number} has no `created_at`"))?;
    Ok(RawTicket {
        tracker: tracker.to_string(),
        id: format!("#{number}"),
        url: text(shape.url),
        title: text("title"),
        body: text(shape.body),
        open: item.get("state").and_then(Value::as_str) == Some(shape.open_state),
        // GitHub lists label objects, GitLab label names.
        labels: item
            .get("labels")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| l.as_str().or_else(|| l.get("name").and_then(Value::as_str)))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        created_at: http::timestamp(created).ok_or(format!(
            "issue #{number}: `created_at` {created:?} is not a timestamp"
        ))?,
        author: item
            .pointer(shape.author)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        approved: None,
    })
}

/// Is `event` (GitHub issue event, GitLab resource label event) the addition of `label` by
/// someone other than `author`? `kind` is the field and value that mark an addition; `actor` the
/// pointer to who did it.
pub(crate) fn label_added_by_other(
    event: &serde_json::Value,
    kind: (&str, &str),
    actor: &str,
    label: &str,
    author: &str,
) -> bool {
    use serde_json::Value;
    event.get(kind.0).and_then(Value::as_str) == Some(kind.1)
        && event.pointer("/label/name").and_then(Value::as_str) == Some(label)
        && event
            .pointer(actor)
            .and_then(Value::as_str)
            .is_some_and(|who| !who.is_empty() && who != author)
}

/// What one tracker answered: its labelled tickets and its clock.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub tickets: Vec<RawTicket>,
    /// The tracker's clock: the HTTP `Date` of its last answer.
    pub server_time: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub trackers: Vec<TrackerSpec>,
    pub label: String,
    pub max_age: Duration,
    pub require_approval: Option<String>,
}

/// What the report says about break-glass.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BreakGlass {
    pub trackers: Vec<String>,
    pub label: String,
    pub max_age_hours: f64,
    pub require_approval: Option<String>,
    /// `tracker` when ticket ages were measured against the tracker's clock, else `runner`.
    pub clock: &'static str,
    pub clock_skew_seconds: Option<i64>,
    pub warnings: Vec<String>,
    /// Open labelled tickets that name no drifted resource: candidates for closing.
    pub unused_tickets: Vec<TicketRef>,
    /// Whether the trackers were asked (only when blocking drift exists).
    pub consulted: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TicketRef {
    pub tracker: String,
    pub id: String,
    pub url: String,
    pub created_at: String,
}

const SKEW_WARNING: SignedDuration = SignedDuration::from_secs(300);

/// Characters that continue a Terraform address: a match must not be followed by one (so
/// `aws_security_group.web` does not cover `aws_security_group.web2` or `…web["x"]`) nor preceded
/// by one (so it does not cover `module.m.aws_security_group.web`).
fn continues_after(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '[' | '.')
}

fn continues_before(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Does `text` name `address` as a whole token?
pub fn names_address(text: &str, address: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = text[from..].find(address) {
        let start = from + pos;
        let end = start + address.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !continues_before(c));
        let mut after = text[end..].chars();
        let after_ok = match after.next() {
            None => true,
            // A full stop ends a sentence unless the address goes on after it.
            Some('.') => after
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')),
            Some(c) => !continues_after(c),
        };
        if before_ok && after_ok {
            return true;
        }
        from = start + address.len().max(1);
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

fn stamp(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

fn ticket_of(t: &RawTicket, max_age: SignedDuration, now: Timestamp) -> Ticket {
    let expires = t.created_at.saturating_add(max_age).unwrap_or(t.created_at);
    Ticket {
        tracker: t.tracker.clone(),
        id: t.id.clone(),
        url: t.url.clone(),
        created_at: stamp(t.created_at),
        expires_at: stamp(expires),
        seconds_left: expires.duration_since(now).as_secs(),
    }
}

/// Marks blocking findings covered by a valid ticket, records expired ones, and returns what the
/// report says about break-glass. `runner_now` is the runner's clock; each tracker's own clock
/// (from `fetched`) is preferred for ages.
pub fn apply(
    findings: &mut [Finding],
    fetched: &[Fetched],
    settings: &Settings,
    runner_now: Timestamp,
) -> BreakGlass {
    let max_age = SignedDuration::try_from(settings.max_age).unwrap_or(SignedDuration::MAX);
    let mut out = BreakGlass {
        trackers: settings.trackers.iter().map(TrackerSpec::name).collect(),
        label: settings.label.clone(),
        max_age_hours: settings.max_age.as_secs_f64() / 3600.0,
        require_approval: settings.require_approval.clone(),
        clock: "runner",
        consulted: true,
        ..BreakGlass::default()
    };
    // The tracker's clock decides; the latest answer's Date is the best "now" we have.
    let server_now = fetched.iter().filter_map(|f| f.server_time).max();
    let now =
        match server_now {
            Some(t) => {
                out.clock = "tracker";
                let skew = runner_now.duration_since(t);
                out.clock_skew_seconds = Some(skew.as_secs());
                if skew.abs() > SKEW_WARNING {
                    out.warnings.push(format!(
                    "the runner's clock is {}s {} the tracker's; a ticket counts only while it is \
                     inside its window by both clocks",
                    skew.as_secs().abs(),
                    if skew.is_positive() { "ahead of" } else { "behind" }
                ));
                }
                t
            }
            None => {
                out.warnings.push(
                    "no tracker sent a Date header; ticket ages use the runner's clock".into(),
                );
                runner_now
            }
        };

    // Time left is counted on the later of the two clocks.
    let later = now.max(runner_now);
    let tickets: Vec<&RawTicket> = fetched
        .iter()
        .flat_map(|f| &f.tickets)
        .filter(|t| t.open && t.labels.iter().any(|l| l == &settings.label))
        .collect();
    let names = |t: &RawTicket, address: &str| {
        names_address(&t.title, address) || names_address(&t.body, address)
    };
    // A ticket naming any drifted resource is in use, even one whose drift only warns.
    let used: Vec<bool> = tickets
        .iter()
        .map(|t| findings.iter().any(|f| names(t, &f.address)))
        .collect();
    for f in findings.iter_mut().filter(|f| f.blocking) {
        let naming: Vec<usize> = (0..tickets.len())
            .filter(|&i| names(tickets[i], &f.address))
            .collect();
        // Inside the window by the tracker's clock *and* the runner's: a stale or wrong `Date`
        // must not revive an old ticket (the stricter clock wins).
        let valid = |t: &RawTicket| {
            [now, runner_now].iter().all(|clock| {
                let age = clock.duration_since(t.created_at);
                age < max_age && age >= -SKEW_WARNING
            }) && t.approved != Some(false)
        };
        // The youngest valid ticket gives the longest remaining window.
        let best = naming
            .iter()
            .map(|&i| tickets[i])
            .filter(|t| valid(t))
            .max_by_key(|t| t.created_at);
        match best {
            Some(t) => {
                f.ticket = Some(ticket_of(t, max_age, later));
                f.blocking = false;
            }
            None => {
                f.expired_tickets = naming
                    .iter()
                    .map(|&i| tickets[i])
                    .filter(|t| t.approved != Some(false))
                    .map(|t| ticket_of(t, max_age, later))
                    .collect();
                f.unapproved_tickets = naming
                    .iter()
                    .map(|&i| tickets[i])
                    .filter(|t| t.approved == Some(false))
                    .map(|t| ticket_of(t, max_age, later))
                    .collect();
            }
        }
    }
    out.unused_tickets = tickets
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(t, _)| TicketRef {
            tracker: t.tracker.clone(),
            id: t.id.clone(),
            url: t.url.clone(),
            created_at: stamp(t.created_at),
        })
        .collect();
    out
}

/// Parses `48h`, `90m`, `2d`, `1d 12h`, `48 hours`, ISO 8601 `PT48H` (jiff's span formats;
/// a day is 24 hours here) or plain seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let not_one = || format!("`{s}` is not a duration like 48h, 90m or 2d");
    let secs: f64 = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().map_err(|_| not_one())?
    } else {
        let span: jiff::Span = s.parse().map_err(|_| not_one())?;
        span.total(jiff::SpanTotal::from(jiff::Unit::Second).days_are_24_hours())
            .map_err(|_| format!("`{s}`: give the window in days, hours, minutes or seconds"))?
    };
    if secs <= 0.0 {
        return Err("the ticket window must be longer than zero".into());
    }
    if secs > MAX_WINDOW_SECS as f64 {
        return Err(format!(
            "`{s}` is longer than the longest ticket window driftgate accepts ({} days): a \
             break-glass exception is for an emergency, not a standing waiver",
            MAX_WINDOW_SECS / 86400
        ));
    }
    Ok(Duration::from_secs(secs.round() as u64))
}

/// The longest ticket window: 30 days.
const MAX_WINDOW_SECS: u64 = 30 * 86400;

/// Asks every tracker for its open labelled tickets.
pub async fn fetch_all(settings: &Settings) -> Result<Vec<Fetched>> {
    let client = http::Client::new("ticket trackers")?;
    let mut out = Vec::new();
    for spec in &settings.trackers {
        let fetched = match spec {
            TrackerSpec::GitHub { repo } => github::fetch(&client, repo, settings).await?,
            TrackerSpec::GitLab { project } => gitlab::fetch(&client, project, settings).await?,
            TrackerSpec::Jira { project } => jira::fetch(&client, project, settings).await?,
        };
        out.push(fetched);
    }
    Ok(out)
}

/// Findings for unit tests of other modules.
#[cfg(test)]
pub(crate) mod tests_support {
    pub fn findings(n: usize) -> Vec<crate::verdict::Finding> {
        (0..n)
            .map(|i| super::tests::finding(&format!("aws_security_group.g{i}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DriftKind, Effect};
    use crate::policy::{Enforcement, Severity};
    use crate::risk::Risk;

    #[test]
    fn addresses_match_as_whole_tokens() {
        let a = "aws_security_group.web";
        assert!(names_address(
            "Opened SSH on aws_security_group.web during INC-7",
            a
        ));
        assert!(names_address("aws_security_group.web", a));
        assert!(names_address("fix `aws_security_group.web`.", a));
        assert!(names_address("see aws_security_group.web. Then", a));
        assert!(!names_address("aws_security_group.web2 only", a));
        assert!(!names_address("aws_security_group.web_tier", a));
        assert!(!names_address("aws_security_group.web-x", a));
        assert!(!names_address("aws_security_group.web[\"x\"]", a));
        assert!(!names_address("module.edge.aws_security_group.web", a));
        assert!(!names_address("aws_security_group.web.id", a));
        let m = "module.edge.aws_security_group.this[\"web\"]";
        assert!(names_address(
            "changed module.edge.aws_security_group.this[\"web\"] by hand",
            m
        ));
        assert!(!names_address(
            "changed module.edge.aws_security_group.this[\"web2\"]",
            m
        ));
        assert!(!names_address(
            "module.outer.module.edge.aws_security_group.this[\"web\"]",
            m
        ));
        assert!(names_address(
            "acl aws_network_acl.private[0], and more",
            "aws_network_acl.private[0]"
        ));
        assert!(!names_address(
            "aws_network_acl.private[0]",
            "aws_network_acl.private"
        ));
    }

    #[test]
    fn tracker_specs() {
        assert_eq!(
            TrackerSpec::parse("github:acme/infra").unwrap(),
            TrackerSpec::GitHub {
                repo: "acme/infra".into()
            }
        );
        assert_eq!(
            TrackerSpec::parse("gitlab:acme/platform/infra")
                .unwrap()
                .name(),
            "gitlab:acme/platform/infra"
        );
        assert_eq!(
            TrackerSpec::parse("jira:OPS").unwrap(),
            TrackerSpec::Jira {
                project: "OPS".into()
            }
        );
        for bad in [
            "github:acme",
            "github:/x",
            "jira:",
            "jira:a b",
            "bugzilla:x",
            "acme/infra",
        ] {
            assert!(TrackerSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("48h").unwrap(), Duration::from_secs(172800));
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172800));
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("-2h").is_err());
        assert!(parse_duration("two days").is_err());
        assert!(
            parse_duration("1mo").is_err(),
            "months have no fixed length"
        );
        assert_eq!(
            parse_duration("48 hours").unwrap(),
            Duration::from_secs(172800)
        );
        assert_eq!(
            parse_duration("1d 12h").unwrap(),
            Duration::from_secs(129600)
        );
        assert_eq!(
            parse_duration("PT36H").unwrap(),
            Duration::from_secs(129600)
        );
        assert_eq!(parse_duration("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86400)
        );
        for huge in [
            "31d",
            "999999999999999d",
            "18446744073709551615s",
            "99999999999999999999h",
        ] {
            let e = parse_duration(huge).unwrap_err();
            assert!(
                e.contains("longest") || e.contains("not a duration"),
                "{huge}: {e}"
            );
        }
    }

    pub(crate) fn finding(address: &str) -> Finding {
        Finding {
            family: "security_group",
            address: address.into(),
            resource_type: "aws_security_group".into(),
            cloud_id: "sg-1".into(),
            region: "us-east-1".into(),
            account: None,
            kind: DriftKind::Unmanaged,
            attribute: Some("ingress".into()),
            expected: serde_json::Value::Null,
            actual: serde_json::Value::Null,
            expected_text: None,
            actual_text: None,
            effect: Effect::Weakens,
            severity: Severity::Critical,
            enforcement: Enforcement::Block,
            risk: Risk {
                score: 1.0,
                exposure: crate::model::Exposure::Internet,
                reasons: vec![],
                sensitivity: "unclassified".into(),
                priority: crate::risk::Priority::Normal,
            },
            blocking: true,
            ticket: None,
            expired_tickets: vec![],
            unapproved_tickets: vec![],
            policy: "P".into(),
            policy_title: "t".into(),
            references: vec![],
            remediation: String::new(),
            sources: vec![],
            location: None,
            observed: None,
            fix: None,
            fallback: None,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ticket(id: &str, title: &str, created: &str) -> RawTicket {
        RawTicket {
            tracker: "github:acme/infra".into(),
            id: id.into(),
            url: format!(
                "https://github.com/acme/infra/issues/{}",
                id.trim_start_matches('#')
            ),
            title: title.into(),
            body: String::new(),
            open: true,
            labels: vec!["break-glass".into()],
            created_at: ts(created),
            author: "alice".into(),
            approved: None,
        }
    }

    fn settings() -> Settings {
        Settings {
            trackers: vec![TrackerSpec::GitHub {
                repo: "acme/infra".into(),
            }],
            label: "break-glass".into(),
            max_age: Duration::from_secs(48 * 3600),
            require_approval: None,
        }
    }

    fn run(tickets: Vec<RawTicket>, server_now: &str) -> (Finding, BreakGlass) {
        let mut f = vec![finding("aws_security_group.web")];
        let fetched = vec![Fetched {
            tickets,
            server_time: Some(ts(server_now)),
        }];
        let bg = apply(&mut f, &fetched, &settings(), ts(server_now));
        (f.remove(0), bg)
    }

    #[test]
    fn window_label_state_and_boundary() {
        let t = || {
            ticket(
                "#12",
                "INC-7: opened aws_security_group.web",
                "2026-11-27T12:00:00Z",
            )
        };
        // 24h old: covered, 24h left.
        let (f, bg) = run(vec![t()], "2026-11-28T12:00:00Z");
        assert!(!f.blocking);
        let cover = f.ticket.unwrap();
        assert_eq!((cover.id.as_str(), cover.seconds_left), ("#12", 24 * 3600));
        assert_eq!(cover.expires_at, "2026-11-29T12:00:00Z");
        assert!(bg.unused_tickets.is_empty());
        // One second before the window closes: still covered.
        let (f, _) = run(vec![t()], "2026-11-29T11:59:59Z");
        assert!(!f.blocking);
        // Exactly 48h: "less than 48 hours" no longer holds.
        let (f, _) = run(vec![t()], "2026-11-29T12:00:00Z");
        assert!(f.blocking);
        assert_eq!(f.expired_tickets[0].id, "#12");
        assert_eq!(f.expired_tickets[0].seconds_left, 0);
        // Closed, or without the label: ignored.
        let mut closed = t();
        closed.open = false;
        let mut unlabelled = t();
        unlabelled.labels = vec!["incident".into()];
        let (f, bg) = run(vec![closed, unlabelled], "2026-11-28T12:00:00Z");
        assert!(f.blocking && f.ticket.is_none() && f.expired_tickets.is_empty());
        assert!(bg.unused_tickets.is_empty());
        // Naming another resource: unused, listed for cleanup.
        let other = ticket("#13", "aws_security_group.web2", "2026-11-28T10:00:00Z");
        let (f, bg) = run(vec![other], "2026-11-28T12:00:00Z");
        assert!(f.blocking);
        assert_eq!(bg.unused_tickets[0].id, "#13");
    }

    #[test]
    fn youngest_valid_ticket_wins_and_expired_ones_are_named() {
        let old = ticket("#1", "aws_security_group.web", "2026-11-20T00:00:00Z");
        let young = ticket("#2", "aws_security_group.web", "2026-11-28T00:00:00Z");
        let younger = ticket("#3", "also aws_security_group.web", "2026-11-28T06:00:00Z");
        let (f, _) = run(vec![old.clone(), young, younger], "2026-11-28T12:00:00Z");
        assert_eq!(f.ticket.unwrap().id, "#3");
        let (f, _) = run(vec![old], "2026-11-28T12:00:00Z");
        assert!(f.blocking);
        assert!(f.expired_tickets[0].seconds_left < 0);
    }

    #[test]
    fn both_clocks_must_agree_and_skew_is_reported() {
        let t = ticket("#12", "aws_security_group.web", "2026-11-27T12:00:00Z");
        let mut f = vec![finding("aws_security_group.web")];
        // The runner says 3 days; the tracker's (stale) Date says 24h: the stricter wins.
        let fetched = vec![Fetched {
            tickets: vec![t.clone()],
            server_time: Some(ts("2026-11-28T12:00:00Z")),
        }];
        let bg = apply(&mut f, &fetched, &settings(), ts("2026-11-30T12:00:00Z"));
        assert!(f[0].blocking);
        assert!(f[0].expired_tickets[0].seconds_left < 0);
        assert_eq!(bg.clock, "tracker");
        assert_eq!(bg.clock_skew_seconds, Some(2 * 86400));
        assert!(bg.warnings[0].contains("ahead of"), "{:?}", bg.warnings);
        assert!(bg.warnings[0].contains("both clocks"), "{:?}", bg.warnings);
        // A Date 30 days stale cannot revive a 30-day-old ticket.
        let mut f = vec![finding("aws_security_group.web")];
        let stale = vec![Fetched {
            tickets: vec![ticket(
                "#13",
                "aws_security_group.web",
                "2026-10-30T12:00:00Z",
            )],
            server_time: Some(ts("2026-10-31T12:00:00Z")),
        }];
        apply(&mut f, &stale, &settings(), ts("2026-11-30T12:00:00Z"));
        assert!(f[0].blocking);
        // Both clocks inside the window: covered.
        let mut f = vec![finding("aws_security_group.web")];
        let fetched = vec![Fetched {
            tickets: vec![t],
            server_time: Some(ts("2026-11-28T12:00:00Z")),
        }];
        apply(&mut f, &fetched, &settings(), ts("2026-11-28T12:01:00Z"));
        assert!(!f[0].blocking);
        // No Date header: the runner's clock, said so.
        let fetched = vec![Fetched {
            tickets: vec![],
            server_time: None,
        }];
        let bg = apply(&mut f, &fetched, &settings(), ts("2026-11-30T12:00:00Z"));
        assert_eq!(bg.clock, "runner");
    }

    #[test]
    fn approval_by_someone_else_is_required_when_asked() {
        let mut t = ticket("#12", "aws_security_group.web", "2026-11-28T00:00:00Z");
        t.approved = Some(false);
        let (f, _) = run(vec![t.clone()], "2026-11-28T12:00:00Z");
        assert!(f.blocking);
        assert_eq!(f.unapproved_tickets[0].id, "#12");
        t.approved = Some(true);
        let (f, _) = run(vec![t], "2026-11-28T12:00:00Z");
        assert!(!f.blocking);
    }

    #[test]
    fn warn_only_drift_is_left_alone() {
        let mut f = vec![finding("aws_security_group.web")];
        f[0].blocking = false;
        let t = ticket("#12", "aws_security_group.web", "2026-11-28T00:00:00Z");
        let fetched = vec![Fetched {
            tickets: vec![t],
            server_time: Some(ts("2026-11-28T12:00:00Z")),
        }];
        let bg = apply(&mut f, &fetched, &settings(), ts("2026-11-28T12:00:00Z"));
        assert!(f[0].ticket.is_none());
        assert!(bg.unused_tickets.is_empty(), "it names a drifted resource");
    }
}
