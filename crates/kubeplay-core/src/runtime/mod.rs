//! What every component is built on: the work queue, and the contract between a component and
//! the host — what it watches, how it is asked to reconcile, what it may touch. This layer
//! names no component; the host's registry does.

mod component;
mod queue;

pub use component::{Action, Component, Ctx, Mapper, Relation, Requests, Watch, Watches};
pub use queue::{ComponentId, Target, WorkQueue};
