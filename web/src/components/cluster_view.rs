use std::rc::Rc;

use yew::prelude::*;

use crate::view::{PodView, View};

#[derive(Properties, PartialEq)]
pub struct ClusterViewProps {
    pub view: Rc<View>,
    /// Runs a console command (clicking a Pod describes it).
    pub on_command: Callback<String>,
}

fn pod_chip(p: &PodView, on_command: &Callback<String>) -> Html {
    let command = format!("kubectl describe pod {} -n {}", p.name, p.namespace);
    let onclick = on_command.reform(move |_: MouseEvent| command.clone());
    let class = format!("pod phase-{} status-{}", p.phase.to_ascii_lowercase(), p.status.to_ascii_lowercase());
    let title = format!("{}/{} — {}", p.namespace, p.name, p.status);
    html! {
        <li
            key={format!("{}/{}", p.namespace, p.name)}
            class={class}
            data-testid="pod"
            data-name={p.name.clone()}
            data-namespace={p.namespace.clone()}
            data-phase={p.phase.clone()}
            data-status={p.status.clone()}
            data-node={p.node.clone().unwrap_or_default()}
            title={format!("{title} (click: kubectl describe)")}
            aria-label={title}
            role="button"
            {onclick}
        >
            <span class="pod-name">{ &p.name }</span>
            <span class="pod-status">{ &p.status }</span>
        </li>
    }
}

#[function_component(ClusterView)]
pub fn cluster_view(p: &ClusterViewProps) -> Html {
    let view = &p.view;
    html! {
        <section class="cluster" aria-label="Cluster">
            <h2>{ "Cluster" }</h2>
            <div class="nodes">
                { for view.nodes.iter().map(|n| html! {
                    <article
                        key={n.name.clone()}
                        class={if n.ready { "node ready" } else { "node not-ready" }}
                        data-testid="node"
                        data-name={n.name.clone()}
                        aria-label={format!("Node {}", n.name)}
                    >
                        <header>
                            <strong>{ &n.name }</strong>
                            <span class="node-meta">{ format!("{} {}", if n.roles.is_empty() { "worker" } else { &n.roles }, n.zone) }</span>
                        </header>
                        <ul class="pods">{ for n.pods.iter().map(|pod| pod_chip(pod, &p.on_command)) }</ul>
                    </article>
                }) }
            </div>
            if !view.unscheduled.is_empty() {
                <div class="unscheduled" aria-label="Pods not scheduled">
                    <h3>{ "Not scheduled" }</h3>
                    <ul class="pods">{ for view.unscheduled.iter().map(|pod| pod_chip(pod, &p.on_command)) }</ul>
                </div>
            }
        </section>
    }
}
