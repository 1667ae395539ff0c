//! Every manifest of the shared corpus (`../shared/corpus`, real public manifests) loads:
//! each document becomes an object (simulated, or stored with a "not simulated" notice) or a
//! positioned diagnostic — never a panic — and applying them all leaves a cluster that settles.

use std::path::{Path, PathBuf};

use kubeplay_core::diag::Severity;
use kubeplay_core::{manifest, Cluster, Session};

fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBEPLAY_CORPUS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn manifests(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            manifests(&path, out);
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_corpus_manifest_loads() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        // A clone without the steering repo's shared/ folder beside it: nothing to read.
        println!("skipped: no shared corpus at {} (set KUBEPLAY_CORPUS, or clone beside shared/)", dir.display());
        return;
    }
    let mut paths = Vec::new();
    manifests(&dir, &mut paths);
    assert!(paths.len() > 300, "expected the shared corpus at {} (set KUBEPLAY_CORPUS)", dir.display());
    let (mut objects, mut stored, mut rejected) = (0, 0, 0);
    let mut session = Session::new(Cluster::new(1));
    for path in &paths {
        let name = path.strip_prefix(&dir).unwrap_or(path).display().to_string();
        let text = String::from_utf8_lossy(&std::fs::read(path).expect("readable")).into_owned();
        let parsed = manifest::parse(&name, &text);
        for d in &parsed.diagnostics {
            assert!(d.position.line >= 1 && d.position.column >= 1, "{d}");
        }
        for o in &parsed.objects {
            if !o.object.info().is_simulated() {
                let notice = parsed.diagnostics.iter().any(|d| {
                    d.severity == Severity::Warning && d.message.contains("stored, not simulated yet") && d.position == o.position
                });
                assert!(notice, "{name}: {} has no 'not simulated' notice", o.object.key().name);
                stored += 1;
            }
        }
        // Every rejected document has an error diagnostic; nothing is silently dropped.
        assert_eq!(!parsed.rejected.is_empty(), parsed.has_errors(), "{name}");
        objects += parsed.objects.len();
        rejected += parsed.rejected.len();
        if std::env::var_os("KUBEPLAY_SHOW_REJECTED").is_some() {
            for r in &parsed.rejected {
                println!("REJECTED {name}: {}", r.kubectl_error);
            }
        }
        session.files.insert(name.clone(), text);
        session.exec(&format!("kubectl apply -f '{name}'"));
    }
    session.exec("sleep 2m");
    assert!(!session.cluster.livelocked());
    println!("corpus: {} files, {objects} objects ({stored} stored, not simulated), {rejected} rejected documents", paths.len());
    assert!(objects > 300, "only {objects} objects parsed");
}

/// The Kubernetes docs' workload examples (`kubernetes-website/.../examples/controllers` and the
/// Job page's snippets) end as the docs say they do, each on a fresh cluster after five
/// virtual minutes: Deployments, ReplicaSets and StatefulSets with every replica ready,
/// DaemonSets ready on every node they want, the Jobs complete (or failed by their pod failure
/// policy, or gone after their TTL). Examples whose programs kubeplay does not run (Python
/// scripts) are only loaded, by the test above.
#[test]
fn workload_examples_converge_as_documented() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!("skipped: no shared corpus at {} (set KUBEPLAY_CORPUS, or clone beside shared/)", dir.display());
        return;
    }
    let controllers = dir.join("kubernetes-website/content/en/examples/controllers");
    let snippets = dir.join("kubernetes-website-doc-snippets/concepts/workloads/controllers");
    // (file, what the docs say happens to its Job: Complete, Failed: reason, or gone).
    let cases: &[(PathBuf, Option<&str>)] = &[
        (controllers.join("nginx-deployment.yaml"), None),
        (controllers.join("frontend.yaml"), None),
        (controllers.join("statefulset.yaml"), None),
        (controllers.join("daemonset.yaml"), None),
        (controllers.join("fluentd-daemonset.yaml"), None),
        (controllers.join("job.yaml"), Some("Complete")),
        (controllers.join("job-pod-failure-policy-example.yaml"), Some("Failed: PodFailurePolicy")),
        (controllers.join("job-pod-failure-policy-ignore.yaml"), Some("Complete")),
        (snippets.join("job.md--pi-with-timeout.yaml"), Some("Complete")),
        (snippets.join("job.md--pi-with-ttl.yaml"), Some("gone")),
    ];
    let mut checked = 0;
    for (path, job_outcome) in cases {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let name = path.display().to_string();
        let mut session = Session::new(Cluster::for_manifests(1, [(name.as_str(), text.as_str())]));
        session.files.insert(name.clone(), text.clone());
        let out = session.exec(&format!("kubectl apply -f {name}"));
        assert!(out.ok, "{name}: {}", out.text);
        session.exec("sleep 5m");
        let store = session.cluster.store();
        for d in store.list("Deployment", None).filter_map(|o| o.as_deployment()) {
            let st = d.status.clone().unwrap_or_default();
            assert_eq!(st.available_replicas, d.spec.replicas, "{name}: Deployment {:?}", d.metadata.name);
        }
        for rs in store.list("ReplicaSet", None).filter_map(|o| o.as_replica_set()) {
            assert_eq!(rs.status.as_ref().and_then(|s| s.ready_replicas), rs.spec.replicas, "{name}: ReplicaSet {:?}", rs.metadata.name);
        }
        for sts in store.list("StatefulSet", None).filter_map(|o| o.as_stateful_set()) {
            let ready = sts.status.as_ref().and_then(|s| s.ready_replicas);
            assert_eq!(ready, sts.spec.replicas, "{name}: StatefulSet {:?}", sts.metadata.name);
        }
        for ds in store.list("DaemonSet", None).filter_map(|o| o.as_daemon_set()) {
            let st = ds.status.clone().unwrap_or_default();
            assert!(st.desired_number_scheduled > 0 && st.number_ready == st.desired_number_scheduled, "{name}: DaemonSet {st:?}");
        }
        if let Some(expected) = job_outcome {
            let jobs: Vec<_> = store.list("Job", None).filter_map(|o| o.as_job()).collect();
            if *expected == "gone" {
                assert!(jobs.is_empty(), "{name}: the Job outlived its TTL");
            }
            for job in jobs {
                let conditions = job.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
                let outcome = conditions.iter().find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True").map(|c| {
                    if c.type_ == "Complete" {
                        "Complete".to_string()
                    } else {
                        format!("Failed: {}", c.reason.as_deref().unwrap_or(""))
                    }
                });
                assert_eq!(outcome.as_deref(), Some(*expected), "{name}: Job {:?}", job.metadata.name);
            }
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} workload examples found");
}
