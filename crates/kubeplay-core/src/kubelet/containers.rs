//! Running containers: each started container runs its program (`process.rs`); probes run on
//! their period (`probe.rs`); a container that exits — by itself, or killed after failing its
//! liveness or startup probe — is restarted as `restartPolicy` says, after the kubelet's
//! back-off (the first restart at once, then 10 s doubling to 300 s; reset after 10 minutes
//! of running), showing `CrashLoopBackOff` while it waits.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStateTerminated, ContainerStateWaiting, Pod};

use super::hooks;
use super::probe::{self, Kind, Params};
use super::process::{Process, Program, Run};
use super::server::Server;
use super::sh::OnTerm;
use super::{container_event, slots, Kubelet, Step};
use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::apiserver::logs::Mark;
use crate::network::ClientNet;
use crate::runtime::Ctx;
use crate::time::{SimDuration, SimTime};

const BACKOFF_INITIAL: SimDuration = SimDuration(10_000);
const BACKOFF_MAX: SimDuration = SimDuration(300_000);
/// A container that ran this long before exiting starts its back-off afresh.
const BACKOFF_RESET: SimDuration = SimDuration(600_000);

/// A timer of a running container; `incarnation` ties it to one run of the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// The process wakes from `sleep`.
    Wake {
        container: usize,
        incarnation: u32,
    },
    Probe {
        container: usize,
        incarnation: u32,
        kind: Kind,
    },
    /// The grace period after a kill ended, or a SIGTERM-handling process stopped.
    Stopped {
        container: usize,
        incarnation: u32,
        exit_code: i32,
    },
    /// The back-off is over: start the container again.
    Restart {
        container: usize,
    },
    /// The container's memory passed its limit: the kernel's OOM killer ends it.
    OomKilled {
        container: usize,
        incarnation: u32,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ProbeCount {
    successes: u32,
    failures: u32,
}

/// What the kubelet knows of one container across its restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerRun {
    /// The environment built when the container was created.
    pub env: std::rc::Rc<super::env::Env>,
    /// The files its volumes hold.
    pub files: std::rc::Rc<super::sh::Files>,
    incarnation: u32,
    process: Option<Process>,
    started_at: SimTime,
    startup_done: bool,
    killing: bool,
    probes: BTreeMap<Kind, ProbeCount>,
    /// The last back-off delay and when the container last exited.
    backoff: Option<(SimDuration, SimTime)>,
    /// What its image's server does (None for a script or utility).
    server: Option<std::rc::Rc<Server>>,
}

impl ContainerRun {
    /// The ports the container answers on now: a server's once it has started up; a script
    /// that runs a server (`exec nginx`, `python -m http.server`) its declared ports.
    fn listening(&self, c: &Container, now: SimTime) -> BTreeSet<i32> {
        match (&self.server, &self.process) {
            (Some(server), _) => server.listening(now.since(self.started_at)),
            (None, Some(Process::Shell(shell))) if shell.serving() => c.ports.iter().flatten().map(|p| p.container_port).collect(),
            _ => BTreeSet::new(),
        }
    }
}

impl ContainerRun {
    pub fn stop(&mut self) {
        self.incarnation += 1;
        self.process = None;
        self.killing = false;
    }
}

/// `<pod>_<namespace>(<uid>)`, as the kubelet names a Pod in messages.
fn pod_ref(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or(""),
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.uid.as_deref().unwrap_or("")
    )
}

