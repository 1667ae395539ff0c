//! Our `-o yaml` / `-o json` printers against real kubectl output. The fixtures were written
//! by kubectl itself (`kubectl create … --dry-run=client -o yaml|json`, client v1.32: the
//! printers are unchanged in v1.37); reading each back and printing it must give the same bytes.

use kubeplay_core::kubectl::printers;
use kubeplay_core::manifest::yaml;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).expect("fixture")
}

#[test]
fn yaml_printer_matches_kubectl() {
    for name in ["k.yaml", "cm.yaml"] {
        let text = fixture(name);
        let value = yaml::to_json(&text).expect("kubectl's YAML parses");
        assert_eq!(printers::yaml(&value), text, "{name}");
    }
}

/// `kubectl get -o json` prints unstructured objects, whose keys Go's encoder sorts; the
/// fixture came from a typed object (struct order). So compare the lines as a multiset: the
/// same indentation, separators, `{}` and `null` rendering, whatever the key order.
#[test]
fn json_printer_matches_kubectl_layout() {
    let text = fixture("k.json");
    let value: serde_json::Value = serde_json::from_str(&text).expect("kubectl's JSON parses");
    let lines = |s: &str| {
        let mut v: Vec<String> = s.lines().map(|l| l.trim_end_matches(',').to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&printers::json(&value)), lines(&text));
}
