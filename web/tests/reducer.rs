//! The playground's reducer and its tick rules, run in wasm (no page needed): a paused or idle
//! tick keeps the same state (yew skips the render), a tick that only moves the clock keeps
//! the view, and a rebuilt view reuses every node and Pod that did not change.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use kubeplay_web::state::{Action, Playground, DEFAULT_EXAMPLE};
use wasm_bindgen_test::wasm_bindgen_test;
use yew::Reducible;

fn start() -> Rc<Playground> {
    Rc::new(Playground::start(1, DEFAULT_EXAMPLE.to_string()))
}

/// Ticks of 100 ms until `done` holds (at most a virtual minute).
fn tick_until(mut p: Rc<Playground>, done: impl Fn(&Playground) -> bool) -> Rc<Playground> {
    for _ in 0..600 {
        if done(&p) {
            return p;
        }
        p = p.reduce(Action::Tick(100));
    }
    panic!("not reached within a virtual minute");
}

fn running(p: &Playground) -> usize {
    p.view.nodes.iter().flat_map(|n| n.pods.iter()).filter(|pod| pod.phase == "Running").count()
}

#[wasm_bindgen_test]
fn a_paused_tick_is_the_same_state() {
    let p = start().reduce(Action::TogglePlay);
    let after = Rc::clone(&p).reduce(Action::Tick(100));
    assert!(Rc::ptr_eq(&p, &after));
}

#[wasm_bindgen_test]
fn once_settled_a_tick_moves_only_the_clock() {
    let p = tick_until(start(), |p| running(p) == 3);
    // Let the last events settle: then nothing happens for a while.
    let p = (0..50).fold(p, |p, _| p.reduce(Action::Tick(100)));
    let after = Rc::clone(&p).reduce(Action::Tick(100));
    assert!(!Rc::ptr_eq(&p, &after), "the clock moved");
    assert_eq!(after.time_ms, p.time_ms + 100);
    assert!(Rc::ptr_eq(&p.view, &after.view), "an idle tick does not rebuild the view");
    let tiny = Rc::clone(&after).reduce(Action::Tick(10));
    let tinier = Rc::clone(&tiny).reduce(Action::Tick(10));
    assert!(Rc::ptr_eq(&tiny, &tinier) || tiny.time_ms / 100 != tinier.time_ms / 100, "no new state until the shown clock changes");
}

#[wasm_bindgen_test]
fn a_rebuilt_view_keeps_what_did_not_change() {
    let p = tick_until(start(), |p| running(p) == 3);
    let p = (0..50).fold(p, |p, _| p.reduce(Action::Tick(100)));
    let before = Rc::clone(&p.view);
    let p = p.reduce(Action::Run("kubectl scale deployment web --replicas=4".into()));
    assert!(!Rc::ptr_eq(&before, &p.view), "a new Pod rebuilds the view");
    let old: Vec<_> = before.nodes.iter().flat_map(|n| n.pods.iter().cloned()).collect();
    for pod in &old {
        let kept = p.view.nodes.iter().flat_map(|n| n.pods.iter()).chain(p.view.unscheduled.iter()).find(|q| q.uid == pod.uid);
        assert!(kept.is_some_and(|q| Rc::ptr_eq(q, pod)), "{} was rebuilt although it did not change", pod.name);
    }
    let control_plane = |v: &kubeplay_web::view::View| v.nodes.iter().find(|n| n.name == "control-plane").cloned();
    assert!(Rc::ptr_eq(&control_plane(&before).expect("node"), &control_plane(&p.view).expect("node")), "an untouched node is reused");
}