/// Ready and ContainersReady follow the containers; a Pod whose containers have all finished
/// for good is Succeeded or Failed.
pub fn refresh_pod_status(pod: &mut Pod, now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time, restarting: bool) {
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
    let terminated = |c: &k8s_openapi::api::core::v1::ContainerStatus| c.state.as_ref().and_then(|s| s.terminated.clone());
    let all_terminated = !statuses.is_empty() && statuses.iter().all(|c| terminated(c).is_some());
    // A regular init container that failed and will not run again fails the Pod.
    let init_failed = (0..slots::n_init(pod))
        .filter(|k| !slots::is_sidecar(pod, *k))
        .any(|k| slots::status(pod, k).and_then(terminated).is_some_and(|t| t.exit_code != 0));
    let finished = (all_terminated || init_failed) && !restarting;
    if finished {
        let failed = init_failed || statuses.iter().any(|c| terminated(c).is_some_and(|t| t.exit_code != 0));
        if let Some(status) = pod.status.as_mut() {
            status.phase = Some(if failed { "Failed" } else { "Succeeded" }.into());
        }
    }
    let unready: Vec<String> =
        slots::serving(pod).filter_map(|k| slots::status(pod, k)).filter(|c| !c.ready).map(|c| c.name.clone()).collect();
    let (ready, reason, message) = if unready.is_empty() {
        (true, None, None)
    } else if finished {
        (false, Some("PodCompleted"), None)
    } else {
        (false, Some("ContainersNotReady"), Some(format!("containers with unready status: [{}]", unready.join(" "))))
    };
    for type_ in ["ContainersReady", "Ready"] {
        pod_util::set_condition(pod, pod_util::new_condition(type_, ready, reason, message.clone(), now.clone()));
    }
}

impl Kubelet {
    /// Container `i` has just been started (its status says running): run its program and
    /// begin probing.
    pub(super) fn container_started(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, pod: &Pod, i: usize) {
        let Some(c) = slots::spec(pod, i) else { return };
        let now = ctx.now();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let shared_files = &mut self.files;
        let Some(run) = super::run_in(&mut self.workers, key, i) else { return };
        // The kubelet expands `$(VAR)` in command and args before the runtime sees them.
        let expand =
            |words: Option<&Vec<String>>| -> Vec<String> { words.into_iter().flatten().map(|w| super::env::expand(w, &run.env)).collect() };
        let program = Program::of(&expand(c.command.as_ref()), &expand(c.args.as_ref()));
        let restarted = run.process.is_some() || run.incarnation > 0;
        run.stop();
        let cpu_limit = c.resources.as_ref().and_then(|r| r.limits.as_ref()).and_then(|l| l.get("cpu"));
        let cpu_limit = cpu_limit.and_then(|q| crate::api::quantity::cpu_millis(&q.0));
        let server = program.is_server().then(|| {
            let mut server = Server::of(pod, c);
            server.throttle(cpu_limit);
            std::rc::Rc::new(server)
        });
        // A port already taken in the container's network namespace — by another container of
        // the Pod, or on the host's network by another Pod there — fails the bind: the program
        // logs it and exits.
        let taken = server
            .as_ref()
            .and_then(|s| port_taken(ctx.api, pod, &c.name, s.ports()).map(|port| s.bind_failure(c.image.as_deref().unwrap_or(""), port)));
        let server = server.filter(|_| taken.is_none());
        // The image's own files, with the volumes mounted over them.
        let files = match &server {
            Some(s) if !s.files.is_empty() => {
                let mut files = s.files.clone();
                // A volume mounted over an image directory hides what the image has there.
                for m in c.volume_mounts.iter().flatten() {
                    let prefix = format!("{}/", m.mount_path.trim_end_matches('/'));
                    files.retain(|path, _| !path.starts_with(&prefix) && *path != m.mount_path);
                }
                files.extend(run.files.iter().map(|(k, v)| (k.clone(), v.clone())));
                shared_files.share(files)
            }
            _ => run.files.clone(),
        };
        let hostname = pod.metadata.name.as_deref().unwrap_or_default();
        let mut process = Process::start(&program, &run.env, hostname, files.clone());
        run.server = server.clone();
        run.started_at = now;
        // The postStart hook runs as the container starts; what it writes stays.
        let listening = run.listening(c, now);
        let net = ClientNet::pod(ctx.api, pod);
        let env = hooks::env(c, &run.env, pod);
        let target = hooks::Target { spec: c, files, env: &env, listening: &listening, net: &net };
        let post_start = hooks::post_start(&target, now);
        let post_start_failed = post_start.as_ref().is_some_and(|o| o.failed);
        if let Some(outcome) = post_start {
            process.set_files(outcome.files);
        }
        run.process = Some(process);
        run.startup_done = c.startup_probe.is_none();
        run.probes.clear();
        let incarnation = run.incarnation;
        if restarted {
            ctx.api.container_restarted(&uid, &c.name);
        }
        ctx.api.mark(&uid, &c.name, Mark::Started);
        // A program that allocates more than its memory limit is killed by the kernel as soon
        // as it has (a fraction of a second after it starts).
        let limit = c
            .resources
            .as_ref()
            .and_then(|r| r.limits.as_ref())
            .and_then(|l| l.get("memory"))
            .and_then(|q| crate::api::quantity::bytes(&q.0));
        let memory = program.memory.max(server.as_ref().map_or(0, |s| s.memory));
        if limit.is_some_and(|limit| memory > limit) {
            let after = crate::time::SimDuration(ctx.rng.range_inclusive(200, 800));
            self.timer(key, now.plus(after), Timer::OomKilled { container: i, incarnation });
        }
        if let Some(message) = taken {
            ctx.api.append_log(&uid, &c.name, message);
            let after = crate::time::SimDuration(ctx.rng.range_inclusive(50, 200));
            self.timer(key, now.plus(after), Timer::Stopped { container: i, incarnation, exit_code: 1 });
        }
        if let Some(server) = &server {
            for line in &server.log {
                ctx.api.append_log(&uid, &c.name, line.clone());
            }
            // A server that exits by itself (`kubeplay.dev/exit-after`).
            if let Some((after, exit_code)) = server.exit_after {
                self.timer(key, now.plus(after), Timer::Stopped { container: i, incarnation, exit_code });
            }
        }
        for kind in [Kind::Startup, Kind::Liveness, Kind::Readiness] {
            let gated = kind != Kind::Startup && c.startup_probe.is_some();
            if let Some(p) = kind.of(c).filter(|_| !gated) {
                self.timer(key, now.plus(Params::of(p).initial_delay), Timer::Probe { container: i, incarnation, kind });
            }
        }
        self.advance_process(ctx, key, i);
        if post_start_failed {
            if let Some(object) = ctx.api.get_rc(key) {
                container_event(ctx.api, &object, i, "FailedPostStartHook", "PostStartHook failed".into(), true);
                self.kill(ctx, key, &object, i, "FailedPostStartHook".into());
            }
        }
    }

