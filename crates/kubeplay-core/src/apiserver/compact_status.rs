//! How a compact Pod keeps its status. A running Pod's `core/v1` PodStatus — five conditions,
//! a container status, IPs and times — is about 2 KB of k8s-openapi structs and strings, and
//! most of it is the same for every Pod of a template on the same node: condition types and
//! reasons, phase, QoS class, image, image ID. That part is shared (by content); the Pod keeps
//! its times, its IP and its container IDs. A status with any field the compact form does not
//! hold stays whole (the patterns name every field, so a new one in k8s-openapi fails to
//! compile here rather than being dropped). Expanding gives back exactly what was stored.

use std::net::Ipv4Addr;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, HostIP, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::compact_event::hex;
use crate::dedup::Dedup;

/// A compact Pod's status: compact, or whole when it sets something the compact form does
/// not hold.
#[derive(Clone, Debug)]
pub enum Status {
    Whole(Box<PodStatus>),
    Compact(Box<CompactStatus>),
}

#[derive(Clone, Debug)]
pub struct CompactStatus {
    shape: Rc<StatusShape>,
    pod_ip: Option<Ipv4Addr>,
    start_time: Option<Time>,
    conditions: Option<Box<[Condition]>>,
    containers: Option<Box<[Container]>>,
}

/// What Pods of one template on one node have in common. The host IP comes first: it tells
/// most shapes apart, so a lookup compares the others rarely.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct StatusShape {
    host_ip: Option<String>,
    phase: Option<String>,
    qos_class: Option<String>,
    /// `hostIPs` is `[hostIP]` (else unset).
    host_ips: bool,
    /// `podIPs` is `[podIP]` (else unset).
    pod_ips: bool,
}

#[derive(Clone, Debug)]
struct Condition {
    shape: Rc<ConditionShape>,
    last_transition_time: Option<Time>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ConditionShape {
    type_: String,
    status: String,
    reason: Option<String>,
    message: Option<String>,
}

#[derive(Clone, Debug)]
struct Container {
    shape: Rc<ContainerShape>,
    container_id: Option<ContainerId>,
    state: State,
    last_state: State,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ContainerShape {
    name: String,
    image: String,
    image_id: String,
    ready: bool,
    restart_count: i32,
    started: Option<bool>,
    state: StateShape,
    last_state: StateShape,
}

/// A container state's shared part.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum StateShape {
    Unset,
    /// `{}`
    Empty,
    Waiting {
        reason: Option<String>,
        message: Option<String>,
    },
    /// Running, or anything else: kept with the Pod.
    Apart,
}

/// A container state's own part.
#[derive(Clone, Debug)]
enum State {
    Shared,
    Running(Option<Time>),
    Own(Box<ContainerState>),
}

/// `containerd://` and 64 hex digits as 32 bytes, or any other ID as it is.
#[derive(Clone, Debug)]
enum ContainerId {
    Containerd([u8; 32]),
    Other(Box<str>),
}

const CONTAINERD: &str = "containerd://";

impl ContainerId {
    fn new(id: String) -> ContainerId {
        let mut bytes = [0u8; 32];
        match id.strip_prefix(CONTAINERD) {
            Some(digits) if hex::decode(digits.as_bytes(), &mut bytes) => ContainerId::Containerd(bytes),
            _ => ContainerId::Other(id.into_boxed_str()),
        }
    }

    fn text(&self) -> String {
        match self {
            ContainerId::Containerd(bytes) => {
                let mut s = String::with_capacity(CONTAINERD.len() + 64);
                s.push_str(CONTAINERD);
                hex::push(&mut s, bytes);
                s
            }
            ContainerId::Other(id) => id.to_string(),
        }
    }
}

/// The shapes compact statuses share.
#[derive(Clone, Debug, Default)]
pub struct Shapes {
    statuses: Dedup<StatusShape>,
    conditions: Dedup<ConditionShape>,
    containers: Dedup<ContainerShape>,
}

impl Status {
    /// The status in compact form if it can be held exactly; its strings move, not copied.
    pub fn new(status: PodStatus, shapes: &mut Shapes) -> Status {
        match compactable(&status) {
            Some(pod_ip) => Status::Compact(Box::new(CompactStatus::new(status, pod_ip, shapes))),
            None => Status::Whole(Box::new(status)),
        }
    }

