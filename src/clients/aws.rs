//! The AWS side of live reads: one SDK configuration from the standard chain (environment,
//! profiles, web identity, IMDS; `AWS_ENDPOINT_URL`), clients per region, call counting, and
//! errors that say which call failed where. Families do the actual reads with these clients.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::clients::whole_answers::{AlwaysAnswered, WholeAnswers};
use crate::clients::CallCounter;
use crate::error::{Error, Result};

/// Retry and timeout settings; the defaults suit a CI step against a real account.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Attempts per call, including the first; the SDK backs off exponentially with jitter on
    /// throttling and transient errors.
    pub max_attempts: u32,
    pub attempt_timeout: Duration,
    pub call_timeout: Duration,
    pub iam_reads: IamReads,
    /// `--aws-role`: objects of other accounts are read with this role of theirs.
    pub role: Option<RoleTemplate>,
    /// `--aws-source`: where the live side of AWS objects comes from.
    pub source: AwsSource,
}

/// `--aws-source api | config:AGGREGATOR | config:local`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AwsSource {
    /// Each object's own API (the default).
    #[default]
    Api,
    /// AWS Config's configuration items, of every account and region an aggregator collects
    /// (read in the credentials' region, where the aggregator lives).
    Aggregator(String),
    /// AWS Config's configuration items of each account's own recorder, per region.
    Local,
}

impl AwsSource {
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = |why: &str| Error::new(format!("--aws-source {raw}"), why.to_string());
        match raw.trim() {
            "api" => Ok(AwsSource::Api),
            "config:local" => Ok(AwsSource::Local),
            other => match other.strip_prefix("config:") {
                // Aggregator names: 1-256 of letters, digits, `.`, `_`, `-`.
                Some(name)
                    if !name.is_empty()
                        && name.len() <= 256
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) =>
                {
                    Ok(AwsSource::Aggregator(name.to_string()))
                }
                Some(_) => Err(bad(
                    "an aggregator name is 1 to 256 letters, digits, `.`, `_` or `-`",
                )),
                None => Err(bad(
                    "is not api, config:AGGREGATOR (an AWS Config aggregator) or config:local",
                )),
            },
        }
    }
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            max_attempts: 6,
            attempt_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(120),
            iam_reads: IamReads::Auto,
            role: None,
            source: AwsSource::Api,
        }
    }
}

/// `--aws-role 'arn:aws:iam::{account}:role/NAME'` and `--aws-external-id`: the role driftgate
/// assumes in each other account it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTemplate {
    template: String,
    external_id: Option<String>,
}

impl RoleTemplate {
    /// Checks the template's shape now, so a typo fails before any read.
    pub fn parse(template: &str, external_id: Option<String>) -> Result<Self> {
        let bad = |why: &str| Error::new(format!("--aws-role {template}"), why.to_string());
        if template.matches("{account}").count() != 1 {
            return Err(bad(
                "must name the account exactly once as {account}, as in                  arn:aws:iam::{account}:role/driftgate-read",
            ));
        }
        let parts: Vec<&str> = template.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", partition, "iam", "", "{account}", resource]
                if !partition.is_empty()
                    && resource.starts_with("role/")
                    && resource.len() > "role/".len() => {}
            _ => {
                return Err(bad(
                    "is not an IAM role ARN with {account} as its account, such as                      arn:aws:iam::{account}:role/driftgate-read (arn:aws-us-gov:… and                      arn:aws-cn:… for those partitions)",
                ))
            }
        }
        if external_id.as_deref().is_some_and(str::is_empty) {
            return Err(Error::new("--aws-external-id", "is empty"));
        }
        Ok(RoleTemplate {
            template: template.to_string(),
            external_id,
        })
    }

    /// The role to assume in `account`.
    pub fn for_account(&self, account: &str) -> String {
        self.template.replace("{account}", account)
    }
}

