//! How the store keeps a Pod nothing has written or read for a while: its spec shared with
//! the other Pods of the same template. A ReplicaSet's Pods differ in their spec only by
//! `nodeName` and the name of their service-account token volume (`kube-api-access-` and
//! five random characters, mounted by every container), and a `core/v1` PodSpec with that
//! volume and one container is about 9 KB of k8s-openapi structs — two thirds of a Pod. The
//! shared spec has both blanked; the Pod keeps them, with its metadata and status, and
//! expanding it gives back exactly the Pod that was stored. Its labels and ownerReferences,
//! the same for all of a ReplicaSet's Pods, are shared as well.

use std::collections::BTreeMap;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{Pod, PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use super::compact_status::{Shapes, Status};

/// The token volume's name without its random suffix: the shared spec's placeholder.
const TOKEN_VOLUME: &str = "kube-api-access-";

/// Variants kept per controller: a ReplicaSet has one template, but a Pod's spec can change
/// after it is created (a resize, an ephemeral container), so a few variants are shared; past
/// them a Pod stays whole (its labels and ownerReferences are then kept unshared).
const SPECS_PER_OWNER: usize = 4;

type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug)]
pub struct CompactPod {
    /// Without its labels and ownerReferences, which are kept apart.
    metadata: ObjectMeta,
    labels: Option<Rc<Labels>>,
    owner_references: Option<Rc<Vec<OwnerReference>>>,
    spec: Rc<PodSpec>,
    node_name: Option<String>,
    /// The token volume's real name, where the shared spec has the placeholder.
    token_volume: Option<String>,
    status: Option<Status>,
}

impl CompactPod {
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata.resource_version.as_deref()
    }

    fn owner(&self) -> &str {
        controller_uid(self.owner_references.as_deref().map(Vec::as_slice))
    }

    pub fn expand(&self) -> Pod {
        let mut spec = PodSpec::clone(&self.spec);
        spec.node_name = self.node_name.clone();
        if let Some(token) = &self.token_volume {
            for name in volume_names(&mut spec).filter(|n| *n == TOKEN_VOLUME) {
                name.clone_from(token);
            }
        }
        let mut metadata = self.metadata.clone();
        metadata.labels = self.labels.as_deref().cloned();
        metadata.owner_references = self.owner_references.as_deref().cloned();
        Pod { metadata, spec: Some(spec), status: self.status.as_ref().map(Status::expand) }
    }
}

/// A stored Pod's metadata, node and status, read without expanding a compact one: what the
/// scheduler's spreading and the workload controllers' counts look at for many Pods at once.
#[derive(Clone, Copy, Debug)]
pub enum PodView<'a> {
    Whole(&'a Pod),
    Compact(&'a CompactPod),
}

impl<'a> PodView<'a> {
    /// Its metadata but for labels and ownerReferences (a compact Pod keeps those apart).
    fn meta(self) -> &'a ObjectMeta {
        match self {
            PodView::Whole(pod) => &pod.metadata,
            PodView::Compact(pod) => &pod.metadata,
        }
    }

    pub fn name(self) -> Option<&'a str> {
        self.meta().name.as_deref()
    }

    pub fn namespace(self) -> Option<&'a str> {
        self.meta().namespace.as_deref()
    }

    pub fn uid(self) -> Option<&'a str> {
        self.meta().uid.as_deref()
    }

    pub fn deletion_timestamp(self) -> Option<&'a Time> {
        self.meta().deletion_timestamp.as_ref()
    }

    pub fn labels(self) -> Option<&'a Labels> {
        match self {
            PodView::Whole(pod) => pod.metadata.labels.as_ref(),
            PodView::Compact(pod) => pod.labels.as_deref(),
        }
    }

    /// The `image` of the `i`th container status.
    pub fn container_status_image(self, i: usize) -> Option<&'a str> {
        match self {
            PodView::Whole(pod) => pod.status.as_ref()?.container_statuses.as_ref()?.get(i).map(|c| c.image.as_str()),
            PodView::Compact(pod) => pod.status.as_ref()?.container_image(i),
        }
    }

    /// Calls `f` with the Pod's containers and status, expanding only a compact Pod's status
    /// (far less than expanding the Pod, whose spec is most of it): what `kubectl get pods`' STATUS, READY and
    /// RESTARTS columns read. A compact Pod's spec is the one its template's Pods share, so
    /// `nodeName` is unset there and the token volume has its placeholder name.
    pub fn with_containers<R>(self, f: impl FnOnce(Option<&PodSpec>, Option<&PodStatus>) -> R) -> R {
        match self {
            PodView::Whole(pod) => f(pod.spec.as_ref(), pod.status.as_ref()),
            PodView::Compact(pod) => f(Some(&pod.spec), pod.status.as_ref().map(Status::expand).as_ref()),
        }
    }

    pub fn node_name(self) -> Option<&'a str> {
        match self {
            PodView::Whole(pod) => pod.spec.as_ref()?.node_name.as_deref(),
            PodView::Compact(pod) => pod.node_name.as_deref(),
        }
    }

    /// `status.phase` (`Pending` when unset).
    pub fn phase(self) -> &'a str {
        let phase = match self {
            PodView::Whole(pod) => pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            PodView::Compact(pod) => pod.status.as_ref().and_then(Status::phase),
        };
        phase.unwrap_or("Pending")
    }

    /// Succeeded or Failed.
    pub fn is_terminal(self) -> bool {
        matches!(self.phase(), "Succeeded" | "Failed")
    }

    /// Each container's `image`, in spec order.
    pub fn container_images(self) -> impl Iterator<Item = Option<&'a str>> {
        let containers = match self {
            PodView::Whole(pod) => pod.spec.as_ref().map_or(&[][..], |s| &s.containers[..]),
            PodView::Compact(pod) => &pod.spec.containers[..],
        };
        containers.iter().map(|c| c.image.as_deref())
    }
}

