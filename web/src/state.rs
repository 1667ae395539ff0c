//! The playground's state and the only place the simulation is mutated: `reduce`.
//! Components reach it through the [`Dispatch`] context and dispatch [`Action`]s.

use std::cell::RefCell;
use std::rc::Rc;

use kubeplay_core::diag::Diagnostic;
use kubeplay_core::kubectl::edit::Edit;
use kubeplay_core::share::{self, Position, Step, Workspace};
use kubeplay_core::time::{SimDuration, SimTime};
use kubeplay_core::{manifest, Cluster, Session};
use yew::{Reducible, UseReducerDispatcher};

use crate::detail::{self, PodDetail};
use crate::traffic_view::{self, TrafficView};
use crate::view::{self, View};

/// The buffer name the editor's text is known by to `kubectl apply -f`.
pub const EDITOR_FILE: &str = share::EDITOR_FILE;
pub const DEFAULT_EXAMPLE: &str = include_str!("../../examples/web.yaml");
pub const DEFAULT_SEED: u64 = 1;
/// Simulation work between checks of the frame budget.
const WORK_CHUNK: u64 = 500;
/// Wall milliseconds of simulation per tick at most, so input stays responsive: when a big
/// cluster has more to do, the virtual clock runs slower instead of the page freezing.
const FRAME_BUDGET_MS: f64 = 25.0;

/// How components act on the playground: shared through a context, the same for the whole
/// session, so no component gets new callbacks because its parent rendered.
pub type Dispatch = UseReducerDispatcher<Playground>;

#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleEntry {
    /// The prompt it was typed at: `$ `, or an attached container shell's (`/ # `).
    pub prompt: String,
    pub command: String,
    pub output: String,
    pub ok: bool,
}

pub struct Playground {
    session: Rc<RefCell<Session>>,
    pub view: Rc<View>,
    /// Virtual time shown on the clock; moves every tick, while `view` is rebuilt only when
    /// the cluster changed (ages are computed from this while rendering).
    pub time_ms: u64,
    pub editor: String,
    pub diagnostics: Rc<Vec<Diagnostic>>,
    pub playing: bool,
    /// Virtual milliseconds per wall millisecond.
    pub speed: u32,
    pub console: Rc<Vec<ConsoleEntry>>,
    /// What the console's input line prompts with now.
    pub prompt: String,
    /// The namespace console commands act in (the kubeconfig context's).
    pub namespace: String,
    /// The Pod whose details are open (its uid), and those details.
    pub selected: Option<String>,
    pub detail: Option<Rc<PodDetail>>,
    pub seed: u64,
    /// The traffic sources and requests in flight (rebuilt alone when only traffic moved).
    pub traffic: Rc<TrafficView>,
    /// A `kubectl edit` in the editor, and the manifests it replaced there.
    pub editing: Option<Rc<(Edit, String)>>,
    /// The session as data (what a share link, a file and the autosave hold): the text the
    /// cluster started from and every action since, each at its position.
    pub origin: Rc<String>,
    pub steps: Rc<Vec<Step>>,
    /// A message above the panes (a link that could not be opened, a kept workspace, …).
    pub notice: Option<Rc<Notice>>,
    /// The Share panel, when open.
    pub share: Option<Rc<ShareInfo>>,
    /// An embedded playground the page shows but the reader may not change.
    pub readonly: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// `data-testid` of the message (`link-error`, `storage-error`, `kept-workspace`).
    pub testid: &'static str,
    pub text: String,
    /// Offer to restore the workspace the opened link set aside.
    pub restore: bool,
}

/// What the Share panel shows, computed when it opens.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareInfo {
    pub link: String,
    pub json: String,
    pub script: String,
    pub manifests: String,
}

pub enum Action {
    /// The editor's text changed (every keystroke: cheap).
    Edit(String),
    /// Re-check the editor's text for diagnostics (debounced by the editor).
    Check,
    Apply,
    /// Wall-clock milliseconds since the last tick.
    Tick(u32),
    TogglePlay,
    SetSpeed(u32),
    Run(String),
    /// A command from the playground's buttons: run at the console's own prompt even while a
    /// container shell is attached.
    RunDetached(String),
    Reset,
    /// Open a Pod's details (its uid), or close them.
    Select(Option<String>),
    /// `kubectl diff -f` of the editor's manifests against the cluster.
    Diff,
    /// Leave a `kubectl edit` without saving.
    CancelEdit,
    /// Replace the session with a shared or saved one (already replayed).
    Open(Rc<Playground>),
    /// Show a message above the panes, or clear it.
    Notify(Option<Notice>),
    /// Open the Share panel for the page at this address (without its fragment), or close it.
    Share(Option<String>),
}

