//! Google Cloud families end to end: the real binary against a loopback server standing in for
//! the Compute, Storage and Resource Manager REST APIs, replaying recorded answers
//! (cloud-custodian flights and forseti's Cloud Asset export in tests/fixtures/shared/gcp), with
//! tokens from `GOOGLE_OAUTH_ACCESS_TOKEN` or from `google-cloud-auth` refreshing an
//! `authorized_user` credential against a loopback token endpoint.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::{json, Value};
use tracker::{serve, Reply, Server};

const DATE: &str = "Sat, 28 Nov 2026 10:00:00 GMT";

use common::shared_fixture as fixture;

/// The policy of project 1044 in forseti's recorded export.
fn recorded_project_policy() -> Value {
    recorded_iam_policy("//cloudresourcemanager.googleapis.com/projects/1044")
}

struct Gcp {
    dir: tempfile::TempDir,
    server: Server,
}

fn gcp(routes: Vec<(&str, Vec<Reply>)>) -> Gcp {
    Gcp {
        dir: tempfile::tempdir().unwrap(),
        server: serve(DATE, routes),
    }
}

impl Gcp {
    fn run(&self, state: &State, env: &[(&str, Option<&str>)]) -> Run {
        let p = state
            .write(self.dir.path(), "gcp.tfstate")
            .display()
            .to_string();
        let mut all = vec![
            ("DRIFTGATE_GCP_ENDPOINT", Some(self.server.url.as_str())),
            // Never the real metadata server of a CI runner.
            ("GCE_METADATA_HOST", Some("127.0.0.1:9")),
        ];
        all.extend_from_slice(env);
        driftgate_env(
            "http://127.0.0.1:9",
            &["check", "--format", "json", "--state", &p],
            None,
            &all,
        )
    }

    fn check(&self, state: &State) -> Run {
        self.run(
            state,
            &[("GOOGLE_OAUTH_ACCESS_TOKEN", Some("ya29.test-token"))],
        )
    }
}

fn state_firewall() -> State {
    // The driftctl fixture's firewall, as the provider records it.
    let tf = fixture("tfstate/driftctl_google_compute_firewall.tfstate");
    let attrs = tf["resources"][0]["instances"][0]["attributes"].clone();
    State::new().add("google_compute_firewall.web[\"test\"]", attrs)
}

const FW_PATH: &str = "/compute/v1/projects/cloudskiff-dev-elie/global/firewalls/test-firewall";

fn live_firewall() -> Value {
    // The same firewall as the Compute API answers it: entries and ports in another order,
    // protocol numbers, empty lists left out.
    json!({"kind": "compute#firewall", "id": "5513", "name": "test-firewall", "priority": 1000,
           "network": "https://www.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/global/networks/test-network",
           "sourceTags": ["web"], "direction": "INGRESS", "disabled": false,
           "allowed": [{"IPProtocol": "1"}, {"IPProtocol": "tcp", "ports": ["8080", "1000-2000", "80"]}],
           "selfLink": format!("https://www.googleapis.com{FW_PATH}")})
}

#[test]
fn firewall_spellings_agree_and_the_token_is_sent() {
    // A description and logging changed in the console: not security.
    let mut live = live_firewall();
    live["description"] = json!("edited in the console");
    live["logConfig"] = json!({"enable": true, "metadata": "INCLUDE_ALL_METADATA"});
    let g = gcp(vec![(FW_PATH, vec![Reply::json(live)])]);
    let run = g.check(&state_firewall());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["compute"]["firewalls.get"],
        1
    );
    assert_eq!(
        g.server.hits()[0].header("authorization"),
        Some("Bearer ya29.test-token")
    );
    assert!(!run.stdout.contains("test-token") && !run.stderr.contains("test-token"));
}

#[test]
fn firewall_opened_to_the_world() {
    // The recorded firewall allows every protocol from 0.0.0.0/0; the state said tcp 22 from a
    // private range, and only for the tagged instances.
    let recorded = fixture("gcp/c7n_flight_compute_firewalls_get.json")["body"].clone();
    let path = "/compute/v1/projects/cloud-custodian/global/firewalls/allow-inbound-xyz";
    let state = State::new().add(
        "google_compute_firewall.ssh",
        json!({"id": "projects/cloud-custodian/global/firewalls/allow-inbound-xyz", "name": "allow-inbound-xyz",
               "project": "cloud-custodian", "direction": "INGRESS", "priority": 1000, "disabled": false,
               "allow": [{"protocol": "tcp", "ports": ["22"]}], "deny": [], "source_ranges": ["10.0.0.0/8"],
               "destination_ranges": [], "source_tags": null, "target_tags": null,
               "source_service_accounts": null,
               "target_service_accounts": ["604150802624-compute@developer.gserviceaccount.com"]}),
    );
    // The project's instances: the recorded one runs as the firewall's target service account
    // (its access config has no address now: it is stopped), a copy runs as another.
    let instances = |target: &str| {
        let mut other = live_instance(&[], RECORDED_ACCOUNT);
        other["name"] = json!("instance-2");
        Reply::json(json!({"kind": "compute#instanceAggregatedList", "items": {
            "zones/us-central1-a": {"instances": [live_instance(&[], target), other]},
            "zones/europe-west1-b": {"warning": {"code": "NO_RESULTS_ON_PAGE", "message": "none"}}}}))
    };
    let aggregated = "/compute/v1/projects/cloud-custodian/aggregated/instances";
    let target = "604150802624-compute@developer.gserviceaccount.com";
    let g = gcp(vec![
        (path, vec![Reply::json(recorded.clone())]),
        (aggregated, vec![instances(target)]),
    ]);
    let run = g.check(&state);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["kind", "attribute", "effect", "policy"]),
        [
            // The tcp 22 entry is gone (replaced by "all"): an inline part of the firewall changed.
            "changed allow strengthens GCP-FW-RULES",
            "changed source_ranges weakens GCP-FW-ADMIN-INTERNET",
            "unmanaged allow weakens GCP-FW-ADMIN-INTERNET",
        ]
    );
    for d in run.drifts() {
        assert_eq!(d["risk"]["exposure"], "internet", "{d:#}");
        let why = d["risk"]["reasons"].to_string();
        assert!(
            why.contains("applies to instance zones/us-central1-a/instance-1, with external IP an ephemeral one")
                && !why.contains("instance-2"),
            "{why}"
        );
        assert!(why.contains("admit the internet"), "{why}");
    }
    let calls = &run.json()["summary"]["api_calls"]["compute"];
    assert_eq!(calls["firewalls.get"], 2, "the read and the exposure");
    assert_eq!(calls["instances.aggregatedList"], 1);
    // No instance runs as the target account: nothing uses the firewall.
    let g = gcp(vec![
        (path, vec![Reply::json(recorded)]),
        (aggregated, vec![instances(RECORDED_ACCOUNT)]),
    ]);
    let run = g.check(&state);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for d in run.drifts() {
        assert_eq!(d["risk"]["exposure"], "unused", "{d:#}");
    }
    // Deleted: 404.
    let g = gcp(vec![]);
    let run = g.check(&state);
    assert_eq!(
        drift_lines(&run, &["kind", "policy"]),
        ["missing GCP-FW-MISSING"]
    );
}

