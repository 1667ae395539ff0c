//! Layout: editor | cluster view, with controls on top and events + console below.

use std::rc::Rc;

use gloo_timers::callback::Interval;
use yew::prelude::*;

use crate::components::{ClusterView, Console, Controls, Editor, EventsPanel};
use crate::state::{Action, Playground, DEFAULT_EXAMPLE, DEFAULT_SEED};

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
    let dispatch = state.dispatcher();
    let cb = move |f: fn(String) -> Action| {
        let d = dispatch.clone();
        Callback::from(move |s: String| d.dispatch(f(s)))
    };
    let dispatcher = state.dispatcher();
    let act = move |a: fn() -> Action| {
        let d = dispatcher.clone();
        Callback::from(move |_: ()| d.dispatch(a()))
    };
    let set_speed = {
        let d = state.dispatcher();
        Callback::from(move |s: u32| d.dispatch(Action::SetSpeed(s)))
    };
    html! {
        <div class="app">
            <header class="topbar">
                <h1>{ "kubeplay" }</h1>
                <Controls
                    time_ms={state.time_ms}
                    playing={state.playing}
                    speed={state.speed}
                    seed={state.seed}
                    on_toggle={act(|| Action::TogglePlay)}
                    on_speed={set_speed}
                    on_reset={act(|| Action::Reset)}
                />
            </header>
            <main class="panes">
                <Editor
                    text={AttrValue::from(state.editor.clone())}
                    diagnostics={Rc::clone(&state.diagnostics)}
                    on_edit={cb(Action::Edit)}
                    on_check={act(|| Action::Check)}
                    on_apply={act(|| Action::Apply)}
                />
                <ClusterView view={Rc::clone(&state.view)} on_command={cb(Action::Run)} />
            </main>
            <section class="bottom">
                <EventsPanel view={Rc::clone(&state.view)} />
                <Console entries={Rc::clone(&state.console)} on_run={cb(Action::Run)} />
            </section>
        </div>
    }
}