    /// Runs the process until it sleeps, runs on, or exits; what it printed goes to its log.
    fn advance_process(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, i: usize) {
        let now = ctx.now();
        let (uid, name) = {
            let pod = ctx.api.get(key).and_then(Object::as_pod);
            let name = pod.and_then(|p| slots::spec(p, i)).map(|c| c.name.clone()).unwrap_or_default();
            (pod.and_then(|p| p.metadata.uid.clone()).unwrap_or_default(), name)
        };
        let exec_wrote = ctx.api.running_container(&uid, &name).map(|v| v.files.clone());
        let Some(object) = ctx.api.get_rc(key) else { return };
        let Some(pod) = object.as_pod() else { return };
        let Some(spec) = slots::spec(pod, i) else { return };
        let Some(run) = self.run_mut(key, i) else { return };
        let incarnation = run.incarnation;
        let Some(process) = run.process.as_mut() else { return };
        if let Some(files) = exec_wrote {
            process.set_files(files);
        }
        let result = process.run(now, &ClientNet::pod(ctx.api, pod));
        for line in process.take_output() {
            ctx.api.append_log(&uid, &name, line);
        }
        let written = super::volumes::empty_dir_contents(pod, spec, process.files());
        // What answers on the network: the image's server, or a server the script started.
        let server: Option<std::rc::Rc<dyn crate::apiserver::logs::Responder>> = match (&run.server, &*process) {
            (Some(s), _) => Some(s.clone()),
            (None, Process::Shell(shell)) if shell.serving() => Some(std::rc::Rc::new(Server::declared(spec))),
            _ => None,
        };
        let view = crate::apiserver::logs::ContainerView {
            files: process.files().clone(),
            env: run.env.clone(),
            server,
            started_at: run.started_at,
            memory: run.server.as_ref().map_or(0, |s| s.memory),
        };
        ctx.api.set_running_container(&uid, &name, Some(view));
        self.share_empty_dirs(ctx, key, pod, i, written);
        match result {
            Run::Sleep(d) => self.timer(key, now.plus(d), Timer::Wake { container: i, incarnation }),
            Run::Forever => {}
            Run::Exited(code) => self.container_exited(ctx, key, i, code),
        }
    }