/// Every place a PodSpec names one of its volumes.
fn volume_names(spec: &mut PodSpec) -> impl Iterator<Item = &mut String> {
    let volumes = spec.volumes.iter_mut().flatten().map(|v| &mut v.name);
    let containers = spec.containers.iter_mut().map(|c| (&mut c.volume_mounts, &mut c.volume_devices));
    let init = spec.init_containers.iter_mut().flatten().map(|c| (&mut c.volume_mounts, &mut c.volume_devices));
    let ephemeral = spec.ephemeral_containers.iter_mut().flatten().map(|c| (&mut c.volume_mounts, &mut c.volume_devices));
    let mounts = containers.chain(init).chain(ephemeral).flat_map(|(mounts, devices)| {
        let mounts = mounts.iter_mut().flatten().map(|m| &mut m.name);
        mounts.chain(devices.iter_mut().flatten().map(|d| &mut d.name))
    });
    volumes.chain(mounts)
}

/// The token volume's name, if the spec has one that renaming to the placeholder and back
/// restores exactly; `Err` if it cannot be (two token volumes, or a name that already is the
/// placeholder).
fn token_volume(spec: &mut PodSpec) -> Result<Option<String>, ()> {
    let mut tokens = spec.volumes.iter().flatten().map(|v| &v.name).filter(|n| n.starts_with(TOKEN_VOLUME));
    let token = tokens.next().cloned();
    if tokens.next().is_some() || (token.is_some() && volume_names(spec).any(|n| n == TOKEN_VOLUME)) {
        return Err(());
    }
    Ok(token)
}

/// Renames every use of volume `from` to `to`.
fn rename(spec: &mut PodSpec, from: &str, to: &str) {
    for name in volume_names(spec).filter(|n| n.as_str() == from) {
        name.clear();
        name.push_str(to);
    }
}

/// The specs Pods share, by the uid of the controller that owns them.
#[derive(Clone, Debug, Default)]
pub struct SharedSpecs {
    by_owner: BTreeMap<String, Shared>,
    /// What statuses share.
    shapes: Shapes,
}

