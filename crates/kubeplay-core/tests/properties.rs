//! Property tests: random workloads and command sequences, generated from a seed by the
//! simulator's own PRNG, must keep the cluster's invariants. A failure prints the seed;
//! `KUBEPLAY_SEEDS=N` runs more of them.

use kubeplay_core::api::pod_util;
use kubeplay_core::api::quantity;
use kubeplay_core::api::Object;
use kubeplay_core::rng::SimRng;
use kubeplay_core::{Cluster, Session};

/// A random script over a few Deployments: applies, scales, deletes and sleeps.
fn random_script(seed: u64) -> (Vec<(String, String)>, Vec<String>) {
    let mut rng = SimRng::stream(seed, "property-script");
    let mut files = Vec::new();
    let mut commands = Vec::new();
    let n_deployments = rng.range_inclusive(1, 4);
    for d in 0..n_deployments {
        let replicas = rng.range_inclusive(0, 8);
        let cpu = ["", "100m", "500m", "1", "3"][rng.pick_index(5)];
        let resources =
            if cpu.is_empty() { String::new() } else { format!("\n        resources:\n          requests:\n            cpu: \"{cpu}\"") };
        let name = format!("app{d}");
        let strategy = if rng.chance(1, 3) { "\n  strategy:\n    type: Recreate" } else { "" };
        // Two versions of each Deployment, so that scripts roll between them.
        for (version, image) in [("v1", "nginx:1.26"), ("v2", "nginx:1.27")] {
            files.push((
                format!("{name}-{version}.yaml"),
                format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}{strategy}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: c\n        image: {image}{resources}\n"
                ),
            ));
        }
        commands.push(format!("kubectl apply -f {name}-v1.yaml"));
    }
    for _ in 0..rng.range_inclusive(3, 12) {
        let target = format!("app{}", rng.below(n_deployments));
        match rng.below(5) {
            0 => commands.push(format!("kubectl scale deployment {target} --replicas={}", rng.range_inclusive(0, 10))),
            1 => commands.push(format!("kubectl delete pods -l app={target} --wait=false")),
            2 => commands.push(format!("kubectl apply -f {target}-v{}.yaml", rng.range_inclusive(1, 2))),
            _ => commands.push(format!("sleep {}ms", rng.range_inclusive(1, 20_000))),
        }
    }
    commands.push("sleep 3m".into());
    (files, commands)
}

fn run(seed: u64) -> (Session, String) {
    let (files, commands) = random_script(seed);
    let mut session = Session::new(Cluster::new(seed));
    session.files = files.into_iter().collect();
    let mut transcript = String::new();
    for command in &commands {
        transcript.push_str(&session.run_script(command));
        // The scheduler cache and the ReplicaSet counts equal a recomputation after every step.
        assert_eq!(session.cluster.check_caches(), Ok(()), "seed {seed}, after `{command}`");
    }
    (session, transcript)
}

