//! kubeplay for JavaScript (`wasm-pack build` → the npm package `kubeplay`): a thin façade
//! over kubeplay-core. Values cross as JSON, so the Rust side ([`api`]) is plain functions
//! tested natively, and the JavaScript side gets ordinary objects and TypeScript types.
//!
//! - `check(files)` → the diagnostics `kubeplay check` prints;
//! - `run({files, script, seed})` → `{transcript, snapshot}`, the transcript byte-identical
//!   to `kubeplay run --seed SEED -f … -e SCRIPT`;
//! - `new Session({seed, files})` with `exec(command)`, `advance(ms)`, `now()`.

pub mod api;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A manifest file: its name (as `kubectl apply -f NAME` names it) and text. */
export interface SourceFile { name: string; text: string }
/** What `kubeplay check` prints as FILE:LINE:COLUMN: SEVERITY: MESSAGE. */
export interface Diagnostic { file: string; line: number; column: number; severity: "error" | "warning"; message: string }
export interface RunOptions { files?: SourceFile[]; script?: string; seed?: number }
export interface RunResult {
  /** Byte-identical to `kubeplay run --seed SEED -f FILE… -e SCRIPT`. */
  transcript: string;
  /** Every object at the end, as `kubectl get -o json` prints a List. */
  snapshot: { apiVersion: "v1"; kind: "List"; items: any[] };
  /** True when a file had errors (`kubeplay run` then exits 1). */
  manifestErrors: boolean;
}
export interface SessionOptions { seed?: number; files?: SourceFile[]; apply?: boolean }
export interface ExecResult { output: string; ok: boolean }
"#;

fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, JsError> {
    let text = if value.is_undefined() || value.is_null() {
        "{}".to_string()
    } else {
        js_sys::JSON::stringify(value).map_err(|_| JsError::new(&format!("{what}: not JSON-serialisable")))?.as_string().unwrap_or_default()
    };
    serde_json::from_str(&text).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

fn to_js(value: &impl serde::Serialize) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("internal: not JSON"))
}

/// Checks manifests as `kubeplay check` does.
#[wasm_bindgen(unchecked_return_type = "Diagnostic[]")]
pub fn check(#[wasm_bindgen(unchecked_param_type = "SourceFile[]")] files: JsValue) -> Result<JsValue, JsError> {
    let files: Vec<api::SourceFile> = from_js(&files, "check(files)")?;
    to_js(&api::check(&files))
}

/// Applies the files at time 0 and runs the script, as `kubeplay run` does.
#[wasm_bindgen(unchecked_return_type = "RunResult")]
pub fn run(#[wasm_bindgen(unchecked_param_type = "RunOptions")] options: JsValue) -> Result<JsValue, JsError> {
    let options: api::RunOptions = from_js(&options, "run(options)")?;
    to_js(&api::run(&options))
}

/// A cluster to drive command by command.
#[wasm_bindgen]
pub struct Session {
    inner: api::Session,
}

#[wasm_bindgen]
impl Session {
    /// A fresh cluster (default nodes unless the files bring Nodes) with the files
    /// registered for `kubectl apply -f NAME` and, unless `apply: false`, applied.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue) -> Result<Session, JsError> {
        let options: api::SessionOptions = from_js(&options, "new Session(options)")?;
        Ok(Session { inner: api::Session::new(&options) })
    }

    /// Runs one command line (kubectl …, sleep 10s, curl …, kubeplay …).
    #[wasm_bindgen(unchecked_return_type = "ExecResult")]
    pub fn exec(&mut self, command: &str) -> Result<JsValue, JsError> {
        to_js(&self.inner.exec(command))
    }

    /// Lets `ms` virtual milliseconds pass (at most a week at once).
    pub fn advance(&mut self, ms: f64) {
        self.inner.advance(ms);
    }

    /// Virtual milliseconds since the cluster started.
    pub fn now(&self) -> f64 {
        self.inner.now()
    }

    /// Every object now, as `kubectl get -o json` prints a List.
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        js_sys::JSON::parse(&self.inner.snapshot()).map_err(|_| JsError::new("internal: not JSON"))
    }
}