    pub fn expand(&self) -> PodStatus {
        match self {
            Status::Whole(status) => PodStatus::clone(status),
            Status::Compact(status) => status.expand(),
        }
    }

    pub fn phase(&self) -> Option<&str> {
        match self {
            Status::Whole(status) => status.phase.as_deref(),
            Status::Compact(status) => status.shape.phase.as_deref(),
        }
    }

    /// The `image` of the `i`th container status.
    pub fn container_image(&self, i: usize) -> Option<&str> {
        match self {
            Status::Whole(status) => status.container_statuses.as_ref()?.get(i).map(|c| c.image.as_str()),
            Status::Compact(status) => status.containers.as_ref()?.get(i).map(|c| c.shape.image.as_str()),
        }
    }
}

fn state_parts(state: Option<ContainerState>) -> (StateShape, State) {
    match state {
        None => (StateShape::Unset, State::Shared),
        Some(ContainerState { running: None, terminated: None, waiting: None }) => (StateShape::Empty, State::Shared),
        Some(ContainerState { running: None, terminated: None, waiting: Some(ContainerStateWaiting { message, reason }) }) => {
            (StateShape::Waiting { reason, message }, State::Shared)
        }
        Some(ContainerState { running: Some(ContainerStateRunning { started_at }), terminated: None, waiting: None }) => {
            (StateShape::Apart, State::Running(started_at))
        }
        Some(other) => (StateShape::Apart, State::Own(Box::new(other))),
    }
}

fn state(shape: &StateShape, own: &State) -> Option<ContainerState> {
    match (shape, own) {
        (StateShape::Unset, _) => None,
        (StateShape::Empty, _) => Some(ContainerState::default()),
        (StateShape::Waiting { reason, message }, _) => Some(ContainerState {
            waiting: Some(ContainerStateWaiting { reason: reason.clone(), message: message.clone() }),
            ..Default::default()
        }),
        (StateShape::Apart, State::Running(started_at)) => {
            Some(ContainerState { running: Some(ContainerStateRunning { started_at: started_at.clone() }), ..Default::default() })
        }
        (StateShape::Apart, State::Own(state)) => Some(ContainerState::clone(state)),
        (StateShape::Apart, State::Shared) => None,
    }
}

/// Whether the compact form holds `status` exactly, and its Pod IP if so.
fn compactable(status: &PodStatus) -> Option<Option<Ipv4Addr>> {
    let PodStatus {
        allocated_resources: None,
        conditions,
        container_statuses,
        ephemeral_container_statuses: None,
        extended_resource_claim_status: None,
        host_ip,
        host_ips,
        init_container_statuses: None,
        message: None,
        node_allocatable_resource_claim_statuses: None,
        nominated_node_name: None,
        observed_generation: None,
        phase: _,
        pod_ip,
        pod_ips,
        qos_class: _,
        reason: None,
        resize: None,
        resource_claim_statuses: None,
        resources: None,
        start_time: _,
        volume_health: None,
    } = status
    else {
        return None;
    };
    // hostIPs and podIPs are unset or the one address of hostIP and podIP.
    let only = |ips: Option<Vec<&String>>, ip: &Option<String>| match (ips, ip) {
        (None, _) => true,
        (Some(ips), Some(ip)) => ips.len() == 1 && ips[0] == ip,
        _ => false,
    };
    let ips = only(host_ips.as_ref().map(|v| v.iter().map(|h| &h.ip).collect()), host_ip)
        && only(pod_ips.as_ref().map(|v| v.iter().map(|p| &p.ip).collect()), pod_ip);
    let conditions = conditions.iter().flatten().all(|c| {
        matches!(
            c,
            PodCondition {
                last_probe_time: None,
                last_transition_time: _,
                message: _,
                observed_generation: None,
                reason: _,
                status: _,
                type_: _,
            }
        )
    });
    let containers = container_statuses.iter().flatten().all(|c| {
        matches!(
            c,
            ContainerStatus {
                allocated_resources: None,
                allocated_resources_status: None,
                container_id: _,
                image: _,
                image_id: _,
                last_state: _,
                name: _,
                ready: _,
                resources: None,
                restart_count: _,
                started: _,
                state: _,
                stop_signal: None,
                user: None,
                volume_mounts: None,
            }
        )
    });
    if !(ips && conditions && containers) {
        return None;
    }
    match pod_ip {
        None => Some(None),
        Some(ip) => ip.parse::<Ipv4Addr>().ok().filter(|parsed| parsed.to_string() == *ip).map(Some),
    }
}

impl CompactStatus {
    /// `status`, which [`compactable`] accepted with `pod_ip`.
    fn new(status: PodStatus, pod_ip: Option<Ipv4Addr>, shapes: &mut Shapes) -> CompactStatus {
        let PodStatus { conditions, container_statuses, host_ip, host_ips, phase, pod_ips, qos_class, start_time, .. } = status;
        let conditions = conditions.map(|list| list.into_iter().map(|c| condition(c, shapes)).collect());
        let containers = container_statuses.map(|list| list.into_iter().map(|c| container(c, shapes)).collect());
        let shape =
            shapes.statuses.share(StatusShape { host_ip, phase, qos_class, host_ips: host_ips.is_some(), pod_ips: pod_ips.is_some() });
        CompactStatus { shape, pod_ip, start_time, conditions, containers }
    }

