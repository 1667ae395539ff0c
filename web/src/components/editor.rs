use std::rc::Rc;

use kubeplay_core::diag::{Diagnostic, Severity};
use yew::prelude::*;

use crate::app::{use_dispatch, use_lang};
use crate::embed::tr;
use crate::state::Action;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub text: AttrValue,
    pub diagnostics: Rc<Vec<Diagnostic>>,
    /// `deployment.apps/web` while a `kubectl edit` is open in the editor.
    #[prop_or_default]
    pub editing: Option<AttrValue>,
    /// Shown, not changed (an embed's `readonly=1`).
    #[prop_or_default]
    pub readonly: bool,
}

/// How long typing must pause before the manifests are re-checked.
const CHECK_DELAY_MS: u32 = 300;

/// Character offset of a 1-based line and column in `text`.
fn offset_of(text: &str, line: u32, column: u32) -> u32 {
    let before: usize = text.split_inclusive('\n').take(line.saturating_sub(1) as usize).map(|l| l.chars().count()).sum();
    (before + column.saturating_sub(1) as usize) as u32
}

#[function_component(Editor)]
pub fn editor(p: &EditorProps) -> Html {
    let dispatch = use_dispatch();
    let lang = use_lang();
    let area_ref = use_node_ref();
    // Clicking a diagnostic puts the cursor on the line it points at.
    let jump = {
        let area_ref = area_ref.clone();
        let text = p.text.clone();
        move |line: u32, column: u32| {
            let area_ref = area_ref.clone();
            let text = text.clone();
            Callback::from(move |_: MouseEvent| {
                if let Some(area) = area_ref.cast::<web_sys::HtmlTextAreaElement>() {
                    let at = offset_of(&text, line, column);
                    let _ = area.focus();
                    let _ = area.set_selection_range(at, at);
                    let line_height = 19;
                    area.set_scroll_top(((line as i32) - 5).max(0) * line_height);
                }
            })
        }
    };
    let pending_check = use_mut_ref(|| None::<gloo_timers::callback::Timeout>);
    let on_input = {
        let d = dispatch.clone();
        use_callback((), move |e: InputEvent, _| {
            let area: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            d.dispatch(Action::Edit(area.value()));
            let d = d.clone();
            // Replacing the Timeout drops (cancels) the previous one.
            *pending_check.borrow_mut() = Some(gloo_timers::callback::Timeout::new(CHECK_DELAY_MS, move || d.dispatch(Action::Check)));
        })
    };
    let on_keydown = {
        let d = dispatch.clone();
        use_callback((), move |e: KeyboardEvent, _| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                d.dispatch(Action::Apply);
            }
        })
    };
    let diff = {
        let d = dispatch.clone();
        use_callback((), move |_: MouseEvent, _| d.dispatch(Action::Diff))
    };
    let cancel = {
        let d = dispatch.clone();
        use_callback((), move |_: MouseEvent, _| d.dispatch(Action::CancelEdit))
    };
    let apply = use_callback((), move |_: MouseEvent, _| dispatch.dispatch(Action::Apply));
    let editing = p.editing.clone();
    html! {
        <section class="editor" aria-label="Manifests">
            <div class="pane-title">
                if let Some(label) = &editing {
                    <h2>{ format!("kubectl edit {label}") }</h2>
                    <button data-testid="cancel-edit" onclick={cancel}>{ "Cancel" }</button>
                    <button data-testid="apply" onclick={apply} title="Save the edit (Ctrl+Enter)">{ "Save" }</button>
                } else if p.readonly {
                    <h2>{ tr(lang, "Manifests") }</h2>
                } else {
                    <h2>{ tr(lang, "Manifests") }</h2>
                    <button data-testid="diff" onclick={diff} title="kubectl diff: what Apply would change">{ tr(lang, "Diff") }</button>
                    <button data-testid="apply" onclick={apply} title="kubectl apply (Ctrl+Enter)">{ tr(lang, "Apply") }</button>
                }
            </div>
            <textarea
                ref={area_ref}
                data-testid="editor"
                aria-label="Kubernetes manifests (YAML or JSON)"
                spellcheck="false"
                readonly={p.readonly}
                value={p.text.clone()}
                oninput={on_input}
                onkeydown={on_keydown}
            />
            <ul class="diagnostics" aria-label="Diagnostics">
                { for p.diagnostics.iter().map(|d| {
                    let class = match d.severity { Severity::Error => "diag error", Severity::Warning => "diag warning" };
                    html! {
                        <li
                            class={class}
                            data-testid="diagnostic"
                            data-line={d.position.line.to_string()}
                            onclick={jump(d.position.line, d.position.column)}
                            title="Show this line"
                        >
                            { format!("line {}:{}: {}: {}", d.position.line, d.position.column, d.severity, d.message) }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