    /// What container `i` wrote into emptyDir volumes becomes what every container of the Pod
    /// that mounts them sees (the running ones at once).
    fn share_empty_dirs(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, pod: &Pod, i: usize, written: Vec<(String, super::process::Files)>) {
        let Some(worker) = self.workers.get_mut(key) else { return };
        let mut changed = Vec::new();
        for (volume, contents) in written {
            if worker.empty_dirs.get(&volume).is_none_or(|old| **old != contents) {
                worker.empty_dirs.insert(volume.clone(), std::rc::Rc::new(contents));
                changed.push(volume);
            }
        }
        if changed.is_empty() {
            return;
        }
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
        for k in (0..slots::len(pod)).filter(|k| *k != i) {
            let Some(c) = slots::spec(pod, k) else { continue };
            let mounts: Vec<(String, String)> = c
                .volume_mounts
                .iter()
                .flatten()
                .filter(|m| {
                    changed.contains(&m.name) && volumes.is_some_and(|vs| vs.iter().any(|v| v.name == m.name && v.empty_dir.is_some()))
                })
                .map(|m| (m.name.clone(), format!("{}/", m.mount_path.trim_end_matches('/'))))
                .collect();
            if mounts.is_empty() {
                continue;
            }
            let shared = worker.empty_dirs.clone();
            let Some(process) = worker.containers.get_mut(k).and_then(|r| r.process.as_mut()) else { continue };
            let mut files = (**process.files()).clone();
            for (volume, prefix) in &mounts {
                files.retain(|path, _| !path.starts_with(prefix.as_str()) || path == prefix);
                for (path, content) in shared.get(volume).into_iter().flat_map(|f| f.iter()) {
                    files.insert(format!("{prefix}{path}"), content.clone());
                }
            }
            let files = std::rc::Rc::new(files);
            process.set_files(files.clone());
            if let Some(view) = ctx.api.running_container(&uid, &c.name).cloned() {
                ctx.api.set_running_container(&uid, &c.name, Some(crate::apiserver::logs::ContainerView { files, ..view }));
            }
        }
    }

    pub(super) fn fire(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, timer: Timer) {
        let current = |k: &Kubelet, i: usize, inc: u32| k.run(key, i).is_some_and(|r| r.incarnation == inc && r.process.is_some());
        match timer {
            Timer::Wake { container, incarnation } if current(self, container, incarnation) => self.advance_process(ctx, key, container),
            Timer::Probe { container, incarnation, kind } if current(self, container, incarnation) => {
                self.probe(ctx, key, container, kind);
            }
            Timer::Stopped { container, incarnation, exit_code } if current(self, container, incarnation) => {
                self.container_exited(ctx, key, container, exit_code);
            }
            Timer::OomKilled { container, incarnation } if current(self, container, incarnation) => {
                self.container_ended(ctx, key, container, 137, "OOMKilled", None);
            }
            Timer::Restart { container } => {
                let now = ctx.now();
                self.set(key, Step::Pull(container), SimDuration::ZERO, now);
            }
            _ => {}
        }
    }

