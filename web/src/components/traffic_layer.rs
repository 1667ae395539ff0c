use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

use crate::traffic_view::Dot;

#[derive(Properties, PartialEq)]
pub struct TrafficLayerProps {
    pub dots: Rc<[Dot]>,
    /// Per Pod (uid): requests and failures.
    pub pods: Rc<[(String, u64, u64)]>,
}

/// Requests as dots moving from their source through the node they entered to the Pod that
/// answered (green), or stopping short (red: refused or an error status; amber: dropped).
/// Each dot is keyed by its request, so re-rendering never restarts one; the movement is a
/// CSS animation between positions read from the page once, when the dot appears. Per-Pod
/// counts are a style rule, so the Pod chips never re-render for them.
#[function_component(TrafficLayer)]
pub fn traffic_layer(p: &TrafficLayerProps) -> Html {
    let layer = use_node_ref();
    let origin = layer.cast::<Element>().map(|e| e.get_bounding_client_rect());
    let document = web_sys::window().and_then(|w| w.document());
    let centre = |selector: &str| -> Option<(f64, f64)> {
        let (origin, document) = (origin.as_ref()?, document.as_ref()?);
        let element = document.query_selector(selector).ok()??;
        let r = element.dyn_into::<Element>().ok()?.get_bounding_client_rect();
        Some((r.left() + r.width() / 2.0 - origin.left(), r.top() + r.height() / 2.0 - origin.top()))
    };
    let dots = p.dots.iter().filter_map(|d| {
        let start = match &d.from_pod {
            Some(uid) => centre(&format!("[data-testid=\"pod\"][data-uid=\"{uid}\"]")),
            None => centre(&format!("[data-testid=\"traffic-source\"][data-name=\"{}\"]", d.source)),
        }?;
        let node = d.entry_node.as_ref().and_then(|n| centre(&format!("[data-testid=\"node\"][data-name=\"{n}\"] header")));
        let pod = d.pod.as_ref().and_then(|uid| centre(&format!("[data-testid=\"pod\"][data-uid=\"{uid}\"]")));
        let (mid, end) = match (node, pod) {
            (Some(n), Some(p)) => (n, p),
            (None, Some(p)) => (((start.0 + p.0) / 2.0, (start.1 + p.1) / 2.0), p),
            (Some(n), None) => (n, n),
            (None, None) => (start, start),
        };
        let style = format!(
            "--x0:{:.0}px;--y0:{:.0}px;--x1:{:.0}px;--y1:{:.0}px;--x2:{:.0}px;--y2:{:.0}px",
            start.0, start.1, mid.0, mid.1, end.0, end.1
        );
        Some(html! {
            <span key={d.id.to_string()} class={classes!("traffic-dot", d.outcome)} data-testid="traffic-dot" data-outcome={d.outcome} {style}></span>
        })
    });
    // The busiest Pods' counts, as badges after their chips' names.
    let mut busiest: Vec<&(String, u64, u64)> = p.pods.iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rules: String = busiest
        .iter()
        .take(300)
        .map(|(uid, sent, failed)| {
            let text = if *failed > 0 { format!("⇣{sent} ✕{failed}") } else { format!("⇣{sent}") };
            format!("[data-testid=\"pod\"][data-uid=\"{uid}\"]::after{{content:\"{text}\"}}")
        })
        .collect();
    html! {
        <div class="traffic-layer" ref={layer} aria-hidden="true">
            <style data-testid="traffic-pod-counts">{ rules }</style>
            { for dots }
        </div>
    }
}
