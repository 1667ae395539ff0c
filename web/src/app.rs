//! Layout: editor | cluster view, with controls on top and events + console below. The app
//! owns the reducer and shares its dispatcher through a context; each component gets only
//! its slice of the state.

use std::rc::Rc;

use gloo_timers::callback::Interval;
use yew::prelude::*;

use crate::components::{ClusterView, Console, Controls, Editor, EventsPanel, PodDetailPanel};
use crate::state::{Action, Dispatch, Playground, DEFAULT_EXAMPLE, DEFAULT_SEED};

/// Wall-clock milliseconds between simulation ticks.
const TICK_MS: u32 = 100;

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(|| Playground::start(DEFAULT_SEED, DEFAULT_EXAMPLE.to_string()));
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let interval = Interval::new(TICK_MS, move || dispatch.dispatch(Action::Tick(TICK_MS)));
            move || drop(interval)
        });
    }
    let view = &state.view;
    html! {
        <ContextProvider<Dispatch> context={state.dispatcher()}>
            <div class="app">
                <header class="topbar">
                    <h1>{ "kubeplay" }</h1>
                    <Controls time_ms={state.time_ms} playing={state.playing} speed={state.speed} seed={state.seed} />
                </header>
                <main class="panes">
                    <Editor text={AttrValue::from(state.editor.clone())} diagnostics={Rc::clone(&state.diagnostics)} editing={state.editing.as_ref().map(|e| AttrValue::from(e.0.label.clone()))} />
                    <div class={if state.detail.is_some() { "cluster-wrap with-detail" } else { "cluster-wrap" }}>
                        <ClusterView services={Rc::clone(&view.services)} workloads={Rc::clone(&view.workloads)} nodes={Rc::clone(&view.nodes)} unscheduled={Rc::clone(&view.unscheduled)} traffic={Rc::clone(&state.traffic)} />
                        if let Some(detail) = &state.detail {
                            <PodDetailPanel detail={Rc::clone(detail)} now_ms={state.time_ms} />
                        }
                    </div>
                </main>
                <section class="bottom">
                    <EventsPanel events={Rc::clone(&view.events)} now_s={state.time_ms / 1000} />
                    <Console entries={Rc::clone(&state.console)} prompt={AttrValue::from(state.prompt.clone())} namespace={AttrValue::from(state.namespace.clone())} />
                </section>
            </div>
        </ContextProvider<Dispatch>>
    }
}

/// The session's dispatcher (every component is rendered inside the App's provider).
#[hook]
pub fn use_dispatch() -> Dispatch {
    use_context::<Dispatch>().expect("rendered inside App's ContextProvider<Dispatch>")
}