#[test]
fn iam_members_are_additive_bindings_and_policies_authoritative() {
    // State: one member of roles/owner (the policy has others: not ours), the editor binding
    // with its three members, and a conditional viewer binding.
    let project = "1044";
    let state = State::new()
        .add(
            "google_project_iam_member.owner",
            json!({"id": "1044/roles/owner/user:a_user@forseti.test", "project": project, "role": "roles/owner",
                   "member": "user:a_user@forseti.test", "condition": [], "etag": "BwX"}),
        )
        .add(
            "google_project_iam_binding.editors",
            json!({"id": "1044/roles/editor", "project": project, "role": "roles/editor", "condition": [],
                   "members": ["serviceAccount:4-compute@developer.gserviceaccount.com", "serviceAccount:4@cloudservices.gserviceaccount.com"]}),
        );
    let path = format!("/v3/projects/{project}:getIamPolicy");
    let g = gcp(vec![(
        path.as_str(),
        vec![Reply::json(recorded_project_policy())],
    )]);
    let run = g.check(&state);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let hits = g.server.hits();
    assert_eq!(hits.len(), 1, "one policy read for both resources");
    assert_eq!(hits[0].method, "POST");
    assert!(
        hits[0].body.contains("\"requestedPolicyVersion\":3"),
        "{}",
        hits[0].body
    );

    // Someone adds an editor (the binding is authoritative: drift) and an owner (members are
    // additive: not ours), and removes the declared owner member.
    let mut policy = recorded_project_policy();
    for b in policy["bindings"].as_array_mut().unwrap() {
        let role = b["role"].as_str().unwrap().to_string();
        let members = b["members"].as_array_mut().unwrap();
        match role.as_str() {
            "roles/editor" => members.push(json!("user:intruder@example.com")),
            "roles/owner" => {
                members.retain(|m| m != "user:a_user@forseti.test");
                members.push(json!("user:someone-else@forseti.test"));
            }
            _ => {}
        }
    }
    let g = gcp(vec![(path.as_str(), vec![Reply::json(policy)])]);
    let run = g.check(&state);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_json_snapshot!("gcp_iam_findings", run.json()["drifts"], {"[].sources" => "[state file]"});
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        [
            "google_project_iam_binding.editors unmanaged weakens GCP-IAM-PRIMITIVE",
            "google_project_iam_member.owner missing strengthens GCP-IAM-BINDINGS",
        ]
    );
}

#[test]
fn iam_conditions_belong_to_their_binding() {
    let expr = "request.time < timestamp(\"2030-01-01T00:00:00Z\")";
    let state = State::new().add(
        "google_storage_bucket_iam_member.reader",
        json!({"bucket": "b/bucket1", "role": "roles/storage.objectViewer", "member": "group:auditors@example.com",
               "condition": [{"title": "until 2030", "description": "", "expression": expr}]}),
    );
    let path = "/storage/v1/b/bucket1/iam";
    // The same member holds the role without the condition: that grants more, and is not the
    // declared (conditional) binding.
    let policy = json!({"version": 3, "etag": "CAE=", "bindings": [
        {"role": "roles/storage.objectViewer", "members": ["group:auditors@example.com"]}]});
    let g = gcp(vec![(path, vec![Reply::json(policy)])]);
    let run = g.check(&state);
    assert_eq!(drift_lines(&run, &["kind"]), ["missing"]);
    let policy = json!({"version": 3, "bindings": [
        {"role": "roles/storage.objectViewer", "members": ["group:auditors@example.com", "allUsers"],
         "condition": {"title": "renamed", "expression": expr}}]});
    let g = gcp(vec![(path, vec![Reply::json(policy)])]);
    let run = g.check(&state);
    assert_eq!(
        run.code, 0,
        "additive member: allUsers beside it is not this resource's: {}",
        run.stdout
    );

    // A bucket policy resource owns the whole policy: allUsers is public drift.
    let state = State::new().add(
        "google_storage_bucket_iam_policy.p",
        json!({"bucket": "b/bucket1", "policy_data": fixture_bucket_policy().to_string()}),
    );
    let mut policy = fixture_bucket_policy();
    policy["bindings"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "roles/storage.objectViewer", "members": ["allUsers"]}));
    let g = gcp(vec![(path, vec![Reply::json(fixture_bucket_policy())])]);
    assert_eq!(g.check(&state).code, 0);
    let g = gcp(vec![(path, vec![Reply::json(policy)])]);
    let run = g.check(&state);
    assert_eq!(
        drift_lines(&run, &["kind", "policy", "severity"]),
        ["unmanaged GCP-IAM-PUBLIC critical"]
    );
}

/// bucket1's policy in forseti's export.
fn fixture_bucket_policy() -> Value {
    recorded_iam_policy("//storage.googleapis.com/bucket1")
}

