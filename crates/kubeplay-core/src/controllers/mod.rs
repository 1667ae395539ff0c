//! Controllers: level-triggered reconcile functions of store state. Each reads the cluster,
//! writes through it, and may ask to run again later; none keeps state of its own.

mod deployment;
mod garbage_collector;
mod replicaset;
pub mod scheduler;

use crate::api::ObjectKey;
use crate::cluster::Cluster;
use crate::queue::Controller;
use crate::time::SimDuration;

pub use deployment::pod_template_hash;
pub(crate) use deployment::same_template;

/// Runs one reconcile; `Some(d)` asks to be called again after `d`.
pub fn reconcile(cluster: &mut Cluster, controller: Controller, key: &ObjectKey) -> Option<SimDuration> {
    match controller {
        Controller::Deployment => deployment::reconcile(cluster, key),
        Controller::ReplicaSet => replicaset::reconcile(cluster, key),
        Controller::Scheduler => scheduler::reconcile(cluster, key),
        Controller::GarbageCollector => garbage_collector::reconcile(cluster, key),
    }
}
