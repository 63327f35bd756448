//! Sweeps over many states: `--shard K/N` shares them out to the jobs of a CI matrix (each state
//! in exactly one shard, stably), and a run over many states reads each region once per family,
//! not once per state. Against moto.

mod common;

use std::collections::BTreeSet;

use common::*;

#[tokio::test]
async fn shards_share_out_the_states_and_reads_are_per_region_not_per_state() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..6 {
        let name = unique(&format!("sweep{i}"));
        let sg = m.group(&vpc, &name).await;
        if i == 4 {
            // The one console change of the sweep.
            m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;
        }
        let state_dir = dir.path().join(format!("states/acct-{i}"));
        std::fs::create_dir_all(&state_dir).unwrap();
        let path = State::new()
            .add(
                "aws_security_group.web",
                sg_attrs(&sg, &vpc, &name, vec![], vec![]),
            )
            .write(&state_dir, "net.tfstate");
        paths.push(path.display().to_string());
    }
    let pattern = format!("{}/states/**/*.tfstate", dir.path().display());
    let sweep = |extra: &[&str]| {
        let mut args = vec!["check", "--format", "json", "--state", &pattern];
        args.extend_from_slice(extra);
        driftgate(&m.url, &args, None)
    };

    // All six in one run: one DescribeSecurityGroups for the region, not six.
    let all = sweep(&[]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    let report = all.json();
    assert_eq!(report["summary"]["states"].as_array().unwrap().len(), 6);
    assert_eq!(
        report["summary"]["api_calls"]["ec2"]["DescribeSecurityGroups"],
        1
    );
    let drifted = &paths[4];

    // Three shards: every state checked exactly once, the drift in the shard that holds it.
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = sweep(&["--shard", &shard]);
        let labels: Vec<String> = run.json()["summary"]["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["label"].as_str().unwrap().to_string())
            .collect();
        assert!(
            run.stderr
                .contains(&format!("shard {shard}: {} of 6 state(s)", labels.len())),
            "{}",
            run.stderr
        );
        let holds = labels.iter().any(|l| l == drifted);
        assert_eq!(
            run.code,
            if holds { 1 } else { 0 },
            "{shard}: {}",
            run.stderr
        );
        if !labels.is_empty() {
            assert_eq!(
                run.json()["summary"]["api_calls"]["ec2"]["DescribeSecurityGroups"],
                1,
                "{shard}"
            );
        }
        for l in &labels {
            assert!(driftgate::state::Shard::parse(&shard).unwrap().holds(l));
        }
        total += labels.len();
        seen.extend(labels);
    }
    assert_eq!(total, 6, "a state in two shards");
    assert_eq!(seen, paths.iter().cloned().collect::<BTreeSet<_>>());

    // A shard that holds none of the states passes as "nothing checked", or fails with
    // --fail-on-empty for a pipeline that wants the guard.
    let empty = (1..=40)
        .map(|k| driftgate::state::Shard {
            index: k,
            count: 40,
        })
        .find(|s| paths.iter().all(|p| !s.holds(p)))
        .unwrap();
    let spec = format!("{}/{}", empty.index, empty.count);
    let run = sweep(&["--shard", &spec]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["summary"]["objects_checked"], 0);
    let run = sweep(&["--shard", &spec, "--fail-on-empty"]);
    assert_eq!(run.code, 2);

    // Bad shards and standard input are refused.
    for bad in ["0/3", "4/3", "x"] {
        let run = sweep(&["--shard", bad]);
        assert_eq!(run.code, 2, "{bad}");
        assert!(run.stderr.contains("--shard"), "{}", run.stderr);
    }
    let state = std::fs::read(&paths[0]).unwrap();
    let run = driftgate(
        &m.url,
        &["check", "--state", "-", "--shard", "1/2"],
        Some(&state),
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("standard input"), "{}", run.stderr);
}