#[test]
fn buckets_and_disks() {
    let buckets = fixture("gcp/c7n_flight_storage_buckets_list_iamConfiguration.json")["body"]
        ["items"]
        .clone();
    let trail = buckets
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "custodian-gce-trail")
        .unwrap()
        .clone();
    let dev = buckets
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "c7n-dev-test")
        .unwrap()
        .clone();
    let disks = fixture("gcp/c7n_flight_compute_disks_list.json")["body"]["items"].clone();
    let disk = disks[0].clone();
    let key = "projects/cloud-custodian/locations/us-central1/keyRings/r/cryptoKeys/disks";
    let state = State::new()
        .add("google_storage_bucket.trail", json!({"name": "custodian-gce-trail", "location": "US",
             "uniform_bucket_level_access": true, "public_access_prevention": "inherited", "encryption": [],
             "labels": {}}))
        .add("google_storage_bucket.dev", json!({"name": "c7n-dev-test", "location": "US",
             "uniform_bucket_level_access": true, "public_access_prevention": "inherited", "encryption": []}))
        .add("google_compute_disk.data", json!({"id": "projects/cloud-custodian/zones/us-central1-c/disks/test-ingwar",
             "name": "test-ingwar", "zone": "us-central1-c", "labels": {"test_label": "test_value"},
             "disk_encryption_key": [{"kms_key_self_link": key, "raw_key": null, "sha256": ""}]}));
    let disk_path = "/compute/v1/projects/cloud-custodian/zones/us-central1-c/disks/test-ingwar";
    let g = gcp(vec![
        (
            "/storage/v1/b/custodian-gce-trail",
            vec![Reply::json(trail.clone())],
        ),
        ("/storage/v1/b/c7n-dev-test", vec![Reply::json(dev)]),
        (disk_path, vec![Reply::json(disk.clone())]),
    ]);
    let run = g.check(&state);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "attribute", "effect", "policy"]),
        [
            "google_compute_disk.data disk_encryption_key weakens GCP-DISK-CMEK",
            "google_storage_bucket.dev uniform_bucket_level_access weakens GCP-BUCKET-PUBLIC",
        ]
    );
    // The key in use is a version of the declared key: no drift.
    let mut keyed = disk;
    keyed["diskEncryptionKey"] =
        json!({"kmsKeyName": format!("{key}/cryptoKeyVersions/4"), "sha256": "x"});
    let g = gcp(vec![
        (
            "/storage/v1/b/custodian-gce-trail",
            vec![Reply::json(trail)],
        ),
        (disk_path, vec![Reply::json(keyed)]),
    ]);
    let state = State::new()
        .add("google_storage_bucket.trail", json!({"name": "custodian-gce-trail", "location": "US",
             "uniform_bucket_level_access": true, "public_access_prevention": "inherited"}))
        .add("google_compute_disk.data", json!({"id": "projects/cloud-custodian/zones/us-central1-c/disks/test-ingwar",
             "zone": "https://www.googleapis.com/compute/v1/projects/cloud-custodian/zones/us-central1-c",
             "disk_encryption_key": [{"kms_key_self_link": key}]}));
    let run = g.check(&state);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn adc_token_from_a_loopback_token_endpoint() {
    let token_server = serve(
        DATE,
        vec![(
            "/token",
            vec![Reply::json(
                json!({"access_token": "ya29.from-refresh", "expires_in": 3599, "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/cloud-platform"}),
            )],
        )],
    );
    let g = gcp(vec![(FW_PATH, vec![Reply::json(live_firewall())])]);
    let adc = g.dir.path().join("adc.json");
    std::fs::write(
        &adc,
        json!({"type": "authorized_user", "client_id": "c.apps.googleusercontent.com", "client_secret": "s3cret-value",
               "refresh_token": "1//refresh", "token_uri": format!("{}/token", token_server.url)})
        .to_string(),
    )
    .unwrap();
    let adc = adc.display().to_string();
    let run = g.run(
        &state_firewall(),
        &[("GOOGLE_APPLICATION_CREDENTIALS", Some(&adc))],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(token_server.hits().len(), 1);
    assert!(
        token_server.hits()[0].body.contains("refresh_token"),
        "{}",
        token_server.hits()[0].body
    );
    assert_eq!(
        g.server.hits()[0].header("authorization"),
        Some("Bearer ya29.from-refresh")
    );

    // The token endpoint refuses: exit 2 naming the credentials, secrets never printed.
    let refusing = serve(
        DATE,
        vec![(
            "/token",
            vec![Reply::status(400, r#"{"error":"invalid_grant"}"#)],
        )],
    );
    std::fs::write(
        g.dir.path().join("adc.json"),
        json!({"type": "authorized_user", "client_id": "c", "client_secret": "s3cret-value",
               "refresh_token": "1//refresh", "token_uri": format!("{}/token", refusing.url)})
        .to_string(),
    )
    .unwrap();
    let run = g.run(
        &state_firewall(),
        &[("GOOGLE_APPLICATION_CREDENTIALS", Some(&adc))],
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("Google Cloud credentials"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("s3cret-value") && !run.stderr.contains("1//refresh"),
        "{}",
        run.stderr
    );

    // A credentials file that does not exist.
    let run = g.run(
        &state_firewall(),
        &[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            Some("/nonexistent/adc.json"),
        )],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("Application Default Credentials"),
        "{}",
        run.stderr
    );
}

#[test]
fn api_errors_fail_closed() {
    for (status, what) in [(401, "HTTP 401"), (403, "HTTP 403"), (500, "HTTP 500")] {
        let g = gcp(vec![(
            FW_PATH,
            vec![
                Reply::status(status, r#"{"error":{"code":1,"message":"no"}}"#)
                    .header("Retry-After", "0"),
            ],
        )]);
        let run = g.check(&state_firewall());
        assert_eq!(run.code, 2, "{status}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(what) && run.stderr.contains("firewalls.get"),
            "{}",
            run.stderr
        );
    }
    let g = gcp(vec![(
        FW_PATH,
        vec![
            Reply::status(429, r#"{"error":{"status":"RESOURCE_EXHAUSTED"}}"#)
                .header("Retry-After", "0"),
            Reply::json(live_firewall()),
        ],
    )]);
    assert_eq!(g.check(&state_firewall()).code, 0);
}

#[test]
fn cloud_sql_opened_to_the_internet() {
    // No recorded Cloud SQL answer exists in the fixtures: this body follows the documented
    // `instances.get` response (sql#instance, settings.ipConfiguration with sql#aclEntry items).
    let body = |networks: Value, ssl: &str| {
        json!({"kind": "sql#instance", "state": "RUNNABLE", "databaseVersion": "POSTGRES_15",
               "name": "orders", "project": "shop-prod", "region": "europe-west1",
               "settings": {"kind": "sql#settings", "tier": "db-custom-2-8192", "activationPolicy": "ALWAYS",
                            "ipConfiguration": {"ipv4Enabled": true, "sslMode": ssl, "requireSsl": false,
                                                "authorizedNetworks": networks}}})
    };
    let office = json!([{"kind": "sql#aclEntry", "name": "office", "value": "203.0.113.0/24"}]);
    let state = State::new().add(
        "google_sql_database_instance.orders",
        json!({"name": "orders", "project": "shop-prod", "region": "europe-west1", "database_version": "POSTGRES_15",
               "root_password": "do-not-print-me",
               "settings": [{"tier": "db-custom-2-8192", "user_labels": {"data-classification": "pii"}, "ip_configuration": [{"ipv4_enabled": true, "ssl_mode": "ENCRYPTED_ONLY",
                   "require_ssl": false, "private_network": "", "authorized_networks": [{"name": "office", "value": "203.0.113.0/24", "expiration_time": ""}]}]}]}),
    );
    let path = "/v1/projects/shop-prod/instances/orders";
    let g = gcp(vec![(
        path,
        vec![Reply::json(body(office.clone(), "ENCRYPTED_ONLY"))],
    )]);
    let run = g.check(&state);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let mut open = office;
    open.as_array_mut()
        .unwrap()
        .push(json!({"kind": "sql#aclEntry", "name": "tmp", "value": "0.0.0.0/0"}));
    let g = gcp(vec![(
        path,
        vec![Reply::json(body(open, "ALLOW_UNENCRYPTED_AND_ENCRYPTED"))],
    )]);
    let run = g.check(&state);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["attribute", "effect", "policy"]),
        [
            "ip_configuration weakens GCP-SQL-PUBLIC",
            "ip_configuration weakens GCP-SQL-PUBLIC"
        ]
    );
    assert!(!run.stdout.contains("do-not-print-me"));
    for d in run.drifts() {
        assert_eq!(d["risk"]["exposure"], "internet", "{d:#}");
        // The instance's labels are its settings' user_labels: the classification counts.
        assert_eq!(d["risk"]["sensitivity"], "pii", "{d:#}");
        assert_eq!(d["risk"]["priority"], "urgent", "{d:#}");
        assert!(
            d["risk"]["reasons"]
                .to_string()
                .contains("authorizes 0.0.0.0/0"),
            "{d:#}"
        );
    }
}

#[test]
fn many_disks_in_a_zone_are_listed_not_read_one_by_one() {
    // The recorded disks.list answer, its one disk cloned to twelve, served in two pages.
    let recorded = fixture("gcp/c7n_flight_compute_disks_list.json")["body"].clone();
    let template = recorded["items"][0].clone();
    let disk = |i: usize| {
        let mut d = template.clone();
        d["name"] = json!(format!("data-{i}"));
        d
    };
    let mut state = State::new();
    for i in 0..12 {
        state = state.add(
            &format!("google_compute_disk.data[\"d{i}\"]"),
            json!({"id": format!("projects/cloud-custodian/zones/us-central1-c/disks/data-{i}"),
                   "name": format!("data-{i}"), "zone": "us-central1-c", "disk_encryption_key": []}),
        );
    }
    let mut first = recorded.clone();
    first["items"] = json!((0..6).map(disk).collect::<Vec<_>>());
    first["nextPageToken"] = json!("page+2/=");
    let mut second = recorded;
    // data-11 is gone: deleted.
    second["items"] = json!((6..11).map(disk).collect::<Vec<_>>());
    let list = "/compute/v1/projects/cloud-custodian/zones/us-central1-c/disks";
    let g = gcp(vec![(list, vec![Reply::json(first), Reply::json(second)])]);
    let run = g.check(&state);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "policy"]),
        ["google_compute_disk.data[\"d11\"] missing GCP-DISK-MISSING"]
    );
    assert_eq!(
        run.json()["summary"]["api_calls"]["compute"]["disks.list"],
        2
    );
    let hits = g.server.hits();
    assert!(
        hits[1].target.contains("pageToken=page%2B2%2F%3D"),
        "{}",
        hits[1].target
    );
}

