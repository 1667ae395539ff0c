//! kubeplay-core: a deterministic, event-driven simulation of a Kubernetes cluster.
//!
//! Invariants (see ARCHITECTURE.md): no browser crates, no wall clock, no OS randomness, no
//! output that depends on hash-map order; parsing never fails; cluster failures are state and
//! Events, never Rust errors. Layers, lowest first — each imports only those before it:
//! foundations (`time`, `rng`, `diag`) → `api`, `manifest` → `apiserver` → `runtime`,
//! `bootstrap` → components (`controllers`, `scheduler`, `kubelet`) → `sim` → `kubectl`,
//! `shell`, `scenario`, `bench` (`tests/tidy.rs` checks it).

pub mod dedup;
pub mod diag;
pub mod rng;
pub mod time;

pub mod api;
pub mod manifest;

pub mod apiserver;

pub mod bootstrap;
pub mod network;
pub mod runtime;

pub mod controllers;
pub mod kubelet;
pub mod scheduler;

pub mod sim;
pub mod traffic;

pub mod bench;
pub mod kubectl;
pub mod scenario;
pub mod share;
pub mod shell;

pub use shell::Session;
pub use sim::Cluster;