/// How IAM objects are read (`--iam-reads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IamReads {
    /// The account listing when the run checks more than a handful of IAM objects in all, per
    /// object below.
    #[default]
    Auto,
    /// Always the account listing (`GetAccountAuthorizationDetails`).
    Account,
    /// Always per object (`GetRole`, `GetPolicy`…): for credentials without
    /// `iam:GetAccountAuthorizationDetails`.
    Object,
}

/// A value computed once per run, of any type (see `AwsContext::once`).
type Memo = Arc<tokio::sync::OnceCell<Arc<dyn Any + Send + Sync>>>;

const IAM_CONCURRENCY: usize = 4;

pub struct AwsContext {
    config: SdkConfig,
    /// IAM has no batch reads and a low request rate limit: at most this many IAM reads at once,
    /// whatever `--concurrency` says (the SDK's backoff handles the rest).
    iam_permits: tokio::sync::Semaphore,
    ec2: Mutex<HashMap<String, aws_sdk_ec2::Client>>,
    /// Shared by the contexts of every account one run reads, so the report counts all calls.
    calls: Arc<CallCounter>,
    max_attempts: u32,
    iam_reads: IamReads,
    source: AwsSource,
    /// Reads shared by several families (an account-wide IAM listing), by name.
    memo: Mutex<HashMap<String, Memo>>,
    /// How many objects each family reads in this run, known before the reads start: a family
    /// may choose how to read by the size of the whole run (IAM lists the account for all its
    /// families once the run checks more than a handful of IAM objects in all).
    planned: Mutex<BTreeMap<&'static str, usize>>,
}

