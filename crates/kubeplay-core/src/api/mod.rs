//! Our object model over k8s-openapi: kinds, keys, labels, quantities.

pub mod cron;
pub mod disruption;
pub mod endpoints;
pub mod image;
pub mod ingress;
pub mod kinds;
pub mod labels;
pub mod node_fault;
pub mod object;
pub mod pod_util;
pub mod priority_class;
pub mod quantity;
pub mod scheduler_config;

pub use object::{controller_owner, controller_ref, Object, ObjectKey, Stored};
