use std::rc::Rc;

use yew::prelude::*;

use super::pod_chip::PodChip;
use crate::app::use_dispatch;
use crate::state::Action;
use crate::view::NodeView;

#[derive(Properties, PartialEq)]
pub struct NodeBoxProps {
    /// Unchanged nodes keep the same `Rc`, so they skip rendering entirely.
    pub node: Rc<NodeView>,
}

#[function_component(NodeBox)]
pub fn node_box(p: &NodeBoxProps) -> Html {
    let n = &p.node;
    let dispatch = use_dispatch();
    let run = |command: String| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::RunDetached(command.clone())))
    };
    let fault = if n.down { format!("kubeplay node recover {}", n.name) } else { format!("kubeplay node fail {}", n.name) };
    let cordon = if n.cordoned { format!("kubectl uncordon {}", n.name) } else { format!("kubectl cordon {}", n.name) };
    html! {
        <article
            class={if n.ready { "node ready" } else { "node not-ready" }}
            data-testid="node"
            data-name={n.name.clone()}
            data-down={n.down.to_string()}
            aria-label={format!("Node {}", n.name)}
        >
            <header>
                <strong>{ &n.name }</strong>
                <span class="node-meta">{ format!("{} {}", if n.roles.is_empty() { "worker" } else { &n.roles }, n.zone) }</span>
                <span class="node-actions">
                    <button data-testid="node-cordon" aria-pressed={n.cordoned.to_string()} title={cordon.clone()} onclick={run(cordon)}>
                        { if n.cordoned { "uncordon" } else { "cordon" } }
                    </button>
                    <button data-testid="node-fault" aria-pressed={n.down.to_string()} title={fault.clone()} onclick={run(fault)}>
                        { if n.down { "recover" } else { "fail" } }
                    </button>
                </span>
            </header>
            <ul class="pods">
                { for n.pods.iter().map(|pod| html! { <PodChip key={pod.uid.clone()} pod={Rc::clone(pod)} /> }) }
            </ul>
        </article>
    }
}
