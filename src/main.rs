use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use driftgate::check::{self, CheckOptions};
use driftgate::clients::aws::{AwsSettings, AwsSource, IamReads, RoleTemplate};
use driftgate::error::Error;
use driftgate::report::{console, gitlab, json, junit, markdown, sarif, Report};

/// Fails the pipeline when security-critical cloud resources drift from Terraform state.
#[derive(Parser)]
#[command(name = "driftgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compare the state with the live cloud; exit 0 (pass or warn), 1 (blocking drift), 2 (could not check).
    Check(Box<CheckArgs>),
    /// Break-glass tickets.
    Ticket {
        #[command(subcommand)]
        action: TicketCommand,
    },
    /// Serve the HCP Terraform / Terraform Enterprise run task endpoint: check each run's plan
    /// (or state) on request and report the verdict by callback.
    Serve(ServeArgs),
    /// Post a Markdown report (`check --output markdown=FILE`) as one pull request or merge
    /// request comment, updated in place on later runs; exit 0 when posted, 2 when not.
    Comment(CommentArgs),
    /// MTTR, recurrence and exception rate from the drift history (`check --history`); exit 0,
    /// 1 with --fail-on-target when a target is missed, 2 when the history cannot be read.
    Metrics(MetricsArgs),
    /// Write the fix of each finding into the Terraform that declares it: a console fix (drift
    /// that strengthens) is codified so that the next apply keeps it. Prints a unified diff
    /// (`| git apply` works from the working directory) or JSON; --write edits in place. Exit 0
    /// when it ran, 2 on any error.
    Fix(Box<FixArgs>),
    /// List the policies in force (built-in plus --policy files).
    Policies {
        /// Additional policy file (YAML); same id overrides a built-in policy.
        #[arg(long = "policy", value_name = "FILE")]
        policies: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FixFormat {
    Diff,
    Json,
}

#[derive(clap::Args)]
struct FixArgs {
    /// Terraform state, as for `check`. Repeatable.
    #[arg(
        long = "state",
        visible_alias = "plan",
        value_name = "PATH",
        required = true
    )]
    states: Vec<String>,
    /// The Terraform root module whose `.tf` files (and local modules) declare the state's
    /// resources.
    #[arg(long, value_name = "DIR", default_value = ".")]
    source_dir: String,
    /// Additional policy file, as for `check`. Repeatable.
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<String>,
    /// Only fix this address (repeatable; default: every finding).
    #[arg(long = "address", value_name = "ADDR")]
    addresses: Vec<String>,
    /// Also write drift that weakens (or whose effect is unknown) into the code: the
    /// reconciliation of an incident change that is meant to stay. Marked `accept`.
    #[arg(long)]
    accept_weakening: bool,
    /// Also write the well-known hardenings of what the code declares, drift or not: SSH and
    /// RDP from 0.0.0.0/0 or ::/0 (removed, or narrowed to --admin-cidr), KMS rotation off,
    /// RDS instances publicly accessible, unencrypted EBS volumes (replaced on apply), S3 Block
    /// Public Access settings off, Azure storage accounts allowing public blobs, Google Cloud
    /// buckets without public access prevention. Marked `harden`.
    #[arg(long)]
    harden: bool,
    /// With --harden: narrow SSH and RDP from 0.0.0.0/0 to this IPv4 CIDR instead of removing
    /// the rule.
    #[arg(long, value_name = "CIDR", requires = "harden")]
    admin_cidr: Option<String>,
    /// Edit the files in place instead of printing.
    #[arg(long)]
    write: bool,
    /// Open the fixes as a ready pull request (`github:OWNER/REPO`, with GITHUB_TOKEN and
    /// GITHUB_API_URL) or merge request (`gitlab:GROUP/PROJECT`, with GITLAB_TOKEN or
    /// CI_JOB_TOKEN and CI_API_V4_URL): branch `driftgate/fix-<hash>`, one commit. The same
    /// fixes again update the open request. Prints its URL.
    #[arg(long, value_name = "TRACKER")]
    pr: Option<String>,
    /// The branch the request targets [default: the repository's default branch].
    #[arg(long, value_name = "BRANCH", requires = "pr")]
    base: Option<String>,
    /// What to print: a unified diff, or `{"version":1,"fixes":[…],"manual":[…]}`.
    #[arg(long, value_enum, ignore_case = true, default_value = "diff")]
    format: FixFormat,
    /// Where the live side comes from, as for `check` [default: api].
    #[arg(long, value_enum, ignore_case = true)]
    live: Option<LiveArg>,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64), default_value = "8")]
    concurrency: u16,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (the run task URL points here, usually through a TLS proxy).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDRESS:PORT")]
    listen: String,
    /// Live side of the checks at post_plan and pre_apply: `plan` (what the plan's refresh read:
    /// no cloud credentials on the server) or `api` (read the cloud; also needed at pre_plan and
    /// post_apply) [default: plan].
    #[arg(long, value_enum, ignore_case = true)]
    live: Option<LiveArg>,
    /// Additional policy file, as for `check`. Repeatable.
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<String>,
    /// Break-glass tracker, as for `check`. Repeatable.
    #[arg(long = "tickets", value_name = "TRACKER")]
    tickets: Vec<String>,
    /// Label that marks a break-glass ticket.
    #[arg(
        long,
        default_value = "break-glass",
        value_name = "LABEL",
        requires = "tickets"
    )]
    ticket_label: String,
    /// How long after its creation a ticket covers drift.
    #[arg(
        long,
        default_value = "48h",
        value_name = "DURATION",
        requires = "tickets"
    )]
    ticket_max_age: String,
    /// Only tickets to which someone other than their author added this label count.
    #[arg(long, value_name = "LABEL", requires = "tickets")]
    require_approval: Option<String>,
    /// Tag key that holds the data classification, as for `check`. Repeatable.
    #[arg(long = "sensitivity-tag", value_name = "KEY")]
    sensitivity_tags: Vec<String>,
    /// Checks run at once; more wait in the queue.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel: u16,
    /// Checks accepted and not yet called back; beyond, requests are answered 503 (HCP Terraform
    /// retries them).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=10000))]
    queue: u16,
    /// Seconds between `running` updates of a check still going.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=540))]
    progress_every: u64,
    /// Seconds after which a check is reported failed (HCP Terraform gives a task ten minutes).
    #[arg(long, default_value_t = 540, value_parser = clap::value_parser!(u64).range(1..=590))]
    deadline: u64,
    /// Record each completed check in the drift history, as `check --history` does.
    #[arg(long, value_name = "DEST")]
    history: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(clap::Args)]
