//! The package's behaviour as plain Rust over serde types (tested natively; `lib.rs` only
//! converts to and from JavaScript values).

use serde::{Deserialize, Serialize};

use kubeplay_core::manifest;
use kubeplay_core::shell::{run_batch, snapshot_json};
use kubeplay_core::time::SimDuration;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub severity: String,
    pub message: String,
}

pub fn check(files: &[SourceFile]) -> Vec<Diagnostic> {
    files
        .iter()
        .flat_map(|f| manifest::parse(&f.name, &f.text).diagnostics)
        .map(|d| Diagnostic {
            file: d.file.clone(),
            line: d.position.line,
            column: d.position.column,
            severity: d.severity.to_string(),
            message: d.message.clone(),
        })
        .collect()
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunOptions {
    pub files: Vec<SourceFile>,
    pub script: String,
    pub seed: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub transcript: String,
    pub snapshot: serde_json::Value,
    pub manifest_errors: bool,
}

fn pairs(files: &[SourceFile]) -> Vec<(String, String)> {
    files.iter().map(|f| (f.name.clone(), f.text.clone())).collect()
}

pub fn run(options: &RunOptions) -> RunResult {
    let batch = run_batch(options.seed.unwrap_or(1), &pairs(&options.files), &options.script, None);
    RunResult {
        transcript: batch.transcript,
        snapshot: serde_json::from_str(&snapshot_json(&batch.session.cluster)).unwrap_or_default(),
        manifest_errors: batch.manifest_errors,
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionOptions {
    pub seed: Option<u64>,
    pub files: Vec<SourceFile>,
    pub apply: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { seed: None, files: Vec::new(), apply: true }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExecResult {
    pub output: String,
    pub ok: bool,
}

pub struct Session {
    session: kubeplay_core::Session,
}

/// One `advance` passes at most a week, as one `sleep` does.
const MAX_ADVANCE_MS: f64 = 7.0 * 24.0 * 3_600_000.0;

impl Session {
    pub fn new(options: &SessionOptions) -> Session {
        let files = pairs(&options.files);
        let batch = run_batch(options.seed.unwrap_or(1), if options.apply { &files } else { &[] }, "", None);
        let mut session = batch.session;
        // Registered even when not applied, so `kubectl apply -f NAME` finds them.
        session.files.extend(files);
        Session { session }
    }

    pub fn exec(&mut self, command: &str) -> ExecResult {
        let out = self.session.exec(command);
        ExecResult { output: out.text, ok: out.ok }
    }

    pub fn advance(&mut self, ms: f64) {
        // NaN, negative and huge values from JavaScript: clamped, never a panic.
        let ms = if ms.is_finite() { ms.clamp(0.0, MAX_ADVANCE_MS) } else { 0.0 };
        self.session.cluster.advance(SimDuration(ms as u64));
    }

    pub fn now(&self) -> f64 {
        self.session.cluster.now().ms() as f64
    }

    pub fn snapshot(&self) -> String {
        snapshot_json(&self.session.cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile { name: name.into(), text: text.into() }
    }

    #[test]
    fn check_reports_what_kubeplay_check_prints() {
        let d = check(&[file("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n")]);
        assert!(!d.is_empty());
        assert_eq!((d[0].file.as_str(), d[0].severity.as_str()), ("bad.yaml", "error"));
        let printed: Vec<String> = manifest::parse("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n")
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        let ours: Vec<String> = d.iter().map(|d| format!("{}:{}:{}: {}: {}", d.file, d.line, d.column, d.severity, d.message)).collect();
        assert_eq!(ours, printed);
    }

    #[test]
    fn run_prints_the_cli_transcript_and_a_snapshot() {
        let options = RunOptions {
            files: vec![file(
                "pod.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n",
            )],
            script: "sleep 10s; kubectl get pods".into(),
            seed: Some(4),
        };
        let result = run(&options);
        assert!(result.transcript.starts_with("$ kubectl apply -f pod.yaml\npod/web created\n$ sleep 10s\n$ kubectl get pods\nNAME   READY   STATUS    RESTARTS   AGE\nweb    1/1     Running   0          10s\n"), "{}", result.transcript);
        let items = result.snapshot["items"].as_array().cloned().unwrap_or_default();
        assert!(items.iter().any(|o| o["kind"] == "Pod" && o["metadata"]["name"] == "web" && o["status"]["phase"] == "Running"));
        assert!(!result.manifest_errors);
    }

    #[test]
    fn a_session_is_driven_command_by_command() {
        let mut s = Session::new(&SessionOptions {
            seed: Some(2),
            files: vec![file("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")],
            apply: false,
        });
        assert_eq!(
            s.exec("kubectl get ns shop"),
            ExecResult { output: "Error from server (NotFound): namespaces \"shop\" not found\n".into(), ok: false }
        );
        assert!(s.exec("kubectl apply -f ns.yaml").ok);
        let before = s.now();
        s.advance(1500.0);
        assert_eq!(s.now(), before + 1500.0);
        for hostile in [f64::NAN, -5.0, f64::INFINITY] {
            s.advance(hostile);
        }
        assert_eq!(s.now(), before + 1500.0);
    }
}
