//! `kubectl scale`: set `spec.replicas` on Deployments, ReplicaSets and StatefulSets (their
//! scale subresource).

use super::args::{namespace, requests, Flags};
use super::Output;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

pub(super) fn scale(cluster: &mut Cluster, flags: &Flags) -> Output {
    let Some(replicas) = flags.replicas.as_deref() else {
        return Output::err("error: required flag(s) \"replicas\" not set\n");
    };
    let Ok(replicas) = replicas.parse::<i32>() else {
        return Output::err(format!(
            "error: invalid argument \"{replicas}\" for \"--replicas\" flag: strconv.ParseInt: parsing \"{replicas}\": invalid syntax\n"
        ));
    };
    if replicas < 0 {
        return Output::err("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n");
    }
    let reqs = match requests(&flags.positional) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let ns = namespace(flags);
    let mut out = String::new();
    let mut errors = String::new();
    for (info, names) in reqs {
        if names.is_empty() {
            return Output::err("error: resource(s) were provided, but no name was specified\n");
        }
        for name in names {
            let key = ObjectKey::new(info.kind, &ns, &name);
            let scaled = match cluster.get(&key).cloned() {
                Some(Object::Deployment(mut d)) => {
                    d.spec.replicas = Some(replicas);
                    Some(Object::Deployment(d))
                }
                Some(Object::ReplicaSet(mut rs)) => {
                    rs.spec.replicas = Some(replicas);
                    Some(Object::ReplicaSet(rs))
                }
                Some(Object::StatefulSet(mut sts)) => {
                    sts.spec.replicas = Some(replicas);
                    Some(Object::StatefulSet(sts))
                }
                Some(_) => {
                    errors.push_str(&format!(
                        "error: cannot scale {} \"{name}\": kubeplay scales deployments, replicasets and statefulsets\n",
                        info.qualified_plural()
                    ));
                    None
                }
                None => {
                    errors.push_str(&format!("Error from server (NotFound): {} \"{name}\" not found\n", info.qualified_plural()));
                    None
                }
            };
            if let Some(object) = scaled {
                cluster.update(object);
                out.push_str(&format!("{}/{name} scaled\n", info.qualified_singular()));
            }
        }
    }
    cluster.settle();
    let ok = errors.is_empty();
    out.push_str(&errors);
    Output { text: out, ok }
}
