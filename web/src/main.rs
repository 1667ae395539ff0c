//! kubeplay-web: the playground. The only crate that knows about yew and the browser.

mod app;
mod components;
mod state;
mod view;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
