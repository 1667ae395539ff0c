//! A playground session as data: the files it started from, the seed, and every action with
//! the virtual time and work count at which it happened. Determinism makes this the whole
//! state: opening it replays the same run, so no cluster state is ever stored.
//!
//! The same [`Workspace`] is a share link ([`link`]: versioned, deflated against a preset
//! dictionary, URL-safe base64, for the URL fragment), a readable `.kubeplay.json` file, and
//! the playground's autosave.

pub mod deflate;
pub mod link;
pub mod script;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format version written by this kubeplay; every older one keeps decoding.
pub const VERSION: u32 = 1;
/// The buffer the playground's editor is known by (`kubectl apply -f playground.yaml`).
pub const EDITOR_FILE: &str = "playground.yaml";

/// Limits on untrusted input (links and uploaded files).
pub const MAX_FILES: usize = 100;
pub const MAX_STEPS: usize = 20_000;
/// A year of virtual time: replaying further would take too long to be a playground.
pub const MAX_VIRTUAL_MS: u64 = 366 * 24 * 3_600_000;
/// Simulation work a replay may take (a few seconds in a browser); hosts stop a replay that
/// goes past it even when the steps claimed less.
pub const MAX_WORK: u64 = 5_000_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// The format version ([`VERSION`]).
    pub kubeplay: u32,
    pub seed: u64,
    /// The files the cluster started from (name → text); the playground's is
    /// [`EDITOR_FILE`], applied when the session starts.
    pub files: BTreeMap<String, String>,
    /// What happened after the start, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// The editor's text when it differs from what was last applied (unsaved work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
    /// Where the clock stood: the session opens here.
    #[serde(default)]
    pub open: Position,
    #[serde(default)]
    pub view: ViewSettings,
}

/// A moment of a run: the virtual clock and the simulation work done by then (the work count
/// pins down a moment the clock alone cannot, when a frame's budget ran out mid-instant).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Virtual milliseconds since the cluster started.
    pub at: u64,
    pub work: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    #[serde(flatten)]
    pub position: Position,
    #[serde(flatten)]
    pub action: Action,
}

/// What the user did: the playground's actions that change the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Apply pressed with this editor text (`kubectl apply -f playground.yaml`, or saving an
    /// open `kubectl edit`).
    Apply(String),
    /// Diff pressed with this editor text.
    Diff(String),
    /// A console line.
    Run(String),
    /// A command from the playground's buttons (at the console's own prompt).
    Detached(String),
    /// Leaving an open `kubectl edit` without saving.
    CancelEdit(bool),
}

/// How the playground was being looked at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewSettings {
    pub playing: bool,
    /// Virtual milliseconds per wall millisecond (1–100).
    pub speed: u32,
    /// The Pod whose details were open (its uid: replay makes the same uids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings { playing: true, speed: 1, selected: None }
    }
}

impl Workspace {
    /// A fresh session of `text` in the editor.
    pub fn new(seed: u64, text: &str) -> Workspace {
        Workspace {
            kubeplay: VERSION,
            seed,
            files: BTreeMap::from([(EDITOR_FILE.to_string(), text.to_string())]),
            steps: Vec::new(),
            editor: None,
            open: Position::default(),
            view: ViewSettings::default(),
        }
    }

    /// The editor's text as the session left it.
    pub fn editor_text(&self) -> &str {
        if let Some(text) = &self.editor {
            return text;
        }
        let applied = self.steps.iter().rev().find_map(|s| match &s.action {
            Action::Apply(text) | Action::Diff(text) => Some(text.as_str()),
            _ => None,
        });
        applied.or_else(|| self.files.get(EDITOR_FILE).map(String::as_str)).unwrap_or_default()
    }

