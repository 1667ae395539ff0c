use std::rc::Rc;

use yew::prelude::*;

use crate::app::use_dispatch;
use crate::state::Action;
use crate::workloads::WorkloadView;

#[derive(Properties, PartialEq)]
pub struct WorkloadsBarProps {
    pub workloads: Rc<[Rc<WorkloadView>]>,
}

/// The workloads, each with its headline and the numbers behind its next step; pointing at
/// one outlines its Pods; a click describes it in the console.
#[function_component(WorkloadsBar)]
pub fn workloads_bar(p: &WorkloadsBarProps) -> Html {
    let dispatch = use_dispatch();
    let hovered = use_state(|| None::<Rc<[String]>>);
    if p.workloads.is_empty() {
        return html! {};
    }
    // As the Services bar does: a style rule outlines the Pods, the chips do not re-render.
    let css = hovered.as_ref().filter(|uids| !uids.is_empty()).map(|uids| {
        let selectors: Vec<String> = uids.iter().map(|u| format!("[data-testid=\"pod\"][data-uid=\"{u}\"]")).collect();
        format!("{} {{ outline: 2px solid var(--running); outline-offset: 1px; }}", selectors.join(","))
    });
    html! {
        <div class="workloads" aria-label="Workloads">
            if let Some(css) = css {
                <style>{ css }</style>
            }
            <ul>
                { for p.workloads.iter().map(|w| {
                    let enter = {
                        let hovered = hovered.clone();
                        let pods = Rc::clone(&w.pods);
                        Callback::from(move |_: MouseEvent| hovered.set(Some(Rc::clone(&pods))))
                    };
                    let leave = {
                        let hovered = hovered.clone();
                        Callback::from(move |_: MouseEvent| hovered.set(None))
                    };
                    let onclick = {
                        let dispatch = dispatch.clone();
                        let command = format!("kubectl describe {} {} -n {}", w.kind.to_ascii_lowercase(), w.name, w.namespace);
                        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::RunDetached(command.clone())))
                    };
                    let label = if w.detail.is_empty() {
                        format!("{} {}/{}: {}", w.kind, w.namespace, w.name, w.summary)
                    } else {
                        format!("{} {}/{}: {}; {}", w.kind, w.namespace, w.name, w.summary, w.detail)
                    };
                    html! {
                        <li key={format!("{}/{}/{}", w.kind, w.namespace, w.name)}
                            class={classes!("workload", w.state)}
                            data-testid="workload" data-kind={w.kind} data-name={w.name.clone()} data-state={w.state}
                            data-summary={w.summary.clone()}
                            role="button" tabindex="0" aria-label={label.clone()} title={format!("{label} (click: kubectl describe)")}
                            onmouseenter={enter} onmouseleave={leave} {onclick}>
                            <span class="wl-kind">{ w.kind }</span>
                            <span class="wl-name">{ &w.name }</span>
                            <span class="wl-summary">{ &w.summary }</span>
                            if !w.detail.is_empty() { <span class="wl-detail">{ &w.detail }</span> }
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}
