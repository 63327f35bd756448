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
use crate::model::{Cloud, Declarer, Drift, ExpectedObject, Exposure, Reach};
use crate::policy::PolicySet;
use crate::report::{Report, Summary};
use crate::state::{self, Resource};
use crate::{breakglass, diff, exposure, read, risk, verdict};

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

    // The security view of every object the states manage, per family.
    let mut expected: Vec<(&'static dyn Family, ExpectedObject)> = Vec::new();
    for family in families::all() {
        let mine: Vec<&Resource> = families::resources_of(family, &snapshot.resources)
            .into_iter()
            .filter(|r| checked_types.contains(r.resource_type.as_str()))
            .collect();
        if !mine.is_empty() {
            expected.extend(family.expected(&mine)?.into_iter().map(|o| (family, o)));
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
        return Ok(report);
    }

    let (regions, mut live, clouds, notes) = match opts.live {
        LiveSource::Api => {
            let (regions, live, clouds) = read_clouds(
                opts,
                &expected,
                &snapshot,
                (aws, azure, gcp),
                resources_checked,
            )
            .await?;
            (regions, live, clouds, Vec::new())
        }
        LiveSource::Plan => refreshed_live(opts, &snapshot, &expected, &checked_types)?,
    };
    summary.notes = notes;
    let key = |i: usize| (expected[i].0.about().name, expected[i].1.cloud_id.clone());
    let compare = |i: usize, live: &read::LiveSet| {
        let (family, obj) = &expected[i];
        diff::compare(*family, obj, &regions[i], live.get(&key(i)))
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
                    .map(|&i| (expected[i].0, &regions[i], &expected[i].1.cloud_id)),
            );
            let fresh = read::read(&clouds, &plan, opts.concurrency).await?;
            for &i in &suspects {
                live.remove(&key(i));
            }
            live.extend(fresh);
            for &i in &suspects {
                per_object[i] = compare(i, &live);
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
                        region: &regions[i],
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

    summary.regions = regions
        .iter()
        .cloned()
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
    Ok(report)
}

/// `--live api`: loads the credentials of the clouds the states hold resources of (a local state
/// without Azure resources needs no Azure login), resolves each object's region, checks the
/// account, and reads every object.
async fn read_clouds(
    opts: &CheckOptions,
    expected: &[(&'static dyn Family, ExpectedObject)],
    snapshot: &state::Snapshot,
    (aws, azure, gcp): (Option<AwsContext>, Option<AzureContext>, Option<GcpContext>),
    resources_checked: usize,
) -> Result<(Vec<String>, read::LiveSet, Clouds)> {
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
    let regions = resolve_regions(expected, &snapshot.resources, default_region)?;
    if let Some(aws) = &clouds.aws {
        check_account(aws, expected, &regions).await?;
    }

    let plan = read::plan(
        expected
            .iter()
            .zip(&regions)
            .map(|((family, obj), region)| (*family, region, &obj.cloud_id)),
    );
    if let Some(aws) = &clouds.aws {
        for (family, regions) in plan.iter().filter(|(f, _)| f.about().cloud == Cloud::Aws) {
            aws.plan(family.about().name, regions.values().map(Vec::len).sum());
        }
    }
    if opts.progress {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (f, _) in expected {
            *counts.entry(f.about().label).or_default() += 1;
        }
        let what: Vec<String> = counts.iter().map(|(f, n)| format!("{n} {f}")).collect();
        let region_set: BTreeSet<&String> = regions.iter().collect();
        let cloud_names: Vec<&str> = needed.iter().map(|c| c.title()).collect();
        eprintln!(
            "driftgate: reading {} for {resources_checked} state resource(s) in {} region(s) ({})…",
            what.join(" and "),
            region_set.len(),
            cloud_names.join(", ")
        );
    }
    let live = read::read(&clouds, &plan, opts.concurrency).await?;
    Ok((regions, live, clouds))
}

/// `--live plan`: the live side is what the plans' refresh read, with no cloud reads. Every
/// input must be a plan: a state has no refreshed values, and reading it as live would compare
/// the state with itself.
fn refreshed_live(
    opts: &CheckOptions,
    snapshot: &state::Snapshot,
    expected: &[(&'static dyn Family, ExpectedObject)],
    checked_types: &BTreeSet<&str>,
) -> Result<(Vec<String>, read::LiveSet, Clouds, Vec<String>)> {
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
    for family in families::all() {
        let mine: Vec<&Resource> = families::resources_of(family, &snapshot.refreshed)
            .into_iter()
            .filter(|r| checked_types.contains(r.resource_type.as_str()))
            .collect();
        if mine.is_empty() {
            continue;
        }
        for obj in family.live_from_refresh(&mine)? {
            live.insert((family.about().name, obj.cloud_id.clone()), obj);
        }
    }
    // Nothing is read from a region: the one the state records, for display only.
    let regions = expected
        .iter()
        .map(|(_, o)| o.region.clone().unwrap_or_else(|| "-".into()))
        .collect();
    Ok((regions, live, Clouds::default(), notes))
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

/// Each object's region: its own (ARN, provider v6 `region`); else the one region of the other
/// resources of its provider configuration *in the same state* (a provider configuration belongs
/// to its root module: two states' root providers are two configurations, whatever their names);
/// else, for the root's unaliased provider, the environment's region (AWS_REGION, profile); else
/// an error naming the resource. Guessing the region of a resource behind a provider alias would
/// make it look deleted, and so would picking one of several candidate regions.
fn resolve_regions(
    expected: &[(&dyn Family, ExpectedObject)],
    resources: &[Resource],
    default: Option<String>,
) -> Result<Vec<String>> {
    // (state, provider configuration) → the regions its resources record.
    let mut by_config: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for r in resources {
        if let (Some(region), _) = families::aws::region_account(r) {
            for source in &r.sources {
                by_config
                    .entry((source.as_str(), r.provider.as_str()))
                    .or_default()
                    .insert(region.clone());
            }
        }
    }
    expected
        .iter()
        .map(|(_, obj)| {
            if let Some(region) = &obj.region {
                return Ok(region.clone());
            }
            let declarers: Vec<&Declarer> = obj
                .owner
                .iter()
                .chain(obj.items.iter().map(|i| &i.by))
                .collect();
            let configs: BTreeSet<(&str, &str)> = declarers
                .iter()
                .flat_map(|d| d.sources.iter().map(|s| (s.as_str(), d.provider.as_str())))
                .collect();
            let known: BTreeSet<&String> = configs
                .iter()
                .filter_map(|c| by_config.get(c))
                .flatten()
                .collect();
            let who = declarers
                .first()
                .map(|d| d.address.clone())
                .unwrap_or_else(|| obj.cloud_id.clone());
            let providers: BTreeSet<&str> = configs.iter().map(|(_, p)| *p).collect();
            let states: BTreeSet<&str> = configs.iter().map(|(s, _)| *s).collect();
            let list = |set: BTreeSet<&str>| set.into_iter().collect::<Vec<_>>().join(", ");
            match known.len() {
                1 => return Ok(known.into_iter().next().cloned().unwrap_or_default()),
                0 => {}
                _ => {
                    return Err(Error::new(
                        who,
                        format!(
                            "cannot tell which AWS region {} is in: the state records no ARN or \
                             region for it, and the other resources of its provider \
                             configuration ({} in {}) are in several regions ({}); give the \
                             resource's own region in the state (provider v6 `region`)",
                            obj.cloud_id,
                            list(providers),
                            list(states),
                            known.into_iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            }
            if providers.iter().all(|p| is_root_default_provider(p)) {
                return default.clone().ok_or_else(|| {
                    Error::new(
                        who,
                        format!(
                            "cannot tell which AWS region {} is in: the state records no ARN or \
                             region for it; set AWS_REGION",
                            obj.cloud_id
                        ),
                    )
                });
            }
            Err(Error::new(
                who,
                format!(
                    "cannot tell which AWS region {} is in: the state records no ARN or region for \
                     it, and its provider configuration ({}) is not the default one",
                    obj.cloud_id,
                    list(providers)
                ),
            ))
        })
        .collect()
}

/// `provider["registry.terraform.io/hashicorp/aws"]` (or 0.12's `provider.aws`): not an alias,
/// not configured inside a module.
fn is_root_default_provider(p: &str) -> bool {
    (p.starts_with("provider[") && p.ends_with("\"]")) || p == "provider.aws"
}

/// Reading a resource of account A with credentials of account B finds nothing, which would be
/// reported as "deleted". Refuse instead.
async fn check_account(
    aws: &AwsContext,
    expected: &[(&dyn Family, ExpectedObject)],
    regions: &[String],
) -> Result<()> {
    // Only AWS accounts: an Azure subscription or a Google project is an account of its own.
    let aws_objects = || {
        expected
            .iter()
            .enumerate()
            .filter(|(_, (f, _))| f.about().cloud == Cloud::Aws)
    };
    let Some((first, _)) = aws_objects().find(|(_, (_, o))| o.account.is_some()) else {
        return Ok(());
    };
    let caller = aws.caller_account(&regions[first]).await?;
    for (_, (_, obj)) in aws_objects() {
        if let Some(account) = obj.account.as_ref().filter(|a| **a != caller) {
            let who = obj
                .owner
                .as_ref()
                .map(|d| d.address.as_str())
                .unwrap_or(obj.cloud_id.as_str());
            return Err(Error::new(
                who.to_string(),
                format!(
                    "belongs to AWS account {account}, but the credentials are for account {caller}; \
                     run driftgate with credentials for {account} (one account per run)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(address: &str, t: &str, provider: &str, attrs: serde_json::Value) -> Resource {
        Resource {
            address: address.into(),
            resource_type: t.into(),
            provider: provider.into(),
            attributes: attrs,
            sensitive_paths: vec![],
            sources: vec!["s".into()],
        }
    }

    const ROOT: &str = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    const WEST: &str = "provider[\"registry.terraform.io/hashicorp/aws\"].west";

    fn regions(resources: &[Resource], default: Option<&str>) -> Result<Vec<String>> {
        let family = families::all()[0];
        let rules: Vec<&Resource> = resources
            .iter()
            .filter(|r| r.resource_type == "aws_security_group_rule")
            .collect();
        let objs: Vec<(&dyn Family, ExpectedObject)> = family
            .expected(&rules)
            .unwrap()
            .into_iter()
            .map(|o| (family, o))
            .collect();
        resolve_regions(&objs, resources, default.map(str::to_string))
    }

    #[test]
    fn region_of_a_rule_without_arn() {
        let rule = |p: &str| {
            res(
                "aws_security_group_rule.r",
                "aws_security_group_rule",
                p,
                json!({"type": "ingress", "security_group_id": "sg-ext", "protocol": "tcp",
                       "from_port": 1, "to_port": 1, "cidr_blocks": ["10.0.0.0/8"]}),
            )
        };
        let vpc_in = |p: &str, region: &str| {
            res(
                "aws_vpc.v",
                "aws_vpc",
                p,
                json!({"arn": format!("arn:aws:ec2:{region}:1:vpc/vpc-1")}),
            )
        };
        // Root provider, nothing else known: the environment's region.
        assert_eq!(
            regions(&[rule(ROOT)], Some("eu-west-1")).unwrap(),
            ["eu-west-1"]
        );
        assert!(regions(&[rule(ROOT)], None)
            .unwrap_err()
            .to_string()
            .contains("set AWS_REGION"));
        // Other resources of the same provider configuration know better than the environment.
        assert_eq!(
            regions(&[rule(ROOT), vpc_in(ROOT, "ap-south-1")], Some("eu-west-1")).unwrap(),
            ["ap-south-1"]
        );
        assert_eq!(
            regions(&[rule(WEST), vpc_in(WEST, "us-west-2")], Some("eu-west-1")).unwrap(),
            ["us-west-2"]
        );
        // An alias whose region nothing tells: refuse rather than look in the wrong region.
        let e = regions(&[rule(WEST), vpc_in(ROOT, "us-east-1")], Some("eu-west-1")).unwrap_err();
        assert!(e.to_string().contains("is not the default one"), "{e}");
        assert!(is_root_default_provider("provider.aws"));
        assert!(!is_root_default_provider("provider.aws.west"));
        assert!(!is_root_default_provider(
            "module.m.provider[\"registry.terraform.io/hashicorp/aws\"]"
        ));
    }

    #[test]
    fn provider_configurations_belong_to_their_state() {
        // `--state 'envs/*/terraform.tfstate'`: two root modules, each with the root provider.
        let in_state = |mut r: Resource, s: &str| {
            r.sources = vec![s.into()];
            r
        };
        let rule = |s: &str| {
            in_state(
                res(
                    "aws_security_group_rule.r",
                    "aws_security_group_rule",
                    ROOT,
                    json!({"type": "ingress", "security_group_id": format!("sg-{s}"),
                           "protocol": "tcp", "from_port": 1, "to_port": 1,
                           "cidr_blocks": ["10.0.0.0/8"]}),
                ),
                s,
            )
        };
        let vpc = |s: &str, region: &str| {
            in_state(
                res(
                    "aws_vpc.v",
                    "aws_vpc",
                    ROOT,
                    json!({"arn": format!("arn:aws:ec2:{region}:1:vpc/vpc-1")}),
                ),
                s,
            )
        };
        let all = [
            rule("east"),
            vpc("east", "us-east-1"),
            rule("west"),
            vpc("west", "eu-west-1"),
        ];
        assert_eq!(
            regions(&all, Some("us-east-1")).unwrap(),
            ["us-east-1", "eu-west-1"]
        );
        // A state with no regional resource does not borrow another state's region.
        let all = [rule("east"), vpc("east", "us-east-1"), rule("other")];
        assert_eq!(
            regions(&all, Some("ap-south-1")).unwrap(),
            ["us-east-1", "ap-south-1"]
        );
        // Within one state, two candidate regions are refused, never picked.
        let all = [
            rule("east"),
            vpc("east", "us-east-1"),
            vpc("east", "us-west-2"),
        ];
        let e = regions(&all, Some("us-east-1")).unwrap_err().to_string();
        assert!(e.contains("several regions (us-east-1, us-west-2)"), "{e}");
    }

    #[test]
    fn a_region_attribute_that_is_not_the_resources_own_is_not_used() {
        // Provider v5: `region` of an aggregate authorization is the aggregator's region; its ARN
        // tells where it lives.
        let auth = |attrs: serde_json::Value| {
            res(
                "aws_config_aggregate_authorization.a",
                "aws_config_aggregate_authorization",
                ROOT,
                attrs,
            )
        };
        let v5 = auth(json!({"region": "eu-west-1", "account_id": "2",
            "arn": "arn:aws:config:us-east-1:1:aggregation-authorization/2/eu-west-1"}));
        assert_eq!(
            families::aws::region_account(&v5).0.as_deref(),
            Some("us-east-1")
        );
        let rule = res(
            "aws_security_group_rule.r",
            "aws_security_group_rule",
            ROOT,
            json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp",
                   "from_port": 1, "to_port": 1, "cidr_blocks": ["10.0.0.0/8"]}),
        );
        assert_eq!(regions(&[rule.clone(), v5], None).unwrap(), ["us-east-1"]);
        // Without an ARN, v5's `region` says nothing about the resource.
        let bare = auth(json!({"region": "eu-west-1", "account_id": "2"}));
        assert_eq!(families::aws::region_account(&bare).0, None);
        // v6 moved that meaning to `authorized_aws_region`: `region` is then its own.
        let v6 = auth(json!({"region": "ap-south-1", "authorized_aws_region": "eu-west-1"}));
        assert_eq!(
            families::aws::region_account(&v6).0.as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(regions(&[rule, v6], None).unwrap(), ["ap-south-1"]);
    }
}