/// Checks the invariants; true if the cluster was quiet enough to check convergence too.
fn check_invariants(seed: u64, session: &Session) -> bool {
    let cluster = &session.cluster;
    assert!(!cluster.livelocked(), "seed {seed}: livelock");
    // No node is over-committed, summed here from the Pods themselves (not the scheduler's
    // accounting): CPU and memory requests of unfinished Pods against allocatable.
    for node in cluster.store().list("Node", None).filter_map(Object::as_node) {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let alloc = |r: &str| node.status.as_ref().and_then(|s| s.allocatable.as_ref()).and_then(|a| a.get(r)).map(|q| q.0.clone());
        let (mut cpu, mut memory) = (0i64, 0i64);
        for pod in cluster.store().list("Pod", None).filter_map(Object::as_pod) {
            if pod_util::node_name(pod) != Some(name) || pod_util::is_terminal(pod) {
                continue;
            }
            for c in pod.spec.iter().flat_map(|s| &s.containers) {
                let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
                cpu += req.and_then(|r| r.get("cpu")).and_then(|q| quantity::cpu_millis(&q.0)).unwrap_or(0);
                memory += req.and_then(|r| r.get("memory")).and_then(|q| quantity::bytes(&q.0)).unwrap_or(0);
            }
        }
        let cpu_alloc = alloc("cpu").and_then(|q| quantity::cpu_millis(&q)).unwrap_or(0);
        let mem_alloc = alloc("memory").and_then(|q| quantity::bytes(&q)).unwrap_or(0);
        assert!(cpu <= cpu_alloc, "seed {seed}: node {name} cpu over-committed ({cpu} > {cpu_alloc})");
        assert!(memory <= mem_alloc, "seed {seed}: node {name} memory over-committed ({memory} > {mem_alloc})");
    }
    // Every component's incremental caches equal a recomputation from the store.
    assert_eq!(cluster.check_caches(), Ok(()), "seed {seed}");
    // resourceVersions are unique and never ahead of the store's counter.
    let mut versions: Vec<u64> = Vec::new();
    for kind in ["Pod", "ReplicaSet", "Deployment", "Node", "Event"] {
        for o in cluster.store().list(kind, None) {
            let rv: u64 = o.meta().resource_version.as_deref().and_then(|v| v.parse().ok()).expect("every object has a resourceVersion");
            assert!(rv <= cluster.store().resource_version(), "seed {seed}");
            versions.push(rv);
        }
    }
    let n = versions.len();
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), n, "seed {seed}: duplicate resourceVersion");
    // After three quiet minutes every scheduled Pod is Running and Ready, and every unscheduled
    // one says why.
    let mut all_scheduled = true;
    for pod in cluster.store().list("Pod", None).filter_map(Object::as_pod) {
        if pod_util::node_name(pod).is_some() {
            assert_eq!(pod_util::phase(pod), "Running", "seed {seed}: {:?}", pod.metadata.name);
            assert!(pod_util::is_ready(pod), "seed {seed}");
        } else {
            all_scheduled = false;
            let cond = pod_util::condition(pod, "PodScheduled").expect("unscheduled pods say why");
            assert_eq!(cond.reason.as_deref(), Some("Unschedulable"), "seed {seed}");
        }
    }
    // A rollout that waits for capacity stalls, as it does in Kubernetes. When nothing waits,
    // every Deployment has exactly its replicas, all on the current template.
    if !all_scheduled {
        return false;
    }
    for d in cluster.store().list("Deployment", None).filter_map(Object::as_deployment) {
        let want = d.spec.replicas.unwrap_or(1);
        let status = d.status.clone().unwrap_or_default();
        assert_eq!(status.replicas.unwrap_or(0), want, "seed {seed}: {:?} status.replicas", d.metadata.name);
        // The rollout finished: every Pod runs the current template.
        assert_eq!(status.updated_replicas.unwrap_or(0), want, "seed {seed}: {:?} updatedReplicas", d.metadata.name);
    }
    true
}

#[test]
// Tests may read the environment; the core library may not (clippy.toml).
#[allow(clippy::disallowed_methods)]
fn random_workloads_keep_invariants_and_replay_exactly() {
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    let mut converged = 0;
    for seed in 0..seeds {
        let (session, transcript) = run(seed);
        converged += u64::from(check_invariants(seed, &session));
        let (_, again) = run(seed);
        assert_eq!(transcript, again, "seed {seed}: same seed, different transcript");
    }
    assert!(converged * 2 > seeds, "only {converged} of {seeds} seeds reached a checkable steady state");
}

#[test]
fn different_seeds_give_different_names() {
    let (_, a) = run(1);
    let (_, b) = run(2);
    assert_ne!(a, b);
}

/// A small cluster of random node sizes, filled past capacity so that Pods wait.
fn crowded_cluster(seed: u64) -> (Session, usize) {
    let mut rng = SimRng::stream(seed, "crowded");
    let n_nodes = rng.range_inclusive(1, 4) as usize;
    let mut yaml = String::new();
    for i in 0..n_nodes {
        let cpu = rng.range_inclusive(1, 4);
        let memory = rng.range_inclusive(1, 4);
        let taint = if rng.chance(1, 4) { "\nspec:\n  taints:\n  - {key: dedicated, value: x, effect: NoSchedule}" } else { "" };
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}{taint}\nstatus:\n  capacity: {{cpu: \"{cpu}\", memory: {memory}Gi, pods: \"10\"}}\n---\n"
        ));
    }
    let n_pods = rng.range_inclusive(5, 30) as usize;
    for i in 0..n_pods {
        let cpu = ["250m", "500m", "1"][rng.pick_index(3)];
        let memory = ["128Mi", "512Mi", "1Gi"][rng.pick_index(3)];
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i:02}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    resources:\n      requests: {{cpu: {cpu}, memory: {memory}}}\n---\n"
        ));
    }
    let mut session = Session::new(Cluster::empty(seed));
    session.files.insert("all.yaml".into(), yaml);
    session.exec("kubectl apply -f all.yaml");
    (session, n_pods)
}