impl PartialEq for Playground {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.view, &other.view)
            && self.time_ms == other.time_ms
            && self.editor == other.editor
            && Rc::ptr_eq(&self.diagnostics, &other.diagnostics)
            && self.playing == other.playing
            && self.speed == other.speed
            && Rc::ptr_eq(&self.console, &other.console)
            && self.prompt == other.prompt
            && self.namespace == other.namespace
            && self.selected == other.selected
            && self.detail == other.detail
            && Rc::ptr_eq(&self.traffic, &other.traffic)
            && self.editing == other.editing
            && Rc::ptr_eq(&self.steps, &other.steps)
            && self.notice == other.notice
            && self.share == other.share
            && self.readonly == other.readonly
    }
}

impl Playground {
    /// A fresh cluster with the editor's manifests applied, as `kubectl apply -f` would.
    pub fn start(seed: u64, editor: String) -> Playground {
        let editor_origin = editor.clone();
        let parsed = manifest::parse(EDITOR_FILE, &editor);
        let cluster = Cluster::for_manifests(seed, [(EDITOR_FILE, editor.as_str())]);
        let mut session = Session::new(cluster);
        session.files.insert(EDITOR_FILE.into(), editor.clone());
        let command = format!("kubectl apply -f {EDITOR_FILE}");
        let out = session.exec(&command);
        let view = Rc::new(view::build(&session.cluster, &View::default()));
        let time_ms = session.cluster.now().ms();
        let traffic = Rc::new(traffic_view::build(&session.cluster));
        Playground {
            session: Rc::new(RefCell::new(session)),
            view,
            time_ms,
            editor,
            diagnostics: Rc::new(parsed.diagnostics),
            playing: true,
            speed: 1,
            console: Rc::new(vec![ConsoleEntry { prompt: "$ ".into(), command, output: out.text, ok: out.ok }]),
            prompt: "$ ".into(),
            namespace: "default".into(),
            selected: None,
            detail: None,
            seed,
            traffic,
            editing: None,
            origin: Rc::new(editor_origin),
            steps: Rc::new(Vec::new()),
            notice: None,
            share: None,
            readonly: false,
        }
    }

    /// Replays a shared or saved session: the same cluster, console and clock as when it was
    /// shared. Refuses (with the reason) rather than open half of one.
    pub fn open(workspace: &Workspace) -> Result<Playground, String> {
        workspace.validate()?;
        let origin = workspace.files.get(EDITOR_FILE).cloned().unwrap_or_default();
        let mut p = Playground::start(workspace.seed, origin);
        {
            let mut session = p.session.borrow_mut();
            for (name, text) in workspace.files.iter().filter(|(n, _)| n.as_str() != EDITOR_FILE) {
                session.files.insert(name.clone(), text.clone());
            }
        }
        for step in &workspace.steps {
            p.session.borrow_mut().cluster.replay_to(SimTime(step.position.at), step.position.work);
            p.poll_watch();
            if let share::Action::Apply(text) | share::Action::Diff(text) = &step.action {
                p.editor = text.clone();
            }
            p.perform(&step.action);
            if p.session.borrow().cluster.position().1 > share::MAX_WORK {
                return Err(format!("it replays more than {} steps of simulation work", share::MAX_WORK));
            }
        }
        p.session.borrow_mut().cluster.replay_to(SimTime(workspace.open.at), workspace.open.work);
        p.poll_watch();
        p.editor = workspace.editor_text().to_string();
        p.diagnostics = Rc::new(manifest::parse(EDITOR_FILE, &p.editor).diagnostics);
        p.playing = workspace.view.playing;
        p.speed = workspace.view.speed.clamp(1, 100);
        p.selected = workspace.view.selected.clone();
        p.refresh();
        Ok(p)
    }

    /// The session as data, at this moment.
    pub fn workspace(&self) -> Workspace {
        let mut w = Workspace::new(self.seed, &self.origin);
        w.files.extend(self.session.borrow().files.iter().filter(|(n, _)| n.as_str() != EDITOR_FILE).map(|(n, t)| (n.clone(), t.clone())));
        w.steps = (*self.steps).clone();
        let (at, work) = self.session.borrow().cluster.position();
        w.open = Position { at: at.ms(), work };
        // An open `kubectl edit` is not saved in the workspace: the manifests it set aside are.
        let editor = self.editing.as_ref().map_or(&self.editor, |e| &e.1);
        if editor != w.editor_text() {
            w.editor = Some(editor.clone());
        }
        w.view = share::ViewSettings { playing: self.playing, speed: self.speed, selected: self.selected.clone() };
        w
    }

