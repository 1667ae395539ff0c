//! The kubelet driven by hand: its steps, back-off, probes and restarts.
use super::*;

/// A kubelet driven by hand: the API server's changes are delivered to `observe`, and the
/// Pod's reconcile runs whenever it asked to.
struct Harness {
    api: ApiServer,
    kubelet: Kubelet,
    rng: SimRng,
    due: Option<SimTime>,
}

impl Harness {
    fn new() -> Harness {
        let mut api = ApiServer::new(3);
        let node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n";
        api.create(crate::manifest::parse("n.yaml", node).objects[0].object.clone()).expect("node");
        Harness { api, kubelet: Kubelet::default(), rng: SimRng::stream(3, "kubelet"), due: None }
    }

    fn deliver(&mut self) {
        for change in self.api.drain_changes() {
            let mut requests = Requests::default();
            self.kubelet.observe(&self.api, &mut self.rng, &change, &mut requests);
            for (_, after) in requests.keys {
                let at = self.api.now().plus(after);
                self.due = Some(self.due.map_or(at, |d| d.min(at)));
            }
        }
    }

    /// Runs the Pod's pending steps until `until`.
    fn run(&mut self, key: &ObjectKey, until: SimTime) {
        self.deliver();
        while let Some(at) = self.due.filter(|at| *at <= until) {
            self.api.set_now(at);
            self.due = None;
            let action = self.kubelet.reconcile(&mut Ctx { api: &mut self.api, rng: &mut self.rng }, key);
            if let Action::RequeueAfter(after) = action {
                self.due = Some(at.plus(after));
            }
            self.deliver();
        }
        self.api.set_now(until);
    }

    fn pod(&self, key: &ObjectKey) -> Option<Pod> {
        self.api.get(key).and_then(Object::as_pod).cloned()
    }

    fn reasons(&self) -> Vec<String> {
        let mut events: Vec<(String, String)> = self
            .api
            .store()
            .list("Event", None)
            .filter_map(Object::as_event)
            .map(|e| (e.metadata.name.clone().unwrap_or_default(), e.reason.clone().unwrap_or_default()))
            .collect();
        events.sort();
        events.into_iter().map(|(_, r)| r).collect()
    }
}

#[test]
fn a_bound_pod_is_admitted_pulled_started_and_stopped_in_order() {
    let mut h = Harness::new();
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  nodeName: n1\n  containers: [{name: c, image: nginx:1.27}]\n";
    let key = h.api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key();

    // Created bound: admitted at once (Pending, ContainerCreating, the node's IP).
    h.run(&key, SimTime(0));
    let pod = h.pod(&key).expect("pod");
    assert_eq!(pod_util::phase(&pod), "Pending");
    let status = pod.status.clone().unwrap_or_default();
    assert_eq!(status.host_ip.as_deref(), Some("172.18.0.2"));
    assert!(status.pod_ip.is_none(), "no IP before the sandbox is up");
    let waiting = status.container_statuses.as_ref().and_then(|c| c[0].state.clone()).and_then(|s| s.waiting);
    assert_eq!(waiting.and_then(|w| w.reason).as_deref(), Some("ContainerCreating"));

    // The sandbox (0.4-0.9 s) gives it an IP from the node's podCIDR.
    h.run(&key, SimTime(1000));
    assert_eq!(h.pod(&key).and_then(|p| p.status?.pod_ip).as_deref(), Some("10.244.0.2"));

    // The image pull (~2 s for nginx) and the start: Running and Ready.
    h.run(&key, SimTime(10_000));
    let pod = h.pod(&key).expect("pod");
    assert_eq!(pod_util::phase(&pod), "Running");
    assert!(pod_util::is_ready(&pod));
    assert_eq!(h.reasons(), ["Pulling", "Pulled", "Created", "Started"].map(String::from).to_vec());

    // Deletion: the API server marks it; the kubelet stops the container, then removes it.
    h.api.delete(&key);
    h.run(&key, SimTime(10_000));
    assert!(h.pod(&key).is_some_and(|p| p.metadata.deletion_timestamp.is_some()), "terminating, not gone");
    assert!(h.reasons().contains(&"Killing".to_string()));
    h.run(&key, SimTime(11_000));
    assert!(h.pod(&key).is_none(), "gone once the container stopped (nginx exits on SIGTERM)");
    assert!(h.kubelet.workers.is_empty());
    assert_eq!(h.kubelet.ipam.allocate("n1", "10.244.0.0/24"), "10.244.0.3", "sequential: .2 is free again but next is .3");
}