    fn probe(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, i: usize, kind: Kind) {
        let Some(object) = ctx.api.get_rc(key) else { return };
        let Some(pod) = object.as_pod() else { return };
        let Some(c) = slots::spec(pod, i) else { return };
        let Some(spec) = kind.of(c) else { return };
        let params = Params::of(spec);
        let now = ctx.now();
        let pod_ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        // The container's files as they are now (a `kubectl exec` may have changed them).
        let files = ctx.api.running_container(&uid, &c.name).map(|v| v.files.clone());
        let Some(run) = self.run_mut(key, i) else { return };
        if run.killing {
            return;
        }
        let incarnation = run.incarnation;
        let listening = run.listening(c, now);
        let files = files.or_else(|| run.process.as_ref().map(|p| p.files().clone())).unwrap_or_default();
        let server = run.server.clone();
        let since = now.since(run.started_at);
        let net = ClientNet::pod(ctx.api, pod);
        // Only an exec probe runs a process that sees the environment.
        let env = match spec.exec {
            Some(_) => super::env::with_hostname(&run.env, pod.metadata.name.as_deref().unwrap_or_default()),
            None => super::env::Env::new(),
        };
        let target = probe::Target {
            files: &files,
            env: &env,
            listening: &listening,
            pod_ip: &pod_ip,
            container: c,
            now,
            http_status: &|path: &str| server.as_ref().map_or(200, |s| s.status_with_files(path, since, &files)),
            net: &net,
        };
        let result = probe::run(spec, &target);
        let count = run.probes.entry(kind).or_default();
        match &result {
            Ok(()) => {
                count.successes += 1;
                count.failures = 0;
            }
            Err(_) => {
                count.failures += 1;
                count.successes = 0;
            }
        }
        let (successes, failures) = (count.successes, count.failures);
        let message = result.as_ref().err().cloned().unwrap_or_default();
        ctx.api.mark(&uid, &c.name, Mark::Probe { kind: kind.title(), ok: result.is_ok(), message });
        if let Err(message) = &result {
            let event = format!("{} probe failed: {message}", kind.title());
            container_event(ctx.api, &object, i, "Unhealthy", event, true);
        }
        let name = c.name.clone();
        let next = Timer::Probe { container: i, incarnation, kind };
        match kind {
            Kind::Liveness | Kind::Startup if failures >= params.failure_threshold => {
                let why = if kind == Kind::Liveness { "liveness" } else { "startup" };
                self.kill(ctx, key, &object, i, format!("Container {name} failed {why} probe, will be restarted"));
                return;
            }
            Kind::Startup if successes >= 1 => {
                if let Some(run) = self.run_mut(key, i) {
                    run.startup_done = true;
                }
                let started = c.readiness_probe.is_none();
                self.set_container_flags(ctx, key, i, Some(true), started.then_some(true));
                let started_at = self.run(key, i).map_or(now, |r| r.started_at);
                for kind in [Kind::Liveness, Kind::Readiness] {
                    if let Some(p) = kind.of(c) {
                        let at = started_at.plus(Params::of(p).initial_delay).max(now);
                        self.timer(key, at, Timer::Probe { container: i, incarnation, kind });
                    }
                }
                return;
            }
            Kind::Readiness if successes >= params.success_threshold => self.set_container_flags(ctx, key, i, None, Some(true)),
            Kind::Readiness if failures >= params.failure_threshold => self.set_container_flags(ctx, key, i, None, Some(false)),
            _ => {}
        }
        self.timer(key, now.plus(params.period), next);
    }

    /// Writes a container's `started` and `ready`, and the Pod's conditions with them.
    fn set_container_flags(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, i: usize, started: Option<bool>, ready: Option<bool>) {
        let Some(mut pod) = ctx.api.get(key).and_then(Object::as_pod).cloned() else { return };
        let Some(cs) = slots::status_mut(&mut pod, i) else { return };
        if started.is_none_or(|s| cs.started == Some(s)) && ready.is_none_or(|r| cs.ready == r) {
            return;
        }
        if let Some(s) = started {
            cs.started = Some(s);
        }
        if let Some(r) = ready {
            cs.ready = r;
        }
        let now = ctx.api.timestamp();
        refresh_pod_status(&mut pod, &now, false);
        ctx.api.update(Object::from(pod));
    }