/// Pending Pods that some node would accept now, computed from scratch (not the scheduler's
/// queue or cache).
fn pending_that_fit(cluster: &Cluster) -> Vec<String> {
    let fresh = kubeplay_core::scheduler::Cache::from_store(cluster.api());
    let pending = cluster.store().list("Pod", None).filter_map(Object::as_pod).filter(|p| pod_util::node_name(p).is_none());
    pending
        .filter(|p| {
            let info = kubeplay_core::scheduler::PodInfo::new(p);
            (0..fresh.len()).filter_map(|i| fresh.node_at(i)).any(|node| kubeplay_core::scheduler::plugins::filter(&info, node).is_ok())
        })
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn no_pod_that_would_fit_stays_parked_after_the_event_that_freed_room() {
    for seed in 0..40 {
        let (mut session, n_pods) = crowded_cluster(seed);
        session.exec("sleep 30s");
        assert_eq!(pending_that_fit(&session.cluster), Vec::<String>::new(), "seed {seed}: right after scheduling");
        let mut rng = SimRng::stream(seed, "victims");
        for _ in 0..3 {
            // Free room: delete a random running Pod, then wait out the longest backoff (10 s),
            // far less than the 5-minute flush that would otherwise retry a parked Pod.
            let victim = format!("p{:02}", rng.below(n_pods as u64));
            session.exec(&format!("kubectl delete pod {victim} --wait=true"));
            session.exec("sleep 11s");
            assert_eq!(pending_that_fit(&session.cluster), Vec::<String>::new(), "seed {seed}: after deleting {victim}");
            assert_eq!(session.cluster.check_caches(), Ok(()), "seed {seed}");
        }
    }
}

/// Requests to a Service reach only its ready endpoints: a random number of serve-hostname
/// Pods (each answers with its own name), a random subset made ready by creating the file
/// their readiness probe reads, and a client that calls the Service again and again.
#[test]
#[allow(clippy::disallowed_methods)] // The test (not the core) reads how many seeds to run.
fn requests_reach_only_ready_endpoints_of_the_service() {
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for seed in 1..=seeds {
        let mut rng = SimRng::stream(seed, "property-traffic");
        let replicas = rng.range_inclusive(1, 6);
        let manifest = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: names\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: names\n  template:\n    metadata:\n      labels:\n        app: names\n    spec:\n      containers:\n      - name: c\n        image: registry.k8s.io/e2e-test-images/agnhost:2.40\n        args: [serve-hostname]\n        readinessProbe:\n          exec:\n            command: [cat, /tmp/ready]\n          periodSeconds: 1\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: names\nspec:\n  selector:\n    app: names\n  ports:\n  - port: 80\n    targetPort: 9376\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: client\n  labels:\n    app: other\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n"
        );
        let mut session = Session::new(Cluster::for_manifests(seed, [("m.yaml", manifest.as_str())]));
        session.files.insert("m.yaml".into(), manifest.clone());
        session.exec("kubectl apply -f m.yaml");
        session.exec("sleep 5s");
        let pods: Vec<String> = session
            .cluster
            .store()
            .list("Pod", Some("default"))
            .filter(|o| o.name().starts_with("names-"))
            .map(|o| o.name().to_string())
            .collect();
        let ready: Vec<String> = pods.iter().filter(|_| rng.chance(1, 2)).cloned().collect();
        for pod in &ready {
            assert!(session.exec(&format!("kubectl exec {pod} -- touch /tmp/ready")).ok, "seed {seed}");
        }
        session.exec("sleep 3s");
        let out = session
            .exec("kubectl exec client -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do wget -qO- names || echo REFUSED; echo; done'")
            .text;
        let answers: Vec<&str> = out.lines().filter(|l| !l.is_empty() && *l != "REFUSED").collect();
        assert_eq!(answers.len(), 12, "seed {seed}: {out}");
        for line in answers {
            if ready.is_empty() {
                assert!(line.starts_with("wget: can't connect") || line == "REFUSED", "seed {seed}: {line:?} with no ready endpoint");
            } else {
                assert!(ready.iter().any(|r| r == line), "seed {seed}: {line:?} is not one of the ready {ready:?}");
            }
        }
    }
}

