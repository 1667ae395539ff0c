use std::rc::Rc;

use yew::prelude::*;

use crate::app::{use_dispatch, use_lang};
use crate::embed::tr;
use crate::state::{Action, ConsoleEntry};

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub entries: Rc<Vec<ConsoleEntry>>,
    /// `$ `, or the attached container shell's prompt.
    pub prompt: AttrValue,
    /// The kubeconfig context's namespace commands act in.
    #[prop_or_else(|| AttrValue::from("default"))]
    pub namespace: AttrValue,
    /// No input line (an embed's `readonly=1`).
    #[prop_or_default]
    pub readonly: bool,
}

#[function_component(Console)]
pub fn console(p: &ConsoleProps) -> Html {
    let output_ref = use_node_ref();
    {
        let output_ref = output_ref.clone();
        use_effect_with(p.entries.len(), move |_| {
            if let Some(el) = output_ref.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    // How far back in the command history ArrowUp has gone (0 = the line being typed).
    let back = use_mut_ref(|| 0usize);
    let dispatch = use_dispatch();
    let lang = use_lang();
    let on_keydown = {
        let entries = p.entries.clone();
        Callback::from(move |e: KeyboardEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let mut back = back.borrow_mut();
            match e.key().as_str() {
                "Enter" => {
                    let command = input.value();
                    if !command.trim().is_empty() {
                        dispatch.dispatch(Action::Run(command));
                        input.set_value("");
                    }
                    *back = 0;
                }
                "ArrowUp" | "ArrowDown" => {
                    e.prevent_default();
                    let n = entries.len();
                    *back = if e.key() == "ArrowUp" { (*back + 1).min(n) } else { back.saturating_sub(1) };
                    let text = if *back == 0 { String::new() } else { entries[n - *back].command.clone() };
                    input.set_value(&text);
                }
                _ => {}
            }
        })
    };
    html! {
        <section class="console" aria-label="Console">
            <h2>{ tr(lang, "Console") }
                <span class="namespace" data-testid="current-namespace" title="kubectl config set-context --current --namespace=NS">
                    { format!(" · namespace: {}", p.namespace) }
                </span>
            </h2>
            <pre class="console-output" data-testid="console-output" ref={output_ref} aria-live="polite">
                { for p.entries.iter().map(|e| html! {
                    <>
                        <span class="prompt">{ format!("{}{}\n", e.prompt, e.command) }</span>
                        <span class={if e.ok { "out" } else { "out error" }}>{ &e.output }</span>
                    </>
                }) }
            </pre>
            if !p.readonly {
            <div class="console-input">
                <span aria-hidden="true" data-testid="console-prompt">{ p.prompt.trim_end().to_string() }</span>
                <input
                    data-testid="console-input"
                    aria-label="Command (kubectl …, sleep 10s, help)"
                    placeholder="kubectl get pods"
                    spellcheck="false"
                    autocomplete="off"
                    onkeydown={on_keydown}
                />
            </div>
            }
        </section>
    }
}
