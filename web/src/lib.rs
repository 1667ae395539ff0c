//! kubeplay-web: the playground. The only crate that knows about yew and the browser.
//! `state` holds the session and its reducer, `view` the view model built from the cluster,
//! `components` render slices of it; `persist` opens share links and autosaves; `bench` is the
//! in-browser benchmark page.

pub mod app;
pub mod bench;
pub mod components;
pub mod detail;
pub mod embed;
pub mod persist;
pub mod state;
pub mod svg;
pub mod traffic_view;
pub mod view;
pub mod workloads;