/// Every request a traffic source sends takes a path its Service's policy allows: it reaches
/// only a ready endpoint of the Service; with a Local policy only one on the node it entered
/// (and is dropped when there is none there); with no ready endpoint at all it is refused.
/// Random replicas, readiness, policies and client (outside the cluster at a random node's
/// NodePort, or a Pod on a random node calling the ClusterIP).
#[test]
#[allow(clippy::disallowed_methods)] // The test (not the core) reads how many seeds to run.
fn traffic_takes_only_paths_its_policy_allows() {
    use kubeplay_core::traffic::Outcome;
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for seed in 1..=seeds {
        let mut rng = SimRng::stream(seed, "property-routes");
        let replicas = rng.range_inclusive(1, 6);
        let external_local = rng.chance(1, 2);
        let internal_local = rng.chance(1, 2);
        let client_node = ["worker-1", "worker-2", "worker-3"][rng.range_inclusive(0, 2) as usize];
        let etp = if external_local { "Local" } else { "Cluster" };
        let itp = if internal_local { "Local" } else { "Cluster" };
        let manifest = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: names\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: names}}\n  template:\n    metadata:\n      labels: {{app: names}}\n    spec:\n      containers:\n      - name: c\n        image: registry.k8s.io/e2e-test-images/agnhost:2.40\n        args: [serve-hostname]\n        readinessProbe:\n          exec:\n            command: [cat, /tmp/ready]\n          periodSeconds: 1\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: names\nspec:\n  type: NodePort\n  externalTrafficPolicy: {etp}\n  internalTrafficPolicy: {itp}\n  selector: {{app: names}}\n  ports:\n  - port: 80\n    targetPort: 9376\n    nodePort: 30080\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: client\nspec:\n  nodeName: {client_node}\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n"
        );
        let mut session = Session::new(Cluster::for_manifests(seed, [("m.yaml", manifest.as_str())]));
        session.files.insert("m.yaml".into(), manifest.clone());
        session.exec("kubectl apply -f m.yaml");
        session.exec("sleep 5s");
        let pods: Vec<(String, String)> = session
            .cluster
            .store()
            .list("Pod", Some("default"))
            .filter(|o| o.name().starts_with("names-"))
            .filter_map(|o| Some((o.meta().uid.clone()?, o.as_pod()?.spec.as_ref()?.node_name.clone()?)))
            .collect();
        let ready: Vec<(String, String)> = pods.iter().filter(|_| rng.chance(1, 2)).cloned().collect();
        for (uid, _) in &ready {
            let name = session
                .cluster
                .store()
                .list("Pod", Some("default"))
                .find(|o| o.meta().uid.as_deref() == Some(uid))
                .map(|o| o.name().to_string());
            let name = name.unwrap_or_default();
            assert!(session.exec(&format!("kubectl exec {name} -- touch /tmp/ready")).ok, "seed {seed}");
        }
        session.exec("sleep 3s");
        let from_outside = rng.chance(1, 2);
        let node_ip = ["172.18.0.3", "172.18.0.4", "172.18.0.5"][rng.range_inclusive(0, 2) as usize];
        let start = if from_outside {
            format!("traffic start t http://{node_ip}:30080/ --rate=50")
        } else {
            "traffic start t http://names/ --rate=50 --from=pod/client".to_string()
        };
        assert!(session.exec(&start).ok, "seed {seed}");
        session.exec("sleep 2s");
        let requests: Vec<_> = session.cluster.traffic().recent().cloned().collect();
        assert!(requests.len() >= 90, "seed {seed}: {} requests", requests.len());
        let local = if from_outside { external_local } else { internal_local };
        for r in requests {
            let entry = r.route.entry_node.clone();
            assert!(entry.is_some(), "seed {seed}: {r:?} has no entry node");
            if !from_outside {
                assert_eq!(entry.as_deref(), Some(client_node), "seed {seed}: a Pod's traffic meets its own node's rules");
            }
            let allowed: Vec<&(String, String)> = ready.iter().filter(|(_, node)| !local || Some(node) == entry.as_ref()).collect();
            match (&r.route.pod, r.outcome) {
                (Some(uid), Outcome::Status(200)) => {
                    let reached = allowed.iter().find(|(u, _)| u == uid);
                    assert!(reached.is_some(), "seed {seed}: reached {uid} outside {allowed:?} (local {local}, entry {entry:?})");
                    assert_eq!(r.route.pod_node.as_ref(), reached.map(|(_, n)| n), "seed {seed}");
                }
                (None, Outcome::Timeout) => assert!(local && allowed.is_empty(), "seed {seed}: dropped though {allowed:?} (local {local})"),
                (None, Outcome::Refused) => assert!(ready.is_empty() && !local, "seed {seed}: refused though {ready:?} ready"),
                other => panic!("seed {seed}: unexpected {other:?}"),
            }
        }
    }
}

