//! `kubectl get --raw 'PATH?watch=1'`: the API server's watch stream, one JSON event per line
//! (`{"type":"ADDED","object":{…}}`), as virtual time passes. The console keeps it open like
//! `get -w`, until the next command ends it (as Ctrl-C would).
//!
//! As kube-apiserver serves it: without `resourceVersion` (or with `0`) the current objects
//! come first as ADDED; with the current one, only what happens next; with an older one, an
//! ERROR event with a 410 Expired Status (kubeplay keeps no watch-cache history). A label
//! selector turns an object that stops matching into DELETED and one that starts into ADDED;
//! `timeoutSeconds` ends the stream; `sendInitialEvents=true` (with
//! `resourceVersionMatch=NotOlderThan` and `allowWatchBookmarks=true`) ends the initial
//! events with the `k8s.io/initial-events-end` BOOKMARK.

use serde_json::json;

use super::raw::{body, resolve, Target};
use super::Output;
use crate::api::labels::Selector;
use crate::api::Object;
use crate::apiserver::ChangeKind;
use crate::sim::Cluster;
use crate::time::{SimDuration, SimTime};

pub struct RawWatch {
    id: u64,
    namespace: Option<String>,
    name: Option<String>,
    selector: Selector,
    /// `timeoutSeconds`: the stream ends then.
    ends_at: Option<SimTime>,
    ended: bool,
}

/// The query's `key=value` pairs, percent-decoded (`labelSelector=app%3Dweb`).
fn params(query: &str) -> Vec<(String, String)> {
    query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True when a `get --raw` path asks for a watch: `?watch=1|true` or the legacy
/// `/watch/` segment.
pub fn is_watch(raw: &str) -> bool {
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let legacy = path.starts_with("/api/v1/watch/") || (path.starts_with("/apis/") && path.split('/').nth(4) == Some("watch"));
    legacy || params(query).iter().any(|(k, v)| k == "watch" && (v == "1" || v == "true"))
}

/// An error as the API server sends it in a watch stream.
fn error_event(code: u16, reason: &str, message: &str) -> String {
    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    framed("ERROR", &status)
}

fn event(kind: &str, object: &Object) -> String {
    framed(kind, &object.to_json())
}

/// One event a line, `type` before `object` as the API server writes its WatchEvent.
fn framed(kind: &str, object: &serde_json::Value) -> String {
    format!("{{\"type\":\"{kind}\",\"object\":{}", body(object).replacen('\n', "}\n", 1))
}

/// Opens the watch: the initial events (if any) and the open stream.
pub fn start(cluster: &mut Cluster, raw: &str) -> Result<(Output, Option<RawWatch>), Output> {
    cluster.settle();
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    // The legacy form: `/api/v1/watch/namespaces/NS/pods` is `/api/v1/namespaces/NS/pods?watch=1`.
    let path = path.trim_end_matches('/').replacen("/api/v1/watch/", "/api/v1/", 1);
    let path = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "apis", group, version, "watch", rest @ ..] => format!("/apis/{group}/{version}/{}", rest.join("/")),
        _ => path,
    };
    let (info, namespace, name) = match resolve(&path) {
        Ok(Target::Resource(info, namespace, name)) => (info, namespace, name),
        Ok(Target::Discovery(_)) => return Err(Output::err(super::raw::NOT_FOUND)),
        Err(out) => return Err(out),
    };
    let params = params(query);
    let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let selector = match get("labelSelector").map(Selector::parse).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            return Err(Output::err(format!("Error from server (BadRequest): unable to parse requirement: {e}\n")));
        }
    };
    // `fieldSelector=metadata.name=NAME`, the form kubectl's own watches of one object use.
    let name = name.or_else(|| get("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=")).map(str::to_string));
    // validateWatchOptions: the WatchList rules, worded as the API server words them.
    let initial_events = get("sendInitialEvents").map(|v| v == "true" || v == "1");
    let matching = get("resourceVersionMatch").unwrap_or_default();
    let mut invalid = Vec::new();
    if initial_events.is_some() && matching != "NotOlderThan" {
        invalid
            .push("resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".to_string());
    }
    if !matching.is_empty() {
        if initial_events.is_none() {
            invalid.push(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided".into(),
            );
        }
        if matching != "NotOlderThan" {
            invalid.push(format!("resourceVersionMatch: Unsupported value: {matching:?}: supported values: \"NotOlderThan\""));
        }
    }
    if !invalid.is_empty() {
        let listed = if invalid.len() == 1 { invalid.remove(0) } else { format!("[{}]", invalid.join(", ")) };
        return Err(Output::err(format!("Error from server (Invalid): ListOptions.meta.k8s.io \"\" is invalid: {listed}\n")));
    }
    let initial_events = initial_events == Some(true) && get("allowWatchBookmarks") == Some("true");
    let current = cluster.store().resource_version();
    let mut watch = RawWatch {
        id: 0,
        namespace: namespace.filter(|_| info.namespaced),
        name,
        selector,
        ends_at: get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).map(|s| cluster.now().plus(SimDuration::from_secs(s))),
        ended: false,
    };
    let mut text = String::new();
    match get("resourceVersion").filter(|v| !v.is_empty()) {
        None | Some("0") => {
            let objects: Vec<&Object> = cluster.store().list(info.kind, watch.namespace.as_deref()).filter(|o| watch.wants(o)).collect();
            for o in objects {
                text.push_str(&event("ADDED", o));
            }
            if initial_events {
                let marker = json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": {"resourceVersion": current.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}});
                text.push_str(&framed("BOOKMARK", &marker));
            }
        }
        Some(rv) => match rv.parse::<u64>() {
            Ok(rv) if rv == current => {}
            Ok(rv) if rv < current => {
                text.push_str(&error_event(410, "Expired", &format!("too old resource version: {rv} ({current})")));
                return Ok((Output::ok(text), None));
            }
            Ok(rv) => {
                text.push_str(&error_event(504, "Timeout", &format!("Too large resource version: {rv}, current: {current}")));
                return Ok((Output::ok(text), None));
            }
            Err(_) => return Err(Output::err(format!("Error from server (BadRequest): invalid resource version: {rv:?}\n"))),
        },
    }
    watch.id = cluster.open_watch(info.kind);
    Ok((Output::ok(text), Some(watch)))
}

