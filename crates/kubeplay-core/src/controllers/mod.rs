//! The kube-controller-manager's controllers that kubeplay runs, one file each. Each is a
//! component (see `runtime`): it declares its watches and reconciles one key at a time.

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod endpointslice_mirroring;
pub mod garbage_collector;
pub mod ingress_gce;
pub mod ingress_nginx;
pub mod job;
pub mod namespace;
pub mod node_lifecycle;
pub mod replicaset;
pub mod revisions;
pub mod root_ca_publisher;
pub mod service_lb;
pub mod statefulset;
pub mod ttl_after_finished;

pub use deployment::{pod_template_hash, same_template};
