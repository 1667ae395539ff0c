use std::rc::Rc;

use yew::prelude::*;

use crate::app::use_dispatch;
use crate::detail::{ContainerDetail, PodDetail, TimelineMark};
use crate::state::Action;

/// Virtual time the timeline strip spans, ending now.
const WINDOW_MS: u64 = 120_000;
/// Timeline entries listed in words under the strip (the newest).
const LISTED: usize = 8;

#[derive(Properties, PartialEq)]
pub struct PodDetailProps {
    pub detail: Rc<PodDetail>,
    pub now_ms: u64,
}

/// `'…'` for the console's word splitter (POSIX quoting: `'` becomes `'\''`).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn ago(now_ms: u64, at_ms: u64) -> String {
    let s = now_ms.saturating_sub(at_ms) / 1000;
    if s < 120 {
        format!("{s}s ago")
    } else {
        format!("{}m{}s ago", s / 60, s % 60)
    }
}

/// The selected Pod: its containers' states, restarts and timelines, logs, environment
/// (Secret values masked until revealed) and a line to run commands in a container.
#[function_component(PodDetailPanel)]
pub fn pod_detail(p: &PodDetailProps) -> Html {
    let dispatch = use_dispatch();
    let revealed = use_state(|| false);
    let d = &p.detail;
    let run = |command: String| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::RunDetached(command.clone())))
    };
    let close = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Select(None)))
    };
    let toggle = {
        let revealed = revealed.clone();
        Callback::from(move |_: MouseEvent| revealed.set(!*revealed))
    };
    let has_secrets = d.containers.iter().any(|c| c.env.iter().any(|e| e.secret));
    html! {
        <aside class="pod-detail" data-testid="pod-detail" data-name={d.name.clone()} aria-label={format!("Pod {}", d.name)}>
            <header>
                <h3>{ &d.name }</h3>
                <span class="detail-status" data-testid="detail-status">{ &d.status }</span>
                <button data-testid="close-detail" aria-label="Close the Pod's details" onclick={close}>{ "×" }</button>
            </header>
            <p class="detail-meta">{ format!("{} · node {} · IP {}", d.namespace, if d.node.is_empty() { "—" } else { &d.node }, if d.ip.is_empty() { "—" } else { &d.ip }) }</p>
            <div class="detail-actions">
                <button data-testid="describe" onclick={run(format!("kubectl describe pod {} -n {}", d.name, d.namespace))}>{ "describe" }</button>
                <button data-testid="events" onclick={run(format!("kubectl get events -n {} --field-selector involvedObject.name={}", d.namespace, d.name))}>{ "events" }</button>
                <button data-testid="explain-scheduling" title="Why the scheduler put it here, or why it waits" onclick={run(format!("kubeplay explain pod {} -n {}", d.name, d.namespace))}>
                    { if d.node.is_empty() { "why pending?" } else { "why here?" } }
                </button>
                if has_secrets {
                    <button data-testid="reveal-secrets" aria-pressed={(*revealed).to_string()} onclick={toggle}>
                        { if *revealed { "hide Secret values" } else { "reveal Secret values" } }
                    </button>
                }
            </div>
            if !d.fixes.is_empty() {
                <section class="fixes" data-testid="fixes" aria-label="Changes that would let this Pod schedule">
                    <h4>{ "would let it schedule" }</h4>
                    <ul>
                        { for d.fixes.iter().map(|f| html! {
                            <li data-testid="fix">
                                <span>{ &f.text }</span>
                                if let Some(command) = &f.command {
                                    <button data-testid="apply-fix" title={command.clone()} onclick={run(command.clone())}>{ "apply" }</button>
                                }
                            </li>
                        }) }
                    </ul>
                </section>
            }
            { for d.containers.iter().map(|c| container(c, d, p.now_ms, *revealed, &dispatch)) }
        </aside>
    }
}

fn container(c: &ContainerDetail, pod: &PodDetail, now_ms: u64, revealed: bool, dispatch: &crate::state::Dispatch) -> Html {
    let on_exec = {
        let dispatch = dispatch.clone();
        let prefix = format!("kubectl exec {} -n {} -c {} -- sh -c ", pod.name, pod.namespace, c.name);
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Enter" {
                return;
            }
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let line = input.value();
            if !line.trim().is_empty() {
                dispatch.dispatch(Action::RunDetached(format!("{prefix}{}", quote(&line))));
                input.set_value("");
            }
        })
    };
    let logs_command = format!("kubectl logs {} -n {} -c {}", pod.name, pod.namespace, c.name);
    let on_logs = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::RunDetached(logs_command.clone())))
    };
    let start = now_ms.saturating_sub(WINDOW_MS);
    let visible: Vec<&TimelineMark> = c.timeline.iter().filter(|m| m.at.ms() >= start).collect();
    let listed: Vec<&TimelineMark> = c.timeline.iter().rev().take(LISTED).collect();
    html! {
        <section class={format!("container-card role-{}", c.role)} data-testid="container" data-name={c.name.clone()}
            data-state={c.state.clone()} data-ready={c.ready.to_string()} data-restarts={c.restarts.to_string()}
            aria-label={format!("Container {}", c.name)}>
            <header>
                <strong>{ &c.name }</strong>
                if c.role != "app" { <span class="role">{ c.role }</span> }
                <span class={if c.state == "Running" { "state running" } else { "state" }}>{ &c.state }</span>
                <span class={if c.ready { "ready yes" } else { "ready no" }}>{ if c.ready { "ready" } else { "not ready" } }</span>
                <span class="restarts" title="restarts">{ format!("↻ {}", c.restarts) }</span>
            </header>
            if let Some(last) = &c.last_state {
                <p class="last-state">{ format!("last: {last}") }</p>
            }
            <div class="timeline" data-testid="timeline" role="img"
                aria-label={format!("What happened to {} in the last two minutes", c.name)}>
                { for visible.iter().map(|m| {
                    let left = (m.at.ms() - start) as f64 * 100.0 / WINDOW_MS as f64;
                    html! { <span class={format!("mark mark-{}", m.kind)} data-kind={m.kind} style={format!("left: {left:.2}%")} title={m.label.clone()} /> }
                }) }
            </div>
            <ol class="timeline-list" data-testid="timeline-list">
                { for listed.iter().map(|m| html! {
                    <li class={format!("mark-{}", m.kind)} data-kind={m.kind}>{ format!("{} — {}", ago(now_ms, m.at.ms()), m.label) }</li>
                }) }
            </ol>
            if !c.env.is_empty() {
                <table class="env" data-testid="env">
                    { for c.env.iter().map(|e| html! {
                        <tr data-name={e.name.clone()} data-secret={e.secret.to_string()}>
                            <td>{ &e.name }</td>
                            <td>{ if e.secret && !revealed { "••••••".to_string() } else { e.value.clone() } }</td>
                        </tr>
                    }) }
                </table>
            }
            <div class="logs-head">
                <span>{ "log" }</span>
                <button data-testid="logs" onclick={on_logs}>{ "kubectl logs" }</button>
            </div>
            <pre class="container-logs" data-testid="container-logs">{ if c.logs.is_empty() { "(nothing printed yet)".to_string() } else { c.logs.join("\n") } }</pre>
            <input class="exec" data-testid="exec-input" spellcheck="false" autocomplete="off"
                aria-label={format!("Run a command in {} (sh -c)", c.name)}
                placeholder={format!("run in {} (sh -c) …", c.name)} onkeydown={on_exec} />
        </section>
    }
}