    /// Checks what a link or file could get wrong; the message says what.
    pub fn validate(&self) -> Result<(), String> {
        if self.kubeplay > VERSION {
            return Err(format!("it was made by a newer kubeplay (format {}; this one reads up to {VERSION})", self.kubeplay));
        }
        if self.kubeplay == 0 {
            return Err("its format version is 0".into());
        }
        if !self.files.contains_key(EDITOR_FILE) {
            return Err(format!("it has no {EDITOR_FILE}"));
        }
        if self.files.len() > MAX_FILES {
            return Err(format!("it has {} files (at most {MAX_FILES})", self.files.len()));
        }
        if self.files.keys().any(|name| name.is_empty() || name.len() > 255) {
            return Err("a file name is empty or too long".into());
        }
        if self.steps.len() > MAX_STEPS {
            return Err(format!("it has {} steps (at most {MAX_STEPS})", self.steps.len()));
        }
        let mut last = Position::default();
        for (i, step) in self.steps.iter().chain([&Step { position: self.open, action: Action::CancelEdit(false) }]).enumerate() {
            let p = step.position;
            if p.at < last.at || p.work < last.work {
                return Err(format!("step {} goes back in time", i + 1));
            }
            if p.at > MAX_VIRTUAL_MS {
                return Err("it runs for more than a year of virtual time".into());
            }
            if p.work > MAX_WORK {
                return Err(format!("it would replay more than {MAX_WORK} steps of simulation work"));
            }
            last = p;
        }
        if !(1..=100).contains(&self.view.speed) {
            return Err(format!("speed {} is not between 1 and 100", self.view.speed));
        }
        Ok(())
    }

    /// The readable file (`.kubeplay.json`): the same content as a link.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a `.kubeplay.json` file, checked as a link is.
    pub fn from_json(text: &str) -> Result<Workspace, String> {
        if text.len() > link::MAX_JSON_BYTES {
            return Err(format!("the file is larger than {} MB", link::MAX_JSON_BYTES >> 20));
        }
        let workspace: Workspace = serde_json::from_str(text).map_err(|e| format!("it is not a kubeplay workspace: {e}"))?;
        workspace.validate()?;
        Ok(workspace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_as_one_object_each() {
        let mut w = Workspace::new(7, "kind: Pod\n");
        w.steps.push(Step { position: Position { at: 1500, work: 12 }, action: Action::Run("kubectl get pods".into()) });
        w.steps.push(Step { position: Position { at: 2000, work: 20 }, action: Action::CancelEdit(true) });
        w.open = Position { at: 2500, work: 21 };
        let json = serde_json::to_string(&w).unwrap_or_default();
        assert!(json.contains(r#"{"at":1500,"work":12,"run":"kubectl get pods"}"#), "{json}");
        assert_eq!(Workspace::from_json(&w.to_json()), Ok(w));
    }

    #[test]
    fn validation_names_the_problem() {
        let mut w = Workspace::new(1, "");
        w.kubeplay = 9;
        assert_eq!(w.validate(), Err("it was made by a newer kubeplay (format 9; this one reads up to 1)".into()));
        let mut w = Workspace::new(1, "");
        w.steps.push(Step { position: Position { at: 10, work: 5 }, action: Action::Run("a".into()) });
        w.steps.push(Step { position: Position { at: 5, work: 6 }, action: Action::Run("b".into()) });
        assert_eq!(w.validate(), Err("step 2 goes back in time".into()));
        let mut w = Workspace::new(1, "");
        w.files.clear();
        assert_eq!(w.validate(), Err("it has no playground.yaml".into()));
        assert!(Workspace::from_json(r#"{"kubeplay":1,"seed":1,"files":{},"extra":1}"#).is_err());
    }

    #[test]
    fn the_editor_text_is_the_last_applied_unless_unsaved() {
        let mut w = Workspace::new(1, "one");
        assert_eq!(w.editor_text(), "one");
        w.steps.push(Step { position: Position::default(), action: Action::Apply("two".into()) });
        assert_eq!(w.editor_text(), "two");
        w.editor = Some("three".into());
        assert_eq!(w.editor_text(), "three");
    }
}
