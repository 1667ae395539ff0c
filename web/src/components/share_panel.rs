//! The Share panel: the link (with its length, and a warning past what URLs safely carry),
//! the same session as a file to download or open, the manifests, and a kubectl script.

use std::rc::Rc;

use kubeplay_core::share::link::LONG_LINK;
use kubeplay_core::share::Workspace;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::app::use_dispatch;
use crate::persist;
use crate::state::{Action, Notice, Playground, ShareInfo};

#[derive(Properties, PartialEq)]
pub struct ShareProps {
    pub info: Rc<ShareInfo>,
}

/// `1,234`: lengths read at a glance.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn failed(dispatch: &crate::state::Dispatch, text: String) {
    dispatch.dispatch(Action::Notify(Some(Notice { testid: "link-error", text, restore: false })));
}

#[function_component(SharePanel)]
pub fn share_panel(p: &ShareProps) -> Html {
    let dispatch = use_dispatch();
    let show_script = use_state(|| false);
    let info = &p.info;
    {
        // Share copies the link at once (where the browser allows); the panel shows it too.
        let link = info.link.clone();
        use_effect_with(link, |link| persist::copy(link));
    }
    let close = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Share(None)))
    };
    let copy_link = {
        let link = info.link.clone();
        Callback::from(move |_: MouseEvent| persist::copy(&link))
    };
    let select_all = Callback::from(|e: FocusEvent| {
        if let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            input.select();
        }
    });
    let download = |name: &'static str, mime: &'static str, text: String| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            if let Err(why) = persist::download(name, mime, &text) {
                failed(&d, format!("The download did not start: {why}."));
            }
        })
    };
    let download_json = download("playground.kubeplay.json", "application/json", info.json.clone());
    let download_yaml = download("playground.yaml", "application/yaml", info.manifests.clone());
    let toggle_script = {
        let show = show_script.clone();
        let script = info.script.clone();
        Callback::from(move |_: MouseEvent| {
            if !*show {
                persist::copy(&script);
            }
            show.set(!*show);
        })
    };
    let upload = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            let d = d.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string()).unwrap_or_default();
                match Workspace::from_json(&text).and_then(|w| Playground::open(&w)) {
                    Ok(p) => d.dispatch(Action::Open(Rc::new(p))),
                    Err(why) => failed(&d, format!("This file cannot be opened: {why}.")),
                }
            });
        })
    };
    let long = info.link.len() > LONG_LINK;
    html! {
        <section class="share-panel" role="dialog" aria-label="Share this playground" data-testid="share-panel">
            <header>
                <h2>{ "Share" }</h2>
                <button class="close" onclick={close} aria-label="Close the Share panel">{ "×" }</button>
            </header>
            <p>{ "The link holds the whole session — manifests, seed, every command at its virtual time — and replays it exactly. It stays in the URL fragment, which is never sent to a server." }</p>
            <div class="share-link-row">
                <input data-testid="share-link" aria-label="Share link" readonly=true value={info.link.clone()} onfocus={select_all} />
                <button data-testid="copy-link" onclick={copy_link}>{ "Copy link" }</button>
            </div>
            <p class={if long { "share-length long" } else { "share-length" }} data-testid="share-length">
                { format!("{} characters", thousands(info.link.len())) }
                if long {
                    { " — longer than 8 KB: some browsers, chat tools and servers cut links this long. Download the file instead." }
                }
            </p>
            <div class="share-actions">
                <button data-testid="download-workspace" onclick={download_json}>{ "Download .kubeplay.json" }</button>
                <label class="button">
                    { "Open a .kubeplay.json…" }
                    <input type="file" accept=".json,application/json" data-testid="open-workspace" onchange={upload} />
                </label>
                <button data-testid="download-manifests" onclick={download_yaml}>{ "Download manifests" }</button>
                <button data-testid="copy-script" onclick={toggle_script} aria-expanded={show_script.to_string()}>{ "Copy as a kubectl script" }</button>
            </div>
            if *show_script {
                <textarea class="share-script" data-testid="share-script" aria-label="The session as a kubectl script" readonly=true value={info.script.clone()} />
            }
        </section>
    }
}
