//! Every real state in tests/fixtures/shared (copied from ../shared/fixtures, see SOURCES.md there)
//! parses, and the AWS network families build their expected view from it without error.

use std::path::{Path, PathBuf};

use driftgate::families;
use driftgate::state::{self, Resource};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // Recorded cloud API answers, not states (tests/azure.rs and tests/gcp.rs replay them).
        if path.ends_with("azure") || path.ends_with("gcp") {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "tfstate" || e == "json")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_state_parses() {
    let mut all = Vec::new();
    files(Path::new("tests/fixtures/shared"), &mut all);
    all.sort();
    assert!(all.len() >= 30, "fixtures missing: {}", all.len());
    let mut parsed = 0;
    let mut network_objects = 0;
    for path in &all {
        let bytes = std::fs::read(path).unwrap();
        let label = path.display().to_string();
        let result = state::parse(&label, &bytes);
        if label.contains("aws_config_items") {
            // AWS Config items, not states: read by src/families/aws/config_items.rs's tests.
            continue;
        }
        if label.ends_with(".tf_resources.json") {
            // pytest-terraform exports are not states: rejected with a message, not a panic.
            let e = result.expect_err(&label).to_string();
            assert!(e.contains("not a Terraform state"), "{e}");
            continue;
        }
        let (_, resources) = result.unwrap_or_else(|e| panic!("{e}"));
        parsed += 1;
        for family in families::all() {
            let mine: Vec<&Resource> = families::resources_of(family, &resources);
            if !mine.is_empty() {
                let objs = family
                    .expected(&mine)
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                network_objects += objs.len();
            }
        }
    }
    assert!(parsed >= 30, "{parsed}");
    // driftctl's SG, SG rule, NACL, NACL rule and default NACL states.
    assert!(network_objects >= 10, "{network_objects}");
}

#[test]
fn show_json_state_and_plan() {
    let bytes = std::fs::read(
        "tests/fixtures/shared/tf_show_json/terraform-json_state_sensitive_values.json",
    )
    .unwrap();
    let (source, resources) = state::parse("state", &bytes).unwrap();
    assert_eq!(source.format, "show-json-state");
    let addrs: Vec<&str> = resources.iter().map(|r| r.address.as_str()).collect();
    assert!(addrs.contains(&"null_resource.baz[1]"), "{addrs:?}");

    // A plan's prior_state holding only a data source: no managed resources, no error.
    let bytes =
        std::fs::read("tests/fixtures/shared/tf_show_json/checkov_plan_s3_pab_modules.json")
            .unwrap();
    let (source, resources) = state::parse("plan", &bytes).unwrap();
    assert_eq!(source.format, "show-json-plan");
    assert!(resources.is_empty(), "{resources:#?}");
}