#[test]
fn state_in_the_gcs_backend() {
    let state = serde_json::to_string(&state_firewall().json()).unwrap();
    let object = "/storage/v1/b/tf-state/o/envs%2Fnet%2Fprod.tfstate";
    let g = gcp(vec![
        (
            object,
            vec![Reply {
                status: 200,
                headers: vec![],
                body: state,
                delay: std::time::Duration::ZERO,
            }],
        ),
        (FW_PATH, vec![Reply::json(live_firewall())]),
    ]);
    let env = [
        ("DRIFTGATE_GCP_ENDPOINT", Some(g.server.url.as_str())),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", Some("ya29.test-token")),
        ("GCE_METADATA_HOST", Some("127.0.0.1:9")),
    ];
    let run = driftgate_env(
        "http://127.0.0.1:9",
        &[
            "check",
            "--format",
            "json",
            "--state",
            "gs://tf-state/envs/net/",
            "--workspace",
            "prod",
        ],
        None,
        &env,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(
        report["summary"]["states"][0]["label"],
        "gs://tf-state/envs/net/prod.tfstate"
    );
    assert_eq!(report["summary"]["api_calls"]["storage"]["objects.get"], 1);
    let download = &g.server.hits()[0];
    assert!(
        download.target.ends_with("?alt=media"),
        "{}",
        download.target
    );
    // No such workspace: exit 2 naming the URL.
    let run = driftgate_env(
        "http://127.0.0.1:9",
        &[
            "check",
            "--state",
            "gs://tf-state/envs/net/",
            "--workspace",
            "staging",
        ],
        None,
        &env,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("state gs://tf-state/envs/net/staging.tfstate: no such object"),
        "{}",
        run.stderr
    );
}

#[test]
fn without_credentials_says_what_to_set_at_once() {
    let g = gcp(vec![]);
    let state = state_firewall();
    let run = g.run(&state, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("GOOGLE_APPLICATION_CREDENTIALS is not set")
            && run.stderr.contains("GOOGLE_OAUTH_ACCESS_TOKEN"),
        "{}",
        run.stderr
    );
    // Not the end of seconds of metadata-server retries.
    assert!(!run.stderr.contains("transient"), "{}", run.stderr);
}

/// Fingerprints as Compute answers them, in URL-safe base64 (`--KE24GB4T0=`): Cloud Asset
/// recorded them in standard base64, which the official Compute client rightly refuses.
fn url_safe_fingerprints(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                match v {
                    Value::String(s) if k.ends_with("ingerprint") => {
                        *s = s.replace('+', "-").replace('/', "_");
                    }
                    _ => url_safe_fingerprints(v),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(url_safe_fingerprints),
        _ => {}
    }
}

/// The recorded instance (cloud-custodian's asset flight), with `tags.items` and service account
/// as given.
fn live_instance(tags: &[&str], email: &str) -> Value {
    let flight = fixture("gcp/c7n_flight_cloudasset_batchGetAssetsHistory_instance.json");
    let mut body = flight["body"]["assets"][0]["asset"]["resource"]["data"].clone();
    url_safe_fingerprints(&mut body);
    if !tags.is_empty() {
        body["tags"]["items"] = json!(tags);
    }
    body["serviceAccounts"][0]["email"] = json!(email);
    body
}

const RECORDED_ACCOUNT: &str = "1098479648729-compute@developer.gserviceaccount.com";
const INSTANCE_PATH: &str =
    "/compute/v1/projects/cloud-custodian/zones/us-central1-a/instances/instance-1";

/// The project's firewalls: the recorded one (all protocols from the internet to one service
/// account), SSH from the internet to tag `debug`, HTTPS to tag `web`, a deny of PostgreSQL to
/// tag `locked`.
fn project_firewalls() -> Reply {
    let recorded = fixture("gcp/c7n_flight_compute_firewalls_get.json")["body"].clone();
    let with = |name: &str, patch: Value| {
        let mut f = recorded.clone();
        f["name"] = json!(name);
        f.as_object_mut().unwrap().remove("targetServiceAccounts");
        for (k, v) in patch.as_object().unwrap() {
            f[k] = v.clone();
        }
        f
    };
    Reply::json(json!({"kind": "compute#firewallList", "items": [
        recorded.clone(),
        with("debug-ssh", json!({"targetTags": ["debug"], "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}]})),
        with("web-https", json!({"targetTags": ["web"], "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}]})),
        with("lock-db", json!({"targetTags": ["locked"], "allowed": null,
                               "denied": [{"IPProtocol": "tcp", "ports": ["5432"]}]})),
    ]}))
}

/// `driftgate fix --quiet --write --format json` of the state at `path` against this stand-in,
/// run where `infra/` holds the code.
fn fix_run(g: &Gcp, path: &std::path::Path, extra: &[&str]) -> Run {
    let mut quiet = vec!["--quiet"];
    quiet.extend_from_slice(extra);
    fix_run_loud(g, path, &quiet)
}

/// [`fix_run`] without `--quiet`: what is left out is said on stderr.
fn fix_run_loud(g: &Gcp, path: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "fix",
        "--write",
        "--format",
        "json",
        "--state",
        path.to_str().unwrap(),
        "--source-dir",
        "infra",
    ];
    args.extend_from_slice(extra);
    driftgate_at(
        g.dir.path(),
        "http://127.0.0.1:9",
        &args,
        None,
        &[
            ("DRIFTGATE_GCP_ENDPOINT", Some(g.server.url.as_str())),
            ("GCE_METADATA_HOST", Some("127.0.0.1:9")),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", Some("ya29.test-token")),
        ],
    )
}

fn instance_state(tags: &[&str]) -> State {
    let live = live_instance(&[], RECORDED_ACCOUNT);
    State::new().add(
        "google_compute_instance.web",
        json!({"id": "projects/cloud-custodian/zones/us-central1-a/instances/instance-1",
               "name": "instance-1", "project": "cloud-custodian", "zone": "us-central1-a",
               "machine_type": "n1-standard-1", "tags": tags,
               "service_account": [{"email": RECORDED_ACCOUNT, "scopes": live["serviceAccounts"][0]["scopes"]}],
               "network_interface": [{"network": live["networkInterfaces"][0]["network"],
                                      "subnetwork": live["networkInterfaces"][0]["subnetwork"]}],
               "labels": {"quarantined": "testing"}}),
    )
}

fn instance_run(state_tags: &[&str], live_tags: &[&str], email: &str) -> Run {
    let g = gcp(vec![
        (
            INSTANCE_PATH,
            vec![Reply::json(live_instance(live_tags, email))],
        ),
        (
            "/compute/v1/projects/cloud-custodian/global/firewalls",
            vec![project_firewalls()],
        ),
    ]);
    g.check(&instance_state(state_tags))
}

#[test]
fn instance_tags_and_service_account_decide_which_firewalls_apply() {
    let run = instance_run(&["web"], &["web"], RECORDED_ACCOUNT);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["compute"],
        json!({"firewalls.list": 1, "instances.get": 1})
    );

    // "Just for debugging": the tag an SSH-from-anywhere firewall targets.
    let run = instance_run(&["web"], &["web", "debug"], RECORDED_ACCOUNT);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy", "severity"]),
        ["google_compute_instance.web unmanaged weakens GCP-INSTANCE-FW-ADMIN-INTERNET critical"]
    );
    // Its access config holds an ephemeral external IP (stopped now), and the debug firewall
    // now selects it: on the internet. Read again for that: the instance, and the firewalls once.
    let d = &run.drifts()[0];
    assert_eq!(d["risk"]["exposure"], "internet", "{d:#}");
    let why = d["risk"]["reasons"].to_string();
    assert!(
        why.contains("instance instance-1 has external IP an ephemeral one")
            && why.contains("the firewalls that select it admit the internet (firewall debug-ssh"),
        "{why}"
    );
    assert_eq!(
        run.json()["summary"]["api_calls"]["compute"],
        json!({"firewalls.list": 2, "instances.get": 2})
    );

    // A tag no firewall targets: a difference of unknown effect, still blocked at medium.
    let run = instance_run(&["web"], &["web", "spare"], RECORDED_ACCOUNT);
    assert_eq!(
        drift_lines(&run, &["kind", "effect", "policy"]),
        ["unmanaged unknown GCP-INSTANCE-TARGETS"]
    );

    // The tag a deny firewall targets removed: PostgreSQL is no longer denied.
    let run = instance_run(&["web", "locked"], &["web"], RECORDED_ACCOUNT);
    assert_eq!(
        drift_lines(&run, &["kind", "effect", "policy", "expected_text"]),
        ["changed weakens GCP-INSTANCE-TARGETS network tag locked"]
    );

    // The declared tag removed: only an allow firewall targeted it.
    let run = instance_run(&["web"], &[], RECORDED_ACCOUNT);
    assert_eq!(
        drift_lines(&run, &["kind", "policy"]),
        ["changed GCP-INSTANCE-TARGETS"]
    );

    // Swapped onto the account the recorded firewall opens to the internet on every port.
    let run = instance_run(
        &["web"],
        &["web"],
        "604150802624-compute@developer.gserviceaccount.com",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["kind", "effect", "attribute", "policy"]),
        ["changed weakens service_account GCP-INSTANCE-FW-ADMIN-INTERNET"]
    );
}

/// A Shared VPC: the instance's network and its firewalls belong to the host project.
#[test]
fn shared_vpc_firewalls_come_from_the_host_project() {
    let host_network =
        "https://www.googleapis.com/compute/v1/projects/net-host/global/networks/shared";
    let mut instance = live_instance(&["web", "debug"], RECORDED_ACCOUNT);
    instance["networkInterfaces"][0]["network"] = json!(host_network);
    let Reply { body, .. } = project_firewalls();
    let mut list: Value = serde_json::from_str(&body).unwrap();
    for f in list["items"].as_array_mut().unwrap() {
        f["network"] = json!(host_network);
    }
    let g = gcp(vec![
        (INSTANCE_PATH, vec![Reply::json(instance)]),
        (
            "/compute/v1/projects/net-host/global/firewalls",
            vec![Reply::json(list)],
        ),
    ]);
    let run = g.check(&instance_state(&["web"]));
    assert_eq!(
        drift_lines(&run, &["kind", "effect", "policy"]),
        ["unmanaged weakens GCP-INSTANCE-FW-ADMIN-INTERNET"],
        "{}",
        run.stderr
    );
    let listed: Vec<String> = g.server.hits().iter().map(|h| h.target.clone()).collect();
    assert!(
        listed
            .iter()
            .all(|t| !t.contains("/projects/cloud-custodian/global/firewalls")),
        "{listed:?}"
    );
}

/// `check --history gs://…` creates each record with `ifGenerationMatch=0` (never a replace), and
/// `metrics` lists the prefix page by page and reads the records back.
#[test]
fn history_in_cloud_storage() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::new().write(dir.path(), "empty.tfstate");
    let upload = "/upload/storage/v1/b/drift/o";
    let writes = serve(
        DATE,
        vec![(
            upload,
            vec![
                Reply::json(json!({"kind": "storage#object", "name": "x", "generation": "1"})),
                Reply::status(
                    412,
                    r#"{"error":{"code":412,"message":"At least one of the pre-conditions you specified did not hold."}}"#,
                ),
            ],
        )],
    );
    let env = |url: &str| {
        vec![
            ("DRIFTGATE_GCP_ENDPOINT", Some(url.to_string())),
            ("GCE_METADATA_HOST", Some("127.0.0.1:9".to_string())),
            (
                "GOOGLE_OAUTH_ACCESS_TOKEN",
                Some("ya29.test-token".to_string()),
            ),
        ]
    };
    let run = |url: &str, args: &[&str]| {
        let owned = env(url);
        let pairs: Vec<(&str, Option<&str>)> =
            owned.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        driftgate_env("http://127.0.0.1:9", args, None, &pairs)
    };
    let state = state.display().to_string();
    let check = ["check", "--state", &state, "--history", "gs://drift/prod"];
    let out = run(&writes.url, &check);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let put = &writes.hits()[0];
    assert_eq!(put.method, "POST");
    assert!(
        put.target.contains("uploadType=media") && put.target.contains("ifGenerationMatch=0"),
        "{}",
        put.target
    );
    assert!(put.target.contains("name=prod%2Fruns%2F"), "{}", put.target);
    assert_eq!(put.header("authorization"), Some("Bearer ya29.test-token"));
    let record: Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(record["version"], 1);
    // The object exists already: exit 2, nothing replaced.
    let out = run(&writes.url, &check);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("gs://drift/prod/runs/") && out.stderr.contains("412"),
        "{}",
        out.stderr
    );

    // Reading back: the name as uploaded, on the second page of the listing.
    let name = put
        .target
        .split("name=")
        .nth(1)
        .unwrap()
        .replace("%2F", "/")
        .replace("%3A", ":");
    let object = format!(
        "/storage/v1/b/drift/o/{}",
        name.replace('/', "%2F").replace(':', "%3A")
    );
    let reads = serve(
        DATE,
        vec![
            (
                "/storage/v1/b/drift/o#pageToken=p2",
                vec![Reply::json(
                    json!({"kind": "storage#objects", "items": [{"name": name}]}),
                )],
            ),
            (
                "/storage/v1/b/drift/o",
                vec![Reply::json(
                    json!({"kind": "storage#objects", "nextPageToken": "p2"}),
                )],
            ),
            (object.as_str(), vec![Reply::json(record.clone())]),
        ],
    );
    let until = jiff::Timestamp::now().to_string();
    let out = run(
        &reads.url,
        &[
            "metrics",
            "--history",
            "gs://drift/prod",
            "--until",
            &until,
            "--format",
            "json",
            "--quiet",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["runs"], 1);
    let list = &reads.hits()[0];
    assert!(
        list.target.contains("prefix=prod%2Fruns%2F"),
        "{}",
        list.target
    );
    // A well-formed answer that is not a listing is not an empty history.
    let odd = serve(
        DATE,
        vec![("/storage/v1/b/drift/o", vec![Reply::json(json!({}))])],
    );
    let out = run(
        &odd.url,
        &[
            "metrics",
            "--history",
            "gs://drift/prod",
            "--until",
            &until,
            "--quiet",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("not an object listing"),
        "{}",
        out.stderr
    );
}

/// `driftgate fix` on Google Cloud: source ranges narrowed in the console leave the code's list
/// where they are written, comments with them, the rest of the list as it was.
#[test]
fn ranges_narrowed_in_the_console_are_written_into_the_list() {
    let mut attrs = state_firewall().json()["resources"][0]["instances"][0]["attributes"].clone();
    attrs["source_ranges"] = json!(["0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16"]);
    let state = State::new().add("google_compute_firewall.web", attrs);
    let mut live = live_firewall();
    live["sourceRanges"] = json!(["10.0.0.0/8"]);
    let g = gcp(vec![(FW_PATH, vec![Reply::json(live)])]);
    let path = state.write(g.dir.path(), "gcp.tfstate");
    let head = "resource \"google_compute_firewall\" \"web\" {\n  name    = \"test-firewall\"\n  network = \"test-network\"\n\n  source_tags = [\"web\"]\n";
    let tf = format!("{head}  source_ranges = [\n    \"0.0.0.0/0\", # temporary\n    \"10.0.0.0/8\",\n    \"192.168.0.0/16\",\n  ]\n}}\n");
    let code = g.dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), &tf).unwrap();
    let run = fix_run(&g, &path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["fixes"][0]["line"], 7, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        format!("{head}  source_ranges = [\n    \"10.0.0.0/8\",\n  ]\n}}\n")
    );
}

/// Members revoked in the console leave the code: an `_iam_member` resource goes (Terraform
/// forgets it: the grant is already gone), an `_iam_binding` keeps its other members.
#[test]
fn members_revoked_in_the_console_leave_the_code() {
    let project = "1044";
    let state = State::new()
        .add(
            "google_project_iam_member.owner",
            json!({"id": "1044/roles/owner/user:a_user@forseti.test", "project": project, "role": "roles/owner",
                   "member": "user:a_user@forseti.test", "condition": [], "etag": "BwX"}),
        )
        .add(
            "google_project_iam_binding.editors",
            json!({"id": "1044/roles/editor", "project": project, "role": "roles/editor", "condition": [],
                   "members": ["serviceAccount:4-compute@developer.gserviceaccount.com", "serviceAccount:4@cloudservices.gserviceaccount.com"]}),
        );
    let mut policy = recorded_project_policy();
    for b in policy["bindings"].as_array_mut().unwrap() {
        let role = b["role"].as_str().unwrap().to_string();
        let members = b["members"].as_array_mut().unwrap();
        match role.as_str() {
            "roles/editor" => {
                members.retain(|m| m != "serviceAccount:4@cloudservices.gserviceaccount.com")
            }
            "roles/owner" => members.retain(|m| m != "user:a_user@forseti.test"),
            _ => {}
        }
    }
    let path_api = format!("/v3/projects/{project}:getIamPolicy");
    let g = gcp(vec![(path_api.as_str(), vec![Reply::json(policy)])]);
    let path = state.write(g.dir.path(), "gcp.tfstate");
    let owner = "resource \"google_project_iam_member\" \"owner\" {\n  project = \"1044\"\n  role    = \"roles/owner\"\n  member  = \"user:a_user@forseti.test\"\n}\n\n";
    let editors = "resource \"google_project_iam_binding\" \"editors\" {\n  project = \"1044\"\n  role    = \"roles/editor\"\n  members = [\n    \"serviceAccount:4-compute@developer.gserviceaccount.com\",\n    \"serviceAccount:4@cloudservices.gserviceaccount.com\", # the old pipeline\n  ]\n}\n";
    let code = g.dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), format!("{owner}{editors}")).unwrap();
    let run = fix_run(&g, &path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 2, "{doc:#}");
    assert_eq!(doc["manual"], json!([]), "{doc:#}");
    let want = format!(
        "{}\nremoved {{\n  from = google_project_iam_member.owner\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
        // The member's line goes, with its comment.
        editors.replace(
            "    \"serviceAccount:4@cloudservices.gserviceaccount.com\", # the old pipeline\n",
            ""
        )
    );
    assert_eq!(std::fs::read_to_string(code.join("main.tf")).unwrap(), want);
}

