//! The one command interpreter behind the CLI, the browser console and the tests:
//! `kubectl …`, `sleep DURATION`, and playground commands (`help`). A script is commands
//! separated by newlines or `;`; `#` starts a comment.

mod nodes;
mod traffic;

use std::collections::BTreeMap;

use crate::kubectl::{self, Files, Output};
use crate::sim::Cluster;
use crate::time::SimDuration;

/// Reads a file the host did not register (the CLI's file system).
pub type FileReader = Box<dyn Fn(&str) -> Option<String>>;

/// A playground session: the cluster plus the files `kubectl apply -f` can name.
pub struct Session {
    pub cluster: Cluster,
    /// Buffers the host registered (the editor's text in the browser).
    pub files: BTreeMap<String, String>,
    /// A fallback reader for names not registered (the CLI reads the file system).
    pub reader: Option<FileReader>,
    /// The shell in a container the console is attached to (`kubectl exec -it POD -- sh`):
    /// lines go to it until `exit`.
    pub attached: Option<kubectl::exec::Attached>,
    /// `kubectl port-forward`s the console keeps open: local port → Pod port.
    pub forwards: Vec<kubectl::port_forward::Forward>,
    /// Requests the console's `curl` has made (each meets its own random choices).
    curls: u64,
    /// A `kubectl get -w` the console keeps open: its rows come as time passes, until the
    /// next command ends it (as Ctrl-C would).
    watch: Option<OpenWatch>,
    /// The kubeconfig context's namespace (`kubectl config set-context --current --namespace`).
    namespace: String,
}

/// A watch the console keeps open: `kubectl get -w`'s rows, or `get --raw '…?watch=1'`'s
/// JSON events.
enum OpenWatch {
    Table(kubectl::watch::Watch),
    Raw(kubectl::raw_watch::RawWatch),
}

impl OpenWatch {
    fn poll(&mut self, cluster: &mut Cluster) -> String {
        match self {
            OpenWatch::Table(w) => w.poll(cluster),
            OpenWatch::Raw(w) => w.poll(cluster),
        }
    }

    fn stop(self, cluster: &mut Cluster) {
        match self {
            OpenWatch::Table(w) => w.stop(cluster),
            OpenWatch::Raw(w) => w.stop(cluster),
        }
    }
}

/// The console machine's address as the cluster sees it.
const CONSOLE_ADDRESS: &str = "198.51.100.200";

struct SessionFiles<'a> {
    files: &'a BTreeMap<String, String>,
    reader: &'a Option<FileReader>,
}

impl Files for SessionFiles<'_> {
    fn read(&self, name: &str) -> Option<String> {
        self.files.get(name).cloned().or_else(|| self.reader.as_ref().and_then(|r| r(name)))
    }
}

/// One `sleep` may pass at most a week: time passes event by event, and a page must not
/// freeze on `sleep 100000h`.
const MAX_SLEEP: SimDuration = SimDuration(7 * 24 * 3_600_000);

pub const HELP: &str = "kubeplay commands:
  kubectl apply -f FILE           create or update the objects in FILE
  kubectl get KIND [NAME] [-o wide|yaml|json|name] [-n NS] [-A] [-l SELECTOR]
  kubectl delete KIND NAME | -f FILE | -l SELECTOR
  kubectl scale deployment NAME --replicas=N
  kubectl rollout status|history|undo|restart deployment/NAME
  kubectl label|annotate KIND NAME KEY=VALUE [KEY-] [--overwrite]
  kubectl logs POD [-c CONTAINER] [-p] [--tail=N] [--timestamps]
  kubectl top pod|node [NAME] [--containers] [--sort-by=cpu|memory]
  kubectl exec POD [-c CONTAINER] -- COMMAND [ARGS]
  kubectl exec -it POD -- sh      a shell in the container until `exit`
  kubectl describe pod|deployment|service|configmap|secret [NAME]
  kubectl expose deployment NAME --port=80 [--type=NodePort]
  kubectl port-forward svc/NAME 8080:80, then: curl localhost:8080
  kubectl create configmap|secret generic NAME --from-literal=K=V [--dry-run=client -o yaml]
  curl http://203.0.113.10/       a request from outside the cluster (a load balancer,
                                  a node's NodePort, an external IP, the Ingress address)
  traffic start URL --rate=10     requests at a steady rate [--from=pod/NAME]; then
                                  traffic | traffic services | traffic pods | traffic stop NAME
  kubeplay explain pod NAME       why the scheduler put it there, or why it waits
  kubeplay node fail|recover NAME a node's kubelet stops (or comes back); also
                                  kubeplay node add NAME [--like NODE] | node remove NAME
                                  kubeplay zone fail|recover ZONE
  sleep DURATION                  let virtual time pass (500ms, 30s, 5m, 1h)
  help                            this text