struct MetricsArgs {
    /// The history: a directory, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or
    /// azurerm://ACCOUNT/CONTAINER/PREFIX.
    #[arg(long, value_name = "DEST")]
    history: String,
    /// The window's length, back from --until (90d, 12w, 720h).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    since: String,
    /// The window's end: an RFC 3339 time or a date (its end of day, UTC) [default: now].
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Report format on stdout.
    #[arg(long, value_enum, ignore_case = true, default_value = "console")]
    format: MetricsFormat,
    /// Also write a report to a file: FORMAT=PATH (console, json, markdown, openmetrics, html).
    /// Repeatable.
    #[arg(long = "output", value_name = "FORMAT=PATH")]
    outputs: Vec<String>,
    /// Exit 1 when a target is missed (for a scheduled job).
    #[arg(long)]
    fail_on_target: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum MetricsFormat {
    Console,
    Json,
    Markdown,
    Openmetrics,
    /// One self-contained page with charts.
    Html,
}

#[derive(clap::Args)]
struct CommentArgs {
    /// The Markdown to post.
    #[arg(long, value_name = "FILE")]
    body: std::path::PathBuf,
    /// Where: github:OWNER/REPO#NUMBER (GITHUB_TOKEN, GITHUB_API_URL) or
    /// gitlab:GROUP/PROJECT!IID (GITLAB_TOKEN, CI_API_V4_URL).
    #[arg(long, value_name = "TARGET")]
    on: String,
    /// Tells the comments apart when several gates comment on one pull request (one per
    /// Terraform directory, say).
    #[arg(long, default_value = "driftgate", value_name = "NAME")]
    key: String,
}

#[derive(Subcommand)]
enum TicketCommand {
    /// Open the reconciliation ticket for the current blocking drift (for incident responders).
    Open(OpenArgs),
}

/// Where the live side of AWS objects comes from, and how other accounts are read (`check`,
/// `serve`, `ticket open`).
#[derive(clap::Args)]
struct AwsArgs {
    /// Where AWS objects are read: `api` (each object's own API, the default), `config:NAME` (AWS
    /// Config's configuration items through the aggregator NAME, in the credentials' region: every
    /// account and region it collects, no role per account) or `config:local` (each account's own
    /// recorder). A drift seen through Config is read again directly where credentials for its
    /// account exist, and is reported unconfirmed otherwise.
    #[arg(long, value_name = "SOURCE")]
    aws_source: Option<String>,
    /// Read the objects of other AWS accounts with this role of theirs: an IAM role ARN with
    /// `{account}` for the account from each resource's ARN or owner id, e.g.
    /// 'arn:aws:iam::{account}:role/driftgate-read' (STS AssumeRole from the run's credentials,
    /// session name driftgate). Without it, a resource of another account is an error.
    #[arg(long, value_name = "ARN")]
    aws_role: Option<String>,
    /// External id to pass when assuming --aws-role (the role's trust policy names it).
    #[arg(long, value_name = "ID", requires = "aws_role")]
    aws_external_id: Option<String>,
}

impl AwsArgs {
    fn settings(&self) -> Result<AwsSettings, Error> {
        Ok(AwsSettings {
            role: self
                .aws_role
                .as_deref()
                .map(|t| RoleTemplate::parse(t, self.aws_external_id.clone()))
                .transpose()?,
            source: self
                .aws_source
                .as_deref()
                .map(AwsSource::parse)
                .transpose()?
                .unwrap_or_default(),
            ..AwsSettings::default()
        })
    }
}

#[derive(clap::Args)]
struct OpenArgs {
    /// Where to open it: github:OWNER/REPO, gitlab:GROUP/PROJECT (or id), jira:PROJECTKEY.
    #[arg(long = "tickets", value_name = "TRACKER")]
    tickets: String,
    /// Terraform state, as for `check`. Repeatable.
    #[arg(long = "state", value_name = "PATH", required = true)]
    states: Vec<String>,
    /// Additional policy file, as for `check`. Repeatable.
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<String>,
    /// Label that marks a break-glass ticket.
    #[arg(long, default_value = "break-glass", value_name = "LABEL")]
    ticket_label: String,
    /// The window the ticket text announces (it is enforced by `check --ticket-max-age`).
    #[arg(long, default_value = "48h", value_name = "DURATION")]
    ticket_max_age: String,
    /// Jira issue type of the ticket.
    #[arg(long, default_value = "Task", value_name = "NAME")]
    jira_issue_type: String,
    /// Print the ticket instead of creating it.
    #[arg(long)]
    dry_run: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Format {
    Console,
    Json,
    Sarif,
    Junit,
    Markdown,
    Gitlab,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum LiveArg {
    Api,
    Plan,
}

#[derive(Clone, Copy, ValueEnum)]
enum IamReadsArg {
    Auto,
    Account,
    Object,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Terraform state: a v4 state file, `terraform show -json` output of a state or a plan
    /// (`--plan` is the same flag), `-` for stdin, a glob ('envs/*/terraform.tfstate'),
    /// s3://BUCKET/KEY[?region=R], gs://BUCKET/OBJECT (or gs://BUCKET/PREFIX/),
    /// azurerm://ACCOUNT/CONTAINER/KEY, tfc://ORGANIZATION/WORKSPACE (HCP Terraform), or an
    /// https:// URL of Terraform's http backend (GitLab-managed state). Repeatable.
    #[arg(
        long = "state",
        visible_alias = "plan",
        value_name = "PATH",
        required = true
    )]
    states: Vec<String>,
    /// Where the live side comes from: `api` reads the cloud (also what refresh cannot see);
    /// `plan` uses the values the plan's refresh read (`terraform show -json` of a plan for
    /// every --state; no credentials, no API calls) [default: api]. Not settable in the config
    /// file: it decides what can be seen.
    #[arg(long, value_enum, ignore_case = true)]
    live: Option<LiveArg>,
    /// Terraform workspace of remote states: s3:// reads <prefix>/<workspace>/<key>, gs://…/PREFIX/
    /// reads PREFIX/<workspace>.tfstate, azurerm:// reads <key>env:<workspace>.
    #[arg(long, value_name = "NAME")]
    workspace: Option<String>,
    /// The S3 backend's workspace_key_prefix.
    #[arg(long, default_value = "env:", value_name = "PREFIX")]
    workspace_key_prefix: String,
    /// Additional policy file (YAML); same id overrides a built-in policy. Repeatable.
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<String>,
    /// Report format on stdout [default: console].
    #[arg(long, value_enum, ignore_case = true)]
    format: Option<Format>,
    /// Also write a report to a file, as FORMAT=PATH (e.g. json=drift.json). Repeatable.
    #[arg(long = "output", value_name = "FORMAT=PATH")]
    outputs: Vec<String>,
    /// Colour in the console report [default: auto].
    #[arg(long, value_enum, ignore_case = true)]
    color: Option<Color>,
    /// Concurrent API reads [default: 8].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: Option<u16>,
    /// Attempts per AWS API call, with exponential backoff on throttling and transient errors
    /// [default: 6]. (Azure and Google Cloud reads: 4 attempts, honouring Retry-After.)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: Option<u32>,
    /// Timeout of one AWS API call attempt, in seconds [default: 30]. (Azure and Google Cloud
    /// reads: 30 s.)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: Option<u64>,
    /// How IAM roles, users, groups and policies are read: `account` lists the whole account with
    /// GetAccountAuthorizationDetails (1,000 entities a call), `object` reads each (2–4 calls),
    /// `auto` lists the account when the run checks more than 10 IAM objects [default: auto].
    #[arg(long, value_enum, ignore_case = true)]
    iam_reads: Option<IamReadsArg>,
    #[command(flatten)]
    aws: AwsArgs,
    /// Terraform source to point findings at (SARIF, annotations, Code Quality) [default: .].
    #[arg(long, value_name = "DIR")]
    source_dir: Option<String>,
    /// Config file with non-security settings only [default: .driftgate.yaml if present].
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Tag (Azure tag, Google Cloud label) key that holds the data classification used in the
    /// risk score, e.g. data-classification; matched ignoring case, `-` and `_`; the first key an
    /// object carries wins. Repeatable [default: data-classification, classification,
    /// data-sensitivity, sensitivity, confidentiality].
    #[arg(long = "sensitivity-tag", value_name = "KEY")]
    sensitivity_tags: Vec<String>,
    /// Break-glass tracker: github:OWNER/REPO, gitlab:GROUP/PROJECT (or id), jira:PROJECTKEY. Repeatable.
    #[arg(long = "tickets", value_name = "TRACKER")]
    tickets: Vec<String>,
    /// Label that marks a break-glass ticket.
    #[arg(
        long,
        default_value = "break-glass",
        value_name = "LABEL",
        requires = "tickets"
    )]
    ticket_label: String,
    /// How long after its creation (by the tracker's clock) a ticket covers drift: 48h, 90m, 2d.
    #[arg(
        long,
        default_value = "48h",
        value_name = "DURATION",
        requires = "tickets"
    )]
    ticket_max_age: String,
    /// Only tickets to which someone other than their author added this label count.
    #[arg(long, value_name = "LABEL", requires = "tickets")]
    require_approval: Option<String>,
    /// Exit 2 when the states hold nothing driftgate checks (a wrong path or workspace, an
    /// empty state): for pipelines where that can only be a mistake.
    #[arg(long)]
    fail_on_empty: bool,
    /// Check only this share of the states: K/N (1-based), by a stable hash of each state's
    /// path or URL, so N jobs of a CI matrix sweep every state once.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Record this run in the drift history (a directory, s3://BUCKET/PREFIX,
    /// gs://BUCKET/PREFIX or azurerm://ACCOUNT/CONTAINER/PREFIX) for `driftgate metrics`. A
    /// record that cannot be written is exit 2.
    #[arg(long, value_name = "DEST")]
    history: Option<String>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    // Fail closed even on a bug: a panic must not look like a pass or like drift.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("driftgate: internal error: {info}");
        eprintln!("driftgate: the check could not be completed (exit 2); please report this");
        std::process::exit(2);
    }));
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("driftgate: error: {e}");
            eprintln!("driftgate: the check could not be completed (exit 2)");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Policies { policies } => {
            let set = driftgate::policy::PolicySet::load(&policies, &check::known_types())?;
            let width = set.policies.iter().map(|p| p.id.len()).max().unwrap_or(0);
            for p in &set.policies {
                println!(
                    "{:<width$}  {:<8} {:<5} {}  ({})",
                    p.id,
                    p.severity.as_str(),
                    format!("{:?}", p.enforcement).to_lowercase(),
                    p.title,
                    p.origin
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => check_command(*args),
        Command::Fix(args) => fix_command(*args),
        Command::Serve(args) => serve_command(args),
        Command::Comment(args) => comment_command(args),
        Command::Metrics(args) => metrics_command(args),
        Command::Ticket {
            action: TicketCommand::Open(args),
        } => ticket_open(args),
    }
}

fn breakglass_settings(
    tickets: &[String],
    label: &str,
    max_age: &str,
    require_approval: Option<String>,
) -> Result<Option<driftgate::breakglass::Settings>, Error> {
    // Ticket options without --tickets are refused by clap (`requires`).
    if tickets.is_empty() {
        return Ok(None);
    }
    let max_age = driftgate::breakglass::parse_duration(max_age)
        .map_err(|e| Error::new("--ticket-max-age", e))?;
    if label.trim().is_empty() {
        return Err(Error::new("--ticket-label", "must not be empty"));
    }
    Ok(Some(driftgate::breakglass::Settings {
        trackers: tickets
            .iter()
            .map(|t| driftgate::breakglass::TrackerSpec::parse(t))
            .collect::<Result<_, _>>()?,
        label: label.to_string(),
        max_age,
        require_approval,
    }))
}

fn serve_command(args: ServeArgs) -> Result<ExitCode, Error> {
    let history = args
        .history
        .as_deref()
        .map(driftgate::history::store::Dest::parse)
        .transpose()?;
    let hmac_key = std::env::var("DRIFTGATE_RUN_TASK_HMAC_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .map(String::into_bytes);
    let live = match args.live.unwrap_or(LiveArg::Plan) {
        LiveArg::Api => check::LiveSource::Api,
        LiveArg::Plan => check::LiveSource::Plan,
    };
    let opts = driftgate::serve::ServeOptions {
        listen: args.listen,
        hmac_key,
        check: CheckOptions {
            states: Vec::new(),
            workspace: None,
            workspace_key_prefix: "env:".into(),
            policies: args.policies,
            concurrency: 8,
            aws: args.aws.settings()?,
            progress: false,
            breakglass: breakglass_settings(
                &args.tickets,
                &args.ticket_label,
                &args.ticket_max_age,
                args.require_approval,
            )?,
            source_dir: None,
            live,
            risk: risk_settings(&args.sensitivity_tags, &[])?,
            shard: None,
        },
        live,
        parallel: usize::from(args.parallel),
        queue: usize::from(args.queue),
        progress_every: Duration::from_secs(args.progress_every),
        deadline: Duration::from_secs(args.deadline),
        history,
    };
    // Policies are read once at start: a bad file stops the server, not each run.
    driftgate::policy::PolicySet::load(&opts.check.policies, &check::known_types())?;
    runtime()?.block_on(driftgate::serve::serve(opts))?;
    Ok(ExitCode::SUCCESS)
}

fn check_command(args: CheckArgs) -> Result<ExitCode, Error> {
    // Flags win over the config file, which wins over defaults.
    let config = driftgate::config::load(args.config.as_deref())?.unwrap_or_default();
    let shard = args
        .shard
        .as_deref()
        .map(driftgate::state::Shard::parse)
        .transpose()?;
    let format = match (args.format, config.format.as_deref()) {
        (Some(f), _) => f,
        (None, Some(f)) => Format::from_str(f.trim(), true).map_err(|_| {
            Error::new(
                "config `format`",
                format!("`{f}` is not console, json, sarif, junit, markdown or gitlab"),
            )
        })?,
        (None, None) => Format::Console,
    };
    let color_choice = match (args.color, config.color.as_deref()) {
        (Some(c), _) => c,
        (None, Some(c)) => Color::from_str(c.trim(), true).map_err(|_| {
            Error::new(
                "config `color`",
                format!("`{c}` is not auto, always or never"),
            )
        })?,
        (None, None) => Color::Auto,
    };
    let output_specs = if args.outputs.is_empty() {
        &config.output
    } else {
        &args.outputs
    };
    let outputs = output_specs
        .iter()
        .map(|o| parse_output(o, args.outputs.is_empty()))
        .collect::<Result<Vec<_>, _>>()?;
    let concurrency = in_range(
        "concurrency",
        args.concurrency.or(config.concurrency),
        8,
        1,
        64,
    )?;
    let max_attempts = in_range(
        "max_attempts",
        args.max_attempts.or(config.max_attempts),
        6,
        1,
        20,
    )?;
    let timeout = in_range("timeout", args.timeout.or(config.timeout), 30, 1, 600)?;
    let iam_reads = match (args.iam_reads, config.iam_reads.as_deref()) {
        (Some(r), _) => r,
        (None, Some(r)) => IamReadsArg::from_str(r.trim(), true).map_err(|_| {
            Error::new(
                "config `iam_reads`",
                format!("`{r}` is not auto, account or object"),
            )
        })?,
        (None, None) => IamReadsArg::Auto,
    };
    let quiet = args.quiet || config.quiet == Some(true);
    let breakglass = breakglass_settings(
        &args.tickets,
        &args.ticket_label,
        &args.ticket_max_age,
        args.require_approval.clone(),
    )?;
    let aws = args.aws.settings()?;
    let opts = CheckOptions {
        states: args.states,
        workspace: args.workspace,
        workspace_key_prefix: args.workspace_key_prefix,
        policies: args.policies,
        concurrency: usize::from(concurrency),
        aws: AwsSettings {
            max_attempts,
            attempt_timeout: Duration::from_secs(timeout),
            call_timeout: Duration::from_secs(timeout * 4),
            iam_reads: match iam_reads {
                IamReadsArg::Auto => IamReads::Auto,
                IamReadsArg::Account => IamReads::Account,
                IamReadsArg::Object => IamReads::Object,
            },
            role: aws.role,
            source: aws.source,
        },
        progress: !quiet,
        breakglass,
        live: match args.live.unwrap_or(LiveArg::Api) {
            LiveArg::Api => check::LiveSource::Api,
            LiveArg::Plan => check::LiveSource::Plan,
        },
        source_dir: Some(std::path::PathBuf::from(
            args.source_dir
                .clone()
                .or(config.source_dir.clone())
                .unwrap_or_else(|| ".".into()),
        )),
        risk: risk_settings(&args.sensitivity_tags, &config.sensitivity_tags)?,
        shard,
    };
    // Parsed before the check: a mistyped destination must not cost a whole run.
    let history = args
        .history
        .as_deref()
        .map(driftgate::history::store::Dest::parse)
        .transpose()?;
    let rt = runtime()?;
    let report = rt.block_on(check::run(&opts))?;
    if args.fail_on_empty && report.summary.objects_checked == 0 {
        return Err(Error::new(
            "--fail-on-empty",
            format!(
                "the state(s) hold {} resource(s), none that driftgate checks (`driftgate \
                 policies` lists what is checked): is the path or the workspace right?",
                report.summary.resources_in_state
            ),
        ));
    }
    // Even when quiet: they say what the check could not see.
    for note in &report.summary.notes {
        eprintln!("driftgate: warning: {note}");
    }

    // Recorded before any report is written: a run whose record fails is exit 2 and leaves no
    // report behind that a later step would take for its result.
    if let Some(dest) = &history {
        let record = driftgate::history::record(
            &report,
            driftgate::history::pipeline_from_env(&|k| std::env::var(k).ok()),
        );
        let written = rt.block_on(async {
            let store = driftgate::history::store::Store::open(dest, &opts.aws).await?;
            driftgate::history::write(&store, dest, &record).await
        })?;
        if !quiet {
            eprintln!("driftgate: recorded the run in {written}");
        }
    }
    for (format, path) in &outputs {
        std::fs::write(path, render(&report, *format, false))
            .map_err(|e| Error::new(format!("--output {path}"), format!("cannot write: {e}")))?;
    }
    let json_report = outputs
        .iter()
        .find(|(f, _)| *f == Format::Json)
        .map(|(_, p)| p.as_str());
    driftgate::ci::github(&report, json_report)?;
    let color = match color_choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    if format == Format::Console && std::env::var("GITLAB_CI").as_deref() == Ok("true") {
        let now = jiff::Timestamp::now().as_second();
        print!("{}", console::render_with(&report, color, Some(now)));
    } else {
        print!("{}", render(&report, format, color));
    }
    Ok(ExitCode::from(report.verdict.exit_code() as u8))
}

fn fix_command(args: FixArgs) -> Result<ExitCode, Error> {
    let aws = args.aws.settings()?;
    let source_dir = std::path::PathBuf::from(&args.source_dir);
    // Parsed before the check: a mistyped target must not cost a whole run.
    let forge = args
        .pr
        .as_deref()
        .map(driftgate::propose::Forge::parse)
        .transpose()?;
    if !source_dir.is_dir() {
        return Err(Error::new(
            format!("--source-dir {}", args.source_dir),
            "is not a directory",
        ));
    }
    let opts = CheckOptions {
        states: args.states,
        workspace: None,
        workspace_key_prefix: "env:".into(),
        policies: args.policies,
        concurrency: usize::from(args.concurrency),
        aws,
        progress: !args.quiet,
        breakglass: None,
        live: match args.live.unwrap_or(LiveArg::Api) {
            LiveArg::Api => check::LiveSource::Api,
            LiveArg::Plan => check::LiveSource::Plan,
        },
        source_dir: Some(source_dir.clone()),
        risk: driftgate::risk::Settings::default(),
        shard: None,
    };
    let admin = args
        .admin_cidr
        .as_deref()
        .map(|c| {
            driftgate::model::cidr(c)
                .ok()
                .filter(|c| !c.contains(':') && c != "0.0.0.0/0")
                .ok_or_else(|| {
                    Error::new(
                        format!("--admin-cidr {c}"),
                        "is not an IPv4 CIDR narrower than 0.0.0.0/0",
                    )
                })
        })
        .transpose()?;
    let (report, kept) = runtime()?.block_on(check::run_keeping(&opts))?;
    let harden = if args.harden {
        let policies = driftgate::policy::PolicySet::load(&opts.policies, &check::known_types())?;
        driftgate::harden::findings(&kept.expected, &kept.resources, &policies, admin.as_deref())
    } else {
        Vec::new()
    };
    let fix = driftgate::fix::FixOptions {
        accept_weakening: args.accept_weakening,
        addresses: args.addresses,
        harden,
        resources: kept.resources,
    };
    let set = driftgate::fix::plan(&report, &source_dir, &fix)?;
    if args.write {
        driftgate::fix::write(&set)?;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let display = |p: &std::path::Path| {
        let rel = p.strip_prefix(&cwd).unwrap_or(p);
        let rel = rel.strip_prefix(".").unwrap_or(rel);
        rel.display().to_string()
    };
    let opened = match &forge {
        Some(forge) if !set.fixes.is_empty() => {
            let root = driftgate::repo_path::root(&cwd).ok_or_else(|| {
                Error::new(
                    "--pr",
                    "the working directory is not in a git checkout (no .git above it, and \
                     neither GITHUB_WORKSPACE nor CI_PROJECT_DIR is set)",
                )
            })?;
            let proposal = driftgate::propose::compose(&set, &cwd, &root)?;
            let opened = runtime()?.block_on(driftgate::propose::open(
                forge,
                &proposal,
                args.base.as_deref(),
            ))?;
            Some(opened)
        }
        _ => None,
    };
    match (args.format, &opened) {
        (FixFormat::Json, _) => {
            let mut doc: serde_json::Value =
                serde_json::from_str(&set.json()).map_err(|e| Error::new("fix", e.to_string()))?;
            if let Some(o) = &opened {
                doc["pull_request"] = serde_json::json!({
                    "url": o.url, "branch": o.branch, "outcome": o.outcome
                });
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| Error::new("fix", e.to_string()))?
            );
        }
        (FixFormat::Diff, Some(o)) => println!("{}", o.url),
        (FixFormat::Diff, None) if forge.is_none() && !args.write => {
            print!("{}", set.diff(&display))
        }
        (FixFormat::Diff, None) => {}
    }
    if !args.quiet {
        eprintln!(
            "driftgate: {} fix(es){}, {} to do by hand",
            set.fixes.len(),
            if args.write { " written" } else { "" },
            set.manual.len()
        );
        if !set.weakening.is_empty() {
            eprintln!(
                "driftgate: {} finding(s) do not strengthen and are left out of the code \
                 (`terraform apply` restores what the code says; --accept-weakening writes them \
                 instead): {}",
                set.weakening.len(),
                set.weakening.join("; ")
            );
        }
        if !set.unsupported.is_empty() {
            eprintln!(
                "driftgate: {} finding(s) of a kind driftgate does not write yet (fix them by \
                 hand, or accept them with a ticket): {}",
                set.unsupported.len(),
                set.unsupported.join("; ")
            );
        }
        match (&forge, &opened) {
            (Some(forge), None) => eprintln!(
                "driftgate: nothing to propose to {}: no fix to write",
                forge.name()
            ),
            (_, Some(o)) => eprintln!(
                "driftgate: {} {} (branch {})",
                match o.outcome {
                    "created" => "opened",
                    "updated" => "updated the open request of these fixes:",
                    _ => "not reopened: the request of these fixes was closed or merged:",
                },
                o.url,
                o.branch
            ),
            _ => {}
        }
        for m in &set.manual {
            eprintln!(
                "driftgate: by hand: {} ({}{}): {}; it must become: {}",
                m.address,
                m.file.as_deref().unwrap_or("no file"),
                m.line.map(|l| format!(":{l}")).unwrap_or_default(),
                m.reason,
                m.want
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The tag keys of the flags, else of the config file, else the defaults.
fn risk_settings(flags: &[String], config: &[String]) -> Result<driftgate::risk::Settings, Error> {
    let (keys, from) = if flags.is_empty() {
        (config, "config `sensitivity_tags`")
    } else {
        (flags, "--sensitivity-tag")
    };
    if keys.is_empty() {
        return Ok(driftgate::risk::Settings::default());
    }
    if let Some(k) = keys.iter().find(|k| !k.chars().any(char::is_alphanumeric)) {
        return Err(Error::new(
            from,
            format!("`{k}` is not a tag key (it has no letter or digit)"),
        ));
    }
    Ok(driftgate::risk::Settings {
        sensitivity_keys: keys.to_vec(),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new("runtime", format!("cannot start: {e}")))
}

fn metrics_command(args: MetricsArgs) -> Result<ExitCode, Error> {
    use driftgate::history::store::{Dest, Store};
    use driftgate::metrics::{self, render};
    let dest = Dest::parse(&args.history)?;
    let until = match &args.until {
        None => jiff::Timestamp::now(),
        Some(text) => parse_until(text)?,
    };
    let span: jiff::Span = args.since.trim().parse().map_err(|_| {
        Error::new(
            "--since",
            format!("`{}` is not a duration like 90d, 12w or 720h", args.since),
        )
    })?;
    let secs = span
        .total(jiff::SpanTotal::from(jiff::Unit::Second).days_are_24_hours())
        .map_err(|_| Error::new("--since", "give the window in weeks, days or hours"))?;
    if secs <= 0.0 || secs > 3660.0 * 86400.0 {
        return Err(Error::new(
            "--since",
            "must be longer than zero and at most ten years",
        ));
    }
    let from = until
        .checked_sub(jiff::SignedDuration::from_secs(secs.round() as i64))
        .map_err(|e| Error::new("--since", e.to_string()))?;
    let render_as = |f: MetricsFormat, m: &metrics::Metrics| match f {
        MetricsFormat::Console => render::console(m),
        MetricsFormat::Json => render::json(m),
        MetricsFormat::Markdown => render::markdown(m),
        MetricsFormat::Openmetrics => render::openmetrics(m),
        MetricsFormat::Html => metrics::html::render(m),
    };
    let outputs = args
        .outputs
        .iter()
        .map(|o| {
            let usage =
                "expected FORMAT=PATH with FORMAT console, json, markdown, openmetrics or html";
            let (f, path) = o
                .split_once('=')
                .filter(|(_, p)| !p.is_empty())
                .ok_or_else(|| Error::new(format!("--output {o}"), usage))?;
            let f = MetricsFormat::from_str(f, true)
                .map_err(|_| Error::new(format!("--output {o}"), usage))?;
            Ok((f, path.to_string()))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let rt = runtime()?;
    let records = rt.block_on(async {
        let store = Store::open(&dest, &AwsSettings::default()).await?;
        metrics::load(&store, until, !args.quiet).await
    })?;
    // A mistyped prefix lists nothing: that is not a clean record of an estate.
    if records.is_empty() {
        return Err(Error::new(
            format!("history {}", dest.name("runs/")),
            format!(
                "holds no history record up to {until}: is the destination right? \
                 (`driftgate check --history` writes them)"
            ),
        ));
    }
    let m = metrics::compute(&records, from, until);
    for (f, path) in &outputs {
        std::fs::write(path, render_as(*f, &m))
            .map_err(|e| Error::new(format!("--output {path}"), format!("cannot write: {e}")))?;
    }
    print!("{}", render_as(args.format, &m));
    if args.fail_on_target && !m.all_met() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--until`: an RFC 3339 time, or a date meaning the end of that day (UTC).
fn parse_until(text: &str) -> Result<jiff::Timestamp, Error> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        Error::new(
            "--until",
            format!(
                "`{text}` is not an RFC 3339 time (2026-12-01T00:00:00Z) or a date (2026-12-01)"
            ),
        )
    })?;
    format!("{date}T23:59:59Z")
        .parse::<jiff::Timestamp>()
        .map_err(|e| Error::new("--until", e.to_string()))
}

fn comment_command(args: CommentArgs) -> Result<ExitCode, Error> {
    use driftgate::comment;
    let target = comment::Target::parse(&args.on)?;
    let name = args.body.display().to_string();
    let report =
        std::fs::read_to_string(&args.body).map_err(|e| Error::new(&name, e.to_string()))?;
    if report.trim().is_empty() {
        return Err(Error::new(&name, "is empty: there is no report to post"));
    }
    if args.key.is_empty() || args.key.contains("-->") || args.key.contains('\n') {
        return Err(Error::new("--key", "must be a non-empty name on one line"));
    }
    let posted = runtime()?.block_on(comment::post(&target, &report, &args.key))?;
    let verb = if posted.updated { "updated" } else { "created" };
    match posted.url {
        Some(url) => eprintln!("driftgate: {verb} the comment {url}"),
        None => eprintln!("driftgate: {verb} the comment on {}", target.name()),
    }
    Ok(ExitCode::SUCCESS)
}

fn ticket_open(args: OpenArgs) -> Result<ExitCode, Error> {
    use driftgate::breakglass::{parse_duration, TrackerSpec};
    use driftgate::ticket_open as open;
    let spec = TrackerSpec::parse(&args.tickets)?;
    let max_age =
        parse_duration(&args.ticket_max_age).map_err(|e| Error::new("--ticket-max-age", e))?;
    let opts = CheckOptions {
        states: args.states,
        workspace: None,
        workspace_key_prefix: "env:".into(),
        policies: args.policies,
        concurrency: 8,
        aws: args.aws.settings()?,
        progress: !args.quiet,
        breakglass: None,
        source_dir: None,
        live: check::LiveSource::Api,
        risk: Default::default(),
        shard: None,
    };
    let rt = runtime()?;
    let report = rt.block_on(check::run(&opts))?;
    let Some(draft) = open::compose(&report, &args.ticket_label, max_age) else {
        eprintln!("driftgate: nothing blocks: no break-glass ticket is needed");
        return Ok(ExitCode::SUCCESS);
    };
    if args.dry_run {
        println!(
            "tracker: {}
label: {}
title: {}

{}",
            spec.name(),
            draft.label,
            draft.title,
            draft.body
        );
        return Ok(ExitCode::SUCCESS);
    }
    let url = rt.block_on(open::create(&spec, &draft, &args.jira_issue_type))?;
    println!("{url}");
    Ok(ExitCode::SUCCESS)
}

fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Console => console::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
        Format::Gitlab => gitlab::render(report),
    }
}

/// Flags are range-checked by clap; this checks values from the config file the same way.
fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    value: Option<T>,
    default: T,
    lo: T,
    hi: T,
) -> Result<T, Error> {
    let v = value.unwrap_or(default);
    if v < lo || v > hi {
        return Err(Error::new(
            format!("config `{name}`"),
            format!("{v} is not in {lo}..={hi}"),
        ));
    }
    Ok(v)
}

/// `from_config`: the spec comes from `.driftgate.yaml`, which lives on the branch under check, so
/// its path must stay inside the working directory (a pull request must not write elsewhere on the
/// runner).
fn parse_output(spec: &str, from_config: bool) -> Result<(Format, String), Error> {
    // Shown escaped only when it holds a line break or another control character.
    let shown = if spec.chars().any(char::is_control) {
        format!("{spec:?}")
    } else {
        spec.to_string()
    };
    let what = if from_config {
        format!("config `output` {shown}")
    } else {
        format!("--output {shown}")
    };
    let bad = |msg: &str| Error::new(what.clone(), msg.to_string());
    let usage = "expected FORMAT=PATH with FORMAT console, json, sarif, junit, markdown or gitlab";
    let (format, path) = spec.split_once('=').ok_or_else(|| bad(usage))?;
    let format = Format::from_str(format, true).map_err(|_| bad(usage))?;
    if path.is_empty() {
        return Err(bad(usage));
    }
    // A path is also written to GITHUB_OUTPUT and shown in logs: no line breaks or other control
    // characters that could forge another output line.
    if path.chars().any(char::is_control) {
        return Err(bad("the path contains a control character (a line break?)"));
    }
    if from_config {
        let p = std::path::Path::new(path);
        let escapes = p.is_absolute()
            || p.components().any(|c| {
                matches!(
                    c,
                    std::path::Component::ParentDir | std::path::Component::Prefix(_)
                )
            });
        if escapes {
            return Err(bad(
                "a report path from the config file must stay inside the working directory \
                 (relative, without `..`); give other paths with --output",
            ));
        }
    }
    Ok((format, path.to_string()))
}
