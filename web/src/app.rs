//! Layout: editor | cluster view, with controls on top and events + console below. The app
//! owns the reducer and shares its dispatcher through a context; each component gets only
//! its slice of the state.

use std::rc::Rc;

use gloo_timers::callback::{Interval, Timeout};
use yew::prelude::*;

use crate::components::{ClusterView, Console, Controls, Editor, EventsPanel, NoticeBar, PodDetailPanel, SharePanel};
use crate::persist;
use crate::state::{Action, Dispatch, Notice, Playground};

/// Wall-clock milliseconds between simulation ticks.
const TICK_MS: u32 = 100;
/// Quiet time before the workspace autosaves (typing keeps postponing it).
const AUTOSAVE_MS: u32 = 1000;

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(persist::boot);
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let interval = Interval::new(TICK_MS, move || dispatch.dispatch(Action::Tick(TICK_MS)));
            move || drop(interval)
        });
    }
    // Autosave after each action and each pause in typing (not every tick: the session is
    // its steps; the clock's position is saved with them and when the page is hidden).
    let storage_failed = use_mut_ref(|| false);
    {
        let snapshot = state.clone();
        let dispatch = state.dispatcher();
        let storage_failed = storage_failed.clone();
        let kept_pending = state.notice.as_ref().is_some_and(|n| n.testid == "storage-error");
        use_effect_with((state.steps.len(), state.editor.clone(), state.speed, state.selected.clone()), move |_| {
            let timeout = (!kept_pending).then(|| Timeout::new(AUTOSAVE_MS, move || save(&snapshot, &dispatch, &storage_failed)));
            move || drop(timeout)
        });
    }
    {
        // Hiding the page (closing the tab, reloading) saves where the clock stands.
        let current = use_mut_ref(|| state.clone());
        *current.borrow_mut() = state.clone();
        let dispatch = state.dispatcher();
        let storage_failed = storage_failed.clone();
        use_effect_with((), move |_| {
            let window = web_sys::window();
            let hidden = {
                let (current, dispatch) = (current.clone(), dispatch.clone());
                window
                    .as_ref()
                    .map(|w| gloo_events::EventListener::new(w, "pagehide", move |_| save(&current.borrow(), &dispatch, &storage_failed)))
            };
            // A link pasted into the address bar of an open playground changes only the fragment.
            let pasted = window.as_ref().map(|w| {
                gloo_events::EventListener::new(w, "hashchange", move |_| {
                    let json = current.borrow().workspace().to_json();
                    if let Some(p) = persist::open_link(Some(json)) {
                        dispatch.dispatch(Action::Open(Rc::new(p)));
                    }
                })
            });
            move || drop((hidden, pasted))
        });
    }
    let restore = {
        let snapshot = state.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |()| match persist::restore_kept(&snapshot.workspace()) {
            Ok(p) => dispatch.dispatch(Action::Open(Rc::new(p))),
            Err(why) => dispatch.dispatch(Action::Notify(Some(Notice {
                testid: "storage-error",
                text: format!("The kept workspace could not be restored: {why}."),
                restore: false,
            }))),
        })
    };
    let view = &state.view;
    html! {
        <ContextProvider<Dispatch> context={state.dispatcher()}>
            <div class="app">
                <header class="topbar">
                    <h1>{ "kubeplay" }</h1>
                    <Controls time_ms={state.time_ms} playing={state.playing} speed={state.speed} seed={state.seed} />
                </header>
                if let Some(notice) = &state.notice {
                    <NoticeBar notice={Rc::clone(notice)} restore={restore} />
                }
                if let Some(info) = &state.share {
                    <SharePanel info={Rc::clone(info)} />
                }
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

/// Autosaves the session; the first failure is shown (once: it would repeat on every save).
fn save(state: &Playground, dispatch: &Dispatch, failed: &std::cell::RefCell<bool>) {
    match persist::autosave(&state.workspace()) {
        Ok(()) => *failed.borrow_mut() = false,
        Err(why) => {
            if !failed.replace(true) {
                dispatch.dispatch(Action::Notify(Some(Notice { testid: "storage-error", text: why, restore: false })));
            }
        }
    }
}

/// The session's dispatcher (every component is rendered inside the App's provider).
#[hook]
pub fn use_dispatch() -> Dispatch {
    use_context::<Dispatch>().expect("rendered inside App's ContextProvider<Dispatch>")
}