    /// Stops container `i` after a failed probe: SIGTERM, then SIGKILL when the grace period
    /// ends (a shell or `sleep` as PID 1 ignores SIGTERM and is killed: exit 137).
    fn kill(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, object: &Object, i: usize, message: String) {
        let Some(pod) = object.as_pod() else { return };
        let Some(c) = slots::spec(pod, i) else { return };
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        ctx.api.mark(uid, &c.name, Mark::Killing { message: message.clone() });
        container_event(ctx.api, object, i, "Killing", message, false);
        let probe_grace = c.liveness_probe.as_ref().and_then(|p| p.termination_grace_period_seconds);
        let grace = probe_grace.or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds)).unwrap_or(30).max(0) as u64;
        let (after, exit_code) = self.sigterm(ctx, key, object, i, SimDuration::from_secs(grace));
        let now = ctx.now();
        let Some(run) = self.run_mut(key, i) else { return };
        run.killing = true;
        let incarnation = run.incarnation;
        self.timer(key, now.plus(after), Timer::Stopped { container: i, incarnation, exit_code });
    }

    /// Sends SIGTERM to container `i`: when will it have stopped, and with what exit code. A
    /// process without a handler (a shell or `sleep` as PID 1) lives out the grace period and
    /// is killed (137); a server exits promptly; a shell's `trap` runs (at once, or when its
    /// foreground `sleep` ends) and the process exits as the trap says.
    pub(super) fn sigterm(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &ObjectKey,
        object: &Object,
        i: usize,
        grace: SimDuration,
    ) -> (SimDuration, i32) {
        let Some(pod) = object.as_pod() else { return (grace, 137) };
        let Some(c) = slots::spec(pod, i) else { return (grace, 137) };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let now = ctx.now();
        let Some(run) = self.run_mut(key, i) else { return (grace, 137) };
        let incarnation = run.incarnation;
        // The preStop hook runs first and takes its time out of the grace period.
        let listening = run.listening(c, now);
        let Some(process) = run.process.as_mut() else { return (SimDuration::ZERO, 137) };
        let net = ClientNet::pod(ctx.api, pod);
        let env = hooks::env(c, &run.env, pod);
        let target = hooks::Target { spec: c, files: process.files().clone(), env: &env, listening: &listening, net: &net };
        let pre_stop = hooks::pre_stop(&target, now);
        let hook_took = pre_stop.as_ref().map_or(SimDuration::ZERO, |o| o.took.min(grace));
        let pre_stop_failed = pre_stop.as_ref().is_some_and(|o| o.failed && o.took < grace);
        if let Some(outcome) = pre_stop {
            process.set_files(outcome.files);
        }
        let grace = SimDuration(grace.0 - hook_took.0);
        let on_term = process.terminate(now.plus(hook_took), &net);
        let printed = process.take_output();
        let outcome = match on_term {
            OnTerm::Ignored | OnTerm::Deferred => (grace, 137),
            OnTerm::Default => {
                let code = run.server.as_ref().map_or_else(|| exit_on_sigterm(c), |s| s.sigterm_exit);
                (SimDuration(ctx.rng.range_inclusive(100, 600)).min(grace), code)
            }
            OnTerm::Handled(Run::Exited(code)) => (SimDuration(1).min(grace), code),
            OnTerm::Handled(Run::Sleep(d)) => {
                // The trap returned and the script went on to sleep.
                self.timer(key, now.plus(d), Timer::Wake { container: i, incarnation });
                (grace, 137)
            }
            OnTerm::Handled(Run::Forever) => (grace, 137),
        };
        for line in printed {
            ctx.api.append_log(&uid, &c.name, line);
        }
        if pre_stop_failed {
            container_event(ctx.api, object, i, "FailedPreStopHook", "PreStopHook failed".into(), true);
        }
        (SimDuration(hook_took.0.saturating_add(outcome.0 .0)), outcome.1)
    }

    /// The container's process ended with `code`: record it, then restart as the policy says.
    fn container_exited(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, i: usize, code: i32) {
        self.container_ended(ctx, key, i, code, if code == 0 { "Completed" } else { "Error" }, None);
    }

    /// The container ended with `code` for `reason` (Completed, Error, OOMKilled).
    pub(super) fn container_ended(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &ObjectKey,
        i: usize,
        code: i32,
        reason: &str,
        message: Option<String>,
    ) {
        let Some(mut pod) = ctx.api.get(key).and_then(Object::as_pod).cloned() else { return };
        let now = ctx.now();
        let timestamp = ctx.api.timestamp();
        let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.clone()).unwrap_or_else(|| "Always".into());
        let init = slots::is_init(&pod, i);
        let restart = if slots::is_sidecar(&pod, i) {
            true // A sidecar always restarts.
        } else if init {
            code != 0 && policy != "Never" // Init containers use OnFailure unless the Pod says Never.
        } else {
            policy == "Always" || (policy == "OnFailure" && code != 0)
        };
        let init_done = init && !slots::is_sidecar(&pod, i) && code == 0;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let name = slots::spec(&pod, i).map(|c| c.name.clone()).unwrap_or_default();
        ctx.api.set_running_container(&uid, &name, None);
        let Some(run) = self.run_mut(key, i) else { return };
        let ran_for = now.since(run.started_at);
        run.stop();
        // The back-off entry: gone after 10 minutes of running or of quiet; the first restart
        // is at once, later ones wait 10 s, 20 s, … at most 300 s.
        let delay = match run.backoff {
            Some((last, exited)) if ran_for < BACKOFF_RESET && now.since(exited) < SimDuration(2 * BACKOFF_MAX.0) => {
                if last == SimDuration::ZERO {
                    BACKOFF_INITIAL
                } else {
                    SimDuration(last.0 * 2).min(BACKOFF_MAX)
                }
            }
            _ => SimDuration::ZERO,
        };
        if restart {
            run.backoff = Some((delay, now));
        }
        let name = slots::spec(&pod, i).map(|c| c.name.clone()).unwrap_or_default();
        let reference = pod_ref(&pod);
        let Some(cs) = slots::status_mut(&mut pod, i) else { return };
        // A container that never started reports the zero time, as containerd does.
        let started_at = if reason == "StartError" {
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH))
        } else {
            cs.state.as_ref().and_then(|s| s.running.as_ref()).and_then(|r| r.started_at.clone())
        };
        let terminated = ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: code,
                reason: Some(reason.into()),
                started_at,
                finished_at: Some(timestamp.clone()),
                container_id: cs.container_id.clone(),
                message,
                ..Default::default()
            }),
            ..Default::default()
        };
        cs.ready = false;
        cs.started = Some(false);
        let waiting = restart && delay > SimDuration::ZERO;
        ctx.api.mark(&uid, &name, Mark::Exited { code, reason: reason.to_string() });
        if waiting {
            ctx.api.mark(&uid, &name, Mark::BackOff { wait: delay });
        }
        if waiting {
            cs.last_state = Some(terminated);
            let message = format!("back-off {} restarting failed container={name} pod={reference}", delay.go_string());
            cs.state = Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some("CrashLoopBackOff".into()), message: Some(message) }),
                ..Default::default()
            });
        } else {
            cs.state = Some(terminated);
        }
        refresh_pod_status(&mut pod, &timestamp, restart);
        let written = ctx.api.update(Object::from(pod));
        if waiting {
            let message = format!("Back-off restarting failed container {name} in pod {reference}");
            container_event(ctx.api, &written, i, "BackOff", message, true);
        }
        if restart {
            self.timer(key, now.plus(delay), Timer::Restart { container: i });
        }
        if init_done {
            self.next_after_init(ctx, key, i);
        }
    }
}

