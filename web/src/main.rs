//! The playground's entry point (Trunk builds this binary). `?bench=NAME` opens the
//! benchmark page instead (see `bench.rs`).

use kubeplay_web::bench::{requested, BenchPage, BenchProps};

fn main() {
    match requested() {
        Some(name) => {
            yew::Renderer::<BenchPage>::with_props(BenchProps { name: name.into() }).render();
        }
        None => {
            yew::Renderer::<kubeplay_web::app::App>::new().render();
        }
    }
}