";

impl Session {
    pub fn new(cluster: Cluster) -> Session {
        Session {
            cluster,
            files: BTreeMap::new(),
            reader: None,
            attached: None,
            forwards: Vec::new(),
            curls: 0,
            watch: None,
            namespace: "default".into(),
        }
    }

    /// Runs one command line.
    pub fn exec(&mut self, line: &str) -> Output {
        if self.attached.is_some() {
            return self.exec_attached(line);
        }
        let mut words = match split_words(line) {
            Ok(w) => w,
            Err(e) => return Output::err(format!("{e}\n")),
        };
        if matches!(words.first().map(String::as_str), Some("kubectl" | "k")) {
            if words.get(1).map(String::as_str) == Some("config") {
                return self.kubeconfig(&words[2..]);
            }
            self.with_context_namespace(&mut words);
        }
        let Some(program) = words.first() else {
            return Output::ok("");
        };
        if words.iter().any(|w| w == "|" || w == ">" || w == "&&") {
            return Output::err("kubeplay: pipes, redirection and && are not supported; run one command at a time\n");
        }
        // Time passing keeps an open watch printing; any other command ends it.
        if program != "sleep" {
            if let Some(w) = self.watch.take() {
                w.stop(&mut self.cluster);
            }
        }
        if matches!(program.as_str(), "kubectl" | "k") {
            if let Some(path) = kubectl::raw_watch_path(&words[1..]) {
                return match kubectl::raw_watch::start(&mut self.cluster, &path) {
                    Ok((out, watch)) => {
                        self.watch = watch.map(OpenWatch::Raw);
                        out
                    }
                    Err(out) => out,
                };
            }
        }
        if matches!(program.as_str(), "kubectl" | "k") && kubectl::watch::is_watch(&words[1..]) {
            return match kubectl::watch::start(&mut self.cluster, &words[1..]) {
                Ok((out, watch)) => {
                    self.watch = Some(OpenWatch::Table(watch));
                    out
                }
                Err(out) => out,
            };
        }
        match program.as_str() {
            "kubectl" | "k" if words.get(1).is_some_and(|w| w == "exec") => match kubectl::exec::attach(&mut self.cluster, &words[2..]) {
                Some(Ok((attached, notes))) => {
                    self.attached = Some(attached);
                    Output::ok(notes)
                }
                Some(Err(out)) => out,
                None => {
                    let files = SessionFiles { files: &self.files, reader: &self.reader };
                    kubectl::run(&mut self.cluster, &files, &words[1..])
                }
            },
            "kubectl" | "k" if words.get(1).is_some_and(|w| w == "port-forward") => {
                match kubectl::port_forward::port_forward(&mut self.cluster, &words[2..]) {
                    Ok(forwards) => {
                        let mut text = String::new();
                        for f in forwards {
                            text.push_str(&format!(
                                "Forwarding from 127.0.0.1:{l} -> {r}\nForwarding from [::1]:{l} -> {r}\n",
                                l = f.local,
                                r = f.remote
                            ));
                            self.forwards.retain(|old| old.local != f.local);
                            self.forwards.push(f);
                        }
                        Output::ok(text)
                    }
                    Err(out) => out,
                }
            }
            "curl" => self.curl(&words[1..]),
            "kubectl" | "k" => {
                let files = SessionFiles { files: &self.files, reader: &self.reader };
                kubectl::run(&mut self.cluster, &files, &words[1..])
            }
            "sleep" => match words.get(1).and_then(|d| SimDuration::parse(d)) {
                Some(d) if words.len() == 2 && d > MAX_SLEEP => Output::err("sleep: at most 168h (a week of virtual time) at a time\n"),
                Some(d) if words.len() == 2 => {
                    self.cluster.advance(d);
                    Output::ok(self.poll_watch())
                }
                _ => Output::err("sleep: usage: sleep DURATION (for example 500ms, 30s, 5m, 1h)\n"),
            },
            "traffic" => traffic::run(&mut self.cluster, &words[1..]),
            "kubeplay" => nodes::run(&mut self.cluster, &words[1..]),
            "help" => Output::ok(HELP),
            other => Output::err(format!("{other}: command not found (try `help`)\n")),
        }
    }

