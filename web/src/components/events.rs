use std::rc::Rc;

use kubeplay_core::time::SimTime;
use yew::prelude::*;

use crate::app::use_lang;
use crate::embed::tr;
use crate::view::EventView;

#[derive(Properties, PartialEq)]
pub struct EventsProps {
    pub events: Rc<[EventView]>,
    /// Whole virtual seconds: the panel re-renders when a displayed age can change.
    pub now_s: u64,
}

#[function_component(EventsPanel)]
pub fn events_panel(p: &EventsProps) -> Html {
    let now = SimTime(p.now_s * 1000);
    let lang = use_lang();
    html! {
        <section class="events" aria-label="Events">
            <h2>{ tr(lang, "Events") }</h2>
            <table>
                <thead><tr><th>{ "AGE" }</th><th>{ "TYPE" }</th><th>{ "REASON" }</th><th>{ "OBJECT" }</th><th>{ "MESSAGE" }</th></tr></thead>
                <tbody>
                    { for p.events.iter().map(|e| html! {
                        <tr data-testid="event" class={e.type_.to_ascii_lowercase()}>
                            <td>{ now.since(e.at).human() }</td><td>{ &e.type_ }</td><td>{ &e.reason }</td><td>{ &e.object }</td><td>{ &e.message }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}