/// How a process that handles SIGTERM exits: the well-known servers shut down cleanly (0);
/// other programs end as the signal's default action does (128 + 15).
/// The first of `ports` already listened on in the network namespace the container joins:
/// by another running container of its Pod, or — on the host's network — by a container of
/// another host-network Pod on the node.
fn port_taken(api: &crate::apiserver::ApiServer, pod: &Pod, container: &str, ports: &BTreeSet<i32>) -> Option<i32> {
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let host_network = |p: &Pod| p.spec.as_ref().and_then(|s| s.host_network) == Some(true);
    let node = pod_util::node_name(pod).unwrap_or("");
    let mut neighbours: Vec<&Pod> = vec![pod];
    if host_network(pod) {
        neighbours.extend(
            api.store()
                .pods_on(node)
                .filter_map(Object::as_pod)
                .filter(|p| p.metadata.uid.as_deref() != Some(uid) && host_network(p) && !pod_util::is_terminal(p)),
        );
    }
    let forever = crate::time::SimDuration(u64::MAX / 4);
    for other in neighbours {
        let other_uid = other.metadata.uid.as_deref().unwrap_or("");
        for c in other.spec.iter().flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten())) {
            if other_uid == uid && c.name == container {
                continue;
            }
            let Some(server) = api.running_container(other_uid, &c.name).and_then(|v| v.server.clone()) else { continue };
            if let Some(port) = ports.iter().find(|p| server.answers(**p, forever)) {
                return Some(*port);
            }
        }
    }
    None
}

fn exit_on_sigterm(c: &Container) -> i32 {
    let image = c.image.as_deref().unwrap_or("");
    let repo = image.rsplit('/').next().unwrap_or(image).split([':', '@']).next().unwrap_or("");
    match repo {
        "nginx" | "httpd" | "caddy" | "redis" | "postgres" | "mysql" | "mariadb" | "mongo" => 0,
        _ => 143,
    }
}
