use std::rc::Rc;

use yew::prelude::*;

use super::pod_chip::PodChip;
use crate::view::NodeView;

#[derive(Properties, PartialEq)]
pub struct NodeBoxProps {
    /// Unchanged nodes keep the same `Rc`, so they skip rendering entirely.
    pub node: Rc<NodeView>,
}

#[function_component(NodeBox)]
pub fn node_box(p: &NodeBoxProps) -> Html {
    let n = &p.node;
    html! {
        <article
            class={if n.ready { "node ready" } else { "node not-ready" }}
            data-testid="node"
            data-name={n.name.clone()}
            aria-label={format!("Node {}", n.name)}
        >
            <header>
                <strong>{ &n.name }</strong>
                <span class="node-meta">{ format!("{} {}", if n.roles.is_empty() { "worker" } else { &n.roles }, n.zone) }</span>
            </header>
            <ul class="pods">
                { for n.pods.iter().map(|pod| html! { <PodChip key={pod.uid.clone()} pod={Rc::clone(pod)} /> }) }
            </ul>
        </article>
    }
}
