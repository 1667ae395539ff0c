use yew::prelude::*;

use crate::app::{use_dispatch, use_lang};
use crate::embed::tr;
use crate::state::Action;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub time_ms: u64,
    pub playing: bool,
    pub speed: u32,
    pub seed: u64,
    /// In a documentation page's frame: no Share (the frame links back instead).
    #[prop_or_default]
    pub embedded: bool,
    #[prop_or_default]
    pub readonly: bool,
    /// Downloads the cluster picture as SVG.
    #[prop_or_default]
    pub on_export: Callback<()>,
}

/// `t = 12.3s` (virtual time since the cluster started).
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("t = {s}.{}s", ms % 1000 / 100)
    } else {
        format!("t = {}m{:02}s", s / 60, s % 60)
    }
}

#[function_component(Controls)]
pub fn controls(p: &ControlsProps) -> Html {
    let dispatch = use_dispatch();
    let lang = use_lang();
    let toggle = {
        let d = dispatch.clone();
        use_callback((), move |_: MouseEvent, _| d.dispatch(Action::TogglePlay))
    };
    let reset = {
        let d = dispatch.clone();
        use_callback((), move |_: MouseEvent, _| d.dispatch(Action::Reset))
    };
    let share = {
        let d = dispatch.clone();
        use_callback((), move |_: MouseEvent, _| d.dispatch(Action::Share(Some(crate::persist::page_address()))))
    };
    let speed_changed = use_callback((), move |e: Event, _| {
        let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
        dispatch.dispatch(Action::SetSpeed(select.value().parse().unwrap_or(1)));
    });
    html! {
        <div class="controls" role="toolbar" aria-label="Simulation controls">
            <span class="clock" data-testid="clock" aria-live="off">{ clock(p.time_ms) }</span>
            <button data-testid="play-pause" onclick={toggle} aria-pressed={(!p.playing).to_string()}>
                { tr(lang, if p.playing { "Pause" } else { "Play" }) }
            </button>
            <label>
                { tr(lang, "Speed ") }
                <select data-testid="speed" aria-label="Simulation speed" onchange={speed_changed}>
                    { for [1u32, 2, 5, 10, 50].iter().map(|s| html! {
                        <option value={s.to_string()} selected={*s == p.speed}>{ format!("{s}×") }</option>
                    }) }
                </select>
            </label>
            if !p.readonly {
                <button data-testid="reset" onclick={reset} title="Start a fresh cluster from the editor's manifests">{ tr(lang, "Reset") }</button>
            }
            if !p.embedded {
                <button data-testid="share" onclick={share} title="A link that replays this session exactly">{ tr(lang, "Share") }</button>
                <button data-testid="export-svg" onclick={p.on_export.reform(|_: MouseEvent| ())} title="The cluster picture as an SVG file">{ tr(lang, "Export SVG") }</button>
                <span class="seed" data-testid="seed">{ format!("seed {}", p.seed) }</span>
            }
        </div>
    }
}
