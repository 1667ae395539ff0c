//! The playground's entry point (Trunk builds this binary).

fn main() {
    yew::Renderer::<kubeplay_web::app::App>::new().render();
}
