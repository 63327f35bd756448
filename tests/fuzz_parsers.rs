//! Bounded fuzzing of every input parser on stable Rust, in the suite: recorded states (v4 and
//! `terraform show -json`), the built-in policy pack and a config file, mutated by a seeded
//! generator (byte flips, cuts, duplicated ranges, inserted JSON/YAML tokens). Each case must end
//! in `Ok` or an error that names its input: never a panic, never a silent empty result for a
//! document that lost its resources' shape. Deterministic (fixed seeds), so a failure reproduces.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[path = "common/mutate.rs"]
mod mutate;

use mutate::{mutate, Rng};

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "null",
    "\"",
    ":",
    ",",
    "-1",
    "1e999",
    "true",
    "\u{feff}",
    "&a ",
    "*a",
    "\n- ",
    "\\u0000",
    "\"mode\": \"data\"",
    "\"resources\": {}",
    "\"version\": 3",
];

/// Runs `parse` on `cases` mutations of each seed; every error must name `label`.
fn fuzz(
    seeds: &[&str],
    cases: usize,
    label: &str,
    parse: impl Fn(&[u8]) -> Result<(), String>,
) -> (usize, usize) {
    let (mut ok, mut refused) = (0, 0);
    for (n, path) in seeds.iter().enumerate() {
        let seed = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1));
        for case in 0..cases {
            let input = mutate(&seed, &mut rng, TOKENS);
            match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
                Ok(Ok(())) => ok += 1,
                Ok(Err(e)) => {
                    assert!(
                        e.contains(label),
                        "{path} case {case}: error without its input: {e}"
                    );
                    refused += 1;
                }
                Err(_) => panic!(
                    "{path} case {case} panicked; input:\n{}",
                    String::from_utf8_lossy(&input)
                ),
            }
        }
    }
    (ok, refused)
}

#[test]
fn state_parsers_never_panic() {
    let seeds = [
        "tests/fixtures/shared/tfstate/driftctl_aws_security_group_rule.tfstate",
        "tests/fixtures/shared/tfstate/driftctl_network_acl.tfstate",
        "tests/fixtures/shared/tfstate/driftctl_google_compute_firewall.tfstate",
        "tests/fixtures/shared/tf_show_json/terraform-json_state_sensitive_values.json",
        "tests/fixtures/shared/tf_show_json/checkov_plan_azurerm_nsg_and_rule.json",
    ];
    let (ok, refused) = fuzz(&seeds, 600, "fuzzed.tfstate", |bytes| {
        driftgate::state::parse("fuzzed.tfstate", bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // The generator must reach both outcomes, or it tests nothing.
    assert!(ok > 100 && refused > 100, "ok {ok}, refused {refused}");
}

#[test]
fn policy_and_config_parsers_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let known: BTreeSet<&str> = driftgate::check::known_types();
    let path = dir.path().join("fuzzed.yaml");
    let p = path.to_str().unwrap().to_string();
    let (ok, refused) = fuzz(&["policies/gcp.yaml"], 300, "fuzzed.yaml", |bytes| {
        std::fs::write(&path, bytes).unwrap();
        driftgate::policy::PolicySet::load(std::slice::from_ref(&p), &known)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    assert!(
        ok > 10 && refused > 10,
        "policies: ok {ok}, refused {refused}"
    );

    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "format: json\noutput: [json=drift.json, sarif=drift.sarif]\ncolor: never\n\
         concurrency: 8\nmax_attempts: 3\ntimeout: 30\nquiet: false\nsource_dir: infra\n",
    )
    .unwrap();
    let (ok, refused) = fuzz(
        &[config.to_str().unwrap()],
        1000,
        "fuzzed-config",
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            driftgate::config::parse("fuzzed-config", &text)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    );
    assert!(
        ok > 50 && refused > 50,
        "config: ok {ok}, refused {refused}"
    );
}
