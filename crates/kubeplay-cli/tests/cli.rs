//! The CLI contract: `kubeplay run` and `kubeplay check`, their output and exit codes.

use std::path::PathBuf;
use std::process::Command;

fn kubeplay(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubeplay")).args(args).output().expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("kubeplay-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n";

#[test]
fn run_applies_files_then_runs_the_script() {
    let file = temp_file("pod.yaml", POD);
    let (code, out) = kubeplay(&["run", "--seed", "7", "-f", &file, "-e", "sleep 5s; kubectl get pods"]);
    assert_eq!(code, 0, "{out}");
    let expected = format!(
        "$ kubectl apply -f {file}\npod/hello created\n$ sleep 5s\n$ kubectl get pods\nNAME    READY   STATUS    RESTARTS   AGE\nhello   1/1     Running   0          5s\n"
    );
    assert_eq!(out, expected);
    // Same seed, same bytes.
    assert_eq!(kubeplay(&["run", "--seed", "7", "-f", &file, "-e", "sleep 5s; kubectl get pods"]).1, out);
}

#[test]
fn run_reads_a_script_file_and_exits_1_when_a_file_has_errors() {
    let bad = temp_file("bad.yaml", &POD.replace("image:", "imagee:"));
    let script = temp_file("script.txt", "# comment\nkubectl get pods\n");
    let (code, out) = kubeplay(&["run", "-f", &bad, "--script", &script]);
    assert_eq!(code, 1);
    assert!(out.contains("strict decoding error: unknown field \"spec.containers[0].imagee\""), "{out}");
    assert!(out.ends_with("$ kubectl get pods\nNo resources found in default namespace.\n"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(kubeplay(&[]).0, 2);
    assert_eq!(kubeplay(&["run", "--seed", "x"]).0, 2);
    assert_eq!(kubeplay(&["run", "--bogus"]).0, 2);
    assert_eq!(kubeplay(&["check"]).0, 2);
}

#[test]
fn check_prints_one_line_per_diagnostic() {
    let file = temp_file(
        "check.yaml",
        &format!("{}---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: c\n", POD.replace("  name: hello", "  name: Hello")),
    );
    let (code, out) = kubeplay(&["check", &file]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with(&format!("{file}:4:3: error: metadata.name: Invalid value: \"Hello\"")), "{out}");
    assert_eq!(lines[1], format!("{file}:10:1: warning: ServiceAccount \"c\" is stored, not simulated yet"));
    let good = temp_file("good.yaml", POD);
    assert_eq!(kubeplay(&["check", &good]), (0, String::new()));
}
