use super::*;

fn messages(file: &str, text: &str) -> Vec<String> {
    parse(file, text).diagnostics.iter().map(ToString::to_string).collect()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
";

#[test]
fn a_valid_deployment_parses_without_diagnostics() {
    let parsed = parse("web.yaml", DEPLOYMENT);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.objects.len(), 1);
    assert_eq!(parsed.objects[0].object.key().name, "web");
}

#[test]
fn unknown_field_is_positioned_with_did_you_mean() {
    let text = DEPLOYMENT.replace("  replicas: 3", "  replica: 3");
    let parsed = parse("web.yaml", &text);
    assert!(parsed.objects.is_empty());
    assert_eq!(messages("web.yaml", &text), vec![r#"web.yaml:6:3: error: unknown field "spec.replica" (did you mean "replicas"?)"#]);
    assert_eq!(
        parsed.rejected[0].kubectl_error,
        r#"Error from server (BadRequest): error when creating "web.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica""#
    );
}

#[test]
fn missing_selector_and_mismatched_labels() {
    let text = DEPLOYMENT.replace("  selector:\n    matchLabels:\n      app: web\n", "");
    assert_eq!(messages("d.yaml", &text), vec!["d.yaml:5:1: error: spec.selector: Required value"]);
    let text = DEPLOYMENT.replace("        app: web", "        app: api");
    assert_eq!(
        messages("d.yaml", &text),
        vec!["d.yaml:12:7: error: spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"]
    );
    assert_eq!(
        parse("d.yaml", &text).rejected[0].kubectl_error,
        "The Deployment \"web\" is invalid: spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"
    );
}

#[test]
fn invalid_name_uses_api_server_wording() {
    let text = DEPLOYMENT.replace("name: web", "name: Web_1");
    let msgs = messages("d.yaml", &text);
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0].starts_with("d.yaml:4:3: error: metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of"),
        "{}",
        msgs[0]
    );
}

#[test]
fn valid_documents_survive_invalid_neighbours() {
    let text = format!("{DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n    targetPortt: 80\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n");
    let parsed = parse("all.yaml", &text);
    let names: Vec<String> = parsed.objects.iter().map(|o| o.object.key().name).collect();
    assert_eq!(names, vec!["web", "cfg"]);
    assert_eq!(
        messages("all.yaml", &text),
        vec!["all.yaml:26:5: error: unknown field \"spec.ports[0].targetPortt\" (did you mean \"targetPort\"?)",],
        "a ConfigMap is simulated now: no notice"
    );
}

#[test]
fn yaml_syntax_errors_and_unknown_kinds() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: name: b\n";
    let msgs = messages("p.yaml", text);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[1].starts_with("p.yaml:8:"), "{msgs:?}");
    // As kubectl v1.37.1 prints it: the line within the document.
    assert!(msgs[1].contains("yaml: line 3: mapping values are not allowed in this context"), "{msgs:?}");
    let blank_lines_count =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n\napiVersion: v1\nkind: Pod\nmetadata: name: b\n";
    let parsed = parse("s.yaml", blank_lines_count);
    assert_eq!(
        parsed.rejected[0].kubectl_error,
        "error: error parsing s.yaml: error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context"
    );
    assert_eq!(parsed.diagnostics.iter().find(|d| d.is_error()).map(|d| d.position.line), Some(10));

    let old = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: old\n";
    assert_eq!(
        messages("old.yaml", old),
        vec!["old.yaml:1:1: error: no matches for kind \"Deployment\" in version \"extensions/v1beta1\""]
    );
    let crd = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n";
    assert!(messages("c.yaml", crd)[0].ends_with("(ensure CRDs are installed first)"));
}

#[test]
fn json_and_lists_are_accepted() {
    let json = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox", "bogus": 1}]}}
    ]}"#;
    let parsed = parse("list.json", json);
    assert_eq!(parsed.objects.len(), 1);
    assert_eq!(messages("list.json", json), vec!["list.json:3:130: error: unknown field \"spec.containers[0].bogus\""]);
}

#[test]
fn garbage_never_panics() {
    for text in
        ["", "---", "- a\n- b", "42", "{", "apiVersion: v1\nkind: Pod\nspec: 3", "kind: [", "\t\t", "apiVersion: v1\nkind: List\nitems: 5"]
    {
        let _ = parse("g.yaml", text);
    }
}
