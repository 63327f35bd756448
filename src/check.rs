//! `driftgate check`: runs the stages in order (state → policy → families → read → diff → verdict)
//! and returns the report. The only place that knows the order; each stage is plain data in and out.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::clients::aws::{AwsContext, AwsSettings};
use crate::clients::azure::AzureContext;
use crate::clients::gcp::GcpContext;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{self, Family};
use crate::model::{Cloud, Drift, ExpectedObject, Exposure, Place, Reach};
use crate::policy::PolicySet;
use crate::report::{Report, Summary};
use crate::state::{self, Resource};
use crate::{breakglass, diff, exposure, place, read, risk, verdict};

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub states: Vec<String>,
    /// Terraform workspace of `s3://` states (`None` or `default`: the key as given).
    pub workspace: Option<String>,
    pub workspace_key_prefix: String,
    pub policies: Vec<String>,
    pub concurrency: usize,
    pub aws: AwsSettings,
    /// Progress lines on stderr.
    pub progress: bool,
    /// Break-glass trackers (none: no exceptions).
    pub breakglass: Option<breakglass::Settings>,
    /// Terraform source to point findings at (`None`: do not look).
    pub source_dir: Option<std::path::PathBuf>,
    /// Where the live side comes from.
    pub live: LiveSource,
    /// How findings are scored (the data classification tags).
    pub risk: risk::Settings,
    /// This run's share of the states (`--shard K/N`); `None`: all of them.
    pub shard: Option<state::Shard>,
}

/// The live side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LiveSource {
    /// driftgate reads the cloud APIs itself.
    #[default]
    Api,
    /// The values the plans' refresh read (`prior_state`): no credentials, no API calls.
    Plan,
}

pub fn known_types() -> BTreeSet<&'static str> {
    families::all()
        .iter()
        .flat_map(|f| f.about().resource_types.iter().copied())
        .collect()
}

pub async fn run(opts: &CheckOptions) -> Result<Report> {
    // With a source directory, the resources are kept: references in the code are read with them.
    let (mut report, kept) = run_check(opts, opts.source_dir.is_some()).await?;
    // What `driftgate fix` would write, said in the report (`fix` itself plans it anyway).
    if let Some(dir) = &opts.source_dir {
        if !report.drifts.is_empty() {
            if let Err(e) = crate::fix::annotate(&mut report, dir, kept.resources) {
                if opts.progress {
                    eprintln!("driftgate: warning: no fixes named in the report: {e}");
                }
            }
        }
    }
    Ok(report)
}

