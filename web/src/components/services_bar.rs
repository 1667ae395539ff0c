use std::rc::Rc;

use yew::prelude::*;

use crate::app::use_dispatch;
use crate::state::Action;
use crate::traffic_view::ServiceRate;
use crate::view::ServiceView;

#[derive(Properties, PartialEq)]
pub struct ServicesBarProps {
    pub services: Rc<[Rc<ServiceView>]>,
    /// The requests reaching each Service in the last second.
    pub rates: Rc<[ServiceRate]>,
}

/// The Services, each with its address and how many of its endpoints are ready; pointing at
/// one outlines the Pods its traffic goes to and draws an edge to each; a click describes it
/// in the console.
#[function_component(ServicesBar)]
pub fn services_bar(p: &ServicesBarProps) -> Html {
    let dispatch = use_dispatch();
    let hovered = use_state(|| None::<Rc<[String]>>);
    // The hovered Service's element, for the edges' start.
    let hovered_key = use_state(|| None::<(String, String)>);
    if p.services.is_empty() {
        return html! {};
    }
    // The outline is a style rule for the hovered Service's Pods: the chips themselves do not
    // re-render.
    let css = hovered.as_ref().map(|uids| {
        let selectors: Vec<String> = uids.iter().map(|u| format!("[data-testid=\"pod\"][data-uid=\"{u}\"]")).collect();
        if selectors.is_empty() {
            String::new()
        } else {
            format!("{} {{ outline: 2px solid var(--accent); outline-offset: 1px; }}", selectors.join(","))
        }
    });
    let edges = hovered.as_ref().zip(hovered_key.as_ref()).map(|(uids, (ns, name))| edges(ns, name, uids)).unwrap_or_default();
    html! {
        <div class="services" aria-label="Services">
            if let Some(css) = css {
                <style>{ css }</style>
            }
            if let Some((width, height, lines)) = edges {
                <svg class="service-edges" data-testid="service-edges" aria-hidden="true" width={width.to_string()} height={height.to_string()}>
                    { for lines.iter().map(|(x1, y1, x2, y2)| html! {
                        <line x1={format!("{x1:.0}")} y1={format!("{y1:.0}")} x2={format!("{x2:.0}")} y2={format!("{y2:.0}")} />
                    }) }
                </svg>
            }
            <ul>
                { for p.services.iter().map(|s| {
                    let enter = {
                        let hovered = hovered.clone();
                        let hovered_key = hovered_key.clone();
                        let pods = Rc::clone(&s.pods);
                        let key = (s.namespace.clone(), s.name.clone());
                        Callback::from(move |_: MouseEvent| {
                            hovered.set(Some(Rc::clone(&pods)));
                            hovered_key.set(Some(key.clone()));
                        })
                    };
                    let leave = {
                        let hovered = hovered.clone();
                        let hovered_key = hovered_key.clone();
                        Callback::from(move |_: MouseEvent| {
                            hovered.set(None);
                            hovered_key.set(None);
                        })
                    };
                    let onclick = {
                        let dispatch = dispatch.clone();
                        let command = format!("kubectl describe service {} -n {}", s.name, s.namespace);
                        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::RunDetached(command.clone())))
                    };
                    // A load balancer's address takes requests from outside: one click starts a
                    // traffic source at it.
                    let send = s.external.parse::<std::net::Ipv4Addr>().ok().map(|ip| {
                        let dispatch = dispatch.clone();
                        let command = format!("traffic start {} http://{ip}:{}/ --rate=10", s.name, s.port);
                        Callback::from(move |e: MouseEvent| {
                            e.stop_propagation();
                            dispatch.dispatch(Action::RunDetached(command.clone()));
                        })
                    });
                    let rate = p.rates.iter().find(|r| r.name == s.name && r.namespace == s.namespace);
                    let healthy = s.endpoints == 0 || s.ready == s.endpoints;
                    let label = format!(
                        "Service {}/{}: {} {}{}, {} of {} endpoints ready",
                        s.namespace, s.name, s.type_, s.address,
                        if s.external.is_empty() { String::new() } else { format!(", external {}", s.external) },
                        s.ready, s.endpoints
                    );
                    html! {
                        <li key={format!("{}/{}", s.namespace, s.name)}
                            class={if healthy { "service" } else { "service degraded" }}
                            data-testid="service" data-name={s.name.clone()} data-namespace={s.namespace.clone()}
                            data-ready={s.ready.to_string()} data-endpoints={s.endpoints.to_string()}
                            data-external={s.external.clone()}
                            role="button" tabindex="0" aria-label={label.clone()} title={format!("{label} (click: kubectl describe)")}
                            onmouseenter={enter} onmouseleave={leave} {onclick}>
                            <span class="svc-name">{ &s.name }</span>
                            <span class="svc-type">{ &s.type_ }</span>
                            <span class="svc-addr">{ &s.address }</span>
                            if !s.external.is_empty() { <span class="svc-ext">{ &s.external }</span> }
                            <span class="svc-ports">{ &s.ports }</span>
                            <span class="svc-eps">{ format!("→ {}/{}", s.ready, s.endpoints) }</span>
                            if let Some(r) = rate {
                                <span class={classes!("svc-rate", (r.failed_per_second > 0).then_some("failing"))} data-testid="service-rate"
                                    aria-label={format!("{} requests in the last second, {} failed", r.per_second, r.failed_per_second)}>
                                    { if r.failed_per_second > 0 { format!("{} req/s, {} ✕", r.per_second, r.failed_per_second) } else { format!("{} req/s", r.per_second) } }
                                </span>
                            }
                            if let Some(send) = send {
                                <button class="svc-send" data-testid="send-traffic" aria-label={format!("Send traffic to {} from outside the cluster", s.name)}
                                    title="Send 10 requests/s from outside the cluster" onclick={send}>{ "▶ traffic" }</button>
                            }
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}

/// Lines from a Service's element to each of its ready Pods' chips, in the cluster section's
/// coordinates (its scrolled content), with the size the drawing needs. Positions are read
/// when the pointer enters the Service (at most 300 Pods).
/// A drawing's width and height, and its lines (x1, y1, x2, y2).
type Edges = (f64, f64, Vec<(f64, f64, f64, f64)>);

fn edges(namespace: &str, name: &str, uids: &[String]) -> Option<Edges> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    let service =
        document.query_selector(&format!("[data-testid=\"service\"][data-namespace=\"{namespace}\"][data-name=\"{name}\"]")).ok()??;
    let cluster = service.closest("section.cluster").ok()??;
    let origin = cluster.get_bounding_client_rect();
    let (dx, dy) = (cluster.scroll_left() as f64 - origin.left(), cluster.scroll_top() as f64 - origin.top());
    let centre = |e: &web_sys::Element| {
        let r = e.get_bounding_client_rect();
        (r.left() + r.width() / 2.0 + dx, r.top() + r.height() / 2.0 + dy)
    };
    let from = {
        let r = service.get_bounding_client_rect();
        (r.left() + r.width() / 2.0 + dx, r.bottom() + dy)
    };
    let lines = uids
        .iter()
        .take(300)
        .filter_map(|uid| document.query_selector(&format!("[data-testid=\"pod\"][data-uid=\"{uid}\"]")).ok().flatten())
        .filter_map(|e| e.dyn_into::<web_sys::Element>().ok())
        .map(|e| {
            let (x, y) = centre(&e);
            (from.0, from.1, x, y)
        })
        .collect();
    Some((cluster.scroll_width() as f64, cluster.scroll_height() as f64, lines))
}