impl RawWatch {
    fn wants(&self, o: &Object) -> bool {
        self.namespace.as_deref().is_none_or(|ns| o.meta().namespace.as_deref() == Some(ns))
            && self.name.as_deref().is_none_or(|n| o.name() == n)
            && self.selector.matches(o.meta().labels.as_ref())
    }

    /// The events since the last call (until `timeoutSeconds` ends the stream).
    pub fn poll(&mut self, cluster: &mut Cluster) -> String {
        let mut out = String::new();
        for (at, change) in cluster.take_watch_events(self.id) {
            if self.ended || self.ends_at.is_some_and(|end| at > end) {
                self.ended = true;
                continue;
            }
            let now = self.wants(&change.object);
            let before = change.old.as_deref().is_some_and(|o| self.wants(o));
            let kind = match change.kind {
                ChangeKind::Added if now => "ADDED",
                ChangeKind::Deleted if now => "DELETED",
                ChangeKind::Modified if now && before => "MODIFIED",
                ChangeKind::Modified if now => "ADDED",
                ChangeKind::Modified if before => "DELETED",
                _ => continue,
            };
            out.push_str(&event(kind, &change.object));
        }
        if self.ends_at.is_some_and(|end| cluster.now() >= end) {
            self.ended = true;
        }
        out
    }

    pub fn stop(self, cluster: &mut Cluster) {
        if self.id != 0 {
            cluster.close_watch(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_watches_and_decodes_queries() {
        assert!(is_watch("/api/v1/namespaces/default/pods?watch=1"));
        assert!(is_watch("/api/v1/pods?labelSelector=a&watch=true"));
        assert!(is_watch("/api/v1/watch/namespaces/default/pods"));
        assert!(is_watch("/apis/apps/v1/watch/deployments"));
        assert!(!is_watch("/api/v1/pods?watch=0"));
        assert!(!is_watch("/apis/apps/v1/deployments"));
        assert_eq!(decode("app%3Dweb%2Ctier+in%20(a)"), "app=web,tier in (a)");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    struct NoFiles;
    impl super::super::Files for NoFiles {
        fn read(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn kubectl(cluster: &mut Cluster, line: &str) -> Output {
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        super::super::run(cluster, &NoFiles, &args)
    }

    fn types(text: &str) -> Vec<String> {
        text.lines().filter_map(|l| l.split('"').nth(3).map(str::to_string)).collect()
    }

    /// An object that stops matching the selector is DELETED for the watcher, one that starts
    /// matching is ADDED, and the deletion carries its own resourceVersion.
    #[test]
    fn a_label_selector_turns_relabelling_into_added_and_deleted() {
        let mut cluster = Cluster::new(1);
        assert!(kubectl(&mut cluster, "create configmap c --from-literal=a=b").ok);
        assert!(kubectl(&mut cluster, "label configmap c tier=web").ok);
        let Ok((out, Some(mut watch))) = start(&mut cluster, "/api/v1/namespaces/default/configmaps?watch=1&labelSelector=tier%3Dweb")
        else {
            panic!("the watch opens");
        };
        assert_eq!(types(&out.text), ["ADDED"]);
        assert!(kubectl(&mut cluster, "label configmap c tier=db --overwrite").ok);
        assert!(kubectl(&mut cluster, "label configmap c tier=web --overwrite").ok);
        assert!(kubectl(&mut cluster, "annotate configmap c note=x").ok);
        let rv = cluster.store().resource_version();
        assert!(kubectl(&mut cluster, "delete configmap c").ok);
        let events = watch.poll(&mut cluster);
        assert_eq!(types(&events), ["DELETED", "ADDED", "MODIFIED", "DELETED"]);
        assert!(events.lines().last().is_some_and(|l| l.contains(&format!("\"resourceVersion\":\"{}\"", rv + 1))), "{events}");
        watch.stop(&mut cluster);
    }

    #[test]
    fn timeout_seconds_ends_the_stream() {
        let mut cluster = Cluster::new(1);
        let Ok((_, Some(mut watch))) = start(&mut cluster, "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=5") else {
            panic!("the watch opens");
        };
        cluster.advance(SimDuration::from_secs(6));
        assert!(kubectl(&mut cluster, "create configmap late --from-literal=a=b").ok);
        assert_eq!(watch.poll(&mut cluster), "");
    }
}