    fn expand(&self) -> PodStatus {
        let shape = &*self.shape;
        let pod_ip = self.pod_ip.map(|ip| ip.to_string());
        PodStatus {
            conditions: self.conditions.as_ref().map(|list| {
                list.iter()
                    .map(|c| PodCondition {
                        type_: c.shape.type_.clone(),
                        status: c.shape.status.clone(),
                        reason: c.shape.reason.clone(),
                        message: c.shape.message.clone(),
                        last_transition_time: c.last_transition_time.clone(),
                        ..Default::default()
                    })
                    .collect()
            }),
            container_statuses: self.containers.as_ref().map(|list| {
                list.iter()
                    .map(|c| ContainerStatus {
                        container_id: c.container_id.as_ref().map(ContainerId::text),
                        image: c.shape.image.clone(),
                        image_id: c.shape.image_id.clone(),
                        last_state: state(&c.shape.last_state, &c.last_state),
                        name: c.shape.name.clone(),
                        ready: c.shape.ready,
                        restart_count: c.shape.restart_count,
                        started: c.shape.started,
                        state: state(&c.shape.state, &c.state),
                        ..Default::default()
                    })
                    .collect()
            }),
            host_ip: shape.host_ip.clone(),
            host_ips: shape.host_ips.then(|| vec![HostIP { ip: shape.host_ip.clone().unwrap_or_default() }]),
            phase: shape.phase.clone(),
            pod_ips: shape.pod_ips.then(|| vec![PodIP { ip: pod_ip.clone().unwrap_or_default() }]),
            pod_ip,
            qos_class: shape.qos_class.clone(),
            start_time: self.start_time.clone(),
            ..Default::default()
        }
    }
}

fn condition(c: PodCondition, shapes: &mut Shapes) -> Condition {
    let PodCondition { last_transition_time, message, reason, status, type_, .. } = c;
    let shape = shapes.conditions.share(ConditionShape { type_, status, reason, message });
    Condition { shape, last_transition_time }
}

fn container(c: ContainerStatus, shapes: &mut Shapes) -> Container {
    let ContainerStatus { container_id, image, image_id, last_state, name, ready, restart_count, started, state, .. } = c;
    let (state_shape, state) = state_parts(state);
    let (last_state_shape, last_state) = state_parts(last_state);
    let shape = shapes.containers.share(ContainerShape {
        name,
        image,
        image_id,
        ready,
        restart_count,
        started,
        state: state_shape,
        last_state: last_state_shape,
    });
    Container { shape, container_id: container_id.map(ContainerId::new), state, last_state }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{to_time, SimTime};
    use k8s_openapi::api::core::v1::ContainerStateTerminated;

    fn running(ip: &str, id: &str) -> PodStatus {
        let condition = |type_: &str, at: u64| PodCondition {
            type_: type_.into(),
            status: "True".into(),
            last_transition_time: Some(to_time(SimTime(at))),
            ..Default::default()
        };
        PodStatus {
            conditions: Some(vec![condition("PodReadyToStartContainers", 1_000), condition("Ready", 3_000)]),
            container_statuses: Some(vec![ContainerStatus {
                container_id: Some(id.into()),
                image: "docker.io/library/nginx:1.27".into(),
                image_id: "docker.io/library/nginx@sha256:da84".into(),
                last_state: Some(ContainerState::default()),
                name: "web".into(),
                ready: true,
                started: Some(true),
                state: Some(ContainerState {
                    running: Some(ContainerStateRunning { started_at: Some(to_time(SimTime(2_500))) }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            host_ip: Some("172.18.0.3".into()),
            host_ips: Some(vec![HostIP { ip: "172.18.0.3".into() }]),
            phase: Some("Running".into()),
            pod_ip: Some(ip.into()),
            pod_ips: Some(vec![PodIP { ip: ip.into() }]),
            qos_class: Some("BestEffort".into()),
            start_time: Some(to_time(SimTime(1_000))),
            ..Default::default()
        }
    }

    const ID: &str = "containerd://ca7bc4b0cb33213df8fed4ab90d6c40fc362b70d2f365717af432792bf59a8fc";

    #[test]
    fn statuses_of_one_template_share_their_shape_and_expand_exactly() {
        let mut shapes = Shapes::default();
        let (a, b) = (running("10.244.1.2", ID), running("10.244.1.3", "docker://abc"));
        let (ca, cb) = (Status::new(a.clone(), &mut shapes), Status::new(b.clone(), &mut shapes));
        let (Status::Compact(x), Status::Compact(y)) = (&ca, &cb) else { panic!("both compact") };
        assert!(Rc::ptr_eq(&x.shape, &y.shape));
        assert!(Rc::ptr_eq(&x.conditions.as_ref().expect("conditions")[1].shape, &y.conditions.as_ref().expect("conditions")[1].shape));
        assert!(matches!(x.containers.as_ref().expect("containers")[0].container_id, Some(ContainerId::Containerd(_))));
        assert_eq!((ca.expand(), cb.expand()), (a, b));
        assert_eq!(
            (ca.phase(), ca.container_image(0), ca.container_image(1)),
            (Some("Running"), Some("docker.io/library/nginx:1.27"), None)
        );
        // Waiting and terminated states, unset IPs and lists.
        let mut c = running("10.244.1.4", ID);
        let status = &mut c.container_statuses.as_mut().expect("containers")[0];
        status.state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting { reason: Some("CrashLoopBackOff".into()), message: Some("back-off 10s".into()) }),
            ..Default::default()
        });
        status.last_state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated { exit_code: 1, ..Default::default() }),
            ..Default::default()
        });
        status.container_id = None;
        let cc = Status::new(c.clone(), &mut shapes);
        assert!(matches!(cc, Status::Compact(_)));
        assert_eq!(cc.expand(), c);
        let pending = PodStatus { phase: Some("Pending".into()), ..Default::default() };
        assert_eq!(Status::new(pending.clone(), &mut shapes).expand(), pending);
    }

    #[test]
    fn keeps_whole_what_it_cannot_hold_exactly() {
        let cases: [fn(&mut PodStatus); 6] = [
            |s| s.message = Some("evicted".into()),
            |s| s.pod_ip = Some("fd00::1".into()),
            |s| s.pod_ip = Some("010.244.1.2".into()),
            |s| s.host_ips = Some(vec![]),
            |s| s.conditions.iter_mut().flatten().for_each(|c| c.observed_generation = Some(1)),
            |s| s.container_statuses.iter_mut().flatten().for_each(|c| c.stop_signal = Some("SIGTERM".into())),
        ];
        let mut shapes = Shapes::default();
        for change in cases {
            let mut s = running("10.244.1.2", ID);
            change(&mut s);
            let kept = Status::new(s.clone(), &mut shapes);
            assert!(matches!(kept, Status::Whole(_)), "{s:?}");
            assert_eq!(kept.expand(), s);
        }
    }
}