/// `maxSurge`/`maxUnavailable` as the Deployment controller resolves them: surge rounds up,
/// unavailable down; both zero means one unavailable.
fn rolling_budgets(replicas: i64, surge: &str, unavailable: &str) -> (i64, i64) {
    let value = |v: &str, up: bool| match v.strip_suffix('%') {
        Some(p) => {
            let p: i64 = p.parse().unwrap_or(0);
            if up {
                (p * replicas + 99) / 100
            } else {
                p * replicas / 100
            }
        }
        None => v.parse().unwrap_or(0),
    };
    let (s, u) = (value(surge, true), value(unavailable, false));
    if s == 0 && u == 0 {
        (0, 1)
    } else {
        (s, u)
    }
}

/// A rolling update keeps its bounds at every step and converges: random replicas, surge and
/// unavailability (numbers or percentages), a start-up delay gated by a readiness probe, and a
/// template change. At every 250 ms of virtual time the ReplicaSets' desired Pods stay within
/// `replicas + maxSurge`, and — once the first rollout is done — available Pods stay at or above
/// `replicas − maxUnavailable`; the new ReplicaSet ends with every replica available.
#[test]
#[allow(clippy::disallowed_methods)] // The test (not the core) reads how many seeds to run.
fn rolling_updates_keep_their_bounds_and_converge() {
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    for seed in 1..=seeds {
        let mut rng = SimRng::stream(seed, "property-rollout");
        let replicas = rng.range_inclusive(1, 10) as i64;
        let pick = |rng: &mut SimRng| match rng.range_inclusive(0, 4) {
            0 => "0".to_string(),
            1 => "1".to_string(),
            2 => "2".to_string(),
            3 => "25%".to_string(),
            _ => "50%".to_string(),
        };
        let (surge, unavailable) = (pick(&mut rng), pick(&mut rng));
        let startup = rng.range_inclusive(0, 6);
        // Numbers as numbers, percentages as strings: the API server takes no other form.
        let yaml = |v: &str| if v.ends_with('%') { format!("{v:?}") } else { v.to_string() };
        let (surge_yaml, unavailable_yaml) = (yaml(&surge), yaml(&unavailable));
        let manifest = |image: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: {replicas}\n  strategy:\n    rollingUpdate:\n      maxSurge: {surge_yaml}\n      maxUnavailable: {unavailable_yaml}\n  selector:\n    matchLabels: {{app: app}}\n  template:\n    metadata:\n      labels: {{app: app}}\n      annotations:\n        kubeplay.dev/startup: {startup}s\n    spec:\n      containers:\n      - name: c\n        image: {image}\n        readinessProbe:\n          tcpSocket: {{port: 80}}\n          periodSeconds: 1\n"
            )
        };
        let (v1, v2) = (manifest("nginx:1.27"), manifest("nginx:1.28"));
        let mut session = Session::new(Cluster::for_manifests(seed, [("v1.yaml", v1.as_str())]));
        session.files.insert("v1.yaml".into(), v1.clone());
        session.files.insert("v2.yaml".into(), v2.clone());
        session.exec("kubectl apply -f v1.yaml");
        session.exec("sleep 60s");
        session.exec("kubectl apply -f v2.yaml");
        let (max_surge, max_unavailable) = rolling_budgets(replicas, &surge, &unavailable);
        let what = format!("seed {seed}: replicas {replicas}, maxSurge {surge}, maxUnavailable {unavailable}, startup {startup}s");
        let mut converged = false;
        for _ in 0..(240 * 4) {
            session.cluster.advance(kubeplay_core::time::SimDuration(250));
            let now = session.cluster.now();
            let sets: Vec<_> = session.cluster.store().list("ReplicaSet", Some("default")).filter_map(|o| o.as_replica_set()).collect();
            let desired: i64 = sets.iter().map(|rs| i64::from(rs.spec.replicas.unwrap_or(0))).sum();
            assert!(desired <= replicas + max_surge, "{what}: {desired} Pods desired");
            let available = session
                .cluster
                .store()
                .list("Pod", Some("default"))
                .filter_map(|o| o.as_pod())
                .filter(|p| p.metadata.deletion_timestamp.is_none() && pod_util::is_available(p, 0, now))
                .count() as i64;
            assert!(available >= replicas - max_unavailable, "{what}: only {available} available at {now:?}");
            let new = sets.iter().find(|rs| {
                rs.spec
                    .template
                    .as_ref()
                    .and_then(|t| t.spec.as_ref())
                    .is_some_and(|s| s.containers[0].image.as_deref() == Some("nginx:1.28"))
            });
            let old_left: i64 = sets.iter().filter(|rs| Some(rs) != new.as_ref()).map(|rs| i64::from(rs.spec.replicas.unwrap_or(0))).sum();
            if new.is_some_and(|rs| rs.status.as_ref().and_then(|s| s.available_replicas) == Some(replicas as i32)) && old_left == 0 {
                converged = true;
                break;
            }
        }
        assert!(converged, "{what}: the rollout did not converge in 4 minutes");
    }
}

