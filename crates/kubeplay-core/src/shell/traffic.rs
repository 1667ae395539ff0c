//! The `traffic` console command: start, stop and re-rate traffic sources, and read what
//! their requests met per source, per Service and per Pod.
//!
//! ```text
//! traffic start [NAME] URL [--rate=N] [--from=pod/NAME [-n NS]] [-H 'Host: NAME']
//! traffic stop|resume|delete NAME     (stop and delete take --all)
//! traffic rate NAME N
//! traffic [list] | traffic services | traffic pods | traffic reset
//! ```

use crate::kubectl::tabwriter::TabWriter;
use crate::kubectl::Output;
use crate::sim::Cluster;
use crate::traffic::{Origin, Outcome, Source, MAX_RATE};

pub const USAGE: &str = "usage: traffic start [NAME] URL [--rate=N] [--from=pod/NAME [-n NAMESPACE]] [-H 'Host: NAME']
       traffic stop|resume|delete NAME|--all
       traffic rate NAME N
       traffic [list] | traffic services | traffic pods | traffic reset
";

pub fn run(cluster: &mut Cluster, args: &[String]) -> Output {
    match args.first().map(String::as_str) {
        None | Some("list") => list(cluster),
        Some("start") => start(cluster, &args[1..]),
        Some(verb @ ("stop" | "resume" | "delete")) => each(cluster, verb, &args[1..]),
        Some("rate") => match (args.get(1), args.get(2).and_then(|r| r.trim_end_matches("/s").parse::<u32>().ok())) {
            (Some(name), Some(rate)) if args.len() == 3 => match cluster.traffic_mut().set_rate(name, rate) {
                Ok(()) => Output::ok(format!("traffic source {name}: {rate} requests/s\n")),
                Err(e) => Output::err(format!("{e}\n")),
            },
            _ => Output::err(USAGE),
        },
        Some("services") => services(cluster),
        Some("pods") => pods(cluster),
        Some("reset") => {
            cluster.traffic_mut().reset_counts();
            Output::ok("traffic counts reset\n")
        }
        Some("help" | "-h" | "--help") => Output::ok(USAGE),
        Some(other) => Output::err(format!("traffic: unknown command {other:?}\n{USAGE}")),
    }
}

fn start(cluster: &mut Cluster, args: &[String]) -> Output {
    let mut positional = Vec::new();
    let mut rate = 10;
    let mut from = None;
    let mut namespace = "default".to_string();
    let mut host_header = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || {
            inline.clone().or_else(|| {
                i += 1;
                args.get(i).cloned()
            })
        };
        match flag {
            "--rate" | "-r" => match value().and_then(|r| r.trim_end_matches("/s").parse::<u32>().ok()) {
                Some(r) => rate = r,
                None => return Output::err(format!("traffic: --rate takes requests per second (1 to {MAX_RATE})\n")),
            },
            "--from" => from = value(),
            "-H" | "--header" => match value().as_deref().and_then(|h| h.split_once(':')) {
                Some((name, host)) if name.trim().eq_ignore_ascii_case("host") => host_header = Some(host.trim().to_string()),
                _ => return Output::err("traffic: -H takes 'Host: NAME' (the only header modelled)\n"),
            },
            "-n" | "--namespace" => match value() {
                Some(ns) => namespace = ns,
                None => return Output::err(USAGE),
            },
            f if f.starts_with('-') => return Output::err(format!("traffic: unknown flag {f}\n{USAGE}")),
            _ => positional.push(arg.to_string()),
        }
        i += 1;
    }
    let (name, url) = match positional.as_slice() {
        [url] => (cluster.traffic().fresh_name(), url.clone()),
        [name, url] => (name.clone(), url.clone()),
        _ => return Output::err(USAGE),
    };
    let number = cluster.traffic().sources().iter().position(|s| s.name == name).unwrap_or(cluster.traffic().sources().len());
    let origin = match from.as_deref() {
        None | Some("external") => Origin::External(format!("198.51.100.{}", number % 254 + 1)),
        Some(pod) => match pod.strip_prefix("pod/").or_else(|| pod.strip_prefix("pods/")) {
            Some(pod) if cluster.store().get(&crate::api::ObjectKey::new("Pod", &namespace, pod)).is_some() => {
                Origin::Pod(namespace.clone(), pod.to_string())
            }
            Some(pod) => return Output::err(format!("traffic: pod {pod:?} not found in namespace {namespace:?}\n")),
            None => return Output::err("traffic: --from takes pod/NAME (or external)\n"),
        },
    };
    let now = cluster.now();
    let who = match &origin {
        Origin::External(address) => format!("outside the cluster ({address})"),
        Origin::Pod(ns, pod) => format!("pod {ns}/{pod}"),
    };
    match cluster.traffic_mut().start(now, &name, origin, &url, rate, host_header) {
        Ok(()) => Output::ok(format!("traffic source {name} started: {rate} requests/s from {who} to {url}\n")),
        Err(e) => Output::err(format!("{e}\n")),
    }
}

