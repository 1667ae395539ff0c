//! kubeplay-core: a deterministic, event-driven simulation of a Kubernetes cluster.
//!
//! Invariants (see ARCHITECTURE.md): no browser crates, no wall clock, no OS randomness, no
//! output that depends on hash-map order; parsing never fails; cluster failures are state and
//! Events, never Rust errors.

pub mod api;
pub mod diag;
pub mod manifest;
pub mod rng;
pub mod time;
pub mod bootstrap;
pub mod cluster;
pub mod controllers;
pub mod defaults;
pub mod events;
pub mod kubelet;
pub mod network;
pub mod queue;
pub mod store;

pub use cluster::Cluster;
pub mod kubectl;
pub mod shell;

pub use shell::Session;
pub mod scenario;