impl SharedSpecs {
    /// The Pod in compact form, sharing a spec another Pod of its controller already has if
    /// they are equal; the Pod back, unchanged, if it has no spec, its token volume cannot be
    /// renamed back exactly, or its controller has enough variants.
    pub fn compact(&mut self, mut pod: Box<Pod>) -> Result<CompactPod, Box<Pod>> {
        let Some(spec) = pod.spec.as_mut() else { return Err(pod) };
        let Ok(token_volume) = token_volume(spec) else { return Err(pod) };
        let node_name = spec.node_name.take();
        if let Some(token) = &token_volume {
            rename(spec, token, TOKEN_VOLUME);
        }
        let shared = self.by_owner.entry(controller_uid(pod.metadata.owner_references.as_deref()).to_string()).or_default();
        let found = shared.specs.iter().find(|s| Some(&***s) == pod.spec.as_ref()).cloned();
        if found.is_none() {
            shared.specs.retain(|s| Rc::strong_count(s) > 1);
        }
        let spec = match (found, pod.spec.take()) {
            (Some(spec), _) => spec,
            (None, Some(spec)) if shared.specs.len() < SPECS_PER_OWNER => {
                let spec = Rc::new(spec);
                shared.specs.push(Rc::clone(&spec));
                spec
            }
            (None, mut spec) => {
                if let Some(spec) = spec.as_mut() {
                    if let Some(token) = &token_volume {
                        rename(spec, TOKEN_VOLUME, token);
                    }
                    spec.node_name = node_name;
                }
                pod.spec = spec;
                return Err(pod);
            }
        };
        let Pod { mut metadata, status, .. } = *pod;
        let labels = metadata.labels.take().map(|l| share(&mut shared.labels, l));
        let owner_references = metadata.owner_references.take().map(|o| share(&mut shared.owner_references, o));
        let status = status.map(|s| Status::new(s, &mut self.shapes));
        Ok(CompactPod { metadata, labels, owner_references, spec, node_name, token_volume, status })
    }

