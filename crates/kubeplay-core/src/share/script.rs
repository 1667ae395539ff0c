//! "Copy as a kubectl script": a session as a POSIX shell script to run against a real
//! cluster. The editor's text becomes `playground.yaml` (written again when it changed), the
//! time that passed between actions becomes `sleep`, and what only the playground has
//! (traffic, node faults, a container shell's lines) stays as comments.

use super::{Action, Workspace, EDITOR_FILE};
use crate::time::SimDuration;

pub fn kubectl_script(w: &Workspace) -> String {
    let mut out = String::from("#!/bin/sh\n# A kubeplay session as a script for a real cluster (kubectl v1.37).\nset -e\n");
    let mut file = w.files.get(EDITOR_FILE).cloned().unwrap_or_default();
    write_file(&mut out, &file);
    out.push_str(&format!("kubectl apply -f {EDITOR_FILE}\n"));
    // Where the script's own clock stands (a typed `sleep` moves it).
    let mut clock = 0u64;
    let mut attached = false;
    let mut editing = false;
    for step in &w.steps {
        let gap = step.position.at.saturating_sub(clock) / 1000;
        if gap > 0 && !attached {
            out.push_str(&format!("sleep {gap}\n"));
        }
        clock = clock.max(step.position.at);
        match &step.action {
            Action::Apply(_) | Action::Diff(_) if editing => {
                out.push_str("# (the edit was saved in the playground's editor)\n");
                editing = false;
            }
            Action::Apply(text) | Action::Diff(text) => {
                if *text != file {
                    file = text.clone();
                    write_file(&mut out, &file);
                }
                let verb = if matches!(step.action, Action::Apply(_)) { "apply" } else { "diff" };
                // `kubectl diff` exits 1 when there are differences: not a failure here.
                let tail = if verb == "diff" { " || true" } else { "" };
                out.push_str(&format!("kubectl {verb} -f {EDITOR_FILE}{tail}\n"));
            }
            Action::CancelEdit(_) => editing = false,
            Action::Run(line) | Action::Detached(line) => {
                let line = line.trim();
                if attached && matches!(step.action, Action::Run(_)) {
                    out.push_str(&format!("#   (in the container) {line}\n"));
                    attached = line != "exit";
                    continue;
                }
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [] => {}
                    ["sleep", d] => match SimDuration::parse(d) {
                        Some(SimDuration(ms)) => {
                            out.push_str(&format!("sleep {}\n", ms / 1000));
                            clock += ms;
                        }
                        None => out.push_str(&format!("# {line}\n")),
                    },
                    ["kubectl" | "k", "edit", ..] => {
                        editing = true;
                        out.push_str(&format!("# {line}  (edited in the playground's editor)\n"));
                    }
                    ["kubectl" | "k", rest @ ..] => {
                        if rest.contains(&"-it") || rest.contains(&"-ti") || (rest.contains(&"-i") && rest.contains(&"-t")) {
                            attached = rest.contains(&"exec");
                        }
                        let tolerate = if rest.first() == Some(&"diff") { " || true" } else { "" };
                        out.push_str(&format!("kubectl {}{tolerate}\n", rest.join(" ")));
                    }
                    _ => out.push_str(&format!("# kubeplay only: {line}\n")),
                }
            }
        }
    }
    out
}

/// `cat > playground.yaml` with a heredoc whose end marker the text does not contain.
fn write_file(out: &mut String, text: &str) {
    let mut marker = String::from("EOF");
    while text.lines().any(|l| l == marker) {
        marker.push('_');
    }
    out.push_str(&format!("cat > {EDITOR_FILE} <<'{marker}'\n{text}"));
    if !text.ends_with('\n') && !text.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("{marker}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::{Position, Step};

    fn step(at: u64, action: Action) -> Step {
        Step { position: Position { at, work: at / 10 }, action }
    }

    #[test]
    fn a_session_reads_as_a_script() {
        let mut w = Workspace::new(1, "kind: Pod\n");
        w.steps = vec![
            step(2500, Action::Run("kubectl get pods".into())),
            step(2600, Action::Run("sleep 1m".into())),
            step(62_600, Action::Apply("kind: Pod\nEOF\n".into())),
            step(70_000, Action::Run("traffic start http://web/ --rate=5".into())),
            step(70_000, Action::Run("k exec -it web -- sh".into())),
            step(71_000, Action::Run("ls /".into())),
            step(71_500, Action::Run("exit".into())),
            step(80_000, Action::Diff("kind: Pod\nEOF\n".into())),
        ];
        assert_eq!(
            kubectl_script(&w),
            "#!/bin/sh
# A kubeplay session as a script for a real cluster (kubectl v1.37).
set -e
cat > playground.yaml <<'EOF'
kind: Pod
EOF
kubectl apply -f playground.yaml
sleep 2
kubectl get pods
sleep 60
cat > playground.yaml <<'EOF_'
kind: Pod
EOF
EOF_
kubectl apply -f playground.yaml
sleep 7
# kubeplay only: traffic start http://web/ --rate=5
kubectl exec -it web -- sh
#   (in the container) ls /
#   (in the container) exit
sleep 8
kubectl diff -f playground.yaml || true
"
        );
    }
}