/// A StatefulSet's Pods under OrderedReady, through random scaling and deletions: the ordinals
/// present always form a prefix `0..n` (a Pod is never made past a missing one), at most one is
/// terminating at a time, and the set converges to exactly `replicas` Running Pods.
#[test]
#[allow(clippy::disallowed_methods)] // The test (not the core) reads how many seeds to run.
fn stateful_set_ordinals_stay_in_order() {
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    for seed in 1..=seeds {
        let mut rng = SimRng::stream(seed, "property-statefulset");
        let manifest = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers:\n      - name: c\n        image: busybox:1.36\n        command: [sh, -c, \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n";
        let mut session = Session::new(Cluster::for_manifests(seed, [("db.yaml", manifest)]));
        session.files.insert("db.yaml".into(), manifest.to_string());
        session.exec("kubectl apply -f db.yaml");
        let mut replicas = 3;
        for step in 0..6 {
            match rng.range_inclusive(0, 2) {
                0 => {
                    replicas = rng.range_inclusive(0, 5);
                    session.exec(&format!("kubectl scale statefulset db --replicas={replicas}"));
                }
                _ if replicas > 0 => {
                    // A Pod the set keeps: it is made again under the same name.
                    let victim = rng.range_inclusive(0, replicas - 1);
                    session.exec(&format!("kubectl delete pod db-{victim} --wait=false"));
                }
                _ => {}
            }
            for _ in 0..(60 * 4) {
                session.cluster.advance(kubeplay_core::time::SimDuration(250));
                let pods: Vec<_> = session.cluster.store().list("Pod", Some("default")).filter_map(|o| o.as_pod()).collect();
                let mut ordinals: Vec<u64> = pods
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .filter_map(|p| p.metadata.name.as_deref()?.strip_prefix("db-")?.parse().ok())
                    .collect();
                ordinals.sort_unstable();
                let live_below: Vec<u64> = ordinals.iter().copied().filter(|i| *i < replicas).collect();
                let prefix: Vec<u64> = (0..live_below.len() as u64).collect();
                assert_eq!(live_below, prefix, "seed {seed} step {step}: ordinals {ordinals:?} are not a prefix");
                // Scaling down removes one Pod at a time.
                let leaving = pods
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_some())
                    .filter(|p| {
                        p.metadata.name.as_deref().and_then(|n| n.strip_prefix("db-")?.parse::<u64>().ok()).is_some_and(|i| i >= replicas)
                    })
                    .count();
                assert!(leaving <= 1, "seed {seed} step {step}: {leaving} Pods past the end terminating at once");
            }
            let running: Vec<String> = session
                .cluster
                .store()
                .list("Pod", Some("default"))
                .filter_map(|o| o.as_pod())
                .filter(|p| pod_util::phase(p) == "Running" && p.metadata.deletion_timestamp.is_none())
                .filter_map(|p| p.metadata.name.clone())
                .collect();
            let want: Vec<String> = (0..replicas).map(|i| format!("db-{i}")).collect();
            assert_eq!(running, want, "seed {seed} step {step}: did not converge to {replicas} replicas");
        }
    }
}

