//! One component per file; each renders a slice of the view model.

mod cluster_view;
mod console;
mod controls;
mod editor;
mod events;

pub use cluster_view::ClusterView;
pub use console::Console;
pub use controls::Controls;
pub use editor::Editor;
pub use events::EventsPanel;
