//! Traffic sources: clients that send HTTP GETs at a steady rate — from outside the cluster
//! (to a load balancer's IP, a node's NodePort, an external IP, the Ingress address) or from
//! a Pod (to a Service by its DNS name) — and count what happens to them. Every request takes
//! the real path through the network module (DNS, kube-proxy's rules, the entry node, the
//! endpoint's node, the container's server) and fails the real way: connection refused,
//! timeout, no such host, an HTTP error. Counts are kept per source, per Service and per Pod,
//! with a per-second history, and the latest requests' routes are kept for the playground to
//! animate.
//!
//! Requests are sent in windows aligned to 100 ms of virtual time, all at the state the
//! cluster has at the window's start. Cost grows with the requests sent, not the cluster:
//! when a long stretch of virtual time passes at once (`sleep 1h`), windows grow to 10 s and
//! a sample of each window's requests take the path, each standing for its share of
//! the window's requests.

use std::collections::{BTreeMap, VecDeque};

use crate::api::{Object, ObjectKey};
use crate::apiserver::ApiServer;
use crate::network::{ClientNet, Net, Reply, Route};
use crate::rng::fnv1a64;
use crate::time::{SimDuration, SimTime};

/// The window requests are sent in.
const WINDOW: SimDuration = SimDuration(100);
/// The window when more than `LONG_SPAN` passes at once.
const LONG_WINDOW: SimDuration = SimDuration(10_000);
pub const LONG_SPAN: SimDuration = SimDuration(600_000);
/// Requests per source and window that take the path (the rest are counted like them): all of
/// a short window's (at most 100), a sample of a long one's.
const MAX_ROUTED: u64 = 100;
const MAX_ROUTED_LONG: u64 = 10;
/// Requests per second a source may send.
pub const MAX_RATE: u32 = 1_000;
/// Seconds of per-second history kept.
const HISTORY: usize = 120;
/// Routed requests kept for showing.
const RECENT: usize = 256;

/// Where a source's requests come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Outside the cluster, at this address.
    External(String),
    /// A Pod (namespace, name).
    Pod(String, String),
}

/// What happened to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Status(u16),
    Refused,
    /// Dropped on the way (no route, or a Local policy with no endpoint on the node).
    Timeout,
    NoSuchHost,
    /// The client Pod is gone.
    NoClient,
}

impl Outcome {
    pub fn ok(self) -> bool {
        matches!(self, Outcome::Status(s) if s < 400)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Status(s) => write!(f, "{s}"),
            Outcome::Refused => f.write_str("refused"),
            Outcome::Timeout => f.write_str("timeout"),
            Outcome::NoSuchHost => f.write_str("no such host"),
            Outcome::NoClient => f.write_str("no client"),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub ok: u64,
}

impl Counts {
    pub fn failed(&self) -> u64 {
        self.sent - self.ok
    }

    fn add(&mut self, ok: bool, n: u64) {
        self.sent += n;
        if ok {
            self.ok += n;
        }
    }
}

/// What one Pod answered (kept after the Pod is gone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodCounts {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub counts: Counts,
}

/// What reached one Service: in all, and per second.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceCounts {
    pub counts: Counts,
    pub history: VecDeque<Second>,
}

impl ServiceCounts {
    /// Requests and failures in the whole second before `now`'s.
    pub fn last_second(&self, now: SimTime) -> (u64, u64) {
        last_second(&self.history, now)
    }
}

/// Requests and failures in the whole second before `now`'s.
pub fn last_second(history: &VecDeque<Second>, now: SimTime) -> (u64, u64) {
    let second = now.ms() / 1000;
    history.iter().rev().find(|h| h.at + 1 == second).map_or((0, 0), |h| (h.counts.sent, h.counts.failed()))
}