fn each(cluster: &mut Cluster, verb: &str, args: &[String]) -> Output {
    let names: Vec<String> = match args {
        [all] if all == "--all" && verb != "resume" => cluster.traffic().sources().iter().map(|s| s.name.clone()).collect(),
        [name] => vec![name.clone()],
        _ => return Output::err(USAGE),
    };
    let now = cluster.now();
    let mut text = String::new();
    for name in names {
        let traffic = cluster.traffic_mut();
        let found = match verb {
            "stop" => traffic.stop(&name),
            "resume" => traffic.resume(now, &name),
            _ => traffic.remove(&name),
        };
        if !found {
            return Output::err(format!("traffic: no source named {name:?}\n"));
        }
        let done = match verb {
            "stop" => "stopped",
            "resume" => "resumed",
            _ => "deleted",
        };
        text.push_str(&format!("traffic source {name} {done}\n"));
    }
    Output::ok(text)
}

fn failures(source: &Source) -> String {
    if source.failures.is_empty() {
        return source.totals.failed().to_string();
    }
    let kinds: Vec<String> = source.failures.iter().map(|(o, n)| format!("{o} {n}")).collect();
    format!("{} ({})", source.totals.failed(), kinds.join(", "))
}

fn list(cluster: &Cluster) -> Output {
    let sources = cluster.traffic().sources();
    if sources.is_empty() {
        return Output::ok("No traffic sources. Start one with: traffic start http://ADDRESS/ --rate=10\n");
    }
    let mut w = TabWriter::default();
    w.write("NAME\tFROM\tURL\tRATE\tSTATE\tSENT\tOK\tFAILED\tLAST\n");
    for s in sources {
        let from = match &s.origin {
            Origin::External(address) => address.clone(),
            Origin::Pod(ns, pod) => format!("pod/{pod} ({ns})"),
        };
        let state = if s.running { "running" } else { "stopped" };
        let last = s.last.map_or_else(|| "-".to_string(), |o: Outcome| o.to_string());
        w.write(&format!(
            "{}\t{from}\t{}\t{}/s\t{state}\t{}\t{}\t{}\t{last}\n",
            s.name,
            s.host_header.as_ref().map_or_else(|| s.url.clone(), |h| format!("{} (Host: {h})", s.url)),
            s.rate,
            s.totals.sent,
            s.totals.ok,
            failures(s)
        ));
    }
    Output::ok(w.finish())
}

fn services(cluster: &Cluster) -> Output {
    let counts = cluster.traffic().service_counts();
    if counts.is_empty() {
        return Output::ok("No requests have reached a Service.\n");
    }
    let mut w = TabWriter::default();
    w.write("NAMESPACE\tSERVICE\tREQUESTS\tOK\tFAILED\n");
    for ((ns, name), c) in counts {
        w.write(&format!("{ns}\t{name}\t{}\t{}\t{}\n", c.sent, c.ok, c.failed()));
    }
    Output::ok(w.finish())
}

fn pods(cluster: &Cluster) -> Output {
    let counts = cluster.traffic().pod_counts();
    if counts.is_empty() {
        return Output::ok("No requests have reached a Pod.\n");
    }
    let mut rows: Vec<_> = counts
        .iter()
        .map(|(uid, p)| {
            let gone = cluster.store().get(&crate::api::ObjectKey::new("Pod", &p.namespace, &p.name)).and_then(|o| o.meta().uid.clone())
                != Some(uid.clone());
            (p, gone)
        })
        .collect();
    rows.sort_by(|a, b| (&a.0.namespace, &a.0.name, a.1).cmp(&(&b.0.namespace, &b.0.name, b.1)));
    let mut w = TabWriter::default();
    w.write("NAMESPACE\tPOD\tNODE\tREQUESTS\tOK\tFAILED\n");
    for (p, gone) in rows {
        let name = if gone { format!("{} (deleted)", p.name) } else { p.name.clone() };
        w.write(&format!("{}\t{name}\t{}\t{}\t{}\t{}\n", p.namespace, p.node, p.counts.sent, p.counts.ok, p.counts.failed()));
    }
    Output::ok(w.finish())
}
