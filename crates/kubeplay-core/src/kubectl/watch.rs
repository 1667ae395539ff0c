//! `kubectl get KIND -w` (and `--watch-only`): the table once, then a row per change as
//! virtual time passes — each row as the object was when it changed, column widths
//! remembered across rows as kubectl's tabwriter does (`RememberWidths`). The console keeps
//! the watch open until the next command, as Ctrl-C would end it.

use super::args::{namespace, parse_flags, requests};
use super::columns::{self, At};
use super::Output;
use crate::api::kinds::KindInfo;
use crate::api::labels::Selector;
use crate::api::Object;
use crate::apiserver::ChangeKind;
use crate::sim::Cluster;

pub struct Watch {
    id: u64,
    info: &'static KindInfo,
    scope: Option<String>,
    selector: Selector,
    names: Vec<String>,
    format: Format,
    all_namespaces: bool,
    label_columns: Vec<String>,
    show_labels: bool,
    widths: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Table,
    Wide,
    Name,
}

/// Whether `args` (after `kubectl`) is a watching `get`.
pub fn is_watch(args: &[String]) -> bool {
    // With --raw, kubectl refuses -w before any request (`kubectl::run` says so).
    let raw = args.iter().any(|a| a == "--raw" || a.starts_with("--raw="));
    !raw && args.first().is_some_and(|c| c == "get")
        && args.iter().any(|a| matches!(a.as_str(), "-w" | "--watch" | "--watch-only" | "--watch=true"))
}

/// Starts a watch: the initial output and the open watch.
pub fn start(cluster: &mut Cluster, args: &[String]) -> Result<(Output, Watch), Output> {
    let watch_only = args.iter().any(|a| a == "--watch-only");
    let rest: Vec<String> =
        args[1..].iter().filter(|a| !matches!(a.as_str(), "-w" | "--watch" | "--watch-only" | "--watch=true")).cloned().collect();
    let flags = parse_flags("get", &rest).map_err(|e| Output::err(format!("{e}\n")))?;
    let reqs = requests(&flags.positional)?;
    let [(info, names)] = reqs.as_slice() else {
        return Err(Output::err("error: you may only specify a single resource type\n"));
    };
    let format = match flags.output.as_deref() {
        None => Format::Table,
        Some("wide") => Format::Wide,
        Some("name") => Format::Name,
        Some(other) => return Err(Output::err(format!("error: kubeplay watches print tables, -o wide or -o name, not -o {other}\n"))),
    };
    let selector = match flags.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return Err(Output::err(format!("error: {e}\n"))),
    };
    cluster.settle();
    let scope = (info.namespaced && !flags.all_namespaces).then(|| namespace(&flags));
    let mut watch = Watch {
        id: cluster.open_watch(info.kind),
        info,
        scope,
        selector,
        names: names.clone(),
        format,
        all_namespaces: flags.all_namespaces,
        label_columns: flags.label_columns.clone(),
        show_labels: flags.show_labels,
        widths: Vec::new(),
    };
    let objects: Vec<Object> = cluster.store().list(info.kind, watch.scope.as_deref()).filter(|o| watch.wants(o)).cloned().collect();
    let text = if watch_only {
        String::new()
    } else if objects.is_empty() {
        match &watch.scope {
            Some(ns) if names.is_empty() => format!("No resources found in {ns} namespace.\n"),
            _ if names.is_empty() => "No resources found\n".into(),
            _ => {
                let mut missing = String::new();
                for n in names {
                    missing.push_str(&format!("Error from server (NotFound): {} \"{n}\" not found\n", info.qualified_plural()));
                }
                cluster.close_watch(watch.id);
                return Err(Output::err(missing));
            }
        }
    } else {
        let now = cluster.now();
        watch.print(cluster, now, &objects.iter().collect::<Vec<_>>(), true)
    };
    Ok((Output::ok(text), watch))
}

impl Watch {
    fn wants(&self, o: &Object) -> bool {
        (self.names.is_empty() || self.names.iter().any(|n| n == o.name())) && self.selector.matches(o.meta().labels.as_ref())
    }

    /// The rows for what changed since the last call.
    pub fn poll(&mut self, cluster: &mut Cluster) -> String {
        let mut out = String::new();
        for (at, change) in cluster.take_watch_events(self.id) {
            if self.scope.as_deref().is_some_and(|ns| ns != change.key.namespace) || !self.wants(&change.object) {
                // A relabelled object that left the selection is not shown (kubectl's
                // label-selected watch reports it deleted, with its new labels).
                let left = change.kind == ChangeKind::Modified && change.old.as_deref().is_some_and(|o| self.wants(o));
                if !left {
                    continue;
                }
            }
            out.push_str(&self.print(cluster, at, &[&change.object], self.widths.is_empty()));
        }
        out
    }

    pub fn stop(self, cluster: &mut Cluster) {
        cluster.close_watch(self.id);
    }

    fn print(&mut self, cluster: &Cluster, now: crate::time::SimTime, objects: &[&Object], header: bool) -> String {
        if self.format == Format::Name {
            return objects.iter().map(|o| format!("{}/{}\n", self.info.qualified_singular(), o.name())).collect();
        }
        let at = At { cluster, now };
        let opts = columns::Options {
            all_namespaces: self.all_namespaces,
            show_labels: self.show_labels,
            label_columns: &self.label_columns,
            ..Default::default()
        };
        let mut rows = columns::table_rows(&at, self.info, objects, self.format == Format::Wide, opts);
        if !header {
            rows.remove(0);
        }
        let mut out = String::new();
        let n_cols = rows.iter().map(Vec::len).max().unwrap_or(0);
        if self.widths.len() < n_cols {
            self.widths.resize(n_cols, 0);
        }
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                if i + 1 < row.len() {
                    self.widths[i] = self.widths[i].max((cell.chars().count() + 3).max(6));
                }
            }
        }
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                out.push_str(cell);
                if i + 1 < row.len() {
                    out.extend(std::iter::repeat_n(' ', self.widths[i].saturating_sub(cell.chars().count())));
                }
            }
            out.push('\n');
        }
        out
    }
}