#[test]
fn an_image_change_restarts_only_that_container() {
    let mut h = Harness::new();
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: two, namespace: default}\nspec:\n  nodeName: n1\n  containers: [{name: a, image: nginx:1.27}, {name: b, image: busybox:1.36, command: [sleep, '3600']}]\n";
    let key = h.api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key();
    h.run(&key, SimTime(20_000));
    let mut pod = h.pod(&key).expect("pod");
    assert!(pod_util::is_ready(&pod));
    pod.spec.as_mut().expect("spec").containers[1].image = Some("busybox:1.37".into());
    h.api.update(Object::from(pod));
    h.run(&key, SimTime(40_000));
    let statuses = h.pod(&key).and_then(|p| p.status?.container_statuses).expect("statuses");
    assert_eq!(statuses.iter().map(|c| c.restart_count).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(statuses[1].image, "docker.io/library/busybox:1.37");
    assert!(statuses.iter().all(|c| c.ready));
}

fn create(h: &mut Harness, yaml: &str) -> ObjectKey {
    h.api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key()
}

fn restart_times(h: &Harness, key: &ObjectKey) -> (i32, String) {
    let pod = h.pod(key).expect("pod");
    let cs = pod.status.and_then(|s| s.container_statuses).expect("statuses").remove(0);
    let waiting = cs.state.and_then(|s| s.waiting).and_then(|w| w.reason).unwrap_or_default();
    (cs.restart_count, waiting)
}

#[test]
fn crash_back_off_is_at_once_then_10s_doubling_to_300s() {
    let mut h = Harness::new();
    let key = create(&mut h, "apiVersion: v1\nkind: Pod\nmetadata: {name: crash, namespace: default}\nspec:\n  nodeName: n1\n  containers: [{name: c, image: busybox:1.36, command: [sh, -c, 'exit 1']}]\n");
    // Find each restart's time by stepping a second at a time.
    let mut restarts_at = Vec::new();
    let mut last = 0;
    for t in 0..1200 {
        h.run(&key, SimTime(t * 1000));
        let (n, _) = restart_times(&h, &key);
        if n != last {
            restarts_at.push(t);
            last = n;
        }
    }
    let gaps: Vec<u64> = restarts_at.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps.iter().take(6).copied().collect::<Vec<_>>(), vec![10, 20, 40, 80, 160, 300], "restarts at {restarts_at:?}");
    assert!(gaps[6..].iter().all(|g| *g == 300), "capped at five minutes: {gaps:?}");
    assert_eq!(restart_times(&h, &key).1, "CrashLoopBackOff");
    let message = h.pod(&key).and_then(|p| p.status?.container_statuses?.remove(0).state?.waiting?.message).unwrap_or_default();
    assert!(message.starts_with("back-off 5m0s restarting failed container=c pod=crash_default("), "{message}");
}

#[test]
fn readiness_follows_its_probe_and_a_startup_probe_gates_it() {
    let mut h = Harness::new();
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: nginx:1.27\n    ports: [{containerPort: 80}]\n    startupProbe: {httpGet: {path: /, port: 80}, periodSeconds: 5}\n    readinessProbe: {tcpSocket: {port: 80}, initialDelaySeconds: 3}\n    livenessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 10, periodSeconds: 2}\n";
    let key = create(&mut h, yaml);
    h.run(&key, SimTime(4000));
    let ready = |h: &Harness| h.pod(&key).is_some_and(|p| pod_util::is_ready(&p));
    let started = |h: &Harness| h.pod(&key).and_then(|p| p.status?.container_statuses?.remove(0).started) == Some(true);
    assert_eq!(pod_util::phase(&h.pod(&key).expect("pod")), "Running");
    assert!(!ready(&h), "not ready before its readiness probe passes");
    // The startup probe passes on its first run (at start); readiness from 3 s after start.
    h.run(&key, SimTime(9000));
    assert!(started(&h) && ready(&h));
    // Liveness, gated until then, probes a port nginx does not listen on: three failures,
    // then the kill; nginx stops cleanly on SIGTERM (exit 0) and is restarted at once.
    h.run(&key, SimTime(30_000));
    let pod = h.pod(&key).expect("pod");
    let cs = pod.status.and_then(|s| s.container_statuses).expect("statuses").remove(0);
    assert!(cs.restart_count >= 1);
    let last = cs.last_state.and_then(|s| s.terminated).expect("last state");
    assert_eq!((last.exit_code, last.reason.as_deref()), (0, Some("Completed")));
    assert!(h.reasons().iter().any(|r| r == "Unhealthy"));
}

