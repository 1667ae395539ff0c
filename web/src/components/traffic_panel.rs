use std::rc::Rc;

use yew::prelude::*;

use crate::app::use_dispatch;
use crate::state::Action;
use crate::traffic_view::SourceView;

#[derive(Properties, PartialEq)]
pub struct TrafficPanelProps {
    pub sources: Rc<[SourceView]>,
}

/// The traffic sources: where each sends, its rate, and what its requests met; buttons stop
/// or resume one, halve or double its rate, or remove it (each a `traffic` console command,
/// so the console shows what happened).
#[function_component(TrafficPanel)]
pub fn traffic_panel(p: &TrafficPanelProps) -> Html {
    let dispatch = use_dispatch();
    if p.sources.is_empty() {
        return html! {};
    }
    let run = |command: String| {
        let dispatch = dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            dispatch.dispatch(Action::RunDetached(command.clone()));
        })
    };
    html! {
        <div class="traffic" aria-label="Traffic sources">
            <ul>
                { for p.sources.iter().map(|s| {
                    let (per_second, failed_per_second) = s.last_second;
                    let label = format!(
                        "Traffic source {} from {} to {}: {} requests/s, {} sent, {} failed, last {}",
                        s.name, s.from, s.url, s.rate, s.sent, s.failed, s.last
                    );
                    let toggle = if s.running { format!("traffic stop {}", s.name) } else { format!("traffic resume {}", s.name) };
                    html! {
                        <li key={s.name.clone()} class={classes!("traffic-source", (!s.running).then_some("stopped"), (failed_per_second > 0).then_some("failing"))}
                            data-testid="traffic-source" data-name={s.name.clone()} data-sent={s.sent.to_string()}
                            data-failed={s.failed.to_string()} data-running={s.running.to_string()}
                            aria-label={label.clone()} title={label}>
                            <span class="src-name">{ &s.name }</span>
                            <span class="src-route">{ format!("{} → {}", s.from, s.url) }</span>
                            <span class="src-rate">{ format!("{}/s", s.rate) }</span>
                            <span class="src-now" aria-hidden="true">{ format!("{per_second} req/s") }</span>
                            <span class="src-ok">{ format!("✓{}", s.ok) }</span>
                            <span class="src-failed">{ format!("✕{}", s.failed) }</span>
                            <span class="src-last">{ &s.last }</span>
                            <button data-testid="traffic-toggle" aria-label={if s.running { format!("Stop {}", s.name) } else { format!("Resume {}", s.name) }}
                                onclick={run(toggle)}>{ if s.running { "■" } else { "▶" } }</button>
                            <button aria-label={format!("Halve the rate of {}", s.name)} disabled={s.rate <= 1}
                                onclick={run(format!("traffic rate {} {}", s.name, (s.rate / 2).max(1)))}>{ "−" }</button>
                            <button aria-label={format!("Double the rate of {}", s.name)} disabled={s.rate >= kubeplay_core::traffic::MAX_RATE}
                                onclick={run(format!("traffic rate {} {}", s.name, (s.rate * 2).min(kubeplay_core::traffic::MAX_RATE)))}>{ "+" }</button>
                            <button data-testid="traffic-trace" aria-label={format!("Trace the latest request of {}", s.name)} title="traffic trace: the hops of the latest request"
                                onclick={run(format!("traffic trace {}", s.name))}>{ "trace" }</button>
                            <button aria-label={format!("Remove {}", s.name)} onclick={run(format!("traffic delete {}", s.name))}>{ "✕" }</button>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}