impl AwsContext {
    pub async fn load(settings: &AwsSettings) -> Result<Self> {
        named_profile_exists().await?;
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(WholeAnswers::wrap(https_client(None)))
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(settings.attempt_timeout)
                    .operation_timeout(settings.call_timeout)
                    .build(),
            )
            .load()
            .await;
        Ok(AwsContext {
            config,
            iam_permits: tokio::sync::Semaphore::new(IAM_CONCURRENCY),
            ec2: Mutex::new(HashMap::new()),
            calls: Arc::new(CallCounter::default()),
            max_attempts: settings.max_attempts,
            iam_reads: settings.iam_reads,
            source: settings.source.clone(),
            memo: Mutex::new(HashMap::new()),
            planned: Mutex::new(BTreeMap::new()),
        })
    }

    /// The same clients with a role of another account (`--aws-role`): STS AssumeRole with the
    /// session name `driftgate`, from these credentials. The role is assumed now, so a role that
    /// cannot be assumed fails the run here, named, instead of as the first read's error; the
    /// credentials are kept for the run and refreshed by the SDK before they expire.
    pub async fn assume(&self, role: &RoleTemplate, account: &str, region: &str) -> Result<Self> {
        use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
        let role_arn = role.for_account(account);
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(&role_arn)
            .session_name("driftgate")
            .region(Region::new(region.to_string()))
            .configure(&self.config);
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id);
        }
        let provider = AssumedRole {
            inner: builder.build().await,
            first: Mutex::new(None),
            calls: self.calls.clone(),
        };
        let first = provider.provide_credentials().await.map_err(|e| {
            let text = DisplayErrorContext(&e).to_string();
            let hint = if text.contains("AccessDenied") {
                format!(
                    " (the role's trust policy must allow these credentials to assume it{}, and                      these credentials need sts:AssumeRole on it)",
                    if role.external_id.is_some() {
                        " with this external id"
                    } else {
                        ""
                    }
                )
            } else {
                String::new()
            };
            Error::new(
                format!("AWS sts AssumeRole {role_arn} (for account {account})"),
                format!("{}{hint}", one_line(&text)),
            )
        })?;
        *provider.first.lock().unwrap_or_else(|p| p.into_inner()) = Some(first);
        let config = self
            .config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        Ok(AwsContext {
            config,
            iam_permits: tokio::sync::Semaphore::new(IAM_CONCURRENCY),
            ec2: Mutex::new(HashMap::new()),
            calls: self.calls.clone(),
            max_attempts: self.max_attempts,
            iam_reads: self.iam_reads,
            source: self.source.clone(),
            memo: Mutex::new(HashMap::new()),
            planned: Mutex::new(BTreeMap::new()),
        })
    }

    /// Records that the run reads `count` objects of `family`.
    pub fn plan(&self, family: &'static str, count: usize) {
        let mut planned = self.planned.lock().unwrap_or_else(|p| p.into_inner());
        *planned.entry(family).or_default() += count;
    }

    /// Objects the run reads of these families.
    pub fn planned(&self, families: &[&str]) -> usize {
        let planned = self.planned.lock().unwrap_or_else(|p| p.into_inner());
        families.iter().filter_map(|f| planned.get(f)).sum()
    }

    pub fn iam_reads(&self) -> IamReads {
        self.iam_reads
    }

    pub fn source(&self) -> &AwsSource {
        &self.source
    }

    pub fn config(&self, region: &str) -> aws_sdk_config::Client {
        let conf = aws_sdk_config::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_config::Client::from_conf(conf)
    }

    /// The value of `key` for this run: computed by the first caller (`init`), shared with every
    /// later or concurrent one. A failed `init` is not kept (the run ends on it anyway).
    pub async fn once<T, F>(&self, key: &str, init: F) -> Result<Arc<T>>
    where
        T: Any + Send + Sync,
        F: Future<Output = Result<T>>,
    {
        let cell = {
            let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
            memo.entry(key.to_string()).or_default().clone()
        };
        let value = cell
            .get_or_try_init(|| async {
                init.await
                    .map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>)
            })
            .await?;
        value.clone().downcast::<T>().map_err(|_| {
            Error::new(
                "driftgate",
                format!("internal error: the shared read {key} holds another type"),
            )
        })
    }

    /// `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's region: for resources whose state
    /// records no region of their own.
    pub fn default_region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let mut clients = self.ec2.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_ec2::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .interceptor(AlwaysAnswered)
                    .build();
                aws_sdk_ec2::Client::from_conf(conf)
            })
            .clone()
    }

    /// Waits for a turn to read IAM; hold the permit for the duration of the read.
    pub async fn iam_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.iam_permits.acquire().await.ok()
    }

    pub fn iam(&self, region: &str) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        let conf = aws_sdk_rds::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_rds::Client::from_conf(conf)
    }

    pub fn elbv2(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_elasticloadbalancingv2::Client::from_conf(conf)
    }

    pub fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    pub fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        let conf = aws_sdk_elasticache::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_elasticache::Client::from_conf(conf)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// S3 Control client for `region`. With an endpoint override, requests go to
    /// `ACCOUNT.HOST`; when HOST is an IP address that name cannot resolve, so the client resolves
    /// names ending in an IPv4 address to that address (others as usual).
    pub fn s3control(&self, region: &str) -> aws_sdk_s3control::Client {
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered);
        if self.config.endpoint_url().is_some() {
            conf = conf.http_client(WholeAnswers::wrap(https_client(Some(IpSuffixResolver))));
        }
        aws_sdk_s3control::Client::from_conf(conf.build())
    }

    /// S3 client for `region`. With an endpoint override (S3-compatible stores, emulators) it
    /// addresses buckets by path, since `bucket.host` names rarely resolve there.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            // S3 has no batch reads: a large estate sends it one call per bucket setting,
            // `--concurrency` at once. The SDK's adaptive mode slows this client down once S3
            // answers `SlowDown` and ramps up again after, instead of a fixed rate limit. (Measured
            // on the fault matrix: after a throttle early in a small run it can cost tens of
            // seconds, since its rate is learnt from the few calls sent so far; IAM therefore
            // stays on standard retries, its reads being few now that the account is listed.)
            .retry_config(RetryConfig::adaptive().with_max_attempts(self.max_attempts))
            .force_path_style(
                self.config.endpoint_url().is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
            )
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Counts one API request (one page), for the report's `summary.api_calls`.
    pub fn count(&self, service: &str, operation: &str) {
        self.calls.add(service, operation);
    }

    /// `{service: {operation: n}}`.
    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.calls.snapshot()
    }

    /// The account the credentials belong to. Reading another account's resource would make it
    /// look deleted, so the caller compares this with the account in each resource's ARN.
    pub async fn caller_account(&self, region: &str) -> Result<String> {
        let account = self
            .once("sts GetCallerIdentity", self.ask_caller_account(region))
            .await?;
        Ok(account.as_ref().clone())
    }

    async fn ask_caller_account(&self, region: &str) -> Result<String> {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(AlwaysAnswered)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(conf);
        self.count("sts", "GetCallerIdentity");
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.error("sts", "GetCallerIdentity", region, e))?;
        out.account().map(str::to_string).ok_or_else(|| {
            Error::new(
                format!("AWS sts GetCallerIdentity in {region}"),
                "the answer has no account id",
            )
        })
    }

    /// A clear, credential-free message for a failed call, with a hint at the usual cause.
    pub fn error<E, R>(
        &self,
        service: &str,
        operation: &str,
        region: &str,
        err: SdkError<E, R>,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let input = format!("AWS {service} {operation} in {region}");
        let code = err.code().unwrap_or_default().to_string();
        let detail = match &err {
            SdkError::ServiceError(_) => format!(
                "{}: {}",
                if code.is_empty() {
                    "service error"
                } else {
                    &code
                },
                err.message().unwrap_or("no message")
            ),
            _ => {
                let text = DisplayErrorContext(&err).to_string();
                if text.contains("no credentials found in chain") {
                    return Error::new(input, NO_CREDENTIALS);
                } else {
                    // The context ends with a Debug dump of the same chain: noise in a CI log.
                    let text = match [
                        " (DispatchFailure(",
                        " (ConstructionFailure(",
                        " (ResponseError(",
                        " (TimeoutError(",
                    ]
                    .iter()
                    .find_map(|dump| text.find(dump))
                    {
                        Some(i) => text[..i].to_string(),
                        None => text,
                    };
                    // A refused answer (clients/whole_answers.rs) says itself what is wrong.
                    match text.split_once("interceptor encountered an error: ") {
                        Some((_, why)) => why.to_string(),
                        None => text,
                    }
                }
            }
        };
        let lower = detail.to_ascii_lowercase();
        let hint = if matches!(err, SdkError::TimeoutError(_))
            || lower.contains("timeout")
            || lower.contains("timed out")
        {
            format!(" (timed out; {} attempts allowed)", self.max_attempts)
        } else if code.contains("Throttl")
            || code == "RequestLimitExceeded"
            || lower.contains("rate exceeded")
        {
            format!(
                " (still throttled after {} attempts with backoff)",
                self.max_attempts
            )
        } else if lower.contains("credential")
            || code == "AuthFailure"
            || code.contains("InvalidClientTokenId")
        {
            " (check the AWS credentials in the environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
             AWS_PROFILE, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE)"
                .to_string()
        } else if code == "PermanentRedirect"
            || code == "AuthorizationHeaderMalformed"
            || code == "IllegalLocationConstraintException"
        {
            " (the bucket is in another region than the one driftgate inferred: give the resource a \
             `region` (provider v6) or run with AWS_REGION set to the bucket's region)"
                .to_string()
        } else if code == "UnauthorizedOperation" || code.contains("AccessDenied") {
            format!(" (the credentials lack {service}:{operation}; see the README for the read-only policy)")
        } else {
            String::new()
        };
        Error::new(input, format!("{detail}{hint}"))
    }
}