    /// Does what a recorded action does, and records it at the cluster's position now.
    fn perform(&mut self, action: &share::Action) {
        let (at, work) = self.session.borrow().cluster.position();
        let mut steps = (*self.steps).clone();
        steps.push(Step { position: Position { at: at.ms(), work }, action: action.clone() });
        self.steps = Rc::new(steps);
        match action {
            share::Action::Apply(_) => self.apply(),
            share::Action::Diff(_) => {
                self.session.borrow_mut().files.insert(EDITOR_FILE.into(), self.editor.clone());
                self.run(&format!("kubectl diff -f {EDITOR_FILE}"));
            }
            share::Action::Run(command) => self.run(command),
            share::Action::Detached(command) => self.run_detached(command),
            share::Action::CancelEdit(_) => self.cancel_edit(),
        }
    }

    fn apply(&mut self) {
        // Saving a `kubectl edit` patches what changed, then the manifests come back.
        if let Some(editing) = self.editing.take() {
            let (edit, manifests) = &*editing;
            let out = self.session.borrow_mut().edit_save(edit, &self.editor);
            self.editor = manifests.clone();
            self.record("$ ".into(), &format!("(save) kubectl edit {}", edit.label), out);
            return;
        }
        self.session.borrow_mut().files.insert(EDITOR_FILE.into(), self.editor.clone());
        self.diagnostics = Rc::new(manifest::parse(EDITOR_FILE, &self.editor).diagnostics);
        self.run(&format!("kubectl apply -f {EDITOR_FILE}"));
    }

    fn cancel_edit(&mut self) {
        if let Some(editing) = self.editing.take() {
            self.editor = editing.1.clone();
            self.record(
                "$ ".into(),
                &format!("(cancel) kubectl edit {}", editing.0.label),
                kubeplay_core::kubectl::Output::ok("Edit cancelled, no changes made.\n"),
            );
        }
    }

    /// Rows an open `kubectl get -w` printed as time passed, under its command.
    fn poll_watch(&mut self) {
        let rows = self.session.borrow_mut().poll_watch();
        self.append_watch_rows(&rows);
    }

    fn append_watch_rows(&mut self, rows: &str) {
        if rows.is_empty() {
            return;
        }
        let mut console = (*self.console).clone();
        if let Some(last) = console.last_mut() {
            last.output.push_str(rows);
        }
        self.console = Rc::new(console);
    }

    fn with(self: &Rc<Self>, f: impl FnOnce(&mut Playground)) -> Rc<Self> {
        let mut next = Playground {
            session: self.session.clone(),
            view: self.view.clone(),
            time_ms: self.time_ms,
            editor: self.editor.clone(),
            diagnostics: self.diagnostics.clone(),
            playing: self.playing,
            speed: self.speed,
            console: self.console.clone(),
            prompt: self.prompt.clone(),
            namespace: self.namespace.clone(),
            selected: self.selected.clone(),
            detail: self.detail.clone(),
            seed: self.seed,
            traffic: self.traffic.clone(),
            editing: self.editing.clone(),
            origin: self.origin.clone(),
            steps: self.steps.clone(),
            notice: self.notice.clone(),
            share: self.share.clone(),
            readonly: self.readonly,
        };
        f(&mut next);
        Rc::new(next)
    }

    fn refresh(&mut self) {
        let shared = Rc::clone(&self.session);
        let session = shared.borrow();
        self.view = Rc::new(view::build(&session.cluster, &self.view));
        self.time_ms = session.cluster.now().ms();
        let detail = self.selected.as_deref().and_then(|uid| detail::build(&session.cluster, uid));
        if detail.as_ref() != self.detail.as_deref() {
            self.detail = detail.map(Rc::new);
        }
        self.refresh_traffic(&session.cluster);
    }

    fn refresh_traffic(&mut self, cluster: &Cluster) {
        let traffic = traffic_view::build(cluster);
        if traffic != *self.traffic {
            self.traffic = Rc::new(traffic);
        }
    }

    /// Lets `d` of virtual time pass within the frame budget; false if the budget ran out
    /// first (the clock then stands where the work stopped, and catches up on later ticks).
    fn advance_within_budget(&self, d: SimDuration) -> bool {
        let started = js_sys::Date::now();
        let mut session = self.session.borrow_mut();
        let until = session.cluster.now().plus(d);
        loop {
            let left = until.since(session.cluster.now());
            if session.cluster.advance_at_most(left, WORK_CHUNK) {
                return true;
            }
            if js_sys::Date::now() - started > FRAME_BUDGET_MS {
                return false;
            }
        }
    }

    fn run_detached(&mut self, command: &str) {
        let out = self.session.borrow_mut().exec_detached(command);
        self.record("$ ".into(), command, out);
    }