/// What the check read of the states, kept for `driftgate fix --harden`: the security view of
/// every declared object, and the checked resources themselves.
pub struct Kept {
    pub expected: Vec<(&'static dyn Family, ExpectedObject)>,
    pub resources: Vec<Resource>,
}

/// The check, and what it read of the states.
pub async fn run_keeping(opts: &CheckOptions) -> Result<(Report, Kept)> {
    run_check(opts, true).await
}

/// The check; with `keep`, the checked resources are kept too (a copy a plain check does not
/// pay for).
async fn run_check(opts: &CheckOptions, keep: bool) -> Result<(Report, Kept)> {
    let started = Instant::now();
    let policies = PolicySet::load(&opts.policies, &known_types())?;
    let checked_types = policies.checked_types();
    // States: local files and stdin as they are; S3, GCS and Azure blobs with that cloud's
    // credentials (loaded here only when needed, and reused for the live reads).
    let mut aws: Option<AwsContext> = None;
    let mut azure: Option<AzureContext> = None;
    let mut gcp: Option<GcpContext> = None;
    let mut backends: Option<crate::http::Client> = None;
    let mut inputs = Vec::new();
    let mut located = state::locate(
        &opts.states,
        opts.workspace.as_deref(),
        &opts.workspace_key_prefix,
    )?;
    if let Some(shard) = opts.shard {
        if located.contains(&state::Location::Stdin) {
            return Err(Error::new(
                "--shard",
                "a sweep shares out named states; standard input (`-`) cannot be shared",
            ));
        }
        let all = located.len();
        located.retain(|l| shard.holds(l.name()));
        if opts.progress {
            eprintln!(
                "driftgate: shard {}/{}: {} of {all} state(s)",
                shard.index,
                shard.count,
                located.len()
            );
        }
    }
    for loc in located {
        match &loc {
            state::Location::S3 {
                url,
                bucket,
                key,
                region,
            } => {
                if aws.is_none() {
                    aws = Some(AwsContext::load(&opts.aws).await?);
                }
                if let Some(ctx) = &aws {
                    inputs.push(state::s3::read(ctx, url, bucket, key, region.as_deref()).await?);
                }
            }
            state::Location::Gcs {
                url,
                bucket,
                object,
            } => {
                if gcp.is_none() {
                    gcp = Some(GcpContext::load()?);
                }
                if let Some(ctx) = &gcp {
                    inputs.push(remote(url, ctx.download(bucket, object).await?)?);
                }
            }
            state::Location::AzureBlob {
                url,
                account,
                container,
                key,
            } => {
                if azure.is_none() {
                    azure = Some(AzureContext::load()?);
                }
                if let Some(ctx) = &azure {
                    inputs.push(remote(
                        url,
                        ctx.download_blob(account, container, key).await?,
                    )?);
                }
            }
            state::Location::Hcp {
                url,
                organization,
                workspace,
            } => {
                let client = backend_client(&mut backends)?;
                inputs.push(state::remote::read_hcp(client, url, organization, workspace).await?);
            }
            state::Location::Http { url } => {
                let client = backend_client(&mut backends)?;
                inputs.push(state::remote::read_http(client, url).await?);
            }
            _ => inputs.push(state::read_local(&loc)?),
        }
    }
    let snapshot = state::load(inputs, &|t| checked_types.contains(t))?;

    // The security view of every object the states manage, per family and AWS account: objects
    // of two accounts are never joined (the role an attachment names is the one in its
    // provider's account). With several accounts in the states, a resource whose account the
    // state does not tell is in the credentials' account, so it is asked for now.
    let several = snapshot
        .accounts
        .iter()
        .flatten()
        .collect::<BTreeSet<_>>()
        .len()
        > 1;
    let caller = if several && opts.live == LiveSource::Api {
        if aws.is_none() {
            aws = Some(AwsContext::load(&opts.aws).await?);
        }
        match &aws {
            Some(ctx) => Some(ctx.caller_account(&sts_region(ctx, &snapshot)).await?),
            None => None,
        }
    } else {
        None
    };
    let mut expected: Vec<(&'static dyn Family, ExpectedObject)> = Vec::new();
    // The account group of each expected object (`None`: one group for all).
    let mut groups: Vec<Option<String>> = Vec::new();
    let by_account = account_groups(&snapshot.resources, &snapshot.accounts, several, &caller);
    for (family, account, mine) in checked_groups(&by_account, &checked_types) {
        for mut obj in family.expected(&mine)? {
            if family.about().cloud == Cloud::Aws && obj.account.is_none() {
                obj.account = account.clone();
            }
            expected.push((family, obj));
            groups.push(account.clone());
        }
    }
    // A type may feed two families (aws_iam_policy_attachment: roles, users and groups); each
    // resource is still one checked resource.
    let known = known_types();
    let checked_resources: Vec<&Resource> = snapshot
        .resources
        .iter()
        .filter(|r| {
            checked_types.contains(r.resource_type.as_str())
                && known.contains(r.resource_type.as_str())
        })
        .collect();
    let resources_checked = checked_resources.len();
    let kept_resources: Vec<Resource> = if keep {
        checked_resources.iter().map(|r| (*r).clone()).collect()
    } else {
        Vec::new()
    };
    let checked: Vec<(String, String)> = checked_resources
        .iter()
        .map(|r| (r.address.clone(), r.resource_type.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut summary = Summary {
        resources_in_state: snapshot.resources.len(),
        resources_checked,
        objects_checked: expected.len(),
        states: snapshot.sources.clone(),
        ..Summary::default()
    };
    if expected.is_empty() {
        if opts.progress {
            eprintln!(
                "driftgate: the state holds no resource that a policy covers; nothing to read"
            );
        }
        summary.duration_ms = started.elapsed().as_millis() as u64;
        let bg = opts.breakglass.as_ref().map(not_consulted);
        let mut report = Report::new(summary, Vec::new(), bg);
        report.policies = policies.policies;
        return Ok((
            report,
            Kept {
                expected,
                resources: Vec::new(),
            },
        ));
    }

    let (places, read, clouds, notes) = match opts.live {
        LiveSource::Api => {
            let (places, accounts, read, clouds) = read_clouds(
                opts,
                &expected,
                &snapshot,
                (aws, azure, gcp),
                resources_checked,
            )
            .await?;
            // Every AWS drift names its account, also where the state recorded none.
            for ((_, obj), account) in expected.iter_mut().zip(accounts) {
                if obj.account.is_none() {
                    obj.account = account;
                }
            }
            (places, read, clouds, Vec::new())
        }
        LiveSource::Plan => {
            let (places, live, clouds, notes) =
                refreshed_live(opts, &snapshot, &expected, &groups, several, &checked_types)?;
            let read = read::Read {
                live,
                ..Default::default()
            };
            (places, read, clouds, notes)
        }
    };
    let read::Read { mut live, captured } = read;
    summary.notes = notes;
    let key = |i: usize| -> read::LiveKey {
        (
            expected[i].0.about().name,
            places[i].account.clone(),
            expected[i].1.cloud_id.clone(),
        )
    };
    let compare = |i: usize, live: &read::LiveSet| {
        let (family, obj) = &expected[i];
        diff::compare(*family, obj, &places[i].region, live.get(&key(i)))
    };
    let mut per_object: Vec<Vec<Drift>> = (0..expected.len()).map(|i| compare(i, &live)).collect();
    // Resource Graph can lag behind ARM by seconds: an Azure object that shows drift is read
    // again directly before it can block (a console fix made a minute ago must not fail the
    // build).
    if let Some(azure) = clouds.azure.as_ref().filter(|a| a.graph_reads() > 0) {
        let suspects: Vec<usize> = (0..expected.len())
            .filter(|&i| expected[i].0.about().cloud == Cloud::Azure && !per_object[i].is_empty())
            .collect();
        if !suspects.is_empty() {
            if opts.progress {
                eprintln!(
                    "driftgate: confirming {} Azure object(s) with drift by reading them directly…",
                    suspects.len()
                );
            }
            azure.disable_graph();
            let plan = read::plan(
                suspects
                    .iter()
                    .map(|&i| (expected[i].0, &places[i], &expected[i].1.cloud_id)),
            );
            let fresh = read::read(&clouds, &plan, opts.concurrency, true).await?;
            for &i in &suspects {
                live.remove(&key(i));
            }
            live.extend(fresh.live);
            for &i in &suspects {
                per_object[i] = compare(i, &live);
            }
        }
    }
    // AWS Config lags behind the APIs: a drift seen through it is read again directly where the
    // run has credentials for its account, and says that it rests on the recorded item otherwise.
    let seen: Vec<usize> = (0..expected.len())
        .filter(|&i| !per_object[i].is_empty() && captured.contains_key(&key(i)))
        .collect();
    if !seen.is_empty() {
        let confirmable: Vec<usize> = seen
            .iter()
            .copied()
            .filter(|&i| {
                clouds
                    .try_for_account(places[i].account.as_deref())
                    .is_some()
            })
            .collect();
        if !confirmable.is_empty() {
            if opts.progress {
                eprintln!(
                    "driftgate: confirming {} object(s) with drift in AWS Config by reading them \
                     directly…",
                    confirmable.len()
                );
            }
            let plan = read::plan(
                confirmable
                    .iter()
                    .map(|&i| (expected[i].0, &places[i], &expected[i].1.cloud_id)),
            );
            let fresh = read::read(&clouds, &plan, opts.concurrency, true).await?;
            for &i in &confirmable {
                live.remove(&key(i));
            }
            live.extend(fresh.live);
            for &i in &confirmable {
                per_object[i] = compare(i, &live);
            }
        }
        for &i in &seen {
            let observed = crate::model::Observed {
                source: "aws-config",
                captured_at: captured.get(&key(i)).cloned().unwrap_or_default(),
                confirmed: confirmable.contains(&i),
            };
            for d in &mut per_object[i] {
                d.observed = Some(observed.clone());
            }
        }
    }
    // Every AWS drift names its account: where the state named none, it is the credentials'.
    if let Some(aws) = &clouds.aws {
        let unnamed: Vec<usize> = (0..expected.len())
            .filter(|&i| {
                expected[i].0.about().cloud == Cloud::Aws
                    && expected[i].1.account.is_none()
                    && !per_object[i].is_empty()
            })
            .collect();
        if let Some(&first) = unnamed.first() {
            let caller = aws.caller_account(&places[first].region).await?;
            for i in unnamed {
                for d in &mut per_object[i] {
                    d.account = Some(caller.clone());
                }
            }
        }
    }
    // How reachable the drifted objects are: read for them alone, so a clean run reads nothing.
    let drifted: Vec<usize> = (0..expected.len())
        .filter(|&i| !per_object[i].is_empty())
        .collect();
    if !drifted.is_empty() {
        let reaches = match opts.live {
            LiveSource::Api => {
                if opts.progress {
                    eprintln!(
                        "driftgate: reading how {} drifted object(s) are reached…",
                        drifted.len()
                    );
                }
                let objects: Vec<exposure::Drifted> = drifted
                    .iter()
                    .map(|&i| exposure::Drifted {
                        family: expected[i].0,
                        expected: &expected[i].1,
                        region: &places[i].region,
                        account: places[i].account.as_deref(),
                        live: live.get(&key(i)),
                    })
                    .collect();
                exposure::assess(&clouds, &objects, opts.concurrency).await?
            }
            LiveSource::Plan => drifted
                .iter()
                .map(|_| {
                    Reach::new(
                        Exposure::Unknown,
                        "not read: --live plan makes no cloud reads",
                    )
                })
                .collect(),
        };
        for (&i, reach) in drifted.iter().zip(reaches) {
            for d in &mut per_object[i] {
                d.reach = Some(reach.clone());
            }
        }
    }
    let drifts = per_object.into_iter().flatten().collect();
    let mut findings = verdict::judge(drifts, &policies, &opts.risk);

    // Trackers are asked only when something would block: no drift, no dependency on them.
    let bg = match &opts.breakglass {
        Some(settings) if findings.iter().any(|f| f.blocking) => {
            if opts.progress {
                eprintln!(
                    "driftgate: asking {} for break-glass tickets…",
                    settings
                        .trackers
                        .iter()
                        .map(breakglass::TrackerSpec::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let fetched = breakglass::fetch_all(settings).await?;
            Some(breakglass::apply(
                &mut findings,
                &fetched,
                settings,
                jiff::Timestamp::now(),
            ))
        }
        Some(settings) => Some(not_consulted(settings)),
        None => None,
    };

    summary.regions = places
        .iter()
        .map(|p| p.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    summary.api_calls = clouds.calls();
    summary.duration_ms = started.elapsed().as_millis() as u64;
    if opts.progress {
        let calls: u64 = summary.api_calls.values().flat_map(|m| m.values()).sum();
        eprintln!(
            "driftgate: compared {} objects with {calls} API call(s) in {:.1}s",
            summary.objects_checked,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(dir) = &opts.source_dir {
        if !findings.is_empty() {
            locate(&mut findings, dir, opts.progress);
        }
    }
    let mut report = Report::new(summary, findings, bg);
    report.checked = checked;
    report.policies = policies.policies;
    Ok((
        report,
        Kept {
            expected,
            resources: kept_resources,
        },
    ))
}

/// `--live api`: loads the credentials of the clouds the states hold resources of (a local state
/// without Azure resources needs no Azure login), places each object (region, and the AWS account
/// whose role reads it), and reads every object. Returns the places, the accounts (for the
/// drifts), the live view and the clients.
async fn read_clouds(
    opts: &CheckOptions,
    expected: &[(&'static dyn Family, ExpectedObject)],
    snapshot: &state::Snapshot,
    (aws, azure, gcp): (Option<AwsContext>, Option<AzureContext>, Option<GcpContext>),
    resources_checked: usize,
) -> Result<(Vec<Place>, Vec<Option<String>>, read::Read, Clouds)> {
    let needed: BTreeSet<Cloud> = expected.iter().map(|(f, _)| f.about().cloud).collect();
    let mut clouds = Clouds::default();
    if needed.contains(&Cloud::Aws) {
        clouds.aws = Some(match aws {
            Some(a) => a,
            None => AwsContext::load(&opts.aws).await?,
        });
    }
    if needed.contains(&Cloud::Azure) {
        clouds.azure = Some(azure.map_or_else(AzureContext::load, Ok)?);
    }
    if needed.contains(&Cloud::Gcp) {
        clouds.gcp = Some(gcp.map_or_else(GcpContext::load, Ok)?);
    }
    let default_region = clouds.aws.as_ref().and_then(AwsContext::default_region);
    let regions = place::regions(expected, &snapshot.resources, default_region)?;
    let placed = place::place(
        clouds.aws.as_ref(),
        &opts.aws,
        expected,
        &snapshot.resources,
        regions,
        opts.concurrency,
        opts.progress,
    )
    .await?;
    clouds.aws_accounts = placed
        .assumed
        .into_iter()
        .map(|(account, aws)| {
            let clients = Clouds {
                aws: Some(aws),
                ..Clouds::default()
            };
            (account, clients)
        })
        .collect();
    let places = placed.places;

    let plan = read::plan(
        expected
            .iter()
            .zip(&places)
            .map(|((family, obj), place)| (*family, place, &obj.cloud_id)),
    );
    for (family, places) in plan.iter().filter(|(f, _)| f.about().cloud == Cloud::Aws) {
        for (place, ids) in places {
            if let Some(aws) = clouds
                .try_for_account(place.account.as_deref())
                .and_then(|c| c.aws.as_ref())
            {
                aws.plan(family.about().name, ids.len());
            }
        }
    }
    if opts.progress {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (f, _) in expected {
            *counts.entry(f.about().label).or_default() += 1;
        }
        let what: Vec<String> = counts.iter().map(|(f, n)| format!("{n} {f}")).collect();
        let region_set: BTreeSet<&String> = places.iter().map(|p| &p.region).collect();
        let accounts = placed
            .accounts
            .iter()
            .flatten()
            .collect::<BTreeSet<_>>()
            .len();
        let cloud_names: Vec<&str> = needed.iter().map(|c| c.title()).collect();
        eprintln!(
            "driftgate: reading {} for {resources_checked} state resource(s) in {} region(s){} ({})…",
            what.join(" and "),
            region_set.len(),
            if accounts > 1 {
                format!(" of {accounts} AWS accounts")
            } else {
                String::new()
            },
            cloud_names.join(", ")
        );
    }
    let read = read::read(&clouds, &plan, opts.concurrency, false).await?;
    Ok((places, placed.accounts, read, clouds))
}

/// `--live plan`: the live side is what the plans' refresh read, with no cloud reads. Every
/// input must be a plan: a state has no refreshed values, and reading it as live would compare
/// the state with itself.
fn refreshed_live(
    opts: &CheckOptions,
    snapshot: &state::Snapshot,
    expected: &[(&'static dyn Family, ExpectedObject)],
    groups: &[Option<String>],
    several: bool,
    checked_types: &BTreeSet<&str>,
) -> Result<(Vec<Place>, read::LiveSet, Clouds, Vec<String>)> {
    if let Some(label) = snapshot.not_plans.first() {
        return Err(Error::new(
            format!("state {label}"),
            "--live plan reads the values refresh recorded in a plan, and this is not \
             `terraform show -json` of a plan (`terraform plan -out tfplan && terraform show \
             -json tfplan`); use --live api to read the cloud",
        ));
    }
    if opts.progress {
        eprintln!(
            "driftgate: comparing {} object(s) with the values the plan's refresh read (no cloud \
             reads)…",
            expected.len()
        );
    }
    // A plan made with -refresh=false looks exactly like one whose refresh found nothing: say
    // that this run cannot tell them apart.
    let notes = snapshot
        .sources
        .iter()
        .filter(|s| s.format == "show-json-plan")
        .map(|s| {
            format!(
                "{} holds no refresh drift: nothing changed outside Terraform, or the plan was \
                 made with -refresh=false, in which case --live plan sees nothing",
                s.label
            )
        })
        .collect();
    let mut live = read::LiveSet::new();
    let accounts = state::aws_accounts(&snapshot.refreshed);
    let by_account = account_groups(&snapshot.refreshed, &accounts, several, &None);
    for (family, account, mine) in checked_groups(&by_account, checked_types) {
        for obj in family.live_from_refresh(&mine)? {
            live.insert(
                (family.about().name, account.clone(), obj.cloud_id.clone()),
                obj,
            );
        }
    }
    // Nothing is read from a region: the one the state records, for display only. The account
    // group keys the refreshed objects as it keys the expected ones.
    let places = expected
        .iter()
        .zip(groups)
        .map(|((_, o), account)| Place {
            account: account.clone(),
            region: o.region.clone().unwrap_or_else(|| "-".into()),
        })
        .collect();
    Ok((places, live, Clouds::default(), notes))
}

/// Resources by AWS account, when the states hold several (`several`): each resource in its
/// own account's group, one whose account the state does not tell in the credentials' (`caller`;
/// without credentials, as with `--live plan`, a group of their own). One account or none: one
/// group, `None`.
fn account_groups<'r>(
    resources: &'r [Resource],
    accounts: &[Option<String>],
    several: bool,
    caller: &Option<String>,
) -> BTreeMap<Option<String>, Vec<&'r Resource>> {
    let mut groups: BTreeMap<Option<String>, Vec<&Resource>> = BTreeMap::new();
    for (r, account) in resources.iter().zip(accounts) {
        let group = if several {
            account.clone().or_else(|| caller.clone())
        } else {
            None
        };
        groups.entry(group).or_default().push(r);
    }
    groups
}

/// The checked resources of each family in each account group, where there are any.
fn checked_groups<'r, 'g>(
    by_account: &'g BTreeMap<Option<String>, Vec<&'r Resource>>,
    checked_types: &BTreeSet<&str>,
) -> Vec<(&'static dyn Family, &'g Option<String>, Vec<&'r Resource>)> {
    let mut out = Vec::new();
    for family in families::all() {
        let types = family.about().resource_types;
        for (account, members) in by_account {
            let mine: Vec<&Resource> = members
                .iter()
                .copied()
                .filter(|r| {
                    types.contains(&r.resource_type.as_str())
                        && checked_types.contains(r.resource_type.as_str())
                })
                .collect();
            if !mine.is_empty() {
                out.push((family, account, mine));
            }
        }
    }
    out
}

/// A region to ask STS in: one a resource records, else the environment's, else us-east-1.
fn sts_region(aws: &AwsContext, snapshot: &state::Snapshot) -> String {
    snapshot
        .resources
        .iter()
        .find_map(|r| families::aws::region_account(r).0)
        .or_else(|| aws.default_region())
        .unwrap_or_else(|| "us-east-1".into())
}

/// The HTTP client for states behind HTTP APIs, made on first use.
fn backend_client(slot: &mut Option<crate::http::Client>) -> Result<&crate::http::Client> {
    if slot.is_none() {
        *slot = Some(crate::http::Client::new("state backends")?);
    }
    slot.as_ref()
        .ok_or_else(|| Error::new("state backends", "internal error: no HTTP client"))
}

/// A downloaded state, or an error naming its URL when there is none.
fn remote(url: &str, bytes: Option<Vec<u8>>) -> Result<(String, Vec<u8>)> {
    bytes.map(|b| (url.to_string(), b)).ok_or_else(|| {
        Error::new(
            format!("state {url}"),
            "no such object (check the bucket, container, key and --workspace)",
        )
    })
}

/// Points each finding at the `resource` block that declares it.
fn locate(findings: &mut [verdict::Finding], dir: &std::path::Path, progress: bool) {
    let index = crate::source::Index::build(dir);
    if progress {
        for f in &index.unreadable {
            eprintln!("driftgate: warning: cannot parse {f} as HCL; findings declared there point at the state");
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = crate::repo_path::root(&cwd);
    let name = |p: &std::path::Path| {
        crate::repo_path::in_repo(p, &cwd, root.as_deref())
            .unwrap_or_else(|| crate::repo_path::normalize(p).display().to_string())
    };
    // Code scanning drops a finding whose file is not in the repository (a state pulled to the
    // runner's temporary directory): such findings point at the root module instead.
    let module_file = index
        .root_file()
        .and_then(|f| crate::repo_path::in_repo(f, &cwd, root.as_deref()));
    for f in findings.iter_mut() {
        if let Some(place) = index.find(&f.address) {
            f.location = Some(verdict::SourceLocation {
                file: name(&place.file),
                line: place.line,
            });
            continue;
        }
        let state = f
            .sources
            .first()
            .map(std::path::Path::new)
            .filter(|s| !s.to_string_lossy().contains("://") && s.is_file());
        f.fallback = match state.and_then(|s| crate::repo_path::in_repo(s, &cwd, root.as_deref())) {
            Some(file) => Some(verdict::SourceLocation { file, line: 1 }),
            None => module_file
                .clone()
                .map(|file| verdict::SourceLocation { file, line: 1 }),
        };
    }
}

fn not_consulted(settings: &breakglass::Settings) -> breakglass::BreakGlass {
    breakglass::BreakGlass {
        trackers: settings
            .trackers
            .iter()
            .map(breakglass::TrackerSpec::name)
            .collect(),
        label: settings.label.clone(),
        max_age_hours: settings.max_age.as_secs_f64() / 3600.0,
        require_approval: settings.require_approval.clone(),
        clock: "runner",
        consulted: false,
        ..Default::default()
    }
}