/// The credentials of an assumed role: the first set, fetched when the role was assumed to check
/// that it can be, serves until shortly before it expires; then STS is asked again. Each AssumeRole
/// call is counted with the run's other calls.
#[derive(Debug)]
struct AssumedRole {
    inner: aws_config::sts::AssumeRoleProvider,
    first: Mutex<Option<aws_credential_types::Credentials>>,
    calls: Arc<CallCounter>,
}

impl aws_credential_types::provider::ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let fresh = {
            let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
            let margin = std::time::SystemTime::now() + Duration::from_secs(300);
            match first.take() {
                Some(c) if c.expiry().is_none_or(|e| e > margin) => {
                    *first = Some(c.clone());
                    Some(c)
                }
                _ => None,
            }
        };
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            match fresh {
                Some(c) => Ok(c),
                None => {
                    self.calls.add("sts", "AssumeRole");
                    self.inner.provide_credentials().await
                }
            }
        })
    }
}

/// An SDK error's context without its trailing Debug dump.
fn one_line(text: &str) -> String {
    let cut = [
        " (DispatchFailure(",
        " (ConstructionFailure(",
        " (ResponseError(",
    ]
    .iter()
    .find_map(|dump| text.find(dump))
    .unwrap_or(text.len());
    text[..cut].to_string()
}