    /// Forgets what `pod`'s controller's Pods shared that no Pod uses any more, once `pod` is
    /// gone.
    pub fn release(&mut self, pod: CompactPod) {
        let owner = pod.owner().to_string();
        drop(pod);
        if let Some(shared) = self.by_owner.get_mut(&owner) {
            shared.specs.retain(|s| Rc::strong_count(s) > 1);
            shared.labels.retain(|s| Rc::strong_count(s) > 1);
            shared.owner_references.retain(|s| Rc::strong_count(s) > 1);
            if shared.specs.is_empty() && shared.labels.is_empty() && shared.owner_references.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_owner.values().map(|s| s.specs.len()).sum()
    }
}

/// What one controller's compact Pods share.
#[derive(Clone, Debug, Default)]
struct Shared {
    specs: Vec<Rc<PodSpec>>,
    labels: Vec<Rc<Labels>>,
    owner_references: Vec<Rc<Vec<OwnerReference>>>,
}

/// `value`, shared with an equal one in `list` if there is one (kept in the list while there
/// is room for a few variants).
fn share<T: PartialEq>(list: &mut Vec<Rc<T>>, value: T) -> Rc<T> {
    if let Some(found) = list.iter().find(|s| ***s == value) {
        return Rc::clone(found);
    }
    list.retain(|s| Rc::strong_count(s) > 1);
    let value = Rc::new(value);
    if list.len() < SPECS_PER_OWNER {
        list.push(Rc::clone(&value));
    }
    value
}

/// The uid of the controller among `owners` ("" for a Pod no controller owns).
fn controller_uid(owners: Option<&[OwnerReference]>) -> &str {
    owners.into_iter().flatten().find(|o| o.controller == Some(true)).map_or("", |o| o.uid.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodStatus, ProjectedVolumeSource, Volume, VolumeDevice, VolumeMount};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn pod(name: &str, token: &str, node: Option<&str>) -> Pod {
        let mount = |n: &str, path: &str| VolumeMount { name: n.into(), mount_path: path.into(), ..Default::default() };
        let secrets = "/var/run/secrets/kubernetes.io/serviceaccount";
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
        p.metadata.owner_references =
            Some(vec![OwnerReference { uid: "rs-1".into(), controller: Some(true), kind: "ReplicaSet".into(), ..Default::default() }]);
        p.spec = Some(PodSpec {
            node_name: node.map(Into::into),
            volumes: Some(vec![
                Volume { name: "data".into(), ..Default::default() },
                Volume { name: token.into(), projected: Some(ProjectedVolumeSource::default()), ..Default::default() },
            ]),
            containers: vec![Container {
                name: "app".into(),
                volume_mounts: Some(vec![mount("data", "/data"), mount(token, secrets)]),
                volume_devices: Some(vec![VolumeDevice { name: "data".into(), device_path: "/dev/x".into() }]),
                ..Default::default()
            }],
            init_containers: Some(vec![Container {
                name: "init".into(),
                volume_mounts: Some(vec![mount(token, secrets)]),
                ..Default::default()
            }]),
            ..Default::default()
        });
        p.status = Some(PodStatus { phase: Some("Running".into()), ..Default::default() });
        p
    }

    #[test]
    fn pods_of_one_template_share_a_spec_and_expand_exactly() {
        let mut specs = SharedSpecs::default();
        let a = pod("a", "kube-api-access-abcde", Some("node-1"));
        let b = pod("b", "kube-api-access-vwxyz", None);
        let ca = specs.compact(Box::new(a.clone())).expect("compacts");
        let cb = specs.compact(Box::new(b.clone())).expect("compacts");
        assert!(Rc::ptr_eq(&ca.spec, &cb.spec), "one spec for both");
        assert!(ca.labels.as_ref().zip(cb.labels.as_ref()).is_some_and(|(a, b)| Rc::ptr_eq(a, b)), "and one set of labels");
        assert!(ca.owner_references.as_ref().zip(cb.owner_references.as_ref()).is_some_and(|(a, b)| Rc::ptr_eq(a, b)));
        assert_eq!(specs.len(), 1);
        assert_eq!(ca.expand(), a);
        assert_eq!(cb.expand(), b);
        assert_eq!(PodView::Compact(&ca).node_name(), Some("node-1"));
        assert_eq!(PodView::Compact(&ca).phase(), "Running");
        assert_eq!(PodView::Compact(&ca).labels(), a.metadata.labels.as_ref());
        assert_eq!(PodView::Compact(&ca).name(), Some("a"));
        assert_eq!(PodView::Compact(&cb).node_name(), None);
        assert!(PodView::Compact(&cb).container_images().eq(PodView::Whole(&b).container_images()));
        // A Pod whose spec was changed gets a spec of its own; released specs are forgotten.
        let mut c = pod("c", "kube-api-access-12345", None);
        c.spec.as_mut().expect("spec").containers[0].image = Some("nginx:1.27".into());
        let cc = specs.compact(Box::new(c.clone())).expect("compacts");
        assert_eq!(specs.len(), 2);
        assert_eq!(cc.expand(), c);
        specs.release(cc);
        assert_eq!(specs.len(), 1);
        specs.release(ca);
        specs.release(cb);
        assert_eq!(specs.len(), 0);
    }

    #[test]
    fn what_cannot_be_undone_is_not_compacted() {
        let mut specs = SharedSpecs::default();
        // A volume already named like the placeholder.
        let placeholder = pod("a", "kube-api-access-", None);
        assert_eq!(specs.compact(Box::new(placeholder.clone())).err(), Some(Box::new(placeholder)), "given back unchanged");
        // Two token volumes.
        let mut two = pod("b", "kube-api-access-abcde", None);
        two.spec
            .as_mut()
            .and_then(|s| s.volumes.as_mut())
            .expect("volumes")
            .push(Volume { name: "kube-api-access-fghij".into(), ..Default::default() });
        assert_eq!(specs.compact(Box::new(two.clone())).err(), Some(Box::new(two)));
        // No spec.
        assert!(specs.compact(Box::default()).is_err());
        // A Pod without a token volume compacts too.
        let mut plain = pod("c", "kube-api-access-abcde", None);
        plain.spec.as_mut().expect("spec").volumes = None;
        plain.spec.as_mut().expect("spec").containers[0].volume_mounts = None;
        plain.spec.as_mut().expect("spec").init_containers = None;
        assert_eq!(specs.compact(Box::new(plain.clone())).expect("compacts").expand(), plain);
    }

    #[test]
    fn a_controller_keeps_a_few_variants() {
        let mut specs = SharedSpecs::default();
        let mut kept = Vec::new();
        for i in 0..SPECS_PER_OWNER + 1 {
            let mut p = pod(&format!("p{i}"), "kube-api-access-abcde", Some("node-1"));
            p.spec.as_mut().expect("spec").containers[0].image = Some(format!("app:{i}"));
            kept.push(specs.compact(Box::new(p.clone())).map_err(|back| assert_eq!(*back, p, "given back unchanged")).ok());
        }
        assert!(kept[..SPECS_PER_OWNER].iter().all(Option::is_some));
        assert!(kept[SPECS_PER_OWNER].is_none(), "past the variants a Pod stays whole");
        // Once a variant has no Pods, its place is free again.
        kept[0] = None;
        let mut p = pod("q", "kube-api-access-abcde", None);
        p.spec.as_mut().expect("spec").containers[0].image = Some("app:new".into());
        assert!(specs.compact(Box::new(p)).is_ok());
    }
}