/// Priority and preemption on random crowded clusters: Pods of three priorities arrive in
/// two waves (the second finds the nodes full). After every parked Pod has been retried, no
/// node is over-committed, every Pending Pod has said why, and none of them could fit on any
/// node by evicting only Pods of lower priority — preemption would have made that room.
#[test]
#[allow(clippy::disallowed_methods)] // The test (not the core) reads how many seeds to run.
fn preemption_leaves_no_pod_pending_that_lower_priorities_block() {
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for seed in 0..seeds {
        let mut rng = SimRng::stream(seed, "property-preemption");
        let mut classes = String::new();
        for (name, value) in [("low", 10), ("mid", 1000), ("high", 100000)] {
            classes.push_str(&format!(
                "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {name}\nvalue: {value}\n---\n"
            ));
        }
        let n_nodes = rng.range_inclusive(1, 3);
        for i in 0..n_nodes {
            let cpu = rng.range_inclusive(2, 4);
            classes.push_str(&format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}\nstatus:\n  capacity: {{cpu: \"{cpu}\", memory: 8Gi, pods: \"20\"}}\n---\n"));
        }
        let wave = |rng: &mut SimRng, from: usize, n: usize| {
            let mut yaml = String::new();
            for i in from..from + n {
                let class = ["low", "mid", "high"][rng.pick_index(3)];
                let cpu = ["500m", "1", "1500m"][rng.pick_index(3)];
                yaml.push_str(&format!(
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i:02}\nspec:\n  priorityClassName: {class}\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: c\n    image: nginx:1.27\n    resources:\n      requests: {{cpu: {cpu}}}\n---\n"
                ));
            }
            yaml
        };
        let (n_first, n_second) = (rng.range_inclusive(4, 12) as usize, rng.range_inclusive(2, 8) as usize);
        let first = wave(&mut rng, 0, n_first);
        let second = wave(&mut rng, 20, n_second);
        let mut session = Session::new(Cluster::empty(seed));
        session.files.insert("setup.yaml".into(), classes);
        session.files.insert("first.yaml".into(), first);
        session.files.insert("second.yaml".into(), second);
        session.exec("kubectl apply -f setup.yaml");
        session.exec("kubectl apply -f first.yaml");
        session.exec("sleep 30s");
        session.exec("kubectl apply -f second.yaml");
        // Past two of the 5-minute flushes that retry every parked Pod: room a nomination held
        // is only noticed by the next flush (no event marks a nomination's end), as in
        // kube-scheduler.
        session.exec("sleep 700s");
        assert_eq!(session.cluster.check_caches(), Ok(()), "seed {seed}");
        let dump = session.run_script("kubectl get events -o custom-columns=OBJ:.involvedObject.name,REASON:.reason,C:.count,LAST:.lastTimestamp,MSG:.message\nkubectl get pods -o custom-columns=N:.metadata.name,P:.spec.priority,CPU:.spec.containers[0].resources.requests.cpu,NODE:.spec.nodeName,NOM:.status.nominatedNodeName\nkubectl get nodes");
        let fresh = kubeplay_core::scheduler::Cache::from_store(session.cluster.api());
        let store = session.cluster.store();
        for i in 0..fresh.len() {
            let Some(node) = fresh.node_at(i) else { continue };
            assert!(node.requested.milli_cpu <= node.allocatable.milli_cpu, "seed {seed}: {} is over-committed", node.name);
        }
        let priority = |p: &k8s_openapi::api::core::v1::Pod| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
        for pending in store.list("Pod", None).filter_map(Object::as_pod).filter(|p| pod_util::node_name(p).is_none()) {
            let name = pending.metadata.name.clone().unwrap_or_default();
            let said = pod_util::condition(pending, "PodScheduled").is_some_and(|c| c.reason.as_deref() == Some("Unschedulable"));
            assert!(said, "seed {seed}: {name} is Pending without a reason");
            let info = kubeplay_core::scheduler::PodInfo::new(pending);
            for i in 0..fresh.len() {
                let Some(node) = fresh.node_at(i) else { continue };
                let mut room = node.clone();
                for p in store.pods_on(&node.name).filter_map(Object::as_pod) {
                    if !pod_util::is_terminal(p) && priority(p) < info.priority {
                        room.remove_pod(p);
                    }
                }
                if kubeplay_core::scheduler::plugins::filter(&info, &room).is_ok() {
                    eprintln!("{dump}");
                }
                assert!(
                    kubeplay_core::scheduler::plugins::filter(&info, &room).is_err(),
                    "seed {seed}: {name} (priority {}) would fit on {} by preempting lower priorities",
                    info.priority,
                    node.name
                );
            }
        }
    }
}