fn add_to_history(history: &mut VecDeque<Second>, second: u64, ok: bool, weight: u64) {
    match history.back_mut() {
        Some(s) if s.at == second => s.counts.add(ok, weight),
        _ => {
            let mut counts = Counts::default();
            counts.add(ok, weight);
            history.push_back(Second { at: second, counts });
            if history.len() > HISTORY {
                history.pop_front();
            }
        }
    }
}

/// One second of a source's requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    pub at: u64,
    pub counts: Counts,
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub origin: Origin,
    /// The URL as given, and its parts.
    pub url: String,
    host: String,
    port: i32,
    path: String,
    /// The Host header, when it is not the URL's host (an Ingress routes by it).
    pub host_header: Option<String>,
    /// Requests per second.
    pub rate: u32,
    pub running: bool,
    pub totals: Counts,
    /// Failed requests by what happened.
    pub failures: BTreeMap<Outcome, u64>,
    pub last: Option<Outcome>,
    pub history: VecDeque<Second>,
    /// Thousandths of a request carried to the next window.
    carry: u64,
    sent_routed: u64,
}

/// A request that took the path, for showing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: u64,
    pub at: SimTime,
    pub source: String,
    pub route: Route,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default)]
pub struct Traffic {
    sources: Vec<Source>,
    /// Per Pod (uid) and per Service (namespace, name).
    pods: BTreeMap<String, PodCounts>,
    services: BTreeMap<(String, String), ServiceCounts>,
    recent: VecDeque<Request>,
    next_id: u64,
    /// The next window's start (aligned), while any source runs.
    next_window: Option<SimTime>,
    /// Bumped by every change, so a viewer can tell whether to look again.
    revision: u64,
}

/// `http://host[:port][/path]` or `https://…` (the scheme is optional).
fn parse_url(url: &str) -> Option<(String, i32, String)> {
    let (rest, default_port) = match url.strip_prefix("https://") {
        Some(rest) => (rest, 443),
        None => (url.strip_prefix("http://").unwrap_or(url), 80),
    };
    if rest.contains("://") {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<i32>().ok().filter(|p| (1..=65535).contains(p))?),
        None => (authority, default_port),
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port, path.to_string()))
}