#[test]
fn the_timeline_records_probes_the_kill_the_exit_and_the_restart() {
    let mut h = Harness::new();
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: live, namespace: default}\nspec:\n  nodeName: n1\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sh, -c, 'touch /tmp/ok; sleep 12; rm /tmp/ok; sleep 3600']\n    livenessProbe: {exec: {command: [cat, /tmp/ok]}, periodSeconds: 5}\n";
    let key = create(&mut h, yaml);
    h.run(&key, SimTime(40_000));
    let uid = h.pod(&key).and_then(|p| p.metadata.uid).unwrap_or_default();
    let kinds: Vec<String> = h
        .api
        .marks(&uid, "c")
        .map(|(_, m)| match m {
            crate::apiserver::logs::Mark::Started => "start".to_string(),
            crate::apiserver::logs::Mark::Probe { ok, .. } => if *ok { "ok" } else { "fail" }.to_string(),
            crate::apiserver::logs::Mark::Killing { .. } => "kill".to_string(),
            crate::apiserver::logs::Mark::Exited { code, .. } => format!("exit {code}"),
            crate::apiserver::logs::Mark::BackOff { wait } => format!("wait {}", wait.go_string()),
        })
        .collect();
    // Probes at 0, 5, 10 pass; 15, 20, 25 fail; the kill waits out the 5 s grace (PID 1 sh
    // ignores SIGTERM), and the first restart is at once.
    assert_eq!(kinds[..10], ["start", "ok", "ok", "ok", "fail", "fail", "fail", "kill", "exit 137", "start"], "{kinds:?}");
}

#[test]
fn pods_of_one_template_share_environment_and_files_but_not_their_hostname() {
    let mut h = Harness::new();
    let pod = |name: &str| {
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sh, -c, 'echo $HOSTNAME; sleep 3600']\n    env: [{{name: GREETING, value: hi}}]\n"
        );
        crate::manifest::parse("p.yaml", &yaml).objects[0].object.clone()
    };
    // One at a time: the harness follows one Pod's steps.
    let a = h.api.create(pod("web-a")).expect("pod").key();
    h.run(&a, SimTime(30_000));
    let b = h.api.create(pod("web-b")).expect("pod").key();
    h.run(&b, SimTime(60_000));
    let (ra, rb) = (h.kubelet.run(&a, 0).expect("a runs"), h.kubelet.run(&b, 0).expect("b runs"));
    assert!(std::rc::Rc::ptr_eq(&ra.env, &rb.env) && std::rc::Rc::ptr_eq(&ra.files, &rb.files));
    assert_eq!(ra.env.get("GREETING").map(String::as_str), Some("hi"));
    let token = ra.files.get("/var/run/secrets/kubernetes.io/serviceaccount/token").expect("token");
    assert_eq!(token.split('.').count(), 3, "{token}");
    // Each process still sees its own Pod's name.
    let printed = |key: &ObjectKey| {
        let uid = h.pod(key).and_then(|p| p.metadata.uid).unwrap_or_default();
        h.api.logs(&uid, "c", false).map(|lines| lines.iter().map(|(_, text)| text.clone()).collect::<Vec<_>>()).unwrap_or_default()
    };
    assert_eq!(printed(&a), ["web-a"]);
    assert_eq!(printed(&b), ["web-b"]);
}