/// Members granted one `google_project_iam_member` per element of a `toset([...])`: the member
/// revoked in the console leaves the set (no `removed` block: it cannot name one instance), the
/// other members stay.
#[test]
fn a_member_of_a_for_each_set_revoked_in_the_console_leaves_the_set() {
    let members = ["group:c_grp@forseti.test", "user:a_user@forseti.test"];
    let mut state = State::new();
    for m in members {
        state = state.add(
            &format!("google_project_iam_member.owners[\"{m}\"]"),
            json!({"id": format!("1044/roles/owner/{m}"), "project": "1044", "role": "roles/owner",
                   "member": m, "condition": [], "etag": "BwX"}),
        );
    }
    let mut policy = recorded_project_policy();
    for b in policy["bindings"].as_array_mut().unwrap() {
        if b["role"] == "roles/owner" {
            b["members"]
                .as_array_mut()
                .unwrap()
                .retain(|m| m != "user:a_user@forseti.test");
        }
    }
    let g = gcp(vec![(
        "/v3/projects/1044:getIamPolicy",
        vec![Reply::json(policy)],
    )]);
    let path = state.write(g.dir.path(), "gcp.tfstate");
    let tf = "resource \"google_project_iam_member\" \"owners\" {\n  for_each = toset([\n    \"group:c_grp@forseti.test\",\n    \"user:a_user@forseti.test\", # on call until Friday\n  ])\n  project = \"1044\"\n  role    = \"roles/owner\"\n  member  = each.value\n}\n";
    let code = g.dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), tf).unwrap();
    let run = fix_run(&g, &path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["manual"], json!([]), "{doc:#}");
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        tf.replace(
            "    \"user:a_user@forseti.test\", # on call until Friday\n",
            ""
        )
    );
}

