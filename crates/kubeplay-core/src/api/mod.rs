//! Our object model over k8s-openapi: kinds, keys, labels, quantities.

pub mod kinds;
pub mod labels;
pub mod object;
pub mod pod_util;
pub mod quantity;

pub use object::{Object, ObjectKey, Stored};
