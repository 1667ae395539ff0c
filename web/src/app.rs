//! Layout: editor | cluster view, with controls on top and events + console below. The app
//! owns the reducer and shares its dispatcher through a context; each component gets only
//! its slice of the state.

use std::rc::Rc;

use gloo_timers::callback::{Interval, Timeout};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::{ClusterView, Console, Controls, Editor, EventsPanel, NoticeBar, PodDetailPanel, SharePanel};
use crate::embed::{self, Lang, Settings};
use crate::persist;
use crate::state::{Action, Dispatch, Notice, Playground};

/// Wall-clock milliseconds between simulation ticks.
const TICK_MS: u32 = 100;
/// Quiet time before the workspace autosaves (typing keeps postponing it).
const AUTOSAVE_MS: u32 = 1000;

#[function_component(App)]
pub fn app() -> Html {
    let settings = use_memo((), |_| Settings::current());
    let state = {
        let settings = Rc::clone(&settings);
        use_reducer(move || persist::boot(&settings))
    };
    let embedded = settings.embedded;
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
        // An embedded playground never touches the reader's own workspace.
        let kept_pending = embedded || state.notice.as_ref().is_some_and(|n| n.testid == "storage-error");
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
            let window = web_sys::window().filter(|_| !embedded);
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
    {
        // Theme and language, and in a frame: ready, then the host's theme as it changes.
        let settings = Rc::clone(&settings);
        use_effect_with((), move |_| {
            if let Some(theme) = &settings.theme {
                embed::apply_theme(theme);
            }
            embed::apply_lang(settings.lang);
            embed::post(&settings, "kubeplay:ready", &[]);
            let listener = web_sys::window().filter(|_| settings.host.is_some()).map(|w| {
                let settings = Rc::clone(&settings);
                let parent = w.parent().ok().flatten();
                gloo_events::EventListener::new(&w, "message", move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() else { return };
                    let from_host = Some(e.origin()) == settings.host
                        && e.source().zip(parent.as_ref()).is_some_and(|(s, p)| js_sys::Object::is(&s, p));
                    let field = |k: &str| js_sys::Reflect::get(&e.data(), &k.into()).ok().and_then(|v| v.as_string());
                    if from_host && field("type").as_deref() == Some("kubeplay:theme") {
                        if let Some(theme) = field("theme").filter(|t| t == "light" || t == "dark") {
                            embed::apply_theme(&theme);
                        }
                    }
                })
            });
            move || drop(listener)
        });
    }
    {
        // In a frame without a fixed height: ask the host to fit the content, when it changes.
        let settings = Rc::clone(&settings);
        let posted = use_mut_ref(|| 0.0f64);
        use_effect(move || {
            if settings.embedded && settings.height.is_none() {
                let height = embed::content_height();
                if (height - *posted.borrow()).abs() >= 1.0 {
                    *posted.borrow_mut() = height;
                    embed::post(&settings, "kubeplay:resize", &[("height", height.into())]);
                }
            }
        });
    }
    let open_full = {
        let snapshot = state.clone();
        Callback::from(move |e: MouseEvent| {
            // The link is made at the click: the session as it stands now.
            let url = format!("{}{}", embed::full_playground_address(), kubeplay_core::share::link::fragment(&snapshot.workspace()));
            // Yew delegates events: find the anchor from the target, not `current_target`.
            let anchor = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|el| el.closest("a").ok().flatten());
            if let Some(a) = anchor {
                let _ = a.set_attribute("href", &url);
            }
        })
    };
    let export_svg = {
        let snapshot = state.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |()| {
            let light = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
                .and_then(|e| e.get_attribute("data-theme"))
                .is_some_and(|t| t == "light");
            let picture = crate::svg::render(&snapshot.view, &crate::components::clock(snapshot.time_ms), light);
            if let Err(why) = persist::download("kubeplay-cluster.svg", "image/svg+xml", &picture) {
                dispatch.dispatch(Action::Notify(Some(Notice {
                    testid: "storage-error",
                    text: format!("The download did not start: {why}."),
                    restore: false,
                })));
            }
        })
    };
    let view = &state.view;
    let panes = &settings.panes;
    let lang = settings.lang;
    let mut class = classes!("app");
    if embedded {
        class.push("embed");
    }
    if state.readonly {
        class.push("readonly");
    }
    if !(panes.editor && panes.cluster) {
        class.push("single-pane");
    }
    if !(panes.events && panes.console) {
        class.push("single-bottom");
    }
    let style = settings.height.filter(|_| embedded).map(|h| format!("height: {h}px"));
    html! {
        <ContextProvider<Dispatch> context={state.dispatcher()}>
        <ContextProvider<Lang> context={lang}>
            <div {class} {style}>
                <header class="topbar">
                    if embedded {
                        <a class="open-full" data-testid="open-in-kubeplay" href={embed::full_playground_address()} target="_blank" rel="noopener" onclick={open_full}>
                            { embed::tr(lang, "Open in kubeplay") }
                        </a>
                    } else {
                        <h1>{ "kubeplay" }</h1>
                    }
                    <Controls time_ms={state.time_ms} playing={state.playing} speed={state.speed} seed={state.seed} {embedded} readonly={state.readonly} on_export={export_svg} />
                </header>
                if let Some(notice) = &state.notice {
                    <NoticeBar notice={Rc::clone(notice)} restore={restore} />
                }
                if let Some(info) = &state.share {
                    <SharePanel info={Rc::clone(info)} />
                }
                if panes.editor || panes.cluster {
                    <main class="panes">
                        if panes.editor {
                            <Editor text={AttrValue::from(state.editor.clone())} diagnostics={Rc::clone(&state.diagnostics)} editing={state.editing.as_ref().map(|e| AttrValue::from(e.0.label.clone()))} readonly={state.readonly} />
                        }
                        if panes.cluster {
                            <div class={if state.detail.is_some() { "cluster-wrap with-detail" } else { "cluster-wrap" }}>
                                <ClusterView services={Rc::clone(&view.services)} workloads={Rc::clone(&view.workloads)} nodes={Rc::clone(&view.nodes)} unscheduled={Rc::clone(&view.unscheduled)} traffic={Rc::clone(&state.traffic)} />
                                if let Some(detail) = &state.detail {
                                    <PodDetailPanel detail={Rc::clone(detail)} now_ms={state.time_ms} />
                                }
                            </div>
                        }
                    </main>
                }
                if panes.events || panes.console {
                    <section class="bottom">
                        if panes.events {
                            <EventsPanel events={Rc::clone(&view.events)} now_s={state.time_ms / 1000} />
                        }
                        if panes.console {
                            <Console entries={Rc::clone(&state.console)} prompt={AttrValue::from(state.prompt.clone())} namespace={AttrValue::from(state.namespace.clone())} readonly={state.readonly} />
                        }
                    </section>
                }
            </div>
        </ContextProvider<Lang>>
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

/// The page's language (embed `lang=`).
#[hook]
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or(Lang::En)
}

/// The session's dispatcher (every component is rendered inside the App's provider).
#[hook]
pub fn use_dispatch() -> Dispatch {
    use_context::<Dispatch>().expect("rendered inside App's ContextProvider<Dispatch>")
}