/// Said once, with what to set, instead of the SDK's account of every provider it tried.
const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE (in \
     GitHub Actions, aws-actions/configure-aws-credentials sets them)";

/// A named `AWS_PROFILE` must exist: otherwise the SDK's chain only reports that no credentials
/// were found, which hides the typo. Read with the SDK's own profile parser and file locations
/// (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, `~/.aws`).
async fn named_profile_exists() -> Result<()> {
    let Some(name) = std::env::var("AWS_PROFILE")
        .ok()
        .filter(|p| !p.trim().is_empty())
    else {
        return Ok(());
    };
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        &files,
        None,
    )
    .await
    .map_err(|e| {
        Error::new(
            format!("AWS_PROFILE={name}"),
            format!("cannot read the AWS config files: {e}"),
        )
    })?;
    if set.get_profile(&name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    Err(Error::new(
        format!("AWS_PROFILE={name}"),
        format!(
            "no such profile in the AWS config files ({} and {}); {}",
            std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| "~/.aws/config".into()),
            std::env::var("AWS_SHARED_CREDENTIALS_FILE")
                .unwrap_or_else(|_| "~/.aws/credentials".into()),
            if known.is_empty() {
                "they define none".to_string()
            } else {
                format!("they define: {}", known.join(", "))
            }
        ),
    ))
}

/// The SDK's HTTPS client (rustls with aws-lc, as the SDK's default), with our resolver if given.
fn https_client(
    resolver: Option<IpSuffixResolver>,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
    use aws_smithy_http_client::tls::Provider;
    let builder =
        aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    match resolver {
        Some(r) => builder.build_with_resolver(r),
        None => builder.build_https(),
    }
}

/// Resolves `anything.1.2.3.4` to 1.2.3.4 and other names through the system resolver.
#[derive(Debug, Clone)]
struct IpSuffixResolver;

impl aws_smithy_runtime_api::client::dns::ResolveDns for IpSuffixResolver {
    fn resolve_dns<'a>(
        &'a self,
        name: &'a str,
    ) -> aws_smithy_runtime_api::client::dns::DnsFuture<'a> {
        use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDnsError};
        let labels: Vec<&str> = name.rsplitn(5, '.').collect();
        if labels.len() >= 4 {
            let tail = format!("{}.{}.{}.{}", labels[3], labels[2], labels[1], labels[0]);
            if let Ok(ip) = tail.parse::<std::net::Ipv4Addr>() {
                return DnsFuture::ready(Ok(vec![std::net::IpAddr::V4(ip)]));
            }
        }
        DnsFuture::new(async move {
            tokio::net::lookup_host((name, 0))
                .await
                .map(|addrs| addrs.map(|a| a.ip()).collect())
                .map_err(ResolveDnsError::new)
        })
    }
}