    /// The namespace commands act in when they name none.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Adds the context's namespace to a kubectl command that names none, as kubectl reads it
    /// from the kubeconfig.
    fn with_context_namespace(&self, words: &mut Vec<String>) {
        if self.namespace == "default" {
            return;
        }
        let names_one = words.iter().take_while(|w| *w != "--").any(|w| {
            matches!(w.as_str(), "-n" | "--namespace" | "-A" | "--all-namespaces")
                || w.starts_with("--namespace=")
                || (w.starts_with("-n") && w.len() > 2 && !w.starts_with("--"))
        });
        if names_one {
            return;
        }
        let verb = words.get(1).map(String::as_str).unwrap_or("");
        let common = matches!(verb, "apply" | "get" | "describe" | "delete" | "scale" | "diff" | "replace")
            || (verb == "create" && words.get(2).is_some_and(|w| w.starts_with('-')));
        let flag = if common {
            vec![format!("{}={}", kubectl::CONTEXT_NAMESPACE_FLAG, self.namespace)]
        } else {
            vec!["-n".to_string(), self.namespace.clone()]
        };
        let at = words.iter().position(|w| w == "--").unwrap_or(words.len());
        words.splice(at..at, flag);
    }

    /// `kubectl config`: the console's one context, `kubeplay`, and its namespace.
    fn kubeconfig(&mut self, args: &[String]) -> Output {
        const CONTEXT: &str = "kubeplay";
        match args.first().map(String::as_str) {
            Some("current-context") => Output::ok(format!("{CONTEXT}\n")),
            Some("set-context") => {
                let mut namespace = None;
                let mut current = false;
                let mut name = None;
                let mut it = args[1..].iter();
                while let Some(a) = it.next() {
                    if let Some(v) = a.strip_prefix("--namespace=") {
                        namespace = Some(v.to_string());
                    } else if a == "--namespace" || a == "-n" {
                        namespace = it.next().cloned();
                    } else if a == "--current" {
                        current = true;
                    } else if !a.starts_with('-') {
                        name = Some(a.clone());
                    }
                }
                if !current && name.as_deref() != Some(CONTEXT) {
                    return Output::err(format!(
                        "error: kubeplay has one context, {CONTEXT:?}; use `kubectl config set-context --current --namespace=NS`\n"
                    ));
                }
                if let Some(ns) = namespace {
                    self.namespace = if ns.is_empty() { "default".into() } else { ns };
                }
                Output::ok(format!("Context {CONTEXT:?} modified.\n"))
            }
            Some("get-contexts") => {
                let ns = if self.namespace == "default" { String::new() } else { self.namespace.clone() };
                let rows = vec![
                    ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"].iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    vec!["*".into(), CONTEXT.into(), CONTEXT.into(), CONTEXT.into(), ns],
                ];
                Output::ok(kubectl::printers::table(&rows))
            }
            Some("view") if args.iter().any(|a| a.contains("{..namespace}")) => Output::ok(self.namespace.clone()),
            _ => Output::err(
                "error: kubeplay models `kubectl config current-context`, `get-contexts` and `set-context --current --namespace=NS`\n",
            ),
        }
    }

    /// `kubectl edit …` typed at a console with an editor: the object to edit, or why not.
    pub fn edit_open(&mut self, line: &str) -> Option<Result<kubectl::edit::Edit, Output>> {
        let words = split_words(line).ok()?;
        if !matches!(words.first().map(String::as_str), Some("kubectl" | "k")) || words.get(1).map(String::as_str) != Some("edit") {
            return None;
        }
        self.cluster.settle();
        Some(kubectl::edit::open(&self.cluster, &words[2..]))
    }

    /// Saves an edit the editor finished.
    pub fn edit_save(&mut self, edit: &kubectl::edit::Edit, text: &str) -> Output {
        kubectl::edit::save(&mut self.cluster, edit, text)
    }

    /// The rows an open `kubectl get -w` has printed since last asked (the browser console
    /// asks every frame; scripts see them after `sleep`).
    pub fn poll_watch(&mut self) -> String {
        match self.watch.as_mut() {
            Some(w) => w.poll(&mut self.cluster),
            None => String::new(),
        }
    }

