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
use crate::model::{Cloud, Declarer, Drift, ExpectedObject};
use crate::policy::PolicySet;
use crate::report::{Report, Summary};
use crate::state::{self, Resource};
use crate::{breakglass, diff, read, verdict};

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
    let mut inputs = Vec::new();
    for loc in state::locate(
        &opts.states,
        opts.workspace.as_deref(),
        &opts.workspace_key_prefix,
    )? {
        match &loc {
            state::Location::S3 {
                url,
                bucket,
                key,
                region,
            } => {
                if aws.is_none() {
                    aws = Some(AwsContext::load(&opts.aws).await);
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

    // Credentials are loaded only now, and only for the clouds the states hold resources of: a
    // local state without Azure resources needs no Azure login.
    let needed: BTreeSet<Cloud> = expected.iter().map(|(f, _)| f.about().cloud).collect();
    let mut clouds = Clouds::default();
    if needed.contains(&Cloud::Aws) {
        clouds.aws = Some(match aws {
            Some(a) => a,
            None => AwsContext::load(&opts.aws).await,
        });
    }
    if needed.contains(&Cloud::Azure) {
        clouds.azure = Some(azure.map_or_else(AzureContext::load, Ok)?);
    }
    if needed.contains(&Cloud::Gcp) {
        clouds.gcp = Some(gcp.map_or_else(GcpContext::load, Ok)?);
    }
    let default_region = clouds.aws.as_ref().and_then(AwsContext::default_region);
    let regions = resolve_regions(&expected, &snapshot.resources, default_region)?;
    if let Some(aws) = &clouds.aws {
        check_account(aws, &expected, &regions).await?;
    }

    let plan = read::plan(
        expected
            .iter()
            .zip(&regions)
            .map(|((family, obj), region)| (*family, region, &obj.cloud_id)),
    );
    if opts.progress {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (f, _) in &expected {
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
    let mut live = read::read(&clouds, &plan, opts.concurrency).await?;
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
    let drifts = per_object.into_iter().flatten().collect();
    let mut findings = verdict::judge(drifts, &policies);

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
    for f in findings.iter_mut() {
        if let Some(place) = index.find(&f.address) {
            let file = place
                .file
                .strip_prefix(".")
                .unwrap_or(&place.file)
                .display()
                .to_string();
            f.location = Some(verdict::SourceLocation {
                file,
                line: place.line,
            });
        }
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
/// resources of its provider configuration; else, for the root's unaliased provider, the
/// environment's region (AWS_REGION, profile); else an error naming the resource. Guessing the
/// region of a resource behind a provider alias would make it look deleted.
fn resolve_regions(
    expected: &[(&dyn Family, ExpectedObject)],
    resources: &[Resource],
    default: Option<String>,
) -> Result<Vec<String>> {
    let mut by_provider: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in resources {
        if let (Some(region), _) = families::aws::region_account(r) {
            by_provider
                .entry(r.provider.as_str())
                .or_default()
                .insert(region);
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
            let providers: BTreeSet<&str> = declarers.iter().map(|d| d.provider.as_str()).collect();
            let known: BTreeSet<&String> = providers
                .iter()
                .filter_map(|p| by_provider.get(p))
                .flatten()
                .collect();
            if known.len() == 1 {
                return Ok(known.into_iter().next().cloned().unwrap_or_default());
            }
            let who = declarers
                .first()
                .map(|d| d.address.clone())
                .unwrap_or_else(|| obj.cloud_id.clone());
            if known.is_empty() && providers.iter().all(|p| is_root_default_provider(p)) {
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
                    providers.into_iter().collect::<Vec<_>>().join(", ")
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
    let Some(first) = expected.iter().position(|(_, o)| o.account.is_some()) else {
        return Ok(());
    };
    let caller = aws.caller_account(&regions[first]).await?;
    for (_, obj) in expected {
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
}
