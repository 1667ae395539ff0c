use std::rc::Rc;

use yew::prelude::*;

use crate::view::View;

#[derive(Properties, PartialEq)]
pub struct EventsProps {
    pub view: Rc<View>,
}

#[function_component(EventsPanel)]
pub fn events_panel(p: &EventsProps) -> Html {
    html! {
        <section class="events" aria-label="Events">
            <h2>{ "Events" }</h2>
            <table>
                <thead><tr><th>{ "AGE" }</th><th>{ "TYPE" }</th><th>{ "REASON" }</th><th>{ "OBJECT" }</th><th>{ "MESSAGE" }</th></tr></thead>
                <tbody>
                    { for p.view.events.iter().map(|e| html! {
                        <tr data-testid="event" class={e.type_.to_ascii_lowercase()}>
                            <td>{ &e.age }</td><td>{ &e.type_ }</td><td>{ &e.reason }</td><td>{ &e.object }</td><td>{ &e.message }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}
