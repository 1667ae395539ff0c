//! The objects the simulated API server holds: typed k8s-openapi structs for the kinds that
//! controllers act on, and a JSON body for the kinds that are only stored.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Event, Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::kinds::{self, KindInfo};

/// Identifies an object: kind, namespace ("" when cluster-scoped) and name. Ordered, so that
/// listing the store is the API server's (and etcd's) alphabetical order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: &'static str, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey { kind, namespace: namespace.to_string(), name: name.to_string() }
    }
}

/// A kind that is accepted and stored but not acted on.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub info: &'static KindInfo,
    pub api_version: String,
    pub metadata: ObjectMeta,
    /// Every top-level field but apiVersion, kind and metadata.
    pub body: serde_json::Map<String, Value>,
}

/// An object of any kind. Each variant is boxed: k8s-openapi's structs are large (a Pod is
/// 2.4 KB before its containers and volumes), and an Event must not cost what a Pod does.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Namespace(Box<Namespace>),
    Node(Box<Node>),
    Pod(Box<Pod>),
    Service(Box<Service>),
    Event(Box<Event>),
    Deployment(Box<Deployment>),
    ReplicaSet(Box<ReplicaSet>),
    ConfigMap(Box<ConfigMap>),
    Secret(Box<Secret>),
    EndpointSlice(Box<EndpointSlice>),
    Endpoints(Box<Endpoints>),
    Ingress(Box<Ingress>),
    Job(Box<Job>),
    DaemonSet(Box<DaemonSet>),
    StatefulSet(Box<StatefulSet>),
    CronJob(Box<CronJob>),
    Stored(Box<Stored>),
}

macro_rules! from_typed {
    ($($variant:ident: $ty:ty),*) => {
        $(impl From<$ty> for Object {
            fn from(o: $ty) -> Object {
                Object::$variant(Box::new(o))
            }
        })*
    };
}

from_typed!(Namespace: Namespace, Node: Node, Pod: Pod, Service: Service, Event: Event, Deployment: Deployment, ReplicaSet: ReplicaSet, ConfigMap: ConfigMap, Secret: Secret, EndpointSlice: EndpointSlice, Endpoints: Endpoints, Ingress: Ingress, Job: Job, DaemonSet: DaemonSet, StatefulSet: StatefulSet, CronJob: CronJob, Stored: Stored);