/// A member revoked in the console from a project policy the code renders with
/// `data "google_iam_policy"`: it leaves its `binding` block there (the data source is read by
/// this policy alone).
#[test]
fn members_revoked_leave_the_google_iam_policy_data_source() {
    let recorded = recorded_project_policy();
    let state = State::new().add(
        "google_project_iam_policy.project",
        json!({"id": "1044", "project": "1044", "etag": "BwX",
               "policy_data": json!({"bindings": recorded["bindings"]}).to_string()}),
    );
    let mut live = recorded.clone();
    // The recorded policy lists this member twice: both go.
    let gone = "serviceAccount:4@cloudservices.gserviceaccount.com";
    for b in live["bindings"].as_array_mut().unwrap() {
        if b["role"] == "roles/editor" {
            b["members"].as_array_mut().unwrap().retain(|m| m != gone);
        }
    }
    let editors: Vec<String> = recorded["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["role"] == "roles/editor")
        .unwrap()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("    \"{}\",\n", m.as_str().unwrap()))
        .collect();
    let path_api = "/v3/projects/1044:getIamPolicy";
    let g = gcp(vec![(path_api, vec![Reply::json(live)])]);
    let path = state.write(g.dir.path(), "gcp.tfstate");
    let policy_tf = format!(
        "data \"google_iam_policy\" \"project\" {{\n  binding {{\n    role = \"roles/editor\"\n    members = [\n{}    ]\n  }}\n}}\n",
        editors.iter().map(|m| format!("  {m}")).collect::<String>()
    );
    let main_tf = "resource \"google_project_iam_policy\" \"project\" {\n  project     = \"1044\"\n  policy_data = data.google_iam_policy.project.policy_data\n}\n";
    let code = g.dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("main.tf"), main_tf).unwrap();
    std::fs::write(code.join("iam.tf"), &policy_tf).unwrap();
    let run = fix_run(&g, &path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["fixes"].as_array().unwrap().len(),
        1,
        "{doc:#}\n{}",
        run.stderr
    );
    assert_eq!(
        doc["fixes"][0]["file"].as_str().unwrap(),
        "infra/iam.tf",
        "{doc:#}"
    );
    assert_eq!(
        std::fs::read_to_string(code.join("iam.tf")).unwrap(),
        policy_tf.replace(&format!("      \"{gone}\",\n"), "")
    );
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        main_tf
    );
}

