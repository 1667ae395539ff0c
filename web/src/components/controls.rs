use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub time_ms: u64,
    pub playing: bool,
    pub speed: u32,
    pub seed: u64,
    pub on_toggle: Callback<()>,
    pub on_speed: Callback<u32>,
    pub on_reset: Callback<()>,
}

/// `t = 12.3s` (virtual time since the cluster started).
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("t = {s}.{}s", ms % 1000 / 100)
    } else {
        format!("t = {}m{:02}s", s / 60, s % 60)
    }
}

#[function_component(Controls)]
pub fn controls(p: &ControlsProps) -> Html {
    let toggle = p.on_toggle.reform(|_: MouseEvent| ());
    let reset = p.on_reset.reform(|_: MouseEvent| ());
    let on_speed = p.on_speed.clone();
    let speed_changed = Callback::from(move |e: Event| {
        let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
        on_speed.emit(select.value().parse().unwrap_or(1));
    });
    html! {
        <div class="controls" role="toolbar" aria-label="Simulation controls">
            <span class="clock" data-testid="clock" aria-live="off">{ clock(p.time_ms) }</span>
            <button data-testid="play-pause" onclick={toggle} aria-pressed={(!p.playing).to_string()}>
                { if p.playing { "Pause" } else { "Play" } }
            </button>
            <label>
                { "Speed " }
                <select data-testid="speed" aria-label="Simulation speed" onchange={speed_changed}>
                    { for [1u32, 2, 5, 10, 50].iter().map(|s| html! {
                        <option value={s.to_string()} selected={*s == p.speed}>{ format!("{s}×") }</option>
                    }) }
                </select>
            </label>
            <button data-testid="reset" onclick={reset} title="Start a fresh cluster from the editor's manifests">{ "Reset" }</button>
            <span class="seed" data-testid="seed">{ format!("seed {}", p.seed) }</span>
        </div>
    }
}