impl Traffic {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name == name)
    }

    pub fn pod_counts(&self) -> &BTreeMap<String, PodCounts> {
        &self.pods
    }

    pub fn service_counts(&self) -> &BTreeMap<(String, String), ServiceCounts> {
        &self.services
    }

    /// The latest routed requests, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &Request> {
        self.recent.iter()
    }

    /// A name for a new source: `client-1`, `client-2`, …
    pub fn fresh_name(&self) -> String {
        (1..).map(|n| format!("client-{n}")).find(|n| self.source(n).is_none()).unwrap_or_default()
    }

    /// Starts (or restarts, with new settings) a source. Errors are the messages to print.
    pub fn start(
        &mut self,
        now: SimTime,
        name: &str,
        origin: Origin,
        url: &str,
        rate: u32,
        host_header: Option<String>,
    ) -> Result<(), String> {
        self.revision += 1;
        let (host, port, path) =
            parse_url(url).ok_or_else(|| format!("traffic: invalid URL {url:?} (want http[s]://HOST[:PORT][/PATH])"))?;
        if rate == 0 || rate > MAX_RATE {
            return Err(format!("traffic: --rate must be between 1 and {MAX_RATE} requests per second"));
        }
        let source = Source {
            name: name.to_string(),
            origin,
            url: url.to_string(),
            host,
            port,
            path,
            host_header,
            rate,
            running: true,
            totals: Counts::default(),
            failures: BTreeMap::new(),
            last: None,
            history: VecDeque::new(),
            carry: 0,
            sent_routed: 0,
        };
        match self.sources.iter_mut().find(|s| s.name == name) {
            Some(existing) => *existing = source,
            None => self.sources.push(source),
        }
        self.schedule(now);
        Ok(())
    }

    pub fn stop(&mut self, name: &str) -> bool {
        self.revision += 1;
        let found = self.sources.iter_mut().find(|s| s.name == name).map(|s| s.running = false).is_some();
        self.next_window = self.next_window.filter(|_| self.sources.iter().any(|s| s.running));
        found
    }

    pub fn resume(&mut self, now: SimTime, name: &str) -> bool {
        self.revision += 1;
        let found = self.sources.iter_mut().find(|s| s.name == name).map(|s| s.running = true).is_some();
        self.schedule(now);
        found
    }

    pub fn set_rate(&mut self, name: &str, rate: u32) -> Result<(), String> {
        self.revision += 1;
        if rate == 0 || rate > MAX_RATE {
            return Err(format!("traffic: the rate must be between 1 and {MAX_RATE} requests per second"));
        }
        let source = self.sources.iter_mut().find(|s| s.name == name).ok_or_else(|| format!("traffic: no source named {name:?}"))?;
        source.rate = rate;
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> bool {
        self.revision += 1;
        let before = self.sources.len();
        self.sources.retain(|s| s.name != name);
        self.next_window = self.next_window.filter(|_| self.sources.iter().any(|s| s.running));
        before != self.sources.len()
    }

    /// Zeroes every count.
    pub fn reset_counts(&mut self) {
        self.revision += 1;
        self.pods.clear();
        self.services.clear();
        self.recent.clear();
        for s in &mut self.sources {
            s.totals = Counts::default();
            s.failures.clear();
            s.history.clear();
            s.last = None;
        }
    }

    fn schedule(&mut self, now: SimTime) {
        if self.next_window.is_none() && self.sources.iter().any(|s| s.running) {
            // The next aligned window after now.
            self.next_window = Some(SimTime((now.ms() / WINDOW.0 + 1) * WINDOW.0));
        }
    }

    /// When the next window opens, if any source runs.
    pub fn next_window(&self) -> Option<SimTime> {
        self.next_window
    }

    /// Sends the window opening at `next_window()` (the clock stands there); `span` is how much
    /// virtual time the current advance covers, to `until` (long advances take long windows,
    /// aligned and within the advance).
    pub fn send_window(&mut self, api: &ApiServer, span: SimDuration, until: SimTime) {
        let Some(start) = self.next_window else { return };
        let long = span > LONG_SPAN && start.ms() % LONG_WINDOW.0 == 0 && start.plus(LONG_WINDOW) <= until;
        let window = if long { LONG_WINDOW } else { WINDOW };
        self.next_window = Some(start.plus(window));
        for i in 0..self.sources.len() {
            if self.sources[i].running {
                self.send(api, i, start, window);
            }
        }
    }

    fn send(&mut self, api: &ApiServer, i: usize, start: SimTime, window: SimDuration) {
        let source = &mut self.sources[i];
        let due_milli = u64::from(source.rate) * window.0 + source.carry;
        let due = due_milli / 1000;
        source.carry = due_milli % 1000;
        if due == 0 {
            return;
        }
        let routed = due.min(if window == LONG_WINDOW { MAX_ROUTED_LONG } else { MAX_ROUTED });
        let source = self.sources[i].clone();
        let client_pod = match &source.origin {
            Origin::Pod(ns, name) => match api.store().get(&ObjectKey::new("Pod", ns, name)).and_then(Object::as_pod) {
                Some(pod) if !crate::api::endpoints::pod_ip(pod).is_empty() && !crate::api::pod_util::is_terminal(pod) => Some(Some(pod)),
                _ => None,
            },
            Origin::External(_) => Some(None),
        };
        for k in 0..routed {
            // Each routed request stands for its share of the window's requests.
            let weight = due / routed + u64::from(k < due % routed);
            let at = start.plus(SimDuration(window.0 * k / routed));
            let seed = fnv1a64(format!("{}/{}", source.name, source.sent_routed + k).as_bytes());
            let net = match (client_pod, &source.origin) {
                (Some(Some(pod)), _) => Some(ClientNet::pod_seeded(api, pod, seed)),
                (Some(None), Origin::External(address)) => Some(ClientNet::external(api, address, seed)),
                _ => None,
            };
            let (outcome, route) = match net {
                Some(net) => request(&net, &source.host, source.port, &source.path, source.host_header.as_deref()),
                None => (Outcome::NoClient, Route::default()),
            };
            self.record(i, at, weight, outcome, route);
        }
        self.sources[i].sent_routed += routed;
    }

    fn record(&mut self, i: usize, at: SimTime, weight: u64, outcome: Outcome, route: Route) {
        self.revision += 1;
        let ok = outcome.ok();
        let source = &mut self.sources[i];
        source.totals.add(ok, weight);
        if !ok {
            *source.failures.entry(outcome).or_default() += weight;
        }
        source.last = Some(outcome);
        let second = at.ms() / 1000;
        add_to_history(&mut source.history, second, ok, weight);
        if let (Some(uid), Some((namespace, name))) = (&route.pod, &route.pod_name) {
            let entry = self.pods.entry(uid.clone()).or_insert_with(|| PodCounts {
                namespace: namespace.clone(),
                name: name.clone(),
                node: route.pod_node.clone().unwrap_or_default(),
                counts: Counts::default(),
            });
            entry.counts.add(ok, weight);
        }
        if let Some(service) = &route.service {
            let entry = self.services.entry(service.clone()).or_default();
            entry.counts.add(ok, weight);
            add_to_history(&mut entry.history, second, ok, weight);
        }
        self.next_id += 1;
        self.recent.push_back(Request { id: self.next_id, at, source: source.name.clone(), route, outcome });
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }
}