/// A member revoked in the console from a project policy whose `policy_data` is written inline:
/// in `jsonencode`, both of its lines go (the recorded policy lists it twice); in a JSON heredoc
/// (a CRLF file), both elements go and the JSON stays valid. Every other byte is kept.
#[test]
fn members_revoked_leave_inline_policy_data() {
    let recorded = recorded_project_policy();
    let state = State::new().add(
        "google_project_iam_policy.project",
        json!({"id": "1044", "project": "1044", "etag": "BwX",
               "policy_data": json!({"bindings": recorded["bindings"]}).to_string()}),
    );
    let gone = "serviceAccount:4@cloudservices.gserviceaccount.com";
    let mut live = recorded.clone();
    for b in live["bindings"].as_array_mut().unwrap() {
        b["members"].as_array_mut().unwrap().retain(|m| m != gone);
    }
    let list = |b: &Value, indent: &str| -> String {
        b["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{indent}{m},\n"))
            .collect()
    };
    let bindings: String = recorded["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "      {{\n        role = {}\n        members = [\n{}        ]\n      }},\n",
                b["role"],
                list(b, "          ")
            )
        })
        .collect();
    let encoded = format!(
        "resource \"google_project_iam_policy\" \"project\" {{\n  project = \"1044\"\n  # Every binding of the project is declared here.\n  policy_data = jsonencode({{\n    bindings = [\n{bindings}    ]\n  }})\n}}\n"
    );
    let heredoc = format!(
        "resource \"google_project_iam_policy\" \"project\" {{\n  project     = \"1044\"\n  policy_data = <<-EOT\n{}\n  EOT\n}}\n",
        serde_json::to_string_pretty(&json!({"bindings": recorded["bindings"]}))
            .unwrap()
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
    .replace('\n', "\r\n");
    for tf in [&encoded, &heredoc] {
        let g = gcp(vec![(
            "/v3/projects/1044:getIamPolicy",
            vec![Reply::json(live.clone())],
        )]);
        let path = state.write(g.dir.path(), "gcp.tfstate");
        let code = g.dir.path().join("infra");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::write(code.join("iam.tf"), tf).unwrap();
        let run = fix_run(&g, &path, &[]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
        assert_eq!(doc["manual"], json!([]), "{doc:#}");
        assert_eq!(doc["fixes"][0]["file"], "infra/iam.tf", "{doc:#}");
        let out = std::fs::read_to_string(code.join("iam.tf")).unwrap();
        if tf == &encoded {
            assert_eq!(out, tf.replace(&format!("          \"{gone}\",\n"), ""));
        } else {
            let start = out.find("<<-EOT\r\n").unwrap() + "<<-EOT\r\n".len();
            let end = out.find("\r\n  EOT").unwrap();
            let written: Value = serde_json::from_str(&out[start..end]).unwrap();
            assert_eq!(written, json!({"bindings": live["bindings"]}));
            assert_eq!(out.lines().count(), tf.lines().count() - 2, "{out}");
            assert!(
                !out.replace("\r\n", "").contains('\n'),
                "CRLF kept: {out:?}"
            );
        }
        // The fixed code says what is live: a second run writes nothing.
        let again = fix_run(&g, &path, &[]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(
            std::fs::read_to_string(code.join("iam.tf")).unwrap(),
            out,
            "{}",
            again.stdout
        );
    }
}

/// Network tags changed by hand on an instance: a tag removed leaves the literal `tags`, a tag
/// added (accepted) joins it.
#[test]
fn instance_tags_changed_by_hand_are_written_into_the_list() {
    let fix_with = |state_tags: &[&str], live_tags: &[&str], tf: &str, extra: &[&str]| {
        let g = gcp(vec![
            (
                INSTANCE_PATH,
                vec![Reply::json(live_instance(live_tags, RECORDED_ACCOUNT))],
            ),
            (
                "/compute/v1/projects/cloud-custodian/global/firewalls",
                vec![project_firewalls()],
            ),
        ]);
        let path = instance_state(state_tags).write(g.dir.path(), "gcp.tfstate");
        let code = g.dir.path().join("infra");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::write(code.join("main.tf"), tf).unwrap();
        let run = fix_run(&g, &path, extra);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        (doc, std::fs::read_to_string(code.join("main.tf")).unwrap())
    };
    let tf = |tags: &str| {
        format!("resource \"google_compute_instance\" \"web\" {{\n  name         = \"instance-1\"\n  machine_type = \"n1-standard-1\"\n  tags         = {tags}\n}}\n")
    };
    // The "locked" tag removed by hand: written.
    let (doc, written) = fix_with(
        &["web", "locked"],
        &["web"],
        &tf("[\"web\", \"locked\"]"),
        &["--accept-weakening"],
    );
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(written, tf("[\"web\"]"));
    // "debug" added by hand, accepted: it joins the list.
    let (doc, written) = fix_with(
        &["web"],
        &["web", "debug"],
        &tf("[\"web\"]"),
        &["--accept-weakening"],
    );
    assert_eq!(doc["fixes"][0]["action"], "accept", "{doc:#}");
    assert_eq!(written, tf("[\"web\", \"debug\"]"));
    // Without --accept-weakening it is left to the gate.
    let (doc, written) = fix_with(&["web"], &["web", "debug"], &tf("[\"web\"]"), &[]);
    assert_eq!(doc["fixes"], json!([]), "{doc:#}");
    assert_eq!(written, tf("[\"web\"]"));
}

/// `driftgate fix` on Cloud SQL: an authorized network revoked in the console leaves the code
/// (its block and the comment above it; a bare address is the `/32` the API reads back), a
/// network added and accepted becomes a block of its own, and networks from a `dynamic` block
/// are manual, named at that block.
#[test]
fn authorized_networks_changed_by_hand_are_written_as_blocks() {
    let path = "/v1/projects/shop-prod/instances/orders";
    let entry =
        |name: &str, value: &str| json!({"kind": "sql#aclEntry", "name": name, "value": value});
    let body = |networks: Vec<Value>| {
        json!({"kind": "sql#instance", "state": "RUNNABLE", "databaseVersion": "POSTGRES_15",
               "name": "orders", "project": "shop-prod", "region": "europe-west1",
               "settings": {"kind": "sql#settings", "tier": "db-custom-2-8192",
                            "ipConfiguration": {"ipv4Enabled": true, "sslMode": "ENCRYPTED_ONLY",
                                                "authorizedNetworks": networks}}})
    };
    let state = |networks: &[(&str, &str)]| {
        let nets: Vec<Value> = networks
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v, "expiration_time": ""}))
            .collect();
        State::new().add(
            "google_sql_database_instance.orders",
            json!({"name": "orders", "project": "shop-prod", "region": "europe-west1",
                   "database_version": "POSTGRES_15",
                   "settings": [{"tier": "db-custom-2-8192", "ip_configuration": [{"ipv4_enabled": true,
                       "ssl_mode": "ENCRYPTED_ONLY", "authorized_networks": nets}]}]}),
        )
    };
    let fix_with = |state: State, live: Vec<Value>, tf: &str, extra: &[&str]| {
        let g = gcp(vec![(path, vec![Reply::json(body(live))])]);
        let at = state.write(g.dir.path(), "gcp.tfstate");
        let code = g.dir.path().join("infra");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::write(code.join("main.tf"), tf).unwrap();
        let run = fix_run(&g, &at, extra);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        (doc, std::fs::read_to_string(code.join("main.tf")).unwrap())
    };
    let head = "resource \"google_sql_database_instance\" \"orders\" {\n  name             = \"orders\"\n  database_version = \"POSTGRES_15\"\n\n  settings {\n    tier = \"db-custom-2-8192\"\n\n    ip_configuration {\n      ipv4_enabled = true\n      ssl_mode     = \"ENCRYPTED_ONLY\"\n\n";
    let office = "      authorized_networks {\n        name  = \"office\"\n        value = \"203.0.113.0/24\"\n      }\n";
    let contractor = "      # the contractor, until the migration is done\n      authorized_networks {\n        name  = \"contractor\"\n        value = \"198.51.100.7\"\n      }\n";
    let vpn = "      authorized_networks {\n        name  = \"vpn\"\n        value = \"192.0.2.0/24\"\n      }\n";
    let tail = "    }\n  }\n}\n";
    let three = state(&[
        ("office", "203.0.113.0/24"),
        ("contractor", "198.51.100.7"),
        ("vpn", "192.0.2.0/24"),
    ]);
    let two = vec![
        entry("office", "203.0.113.0/24"),
        entry("vpn", "192.0.2.0/24"),
    ];

    // The contractor's address revoked in the console: its block goes, the others stay as written.
    let (doc, written) = fix_with(
        three.clone(),
        two.clone(),
        &format!("{head}{office}{contractor}{vpn}{tail}"),
        &[],
    );
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["fixes"][0]["action"], "codify", "{doc:#}");
    assert_eq!(doc["fixes"][0]["line"], 16, "{doc:#}");
    assert_eq!(written, format!("{head}{office}{vpn}{tail}"));

    // An address added during an incident and accepted: appended as a block of its own.
    let mut added = two.clone();
    added.push(entry("oncall", "198.51.100.23"));
    let (doc, written) = fix_with(
        state(&[("office", "203.0.113.0/24"), ("vpn", "192.0.2.0/24")]),
        added.clone(),
        &format!("{head}{office}{vpn}{tail}"),
        &["--accept-weakening"],
    );
    assert_eq!(doc["fixes"][0]["action"], "accept", "{doc:#}");
    assert_eq!(
        written,
        format!("{head}{office}{vpn}\n      authorized_networks {{\n        value = \"198.51.100.23/32\"\n      }}\n{tail}")
    );
    // Not accepted: the gate decides, the code is left alone.
    let (doc, _) = fix_with(
        state(&[("office", "203.0.113.0/24"), ("vpn", "192.0.2.0/24")]),
        added,
        &format!("{head}{office}{vpn}{tail}"),
        &[],
    );
    assert_eq!(doc["fixes"], json!([]), "{doc:#}");

    // Networks from a variable through a dynamic block: manual, at the dynamic block.
    let dynamic = "      dynamic \"authorized_networks\" {\n        for_each = var.networks\n        content {\n          value = authorized_networks.value\n        }\n      }\n";
    let tf = format!("{head}{dynamic}{tail}");
    let (doc, written) = fix_with(three.clone(), two.clone(), &tf, &[]);
    assert_eq!(doc["fixes"], json!([]), "{doc:#}");
    assert_eq!(doc["manual"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["manual"][0]["line"], 12, "{doc:#}");
    assert!(
        doc["manual"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("dynamic"),
        "{doc:#}"
    );
    assert_eq!(
        doc["manual"][0]["want"], "authorized networks [\"192.0.2.0/24\", \"203.0.113.0/24\"]",
        "{doc:#}"
    );
    assert_eq!(written, tf);

    // The same networks from a `locals` list (nested in `settings { ip_configuration { … } }`,
    // each element read as `authorized_networks.value`): the contractor's element goes.
    let locals = "locals {\n  sql_networks = [\n    \"203.0.113.0/24\",\n    \"198.51.100.7\", # the contractor\n    \"192.0.2.0/24\",\n  ]\n}\n\n";
    let tf = format!(
        "{locals}{head}{}{tail}",
        dynamic.replace("var.networks", "local.sql_networks")
    );
    let (doc, written) = fix_with(three, two, &tf, &[]);
    assert_eq!(doc["manual"], json!([]), "{doc:#}");
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(
        written,
        tf.replace("    \"198.51.100.7\", # the contractor\n", "")
    );
}

/// Keys set or dropped by hand on disks and buckets, written into the block that holds them: a
/// customer-managed key put on is written as a new block (without its version: versions rotate),
/// one replaced by another key replaces the reference the code had, and Google's own key back
/// again (accepted) takes the block out with its comment.
#[test]
fn keys_changed_by_hand_are_written_into_their_blocks() {
    let buckets = fixture("gcp/c7n_flight_storage_buckets_list_iamConfiguration.json")["body"]
        ["items"]
        .clone();
    let bucket = |name: &str| {
        buckets
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap()
            .clone()
    };
    let ring = "projects/cloud-custodian/locations/us/keyRings/r/cryptoKeys";
    let mut trail = bucket("custodian-gce-trail");
    trail["encryption"] = json!({"defaultKmsKeyName": format!("{ring}/trail")});
    let mut dev = bucket("c7n-dev-test");
    dev["encryption"] = json!({"defaultKmsKeyName": format!("{ring}/dev-2")});
    dev["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] = json!(true);
    let recorded = fixture("gcp/c7n_flight_compute_disks_list.json")["body"]["items"][0].clone();
    let zone = "projects/cloud-custodian/zones/us-central1-c";
    let mut data = recorded.clone();
    data["name"] = json!("data");
    let mut logs = recorded;
    logs["name"] = json!("logs");
    logs["diskEncryptionKey"] =
        json!({"kmsKeyName": format!("{ring}/disks/cryptoKeyVersions/3"), "sha256": "x"});
    let bucket_state = |name: &str, key: Option<String>| {
        let encryption = key.map_or(json!([]), |k| json!([{"default_kms_key_name": k}]));
        json!({"name": name, "location": "US", "uniform_bucket_level_access": true,
               "public_access_prevention": "inherited", "encryption": encryption})
    };
    let disk_state = |name: &str, key: Option<String>| {
        let dek = key.map_or(
            json!([]),
            |k| json!([{"kms_key_self_link": k, "sha256": ""}]),
        );
        json!({"id": format!("{zone}/disks/{name}"), "name": name, "zone": "us-central1-c",
               "disk_encryption_key": dek})
    };
    let state = State::new()
        .add(
            "google_storage_bucket.trail",
            bucket_state("custodian-gce-trail", None),
        )
        .add(
            "google_storage_bucket.dev",
            bucket_state("c7n-dev-test", Some(format!("{ring}/dev"))),
        )
        .add(
            "google_compute_disk.data",
            disk_state("data", Some(format!("{ring}/disks"))),
        )
        .add("google_compute_disk.logs", disk_state("logs", None));
    let disk_path = |name: &str| format!("/compute/v1/{zone}/disks/{name}");
    let g = gcp(vec![
        (
            "/storage/v1/b/custodian-gce-trail",
            vec![Reply::json(trail)],
        ),
        ("/storage/v1/b/c7n-dev-test", vec![Reply::json(dev)]),
        (disk_path("data").as_str(), vec![Reply::json(data)]),
        (disk_path("logs").as_str(), vec![Reply::json(logs)]),
    ]);
    let at = state.write(g.dir.path(), "gcp.tfstate");
    let code = g.dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    let trail_tf = "resource \"google_storage_bucket\" \"trail\" {\n  name     = \"custodian-gce-trail\"\n  location = \"US\"\n}\n";
    let dev_tf = |key: &str| {
        format!("\nresource \"google_storage_bucket\" \"dev\" {{\n  name     = \"c7n-dev-test\"\n  location = \"US\"\n\n  encryption {{\n    default_kms_key_name = {key} # rotated yearly\n  }}\n}}\n")
    };
    let data_tf = "\nresource \"google_compute_disk\" \"data\" {\n  name = \"data\"\n  zone = \"us-central1-c\"\n\n  # the data team's key\n  disk_encryption_key {\n    kms_key_self_link = google_kms_crypto_key.disks.id\n  }\n}\n";
    let logs_tf = "\nresource \"google_compute_disk\" \"logs\" {\n  name = \"logs\"\n  zone = \"us-central1-c\"\n}\n";
    let before = format!(
        "{trail_tf}{}{data_tf}{logs_tf}",
        dev_tf("google_kms_crypto_key.dev.id")
    );
    std::fs::write(code.join("main.tf"), &before).unwrap();
    let run = fix_run(&g, &at, &["--accept-weakening"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut fixes = fix_lines(&doc, &["address", "line", "action"]);
    fixes.sort();
    assert_eq!(
        fixes,
        [
            "google_compute_disk.data 19 accept",
            "google_compute_disk.logs 28 codify",
            "google_storage_bucket.dev 11 accept",
            "google_storage_bucket.trail 4 codify",
        ],
        "{doc:#}"
    );
    assert_eq!(doc["manual"], json!([]), "{doc:#}");
    let after = format!(
        "resource \"google_storage_bucket\" \"trail\" {{\n  name     = \"custodian-gce-trail\"\n  location = \"US\"\n\n  encryption {{\n    default_kms_key_name = \"{ring}/trail\"\n  }}\n}}\n{}\nresource \"google_compute_disk\" \"data\" {{\n  name = \"data\"\n  zone = \"us-central1-c\"\n}}\n\nresource \"google_compute_disk\" \"logs\" {{\n  name = \"logs\"\n  zone = \"us-central1-c\"\n\n  disk_encryption_key {{\n    kms_key_self_link = \"{ring}/disks\"\n  }}\n}}\n",
        dev_tf(&format!("\"{ring}/dev-2\""))
    );
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        after
    );
    // Once written, nothing is left to fix, and nothing is called unwritable.
    let run = fix_run_loud(&g, &at, &["--accept-weakening"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&doc["fixes"], &doc["manual"]),
        (&json!([]), &json!([])),
        "{doc:#}"
    );
    assert!(
        run.stderr
            .contains("driftgate: 0 fix(es) written, 0 to do by hand")
            && !run.stderr.contains("does not write yet"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        after
    );
}