/// Every fix `kubeplay explain` offers with a command does what it says: on random clusters
/// with taints, cordons, node labels and tight requests, running the command (on a copy of
/// the cluster) gets more Pods onto nodes (a Deployment's fix may replace its Pending Pod
/// with a new one, so the count of Pending Pods alone would not tell).
#[test]
#[allow(clippy::disallowed_methods)] // The test (not the core) reads how many seeds to run.
fn every_one_click_fix_lets_a_pending_pod_schedule() {
    let seeds: u64 = std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut tried = 0;
    let mut relaxed = 0;
    for seed in 0..seeds {
        let mut rng = SimRng::stream(seed, "property-fixes");
        let mut yaml = String::new();
        for i in 0..rng.range_inclusive(1, 3) {
            let taint = if rng.chance(1, 2) { "\n  taints:\n  - {key: dedicated, value: gpu, effect: NoSchedule}" } else { "" };
            let cordon = if rng.chance(1, 4) { "\n  unschedulable: true" } else { "" };
            let spec = if taint.is_empty() && cordon.is_empty() { String::new() } else { format!("\nspec:{taint}{cordon}") };
            yaml.push_str(&format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}\n  labels: {{disk: hdd}}{spec}\nstatus:\n  capacity: {{cpu: \"2\", memory: 4Gi, pods: \"10\"}}\n---\n"));
        }
        for i in 0..rng.range_inclusive(2, 6) {
            let cpu = ["500m", "1", "1500m"][rng.pick_index(3)];
            let selector = if rng.chance(1, 3) { "\n  nodeSelector: {disk: ssd}" } else { "" };
            yaml.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:{selector}\n  containers:\n  - name: c\n    image: nginx:1.27\n    resources:\n      requests: {{cpu: {cpu}}}\n---\n"
            ));
        }
        let cpu = ["1", "1500m", "1900m"][rng.pick_index(3)];
        yaml.push_str(&format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n        resources:\n          requests: {{cpu: {cpu}}}\n"));
        if rng.chance(1, 2) {
            // Pods that must sit beside a cache no node runs: relaxing the term helps.
            yaml.push_str("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: near-cache\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: near}\n  template:\n    metadata:\n      labels: {app: near}\n    spec:\n      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - labelSelector:\n              matchLabels: {app: cache}\n            topologyKey: kubernetes.io/hostname\n      containers:\n      - name: c\n        image: nginx:1.27\n");
        }
        let mut session = Session::new(Cluster::empty(seed));
        session.files.insert("all.yaml".into(), yaml);
        session.exec("kubectl apply -f all.yaml");
        session.exec("sleep 20s");
        let pending = |cluster: &Cluster| -> Vec<kubeplay_core::api::ObjectKey> {
            cluster
                .store()
                .list("Pod", None)
                .filter_map(Object::as_pod)
                .filter(|p| pod_util::node_name(p).is_none() && p.metadata.deletion_timestamp.is_none())
                .map(|p| kubeplay_core::api::ObjectKey::new("Pod", "default", p.metadata.name.as_deref().unwrap_or("")))
                .collect()
        };
        let scheduled = |cluster: &Cluster| {
            cluster
                .store()
                .list("Pod", None)
                .filter_map(Object::as_pod)
                .filter(|p| pod_util::node_name(p).is_some() && p.metadata.deletion_timestamp.is_none())
                .count()
        };
        let before = pending(&session.cluster);
        let placed = scheduled(&session.cluster);
        for key in &before {
            for fix in kubeplay_core::scheduler::explain::fixes(session.cluster.api(), key) {
                let Some(command) = fix.command else { continue };
                let mut trial = Session::new(session.cluster.clone());
                let out = trial.exec(&command);
                assert!(out.ok, "seed {seed}: `{command}` failed: {}", out.text);
                trial.exec("sleep 60s");
                let now_placed = scheduled(&trial.cluster);
                let after = pending(&trial.cluster);
                assert!(
                    now_placed > placed,
                    "seed {seed}: `{command}` ({}) placed no Pod: {after:?} pending (before {before:?})",
                    fix.text
                );
                tried += 1;
                relaxed += usize::from(command.contains("preferredDuringSchedulingIgnoredDuringExecution"));
            }
        }
    }
    assert!(tried >= 5, "only {tried} fixes were tried");
    assert!(relaxed > 0, "no relaxed-affinity fix was tried");
}