/// One GET of `http://host:port/path` through `net`.
fn request(net: &ClientNet<'_>, host: &str, port: i32, path: &str, host_header: Option<&str>) -> (Outcome, Route) {
    let addresses = match net.resolve(host) {
        Ok(r) if !r.addresses.is_empty() => r.addresses,
        _ => return (Outcome::NoSuchHost, Route::default()),
    };
    // A headless name lists every ready Pod: the client takes the first, as most resolvers
    // rotate them (CoreDNS's answers are shuffled per query).
    let ip = &addresses[(net.seed() % addresses.len() as u64) as usize];
    let (reply, route) = net.connect_traced(ip, port, Some(path), host_header.unwrap_or(host));
    let outcome = match reply {
        Reply::Http { status, .. } => Outcome::Status(status),
        Reply::Refused => Outcome::Refused,
        Reply::Unreachable => Outcome::Timeout,
    };
    (outcome, route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults() {
        assert_eq!(parse_url("http://203.0.113.10/"), Some(("203.0.113.10".into(), 80, "/".into())));
        assert_eq!(parse_url("web.default:8080/healthz"), Some(("web.default".into(), 8080, "/healthz".into())));
        assert_eq!(parse_url("https://x/"), Some(("x".into(), 443, "/".into())));
        assert_eq!(parse_url("ftp://x/"), None);
        assert_eq!(parse_url("http://:80/"), None);
        assert_eq!(parse_url("http://x:99999/"), None);
    }

    #[test]
    fn a_window_sends_its_share_and_carries_the_rest() {
        let mut t = Traffic::default();
        t.start(SimTime::ZERO, "c", Origin::External("198.51.100.1".into()), "http://203.0.113.99/", 15, None).expect("start");
        let api = ApiServer::new(1);
        let mut sent = Vec::new();
        for _ in 0..10 {
            t.send_window(&api, SimDuration(100), SimTime(10_000));
            sent.push(t.source("c").map_or(0, |s| s.totals.sent));
        }
        // 1.5 requests per 100 ms: 1, 2, 1, 2, …; 15 in a second.
        assert_eq!(sent, vec![1, 3, 4, 6, 7, 9, 10, 12, 13, 15]);
        assert_eq!(t.next_window(), Some(SimTime(1_100)));
    }
}
