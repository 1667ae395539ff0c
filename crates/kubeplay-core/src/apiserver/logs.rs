//! What `kubectl logs` and `kubectl exec` reach through the API server (which proxies to the
//! node): the kubelet appends what a container prints — the lines of its current run and of
//! the one before (`--previous`) are kept, at most `MAX_LINES` each — and publishes what a
//! running container holds (its files and environment) for commands to run against; and the
//! kubelet's record of what happened to each container (starts, every probe result, kills,
//! exits, back-off waits) that the playground draws as a timeline — what the prober's metrics
//! and the kubelet's log say on a real node. All go with the Pod.

use std::collections::BTreeMap;

use crate::time::SimTime;

/// Lines kept per container run (the kubelet rotates logs; 10,000 short lines is about its 10 MiB).
const MAX_LINES: usize = 10_000;

pub type Line = (SimTime, String);

#[derive(Clone, Debug, Default)]
struct ContainerLog {
    /// It has printed or restarted (before that there is no log to read).
    printed: bool,
    current: Vec<Line>,
    previous: Option<Vec<Line>>,
}

/// What a container's server answers (the kubelet's model of the image, behind a trait so
/// the network can ask it without knowing the kubelet).
pub trait Responder: std::fmt::Debug {
    /// Whether it accepts connections on `port`, `since` after the container started.
    fn answers(&self, port: i32, since: crate::time::SimDuration) -> bool;
    /// An HTTP GET of `path`: status and body (`hostname` is the Pod's; `files` the
    /// container's, which a web server serves).
    fn respond(&self, path: &str, since: crate::time::SimDuration, hostname: &str, files: &BTreeMap<String, String>) -> (u16, String);
}

/// A running container as `exec` and the network see it: path → contents, its environment,
/// and what its server answers since it started. Shared with the kubelet's own record (`Rc`):
/// publishing it copies nothing.
#[derive(Clone, Debug, Default)]
pub struct ContainerView {
    pub files: std::rc::Rc<BTreeMap<String, String>>,
    pub env: std::rc::Rc<BTreeMap<String, String>>,
    pub server: Option<std::rc::Rc<dyn Responder>>,
    pub started_at: SimTime,
    /// Memory its process holds beyond the image's idle footprint (what metrics-server reads).
    pub memory: i64,
}

impl PartialEq for ContainerView {
    fn eq(&self, other: &Self) -> bool {
        let same_server = match (&self.server, &other.server) {
            (Some(a), Some(b)) => std::rc::Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        self.files == other.files
            && self.env == other.env
            && self.started_at == other.started_at
            && self.memory == other.memory
            && same_server
    }
}

impl Eq for ContainerView {}

/// Timeline entries kept per container (the newest).
const MAX_MARKS: usize = 100;

/// Something the kubelet did to or saw of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mark {
    Started,
    /// A probe ran: `kind` is Liveness, Readiness or Startup; `message` says why it failed.
    Probe {
        kind: &'static str,
        ok: bool,
        message: String,
    },
    Killing {
        message: String,
    },
    Exited {
        code: i32,
        reason: String,
    },
    /// The restart waits this long (CrashLoopBackOff).
    BackOff {
        wait: crate::time::SimDuration,
    },
}

/// All the API server holds about one container: one entry, so a Pod's containers are not
/// keyed three times over (at 150,000 Pods the keys alone were half a kilobyte a Pod).
#[derive(Clone, Debug, Default)]
struct Container {
    log: ContainerLog,
    running: Option<ContainerView>,
    /// Its timeline, oldest first.
    marks: std::collections::VecDeque<(SimTime, Mark)>,
}

#[derive(Clone, Debug, Default)]
pub struct Logs {
    /// (Pod uid, container name) → what is known of it.
    containers: BTreeMap<(String, String), Container>,
}

impl Logs {
    fn entry(&mut self, pod_uid: &str, container: &str) -> &mut Container {
        self.containers.entry((pod_uid.to_string(), container.to_string())).or_default()
    }

    fn find(&self, pod_uid: &str, container: &str) -> Option<&Container> {
        self.containers.get(&(pod_uid.to_string(), container.to_string()))
    }

    pub fn append(&mut self, pod_uid: &str, container: &str, at: SimTime, line: String) {
        let log = &mut self.entry(pod_uid, container).log;
        log.printed = true;
        if log.current.len() >= MAX_LINES {
            log.current.remove(0);
        }
        log.current.push((at, line));
    }

    /// A new run of the container starts: its last run becomes the previous one.
    pub fn restarted(&mut self, pod_uid: &str, container: &str) {
        let log = &mut self.entry(pod_uid, container).log;
        log.printed = true;
        log.previous = Some(std::mem::take(&mut log.current));
    }

    /// The container's log: `None` before it printed or ran (or, for `previous`, before it
    /// restarted).
    pub fn get(&self, pod_uid: &str, container: &str, previous: bool) -> Option<&[Line]> {
        let log = &self.find(pod_uid, container)?.log;
        if previous {
            log.previous.as_deref()
        } else {
            log.printed.then_some(&log.current)
        }
    }

    pub fn set_running(&mut self, pod_uid: &str, container: &str, view: Option<ContainerView>) {
        match view {
            Some(v) => self.entry(pod_uid, container).running = Some(v),
            None => {
                if let Some(c) = self.containers.get_mut(&(pod_uid.to_string(), container.to_string())) {
                    c.running = None;
                }
            }
        }
    }

    pub fn running(&self, pod_uid: &str, container: &str) -> Option<&ContainerView> {
        self.find(pod_uid, container)?.running.as_ref()
    }

    pub fn mark(&mut self, pod_uid: &str, container: &str, at: SimTime, mark: Mark) {
        let marks = &mut self.entry(pod_uid, container).marks;
        if marks.len() >= MAX_MARKS {
            marks.pop_front();
        }
        if marks.capacity() == 0 {
            // Most containers only ever start: room for one mark, not the default four.
            marks.reserve_exact(1);
        }
        marks.push_back((at, mark));
    }

    pub fn marks(&self, pod_uid: &str, container: &str) -> impl Iterator<Item = &(SimTime, Mark)> {
        self.find(pod_uid, container).into_iter().flat_map(|c| &c.marks)
    }

    pub fn forget(&mut self, pod_uid: &str) {
        let keys: Vec<(String, String)> = self
            .containers
            .range((pod_uid.to_string(), String::new())..)
            .take_while(|((u, _), _)| u == pod_uid)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.containers.remove(&k);
        }
    }
}
