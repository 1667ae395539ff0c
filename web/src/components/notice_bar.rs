//! A message above the panes: a link or file that could not be opened, storage trouble, or
//! the workspace an opened link set aside (with a button to get it back).

use std::rc::Rc;

use yew::prelude::*;

use crate::app::use_dispatch;
use crate::state::{Action, Notice};

#[derive(Properties, PartialEq)]
pub struct NoticeProps {
    pub notice: Rc<Notice>,
    /// The session now, for restoring the kept one in its place.
    pub restore: Callback<()>,
}

#[function_component(NoticeBar)]
pub fn notice_bar(p: &NoticeProps) -> Html {
    let dispatch = use_dispatch();
    let dismiss = Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Notify(None)));
    let restore = {
        let r = p.restore.clone();
        Callback::from(move |_: MouseEvent| r.emit(()))
    };
    html! {
        <div class="notice" role="status" data-testid={p.notice.testid}>
            <span>{ &p.notice.text }</span>
            if p.notice.restore {
                <button data-testid="restore-workspace" onclick={restore}>{ "Restore it" }</button>
            }
            <button onclick={dismiss} aria-label="Dismiss">{ "×" }</button>
        </div>
    }
}
