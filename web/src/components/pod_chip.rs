use std::rc::Rc;

use yew::prelude::*;

use crate::app::use_dispatch;
use crate::state::Action;
use crate::view::PodView;

#[derive(Properties, PartialEq)]
pub struct PodChipProps {
    pub pod: Rc<PodView>,
}

/// One Pod, coloured by phase, showing kubectl's STATUS; a click opens its details.
#[function_component(PodChip)]
pub fn pod_chip(p: &PodChipProps) -> Html {
    let dispatch = use_dispatch();
    let pod = &p.pod;
    let onclick = use_callback(pod.uid.clone(), move |_: MouseEvent, uid| dispatch.dispatch(Action::Select(Some(uid.clone()))));
    let ready = pod.ready.split_once('/').is_some_and(|(r, t)| r == t);
    let class = format!(
        "pod phase-{} status-{}{}",
        pod.phase.to_ascii_lowercase(),
        pod.status.to_ascii_lowercase(),
        if ready { "" } else { " not-ready" }
    );
    let restarts = match pod.restarts {
        0 => String::new(),
        1 => ", restarted once".to_string(),
        n => format!(", restarted {n} times"),
    };
    let title = format!("{}/{} — {}, {} ready{restarts}", pod.namespace, pod.name, pod.status, pod.ready);
    html! {
        <li
            class={class}
            data-testid="pod"
            data-name={pod.name.clone()}
            data-uid={pod.uid.clone()}
            data-namespace={pod.namespace.clone()}
            data-phase={pod.phase.clone()}
            data-status={pod.status.clone()}
            data-ready={pod.ready.clone()}
            data-restarts={pod.restarts.to_string()}
            data-node={pod.node.clone().unwrap_or_default()}
            title={format!("{title} (click: details)")}
            aria-label={title}
            role="button"
            {onclick}
        >
            <span class="pod-name">{ &pod.name }</span>
            <span class="pod-status">{ &pod.status }</span>
            if pod.restarts > 0 {
                <span class="pod-restarts" aria-hidden="true">{ format!("↻{}", pod.restarts) }</span>
            }
        </li>
    }
}
