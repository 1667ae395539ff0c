//! The console takes anything a person types: seeded random command lines built from
//! kubectl's vocabulary (and junk) never panic the interpreter, and every failure is an
//! `Output` with `ok == false` and some text.

use kubeplay_core::rng::SimRng;
use kubeplay_core::{Cluster, Session};

const WORDS: &[&str] = &[
    "kubectl",
    "kubectl",
    "kubectl",
    "get",
    "apply",
    "delete",
    "scale",
    "create",
    "version",
    "describe",
    "pods",
    "pod",
    "po",
    "deploy",
    "deployments.apps",
    "rs",
    "svc",
    "nodes",
    "ns",
    "events",
    "all",
    "cm",
    "pods,svc",
    "deploy/web",
    "web",
    "-f",
    "web.yaml",
    "missing.yaml",
    "-o",
    "wide",
    "yaml",
    "json",
    "name",
    "-owide",
    "-n",
    "kube-system",
    "-A",
    "-l",
    "app=web",
    "app in (web)",
    "!app",
    "--field-selector",
    "status.phase=Running",
    "--replicas=0",
    "--replicas=5",
    "--replicas=-1",
    "--replicas",
    "x",
    "--all",
    "--wait=false",
    "sleep",
    "1s",
    "250ms",
    "2m",
    "help",
    "'",
    "\"",
    "|",
    ";",
    "--",
    "-",
    "=",
    "\u{3042}",
    "",
    "--bogus",
    "-z",
    // Commands with flags of their own: logs, exec, the generators.
    "logs",
    "exec",
    "-c",
    "-p",
    "--previous",
    "--tail=2",
    "--tail",
    "--timestamps",
    "-it",
    "cat",
    "/etc/hostname",
    "sh",
    "-exc",
    "echo $HOSTNAME",
    "configmap",
    "secret",
    "generic",
    "tls",
    "docker-registry",
    "--from-literal=k=v",
    "--from-literal",
    "--from-file=web.yaml",
    "--from-env-file",
    "--dry-run=client",
    "--docker-username=u",
    "--cert",
];

#[test]
fn random_command_lines_never_panic() {
    let mut rng = SimRng::stream(7, "command-fuzz");
    let mut session = Session::new(Cluster::new(7));
    session.files.insert("web.yaml".into(), include_str!("../../../examples/web.yaml").into());
    session.exec("kubectl apply -f web.yaml");
    let mut failures = 0;
    for _ in 0..5000 {
        let n = rng.range_inclusive(1, 7) as usize;
        let mut line: Vec<&str> = (0..n).map(|_| WORDS[rng.pick_index(WORDS.len())]).collect();
        // Mostly kubectl, so its argument parsing gets the attention.
        if rng.chance(7, 10) {
            line.insert(0, "kubectl");
        }
        let out = session.exec(&line.join(" "));
        if !out.ok {
            failures += 1;
            assert!(!out.text.is_empty(), "{line:?} failed silently");
        }
    }
    assert!(failures > 100, "the fuzzer should hit errors ({failures})");
    assert!(!session.cluster.livelocked());
}
