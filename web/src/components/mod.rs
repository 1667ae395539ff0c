//! One component per file; each renders a slice of the view model and acts through the
//! session's dispatcher (`app::use_dispatch`).

mod cluster_view;
mod console;
mod controls;
mod editor;
mod events;
mod node_box;
mod notice_bar;
mod pod_chip;
mod pod_detail;
mod services_bar;
mod share_panel;
mod traffic_layer;
mod traffic_panel;
mod workloads_bar;

pub use cluster_view::ClusterView;
pub use console::Console;
pub use controls::{clock, Controls};
pub use editor::Editor;
pub use events::EventsPanel;
pub use notice_bar::NoticeBar;
pub use pod_detail::PodDetailPanel;
pub use share_panel::SharePanel;