    fn run(&mut self, command: &str) {
        // `kubectl edit` opens the object in the editor; Apply saves it.
        let opened = self.session.borrow_mut().edit_open(command);
        if let Some(opened) = opened {
            let out = match opened {
                Ok(edit) => {
                    let note = format!("Editing {} in the editor: Save sends what you changed; Cancel leaves it as it is.\n", edit.label);
                    let manifests = match self.editing.take() {
                        Some(previous) => previous.1.clone(),
                        None => self.editor.clone(),
                    };
                    self.editor = edit.text.clone();
                    self.editing = Some(Rc::new((edit, manifests)));
                    kubeplay_core::kubectl::Output::ok(note)
                }
                Err(out) => out,
            };
            self.record("$ ".into(), command, out);
            return;
        }
        let prompt = self.session.borrow().prompt();
        let out = self.session.borrow_mut().exec(command);
        self.record(prompt, command, out);
    }

    /// Adds a command and its output to the console, and refreshes the view.
    fn record(&mut self, prompt: String, command: &str, out: kubeplay_core::kubectl::Output) {
        self.prompt = self.session.borrow().prompt();
        self.namespace = self.session.borrow().namespace().to_string();
        let mut console = (*self.console).clone();
        console.push(ConsoleEntry { prompt, command: command.to_string(), output: out.text, ok: out.ok });
        if console.len() > 200 {
            console.drain(..console.len() - 200);
        }
        self.console = Rc::new(console);
        self.refresh();
    }
}

impl Reducible for Playground {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let changes_cluster =
            matches!(action, Action::Apply | Action::Diff | Action::CancelEdit | Action::Run(_) | Action::RunDetached(_) | Action::Reset);
        if self.readonly && changes_cluster {
            return self;
        }
        match action {
            Action::Edit(text) => self.with(|p| p.editor = text),
            Action::Check => self.with(|p| p.diagnostics = Rc::new(manifest::parse(EDITOR_FILE, &p.editor).diagnostics)),
            Action::Apply => self.with(|p| {
                let text = p.editor.clone();
                p.perform(&share::Action::Apply(text));
            }),
            Action::Diff => self.with(|p| {
                let text = p.editor.clone();
                p.perform(&share::Action::Diff(text));
            }),
            Action::CancelEdit => self.with(|p| {
                if p.editing.is_some() {
                    p.perform(&share::Action::CancelEdit(true));
                }
            }),
            Action::Tick(wall_ms) => {
                if !self.playing {
                    return self; // Same Rc: yew skips the re-render.
                }
                let (before, processed_before, traffic_before) = {
                    let cluster = &self.session.borrow().cluster;
                    (cluster.now(), cluster.processed(), cluster.traffic().revision())
                };
                self.advance_within_budget(SimDuration(u64::from(wall_ms) * u64::from(self.speed)));
                let (now, processed, traffic) = {
                    let cluster = &self.session.borrow().cluster;
                    (cluster.now(), cluster.processed(), cluster.traffic().revision())
                };
                // An open `kubectl get -w` prints as time passes, under its command.
                let rows = self.session.borrow_mut().poll_watch();
                if !rows.is_empty() {
                    return self.with(|p| {
                        p.append_watch_rows(&rows);
                        p.refresh();
                    });
                }
                if processed != processed_before {
                    self.with(Playground::refresh)
                } else if traffic != traffic_before || !self.traffic.dots.is_empty() {
                    // Only requests moved: the traffic view alone.
                    self.with(|p| {
                        p.time_ms = now.ms();
                        let session = p.session.clone();
                        p.refresh_traffic(&session.borrow().cluster);
                    })
                } else if now.ms() / 100 != before.ms() / 100 {
                    self.with(|p| p.time_ms = now.ms()) // Only the clock moved.
                } else {
                    self
                }
            }
            Action::TogglePlay => self.with(|p| p.playing = !p.playing),
            Action::SetSpeed(s) => self.with(|p| p.speed = s.clamp(1, 100)),
            Action::Run(command) => self.with(|p| p.perform(&share::Action::Run(command.trim().to_string()))),
            Action::RunDetached(command) => self.with(|p| p.perform(&share::Action::Detached(command.trim().to_string()))),
            Action::Reset => {
                let mut fresh = Playground::start(self.seed, self.editor.clone());
                fresh.notice = self.notice.clone();
                Rc::new(fresh)
            }
            Action::Open(opened) => opened,
            Action::Notify(notice) => self.with(|p| p.notice = notice.map(Rc::new)),
            Action::Share(None) => self.with(|p| p.share = None),
            Action::Share(Some(page)) => self.with(|p| {
                let w = p.workspace();
                p.share = Some(Rc::new(ShareInfo {
                    link: format!("{page}{}", share::link::fragment(&w)),
                    json: w.to_json(),
                    script: share::script::kubectl_script(&w),
                    manifests: w.editor_text().to_string(),
                }));
            }),
            Action::Select(uid) => self.with(|p| {
                p.selected = uid;
                p.refresh();
            }),
        }
    }
}