    /// `curl http://localhost:PORT/PATH` from the console's machine: through a port-forward, or
    /// nowhere (cluster names do not resolve outside the cluster).
    fn curl(&mut self, args: &[String]) -> Output {
        let silent = args.iter().any(|a| a == "-s" || a == "--silent");
        // `-H 'Host: NAME'`: the Host header an Ingress routes by.
        let mut header_host = None;
        let mut rest_args = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "-H" || a == "--header" {
                let value = it.next().map(String::as_str).unwrap_or("");
                if let Some((_, v)) = value.split_once(':').filter(|(n, _)| n.trim().eq_ignore_ascii_case("host")) {
                    header_host = Some(v.trim().to_string());
                }
            } else {
                rest_args.push(a.clone());
            }
        }
        let args = &rest_args[..];
        let Some(url) = args.iter().find(|a| !a.starts_with('-')) else {
            return Output::err("curl: try 'curl --help' or 'curl --manual' for more information\n");
        };
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let default_port = if url.starts_with("https://") { 443 } else { 80 };
        let (host, port) = authority.rsplit_once(':').map_or((authority, default_port), |(h, p)| (h, p.parse().unwrap_or(0)));
        if host != "localhost" && host != "127.0.0.1" {
            return self.curl_outside(host, port, path, header_host.as_deref().unwrap_or(host), silent);
        }
        let Some(forward) = self.forwards.iter().find(|f| i32::from(f.local) == port).cloned() else {
            return Output::err(if silent {
                String::new()
            } else {
                format!("curl: (7) Failed to connect to {host} port {port} after 0 ms: Could not connect to server\n")
            });
        };
        self.cluster.settle();
        match crate::network::request_pod(self.cluster.api(), &forward.pod_uid, forward.remote, path) {
            crate::kubelet::sh::Reply::Http { body, .. } => Output::ok(body),
            _ => Output::err(if silent { String::new() } else { "curl: (52) Empty reply from server\n".to_string() }),
        }
    }

    /// `curl` from the console's machine, outside the cluster: an address the cluster
    /// publishes (a load balancer's, a node's, an external IP, the Ingress's) answers through
    /// kube-proxy's rules; cluster names do not resolve and cluster networks are not routed.
    fn curl_outside(&mut self, host: &str, port: i32, path: &str, host_header: &str, silent: bool) -> Output {
        use crate::kubelet::sh::{Net, Reply};
        self.cluster.settle();
        let api = self.cluster.api();
        self.curls += 1;
        let net =
            crate::network::ClientNet::external(api, CONSOLE_ADDRESS, crate::rng::fnv1a64(format!("console/{}", self.curls).as_bytes()));
        let quiet = |text: String| Output::err(if silent { String::new() } else { text });
        let Ok(resolved) = net.resolve(host) else { return quiet(format!("curl: (6) Could not resolve host: {host}\n")) };
        let Some(ip) = resolved.addresses.first() else { return quiet(format!("curl: (6) Could not resolve host: {host}\n")) };
        match net.connect(ip, port, Some(path), host_header) {
            Reply::Http { status, body } if status < 400 => Output::ok(body),
            // curl prints an error page's body and succeeds (no --fail).
            Reply::Http { body, .. } => Output::ok(body),
            Reply::Refused => quiet(format!("curl: (7) Failed to connect to {host} port {port} after 0 ms: Could not connect to server\n")),
            // The packets are dropped: the kernel gives up after its SYN retries (about 127 s).
            Reply::Unreachable => {
                quiet(format!("curl: (28) Failed to connect to {host} port {port} after 127000 ms: Timeout was reached\n"))
            }
        }
    }

    /// Runs a command at the console's own prompt even while a container shell is attached
    /// (the playground's buttons and its exec line act beside the console, not inside it).
    pub fn exec_detached(&mut self, line: &str) -> Output {
        let attached = self.attached.take();
        let out = self.exec(line);
        if self.attached.is_none() {
            self.attached = attached;
        }
        out
    }

    /// What the console prompts with: `$ `, or the attached shell's prompt.
    pub fn prompt(&self) -> String {
        self.attached.as_ref().map_or_else(|| "$ ".to_string(), |a| a.prompt())
    }

    /// A line for the attached shell; `exit` (or the container stopping) detaches.
    fn exec_attached(&mut self, line: &str) -> Output {
        let Some(mut attached) = self.attached.take() else { return Output::ok("") };
        let trimmed = line.trim();
        if let Some(code) = trimmed.strip_prefix("exit").filter(|rest| rest.is_empty() || rest.starts_with(' ')) {
            let code: i32 = code.trim().parse().unwrap_or(0);
            return if code == 0 { Output::ok("") } else { Output::err(format!("command terminated with exit code {code}\n")) };
        }
        self.cluster.settle();
        let (uid, container) = (attached.uid.clone(), attached.container.clone());
        let Some(result) = self.cluster.exec_line_in_container(&uid, &container, line, &mut attached.vars) else {
            // The container stopped under the shell.
            return Output::err("command terminated with exit code 137\n");
        };
        let mut text = result.output;
        if let Some(program) = &result.unmodelled {
            text.push_str(&format!("kubeplay: `{program}` is not simulated inside containers; it was taken to succeed without output\n"));
        }
        self.attached = Some(attached);
        Output { text, ok: result.code == 0 }
    }

    /// Runs a script, returning the transcript: `$ command` then its output, per command.
    /// A line typed at an attached container shell is the shell's to read whole (`for …; do
    /// …; done`), not split on `;`.
    pub fn run_script(&mut self, script: &str) -> String {
        let mut transcript = String::new();
        for line in script.lines() {
            let mut pieces = if self.attached.is_some() {
                let whole = line.trim();
                if whole.is_empty() {
                    continue;
                }
                vec![whole.to_string()]
            } else {
                split_script(line)
            };
            while !pieces.is_empty() {
                let command = if self.attached.is_some() { std::mem::take(&mut pieces).join("; ") } else { pieces.remove(0) };
                transcript.push_str(&format!("$ {command}\n"));
                let text = self.exec(&command).text;
                transcript.push_str(&text);
                // Output that does not end a line (`cat` of a value without one) ends it here, as
                // a terminal's next prompt would, so the transcript reads back command by command.
                if !text.is_empty() && !text.ends_with('\n') {
                    transcript.push('\n');
                }
            }
        }
        transcript
    }
}

