//! `kubectl edit KIND NAME`: the live object's YAML goes to an editor (the playground's), and
//! saving it sends what changed as a patch, as kubectl edit does — fields the edit removed
//! go, fields someone else changed meanwhile stay. Without an editor (scripts, the CLI) the
//! command says to use `kubectl patch` or `kubectl apply`.

use serde_json::Value;

use super::args::{resolve, ArgWalker};
use super::{merge, patch, printers, Output};
use crate::api::ObjectKey;
use crate::manifest;
use crate::sim::Cluster;

/// An edit in progress: what the editor was given.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub key: ObjectKey,
    /// `deployment.apps/web`.
    pub label: String,
    pub original: Value,
    /// The text the editor opens with.
    pub text: String,
}

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,\n# and an empty file will abort the edit. If an error occurs while saving this file will be\n# reopened with the relevant failures.\n#\n";

/// Opens `kubectl edit` on one object.
pub fn open(cluster: &Cluster, args: &[String]) -> Result<Edit, Output> {
    let mut namespace = "default".to_string();
    let mut positional = Vec::new();
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "-n" | "--namespace" => namespace = walker.value(&arg).map_err(|e| Output::err(format!("{e}\n")))?,
            name if name.starts_with('-') && name.len() > 1 => {
                return Err(Output::err(format!("error: unknown flag: {name}\nSee 'kubectl edit --help' for usage.\n")));
            }
            name => positional.push(name.to_string()),
        }
    }
    let (ty, name) = match positional.as_slice() {
        [one] if one.contains('/') => one.split_once('/').map(|(t, n)| (t.to_string(), n.to_string())).unwrap_or_default(),
        [ty, name] => (ty.clone(), name.clone()),
        [] => return Err(Output::err("error: You must provide one or more resources by argument or filename.\n")),
        _ => return Err(Output::err("error: kubeplay edits one object at a time\n")),
    };
    let info = resolve(&ty)?;
    let key = ObjectKey::new(info.kind, if info.namespaced { &namespace } else { "" }, &name);
    let Some(live) = cluster.get(&key) else {
        return Err(Output::err(format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural())));
    };
    let original = live.to_json();
    let text = format!("{HEADER}{}", printers::yaml(&original));
    Ok(Edit { key, label: format!("{}/{name}", info.qualified_singular()), original, text })
}

/// Saves an edited text: the changes since it was opened, patched onto the live object.
pub fn save(cluster: &mut Cluster, edit: &Edit, edited: &str) -> Output {
    let body: String = edited.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| format!("{l}\n")).collect();
    if body.trim().is_empty() {
        return Output::ok("Edit cancelled, no changes made.\n");
    }
    let modified = match manifest::yaml::to_json(&body) {
        Ok(v) => v,
        Err(e) => return Output::err(format!("error: {}: error converting YAML to JSON: {}\n", edit.label, e.message)),
    };
    if modified == edit.original {
        return Output::ok("Edit cancelled, no changes made.\n");
    }
    let Some(live) = cluster.get(&edit.key).map(|o| o.to_json()) else {
        return Output::err(format!("Error from server (NotFound): {} not found\n", edit.label));
    };
    let Some(changes) = merge::two_way(edit.key.kind, &edit.original, &modified) else {
        return Output::ok("Edit cancelled, no changes made.\n");
    };
    let merged = match merge::strategic(edit.key.kind, &live, &changes) {
        Ok(m) => m,
        Err(e) => return Output::err(format!("error: {} could not be saved: {e}\n", edit.label)),
    };
    match patch::store(cluster, merged) {
        Ok(()) => Output::ok(format!("{} edited\n", edit.label)),
        Err(e) => Output::err(format!("error: {} could not be saved:\n{e}", edit.label)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Session;

    #[test]
    fn an_edit_patches_what_changed_and_keeps_what_others_changed() {
        let mut session = Session::new(Cluster::new(3));
        session.exec("kubectl create deployment web --image=nginx:1.27 --replicas=2");
        let edit = open(&session.cluster, &["deployment".into(), "web".into()]).expect("opens");
        assert!(edit.text.starts_with("# Please edit the object below."));
        // Meanwhile someone scales it; the edit changes the image and drops a label.
        session.exec("kubectl scale deployment web --replicas=4");
        let edited = edit.text.replace("image: nginx:1.27", "image: nginx:1.28").replace("    app: web\n  name: web", "  name: web");
        let out = save(&mut session.cluster, &edit, &edited);
        assert_eq!(out.text, "deployment.apps/web edited\n");
        let image = session.exec("kubectl get deployment web -o jsonpath={.spec.template.spec.containers[0].image}").text;
        assert_eq!(image, "nginx:1.28");
        assert_eq!(session.exec("kubectl get deployment web -o jsonpath={.spec.replicas}").text, "4", "the scale made meanwhile stays");
        assert_eq!(
            session.exec("kubectl get deployment web -o jsonpath={.metadata.labels}").text,
            "",
            "the label the edit removed is gone"
        );
        assert_eq!(save(&mut session.cluster, &edit, &edit.text).text, "Edit cancelled, no changes made.\n");
        assert_eq!(save(&mut session.cluster, &edit, "# nothing\n").text, "Edit cancelled, no changes made.\n");
        let bad = save(&mut session.cluster, &edit, &edit.text.replace("replicas: 2", "replicas: two"));
        assert!(!bad.ok && bad.text.contains("cannot unmarshal string"), "{}", bad.text);
    }
}
