//! The package as a browser page calls it (`wasm-pack test --headless --chrome`): plain
//! JavaScript values in and out, errors as exceptions, never a panic.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

#[wasm_bindgen_test]
fn check_returns_diagnostics_as_objects() {
    let files = js(r#"[{"name":"a.yaml","text":"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n"}]"#);
    let diagnostics = kubeplay::check(files).map_err(JsValue::from).unwrap_or(JsValue::NULL);
    let first = js_sys::Array::from(&diagnostics).get(0);
    assert_eq!(get(&first, "file").as_string().as_deref(), Some("a.yaml"));
    assert_eq!(get(&first, "severity").as_string().as_deref(), Some("error"));
    assert!(get(&first, "line").as_f64().is_some_and(|l| l >= 1.0));
}

#[wasm_bindgen_test]
fn run_gives_the_transcript_and_the_objects() {
    let options = js(
        r#"{"files":[{"name":"pod.yaml","text":"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n"}],"script":"sleep 10s; kubectl get pods","seed":4}"#,
    );
    let result = kubeplay::run(options).map_err(JsValue::from).unwrap_or(JsValue::NULL);
    let transcript = get(&result, "transcript").as_string().unwrap_or_default();
    assert!(transcript.contains("web    1/1     Running   0          10s"), "{transcript}");
    let items = js_sys::Array::from(&get(&get(&result, "snapshot"), "items"));
    assert!(items.iter().any(|o| get(&get(&o, "metadata"), "name").as_string().as_deref() == Some("web")));
}

#[wasm_bindgen_test]
fn bad_options_are_an_exception_not_a_panic() {
    assert!(kubeplay::run(js(r#"{"files":"not a list"}"#)).is_err());
    assert!(kubeplay::check(js(r#"{"name":1}"#)).is_err());
}

#[wasm_bindgen_test]
fn a_session_advances_and_answers() {
    let mut session = kubeplay::Session::new(js(r#"{"seed":2}"#)).map_err(JsValue::from).unwrap_or_else(|_| panic!("a session"));
    session.advance(2500.0);
    assert_eq!(session.now(), 2500.0);
    let out = session.exec("kubectl get nodes").map_err(JsValue::from).unwrap_or(JsValue::NULL);
    assert_eq!(get(&out, "ok").as_bool(), Some(true));
    assert!(get(&out, "output").as_string().unwrap_or_default().starts_with("NAME "));
}