/// What `kubeplay run` produced: the session afterwards, the transcript it printed, and
/// whether a file had errors (the CLI's exit status).
pub struct Batch {
    pub session: Session,
    pub transcript: String,
    pub manifest_errors: bool,
}

/// `kubeplay run --seed SEED -f FILE… -e SCRIPT`: the files applied at time 0 (default nodes
/// unless they bring Nodes), then the script; `$ command` + output for each. The CLI and the
/// JavaScript package both print exactly this.
pub fn run_batch(seed: u64, files: &[(String, String)], script: &str, reader: Option<FileReader>) -> Batch {
    let mut session = Session::new(Cluster::for_manifests(seed, files.iter().map(|(n, t)| (n.as_str(), t.as_str()))));
    session.reader = reader;
    let mut transcript = String::new();
    let mut manifest_errors = false;
    for (name, text) in files {
        session.files.insert(name.clone(), text.clone());
        let command = format!("kubectl apply -f {name}");
        let out = session.exec(&command);
        transcript.push_str(&format!("$ {command}\n{}", out.text));
        manifest_errors |= crate::manifest::parse(name, text).has_errors();
    }
    transcript.push_str(&session.run_script(script));
    Batch { session, transcript, manifest_errors }
}

/// The cluster's objects as `kubectl get -o json` prints a list.
pub fn snapshot_json(cluster: &Cluster) -> String {
    kubectl::printers::json(&kubectl::printers::object_or_list(cluster.store().all(), false))
}

/// Commands of a script: split on newlines and `;` (outside quotes), comments and blanks dropped.
pub fn split_script(script: &str) -> Vec<String> {
    let mut commands = Vec::new();
    for line in script.lines() {
        let mut current = String::new();
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (None, '#') if current.is_empty() || current.ends_with(' ') => break,
                (None, ';') => {
                    commands.push(std::mem::take(&mut current));
                    continue;
                }
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), _) if q == c => quote = None,
                _ => {}
            }
            current.push(c);
        }
        commands.push(current);
    }
    commands.into_iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
}

/// Shell-like word splitting with single and double quotes.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            (Some(_), _) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    current.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("syntax error: unterminated quoted string".into());
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_scripts_and_words() {
        assert_eq!(split_script("a; b\n# c\n\nd 'x;y' # e"), vec!["a", "b", "d 'x;y'"]);
        assert_eq!(
            split_words("kubectl get pods -l 'app in (a, b)'").unwrap_or_default(),
            vec!["kubectl", "get", "pods", "-l", "app in (a, b)"]
        );
        assert!(split_words("echo 'x").is_err());
    }

    #[test]
    fn unknown_commands_are_errors_not_panics() {
        let mut s = Session::new(Cluster::new(1));
        let out = s.exec("frobnicate now");
        assert!(!out.ok);
        assert_eq!(out.text, "frobnicate: command not found (try `help`)\n");
        assert!(!s.exec("kubectl frob").ok);
        assert!(!s.exec("sleep forever").ok);
        assert!(!s.exec("sleep 200h").ok);
        assert!(s.exec("sleep 168h").ok);
        assert!(!s.exec("kubectl get").ok);
        assert!(!s.exec("kubectl get pods --bogus").ok);
        assert!(s.exec("").ok);
    }
}