macro_rules! each_typed {
    ($obj:expr, $x:ident => $body:expr) => {
        match $obj {
            Object::Namespace($x) => $body,
            Object::Node($x) => $body,
            Object::Pod($x) => $body,
            Object::Service($x) => $body,
            Object::Event($x) => $body,
            Object::Deployment($x) => $body,
            Object::ReplicaSet($x) => $body,
            Object::ConfigMap($x) => $body,
            Object::Secret($x) => $body,
            Object::EndpointSlice($x) => $body,
            Object::Endpoints($x) => $body,
            Object::Ingress($x) => $body,
            Object::Job($x) => $body,
            Object::DaemonSet($x) => $body,
            Object::StatefulSet($x) => $body,
            Object::CronJob($x) => $body,
            Object::Stored($x) => $body,
        }
    };
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        each_typed!(self, o => &o.metadata)
    }

    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        each_typed!(self, o => &mut o.metadata)
    }

    pub fn info(&self) -> &'static KindInfo {
        match self {
            Object::Namespace(_) => kinds::kind("Namespace"),
            Object::Node(_) => kinds::kind("Node"),
            Object::Pod(_) => kinds::kind("Pod"),
            Object::Service(_) => kinds::kind("Service"),
            Object::Event(_) => kinds::kind("Event"),
            Object::Deployment(_) => kinds::kind("Deployment"),
            Object::ReplicaSet(_) => kinds::kind("ReplicaSet"),
            Object::ConfigMap(_) => kinds::kind("ConfigMap"),
            Object::Secret(_) => kinds::kind("Secret"),
            Object::EndpointSlice(_) => kinds::kind("EndpointSlice"),
            Object::Endpoints(_) => kinds::kind("Endpoints"),
            Object::Ingress(_) => kinds::kind("Ingress"),
            Object::Job(_) => kinds::kind("Job"),
            Object::DaemonSet(_) => kinds::kind("DaemonSet"),
            Object::StatefulSet(_) => kinds::kind("StatefulSet"),
            Object::CronJob(_) => kinds::kind("CronJob"),
            Object::Stored(s) => s.info,
        }
    }

    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or("")
    }

    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or("")
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(self.info().kind, self.namespace(), self.name())
    }

    pub fn api_version(&self) -> String {
        match self {
            Object::Stored(s) => s.api_version.clone(),
            other => other.info().api_version(),
        }
    }

    /// The object as the API server would return it (`kubectl get -o json`).
    pub fn to_json(&self) -> Value {
        let mut value = match self {
            Object::Stored(s) => {
                let mut map = s.body.clone();
                map.insert("metadata".into(), serde_json::to_value(&s.metadata).unwrap_or(Value::Null));
                Value::Object(map)
            }
            Object::Namespace(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Node(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Pod(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Service(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Event(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Deployment(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::ReplicaSet(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::ConfigMap(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Secret(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::EndpointSlice(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Endpoints(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Ingress(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::Job(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::DaemonSet(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::StatefulSet(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            Object::CronJob(o) => serde_json::to_value(o).unwrap_or(Value::Null),
        };
        if let Value::Object(map) = &mut value {
            map.insert("apiVersion".into(), Value::String(self.api_version()));
            map.insert("kind".into(), Value::String(self.info().kind.to_string()));
        }
        value
    }
}

/// Typed views, so controllers can say `store.get(&key).and_then(Object::as_pod)`.
macro_rules! accessors {
    ($($variant:ident, $ty:ty, $as:ident, $as_mut:ident;)*) => {
        impl Object {
            $(
                pub fn $as(&self) -> Option<&$ty> {
                    match self { Object::$variant(o) => Some(o), _ => None }
                }
                pub fn $as_mut(&mut self) -> Option<&mut $ty> {
                    match self { Object::$variant(o) => Some(o), _ => None }
                }
            )*
        }
    };
}

accessors! {
    Pod, Pod, as_pod, as_pod_mut;
    Node, Node, as_node, as_node_mut;
    Service, Service, as_service, as_service_mut;
    Deployment, Deployment, as_deployment, as_deployment_mut;
    ReplicaSet, ReplicaSet, as_replica_set, as_replica_set_mut;
    Event, Event, as_event, as_event_mut;
    Namespace, Namespace, as_namespace, as_namespace_mut;
    ConfigMap, ConfigMap, as_config_map, as_config_map_mut;
    Secret, Secret, as_secret, as_secret_mut;
    EndpointSlice, EndpointSlice, as_endpoint_slice, as_endpoint_slice_mut;
    Endpoints, Endpoints, as_endpoints, as_endpoints_mut;
    Ingress, Ingress, as_ingress, as_ingress_mut;
    Job, Job, as_job, as_job_mut;
    DaemonSet, DaemonSet, as_daemon_set, as_daemon_set_mut;
    StatefulSet, StatefulSet, as_stateful_set, as_stateful_set_mut;
    CronJob, CronJob, as_cron_job, as_cron_job_mut;
}

/// The ownerReference with `controller: true`, if any.
pub fn controller_owner(object: &Object) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference> {
    object.meta().owner_references.iter().flatten().find(|o| o.controller == Some(true))
}

/// An ownerReference that makes `owner` the controller of what carries it (as the workload
/// controllers set it on what they create).
pub fn controller_ref(owner: &Object) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        api_version: owner.api_version(),
        kind: owner.info().kind.to_string(),
        name: owner.name().to_string(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}
