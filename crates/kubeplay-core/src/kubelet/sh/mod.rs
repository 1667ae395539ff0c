//! The container shell: what `sh -c '…'` does inside a simulated container, and what
//! `kubectl exec` and exec probes run. A script is parsed (`parse.rs`), compiled to a flat
//! list of operations with jumps (`compile.rs`), and run by a machine that can stop at any
//! `sleep` and resume when virtual time has passed — the container's process is this
//! machine. Utilities (`echo`, `cat`, `test`, …) live in `utils.rs`.
//!
//! Time passes only in `sleep` (and `wait` for background jobs); everything else is
//! instant. A loop that never sleeps is cut off after `BUDGET` operations and counts as a
//! busy process that runs until it is stopped. PID 1 has no default signal handlers: a
//! shell without a `trap` ignores SIGTERM and is killed when the grace period ends, and a
//! trap waits for a foreground `sleep` to finish (`sleep 3600 & wait` lets it run at once)
//! — both as on a real node.

mod arith;
mod compile;
mod files;

mod net_tools;
mod parse;
mod regex;
mod text;
mod utils;

use std::collections::BTreeMap;
use std::rc::Rc;

pub use crate::network::{Net, NoNet, Reply, Resolved};
pub use utils::is_utility;

use compile::Op;
use parse::{Part, Redir, RedirOp, Simple, Word};

use crate::time::{SimDuration, SimTime};

/// A container's files: path → contents. A directory is a key ending in `/`.
pub type Files = BTreeMap<String, String>;

/// Operations one `run` may take before the process counts as busy (a loop with no sleep).
const BUDGET: u32 = 20_000;
/// Output kept by one run: a busy loop printing must not exhaust memory.
const MAX_OUTPUT: usize = 1 << 20;
/// `$(…)` inside `$(…)` inside …: refused past this depth.
const MAX_SUBSTITUTION_DEPTH: u32 = 8;

/// A compiled script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    ops: Rc<[Op]>,
}

impl Script {
    /// `sh -c SOURCE`: a syntax error is the script printing it and exiting 2, as sh does.
    pub fn parse(source: &str) -> Script {
        let ops = match parse::parse(source) {
            Ok(node) => compile::compile(&node),
            Err(message) => compile::syntax_error(message),
        };
        Script { ops: ops.into() }
    }

    /// One command with its words as given (a container's command that is not a shell).
    pub fn command(words: &[String]) -> Script {
        let simple = Simple { words: words.iter().map(|w| Word::plain(w)).collect(), ..Default::default() };
        Script { ops: compile::compile(&parse::Node::Simple(simple)).into() }
    }
}

/// What the process does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Sleeping: resume after this long.
    Sleep(SimDuration),
    /// Running until it is stopped (a server, `tail -f`, `wait` on one, a busy loop).
    Forever,
    /// The process exited with this code.
    Exited(i32),
}

/// What SIGTERM does to the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnTerm {
    /// No handler (PID 1): it runs on until SIGKILL.
    Ignored,
    /// A trap will run when the foreground `sleep` ends: call `run` when it wakes.
    Deferred,
    /// The trap ran; the process goes on as this says.
    Handled(Run),
    /// The shell `exec`ed a program that takes the signal's default action.
    Default,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Blocked {
    /// In a foreground `sleep` (an external process: signals wait for it).
    Sleep,
    /// In the `wait` builtin (signals interrupt it).
    Wait,
    /// In something that never returns: `tail -f`, a busy loop.
    Forever,
    /// Running a server in the foreground (`nginx -g 'daemon off;'`).
    Serving,
    /// Replaced by a program with `exec`.
    Replaced,
    Exited(i32),
}

/// Where a descriptor writes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sink {
    /// The container's log (stdout and stderr both reach `kubectl logs`).
    Log,
    File(String),
    Null,
    /// Collected for `$(…)` or the next command of a pipeline.
    Capture,
}

/// A running shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shell {
    ops: Rc<[Op]>,
    pc: usize,
    status: i32,
    vars: BTreeMap<String, String>,
    /// `$0`, `$1`, …
    args: Vec<String>,
    /// `for` loops in progress: the words left and the next index.
    loops: Vec<(Vec<String>, usize)>,
    traps: BTreeMap<String, String>,
    pending_term: bool,
    /// Background jobs: when each ends (None: never).
    jobs: Vec<Option<SimTime>>,
    /// Descriptors 1 and 2, one frame per active redirection.
    sinks: Vec<[Sink; 2]>,
    capture: String,
    log: String,
    /// Complete lines printed since they were last collected.
    pub output: Vec<String>,
    pub files: Rc<Files>,
    blocked: Option<Blocked>,
    now: SimTime,
    depth: u32,
    /// The first command run that kubeplay does not model (it succeeded silently).
    pub unmodelled: Option<String>,
    random: u64,
    /// The status of the last `$(…)` of the command being expanded.
    substituted: Option<i32>,
    /// Programs this shell has told to stop.
    stopped: std::collections::BTreeSet<String>,
    /// Everything written to the terminal, as written (for `exec`).
    raw: Option<String>,
    /// `set -e`: a failing command outside a condition ends the script.
    pub errexit: bool,
    /// `set -x`: each command is printed to stderr, `+ ` first, before it runs.
    pub xtrace: bool,
}

impl Shell {
    pub fn start(script: &Script, args: Vec<String>, env: &BTreeMap<String, String>, files: Rc<Files>) -> Shell {
        let mut vars = env.clone();
        vars.entry("PATH".into()).or_insert_with(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
        vars.entry("HOME".into()).or_insert_with(|| "/root".into());
        vars.entry("PWD".into()).or_insert_with(|| "/".into());
        Shell {
            ops: script.ops.clone(),
            pc: 0,
            status: 0,
            vars,
            args: if args.is_empty() { vec!["sh".into()] } else { args },
            loops: Vec::new(),
            traps: BTreeMap::new(),
            pending_term: false,
            jobs: Vec::new(),
            sinks: vec![[Sink::Log, Sink::Log]],
            capture: String::new(),
            log: String::new(),
            output: Vec::new(),
            files,
            blocked: None,
            now: SimTime::ZERO,
            depth: 0,
            unmodelled: None,
            random: 0x2545_f491_4f6c_dd1d,
            errexit: false,
            xtrace: false,
            substituted: None,
            raw: None,
            stopped: Default::default(),
        }
    }

    /// Runs until the process sleeps, blocks for good or exits. `now` is the virtual time
    /// (for `date` and background jobs).
    pub fn run(&mut self, now: SimTime, net: &dyn Net) -> Run {
        self.now = now;
        match self.blocked.take() {
            Some(Blocked::Sleep) => self.status = 0,
            Some(Blocked::Wait) => {
                if let Some(run) = self.wait() {
                    return run;
                }
            }
            Some(b @ (Blocked::Forever | Blocked::Serving | Blocked::Replaced)) => {
                self.blocked = Some(b);
                return Run::Forever;
            }
            Some(Blocked::Exited(code)) => {
                self.blocked = Some(Blocked::Exited(code));
                return Run::Exited(code);
            }
            None => {}
        }
        if std::mem::take(&mut self.pending_term) {
            if let Some(run) = self.run_trap(net) {
                return run;
            }
        }
        let run = self.step_until_blocked(net);
        self.flush_log(matches!(run, Run::Exited(_)));
        run
    }

    /// Whether a server runs in the foreground (its container answers on its ports).
    pub fn serving(&self) -> bool {
        matches!(self.blocked, Some(Blocked::Serving | Blocked::Replaced))
    }

    /// SIGTERM arrives.
    pub fn terminate(&mut self, now: SimTime, net: &dyn Net) -> OnTerm {
        self.now = now;
        if matches!(self.blocked, Some(Blocked::Replaced)) {
            return OnTerm::Default;
        }
        let trapped = ["TERM", "SIGTERM", "15"].iter().any(|s| self.traps.contains_key(*s));
        if !trapped {
            return OnTerm::Ignored;
        }
        match self.blocked {
            Some(Blocked::Sleep) => {
                self.pending_term = true;
                OnTerm::Deferred
            }
            Some(Blocked::Forever | Blocked::Serving) => OnTerm::Ignored,
            Some(Blocked::Exited(code)) => OnTerm::Handled(Run::Exited(code)),
            Some(Blocked::Wait) | Some(Blocked::Replaced) | None => {
                // `wait` returns 128+15 once the trap has run.
                self.blocked = None;
                self.status = 143;
                let run = match self.run_trap(net) {
                    Some(run) => run,
                    None => self.step_until_blocked(net),
                };
                self.flush_log(matches!(run, Run::Exited(_)));
                OnTerm::Handled(run)
            }
        }
    }

    /// Runs the TERM trap's action; `Some` when it ended the process.
    fn run_trap(&mut self, net: &dyn Net) -> Option<Run> {
        let action = ["TERM", "SIGTERM", "15"].iter().find_map(|s| self.traps.get(*s)).cloned()?;
        let script = Script::parse(&action);
        let saved = (std::mem::replace(&mut self.ops, script.ops), self.pc, self.status);
        self.pc = 0;
        let mut budget = BUDGET;
        let ended = loop {
            if budget == 0 || self.pc >= self.ops.len() {
                break None;
            }
            budget -= 1;
            match self.step(net) {
                Some(Run::Exited(code)) => break Some(Run::Exited(code)),
                // Time does not pass inside a trap here: its sleeps are skipped.
                Some(_) => self.blocked = None,
                None => {}
            }
        };
        self.ops = saved.0;
        self.pc = saved.1;
        self.status = saved.2;
        if let Some(Run::Exited(code)) = ended {
            self.blocked = Some(Blocked::Exited(code));
            self.flush_log(true);
        }
        ended
    }

    fn step_until_blocked(&mut self, net: &dyn Net) -> Run {
        let mut budget = BUDGET;
        while self.pc < self.ops.len() {
            if budget == 0 || self.log.len() + self.output.iter().map(String::len).sum::<usize>() > MAX_OUTPUT {
                // A loop that never sleeps: the process spins until it is stopped.
                self.blocked = Some(Blocked::Forever);
                return Run::Forever;
            }
            budget -= 1;
            if let Some(run) = self.step(net) {
                return run;
            }
        }
        self.blocked = Some(Blocked::Exited(self.status));
        Run::Exited(self.status)
    }

    /// One operation; `Some` when the process blocks or exits.
    fn step(&mut self, net: &dyn Net) -> Option<Run> {
        let op = self.ops.get(self.pc)?.clone();
        self.pc += 1;
        match op {
            Op::Simple { cmd, checked } => {
                let flow = self.simple(net, &cmd, None);
                self.settle(flow, checked)
            }
            Op::Pipeline { cmds, checked } => {
                let mut input: Option<String> = None;
                let mut blocked = None;
                for (n, cmd) in cmds.iter().enumerate() {
                    let last = n + 1 == cmds.len();
                    if !last {
                        self.sinks.push([Sink::Capture, self.sinks.last().map_or(Sink::Log, |s| s[1].clone())]);
                    }
                    let before = std::mem::take(&mut self.capture);
                    let flow = self.simple(net, cmd, input.take());
                    if !last {
                        self.sinks.pop();
                        input = Some(std::mem::replace(&mut self.capture, before));
                    } else {
                        self.capture = before + &self.capture;
                    }
                    match flow {
                        Flow::Status(s) => self.status = s,
                        other => blocked = Some(other),
                    }
                }
                match blocked {
                    Some(Flow::Exit(code)) => self.settle(Flow::Status(code), checked),
                    Some(flow) => self.settle(flow, checked),
                    None => self.settle(Flow::Status(self.status), checked),
                }
            }
            Op::Background(cmd) => {
                let end = match self.background_kind(net, &cmd) {
                    Some(d) => Some(self.now.plus(d)),
                    None => None,
                };
                self.jobs.push(end);
                self.vars.insert("!".into(), (self.jobs.len() + 1).to_string());
                self.status = 0;
                None
            }
            Op::Jump(to) => {
                self.pc = to;
                None
            }
            Op::JumpIfFail(to) => {
                if self.status != 0 {
                    self.pc = to;
                }
                None
            }
            Op::JumpIfOk(to) => {
                if self.status == 0 {
                    self.pc = to;
                }
                None
            }
            Op::Negate => {
                self.status = i32::from(self.status == 0);
                None
            }
            Op::SetStatus(s) => {
                self.status = s;
                None
            }
            Op::ForInit(words) => {
                let list = match &words {
                    Some(words) => words.iter().flat_map(|w| self.expand(net, w)).collect(),
                    None => self.args.iter().skip(1).cloned().collect(),
                };
                self.loops.push((list, 0));
                None
            }
            Op::ForNext { var, end } => {
                let next = self.loops.last_mut().and_then(|(list, i)| {
                    let word = list.get(*i).cloned();
                    *i += 1;
                    word
                });
                match next {
                    Some(word) => _ = self.vars.insert(var.to_string(), word),
                    None => self.pc = end,
                }
                None
            }
            Op::ForPop => {
                self.loops.pop();
                None
            }
            Op::PushRedirs(redirs) => {
                match self.open(net, &redirs) {
                    Ok(frame) => self.sinks.push(frame),
                    Err(message) => {
                        self.write(2, &message);
                        self.sinks.push(self.sinks.last().cloned().unwrap_or([Sink::Log, Sink::Log]));
                    }
                }
                None
            }
            Op::PopRedirs => {
                if self.sinks.len() > 1 {
                    self.sinks.pop();
                }
                None
            }
        }
    }

    /// What a finished command means for the script: its status, or a block.
    fn settle(&mut self, flow: Flow, checked: bool) -> Option<Run> {
        match flow {
            Flow::Status(s) => {
                self.status = s;
                if s != 0 && !checked && self.errexit {
                    self.blocked = Some(Blocked::Exited(s));
                    return Some(Run::Exited(s));
                }
                None
            }
            Flow::Sleep(d) => {
                self.blocked = Some(Blocked::Sleep);
                Some(Run::Sleep(d))
            }
            Flow::Wait => self.wait(),
            Flow::Forever => {
                self.blocked = Some(Blocked::Forever);
                Some(Run::Forever)
            }
            Flow::Serve => {
                self.blocked = Some(Blocked::Serving);
                Some(Run::Forever)
            }
            Flow::Replaced => {
                self.blocked = Some(Blocked::Replaced);
                Some(Run::Forever)
            }
            Flow::Exit(code) => {
                self.blocked = Some(Blocked::Exited(code));
                self.pc = self.ops.len();
                Some(Run::Exited(code))
            }
        }
    }

    /// `wait`: blocks until every background job has ended.
    fn wait(&mut self) -> Option<Run> {
        let now = self.now;
        self.jobs.retain(|end| end.is_none_or(|e| e > now));
        if self.jobs.is_empty() {
            self.status = 0;
            return None;
        }
        self.blocked = Some(Blocked::Wait);
        match self.jobs.iter().map(|e| e.map(|t| t.since(now))).collect::<Option<Vec<_>>>() {
            Some(left) => Some(Run::Sleep(left.into_iter().max().unwrap_or(SimDuration::ZERO))),
            None => Some(Run::Forever),
        }
    }

    /// How long a background command runs: `sleep N` for N, a utility not at all, anything
    /// else (a server) for ever (None).
    fn background_kind(&mut self, net: &dyn Net, cmd: &Simple) -> Option<SimDuration> {
        let words: Vec<String> = cmd.words.iter().flat_map(|w| self.expand(net, w)).collect();
        match words.first().map(|w| w.rsplit('/').next().unwrap_or(w)) {
            Some("sleep") => match utils::sleep_duration(&words[1..]) {
                Ok(Some(d)) => Some(d),
                Ok(None) => None,
                Err(_) => Some(SimDuration::ZERO),
            },
            Some(name) if utils::is_utility(name) => {
                let _ = self.simple(net, cmd, None);
                Some(SimDuration::ZERO)
            }
            _ => None,
        }
    }

    fn open(&mut self, net: &dyn Net, redirs: &[Redir]) -> Result<[Sink; 2], String> {
        let mut frame = self.sinks.last().cloned().unwrap_or([Sink::Log, Sink::Log]);
        for r in redirs {
            let target = self.expand(net, &r.target).join(" ");
            if r.op == RedirOp::In || r.fd > 2 || r.fd == 0 {
                continue;
            }
            let slot = usize::from(r.fd.max(1) - 1);
            frame[slot] = match r.op {
                RedirOp::Dup => match target.as_str() {
                    "1" => frame[0].clone(),
                    "2" => frame[1].clone(),
                    _ => continue,
                },
                _ => match target.as_str() {
                    "/dev/null" => Sink::Null,
                    "/dev/stdout" | "/proc/1/fd/1" | "/proc/self/fd/1" => Sink::Log,
                    "/dev/stderr" | "/proc/1/fd/2" | "/proc/self/fd/2" => Sink::Log,
                    path => {
                        if path.ends_with('/') || self.files.contains_key(&format!("{path}/")) {
                            return Err(format!("sh: can't create {path}: Is a directory\n"));
                        }
                        let files = Rc::make_mut(&mut self.files);
                        let file = files.entry(path.to_string()).or_default();
                        if r.op == RedirOp::Out {
                            file.clear();
                        }
                        Sink::File(path.to_string())
                    }
                },
            };
        }
        Ok(frame)
    }

    /// Writes to descriptor 1 or 2.
    fn write(&mut self, fd: u8, text: &str) {
        let sink = self.sinks.last().map_or(Sink::Log, |s| s[usize::from(fd.clamp(1, 2) - 1)].clone());
        match sink {
            Sink::Log => {
                self.log.push_str(text);
                if let Some(raw) = self.raw.as_mut() {
                    raw.push_str(text);
                }
            }
            Sink::Capture => self.capture.push_str(text),
            Sink::Null => {}
            Sink::File(path) => Rc::make_mut(&mut self.files).entry(path).or_default().push_str(text),
        }
        if self.log.contains('\n') {
            self.flush_log(false);
        }
    }

    /// Moves complete lines (and, at exit, the rest) to `output`.
    fn flush_log(&mut self, all: bool) {
        while let Some(i) = self.log.find('\n') {
            let line: String = self.log.drain(..=i).collect();
            self.output.push(line.trim_end_matches('\n').to_string());
        }
        if all && !self.log.is_empty() {
            self.output.push(std::mem::take(&mut self.log));
        }
    }

    /// Runs one simple command: assignments, expansion, redirections, then the command.
    fn simple(&mut self, net: &dyn Net, cmd: &Simple, stdin: Option<String>) -> Flow {
        let mut words = Vec::new();
        self.substituted = None;
        for w in &cmd.words {
            words.extend(self.expand(net, w));
        }
        let mut assigned = Vec::new();
        for (name, value) in &cmd.assigns {
            let value = self.expand(net, value).join(" ");
            assigned.push((name.clone(), value));
        }
        if self.xtrace {
            let shown: Vec<String> =
                assigned.iter().map(|(n, v)| format!("{n}={}", xtrace_quote(v))).chain(words.iter().map(|w| xtrace_quote(w))).collect();
            self.write(2, &format!("+ {}\n", shown.join(" ")));
        }
        if words.is_empty() {
            for (name, value) in assigned {
                self.vars.insert(name, value);
            }
            // The status of the last command substitution, else 0.
            return Flow::Status(self.substituted.unwrap_or(0));
        }
        let frame = match self.open(net, &cmd.redirs) {
            Ok(frame) => frame,
            Err(message) => {
                self.write(2, &message);
                return Flow::Status(1);
            }
        };
        let input = cmd
            .redirs
            .iter()
            .filter(|r| r.op == RedirOp::In && r.fd == 0)
            .map(|r| self.expand(net, &r.target).join(" "))
            .next_back()
            .map(|path| self.files.get(&path).cloned().ok_or(path));
        let stdin = match input {
            Some(Ok(text)) => Some(text),
            Some(Err(path)) => {
                self.write(2, &format!("sh: can't open '{path}': No such file or directory\n"));
                return Flow::Status(1);
            }
            None => stdin,
        };
        // `VAR=x cmd`: the variables are for that command only.
        let saved: Vec<(String, Option<String>)> =
            assigned.iter().map(|(n, v)| (n.clone(), self.vars.insert(n.clone(), v.clone()))).collect();
        self.sinks.push(frame);
        let flow = self.command(net, &words, stdin);
        self.sinks.pop();
        for (name, old) in saved {
            match old {
                Some(v) => _ = self.vars.insert(name, v),
                None => _ = self.vars.remove(&name),
            }
        }
        flow
    }

    /// Builtins that change the shell itself; everything else is a utility.
    fn command(&mut self, net: &dyn Net, words: &[String], stdin: Option<String>) -> Flow {
        let name = words[0].rsplit('/').next().unwrap_or(&words[0]).to_string();
        let args = &words[1..];
        match name.as_str() {
            "exit" => Flow::Exit(args.first().map_or(self.status, |a| a.parse().unwrap_or(2))),
            "sleep" => match utils::sleep_duration(args) {
                // Less than a millisecond passes without the process stopping.
                Ok(Some(d)) if d == SimDuration::ZERO => Flow::Status(0),
                Ok(Some(d)) => Flow::Sleep(d),
                Ok(None) => Flow::Forever,
                Err(message) => {
                    self.write(2, &message);
                    Flow::Status(1)
                }
            },
            "wait" => Flow::Wait,
            "trap" => {
                match args {
                    [] => {}
                    [action, signals @ ..] => {
                        for s in signals {
                            let s = s.trim_start_matches("SIG").to_string();
                            if action == "-" {
                                self.traps.remove(&s);
                            } else {
                                self.traps.insert(s, action.clone());
                            }
                        }
                    }
                }
                Flow::Status(0)
            }
            "export" | "readonly" | "local" => {
                for a in args {
                    if let Some((n, v)) = a.split_once('=') {
                        self.vars.insert(n.to_string(), v.to_string());
                    }
                }
                Flow::Status(0)
            }
            "unset" => {
                for a in args {
                    self.vars.remove(a);
                }
                Flow::Status(0)
            }
            "set" => {
                for a in args {
                    let on = a.starts_with('-');
                    if a.starts_with(['-', '+']) && a.contains('e') {
                        self.errexit = on;
                    }
                    if a.starts_with(['-', '+']) && a.contains('x') {
                        self.xtrace = on;
                    }
                }
                Flow::Status(0)
            }
            "shift" => {
                let n = args.first().and_then(|a| a.parse::<usize>().ok()).unwrap_or(1);
                if self.args.len() > n {
                    self.args.drain(1..=n);
                    Flow::Status(0)
                } else {
                    Flow::Status(1)
                }
            }
            "read" => {
                let line = stdin.as_deref().and_then(|s| s.lines().next()).map(str::to_string);
                let status = i32::from(line.is_none());
                let mut fields: Vec<String> = line.unwrap_or_default().split_whitespace().map(str::to_string).collect();
                let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
                for (k, n) in names.iter().enumerate() {
                    let value = if k + 1 == names.len() {
                        std::mem::take(&mut fields).join(" ")
                    } else if fields.is_empty() {
                        String::new()
                    } else {
                        fields.remove(0)
                    };
                    self.vars.insert((*n).clone(), value);
                }
                Flow::Status(status)
            }
            "cd" | "umask" | "ulimit" | "." | "source" | "kill" | "sync" => Flow::Status(0),
            "exec" if args.is_empty() => Flow::Status(0),
            "exec" => match self.command(net, args, stdin) {
                Flow::Status(s) => Flow::Exit(s),
                Flow::Serve => Flow::Replaced,
                other => other,
            },
            "tail" if args.iter().any(|a| matches!(a.as_str(), "-f" | "-F" | "--follow")) => Flow::Forever,
            // Signalling the container's programs: kubeplay keeps no process table, only which
            // programs this shell has stopped (`nginx -s quit`, then `while killall -0 nginx`).
            "nginx" if args.iter().any(|a| a == "-s") => {
                if args.iter().any(|a| a == "quit" || a == "stop") {
                    self.stopped.insert("nginx".into());
                }
                Flow::Status(0)
            }
            "killall" | "pkill" | "pidof" | "pgrep" => {
                let probe_only = name == "pidof" || name == "pgrep" || args.iter().any(|a| a == "-0");
                let targets: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
                if probe_only {
                    Flow::Status(i32::from(targets.iter().any(|t| self.stopped.contains(t.as_str()))))
                } else {
                    self.stopped.extend(targets.into_iter().cloned());
                    Flow::Status(0)
                }
            }
            _ if utils::is_server(&name, args) => Flow::Serve,
            _ => {
                let mut out = utils::Out::default();
                let ctx = utils::Ctx { vars: &self.vars, now: self.now, net };
                let status = utils::run(&name, args, stdin.as_deref(), Rc::make_mut(&mut self.files), &ctx, &mut out);
                if status.is_none() && self.unmodelled.is_none() {
                    self.unmodelled = Some(name.clone());
                }
                self.write(1, &out.stdout);
                self.write(2, &out.stderr);
                Flow::Status(status.unwrap_or(0))
            }
        }
    }

    /// A word's fields after parameter, command and arithmetic expansion and field splitting.
    fn expand(&mut self, net: &dyn Net, word: &Word) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut has_field = false;
        for part in &word.0 {
            let (text, quoted) = match part {
                Part::Lit { text, quoted } => (text.clone(), *quoted),
                Part::Param { name, op, quoted } => {
                    if (name == "@" || name == "*") && !*quoted {
                        for a in self.args.iter().skip(1) {
                            if has_field || !current.is_empty() {
                                fields.push(std::mem::take(&mut current));
                            }
                            current.push_str(a);
                            has_field = true;
                        }
                        continue;
                    }
                    (self.param(net, name, op.as_ref()), *quoted)
                }
                Part::Command { source, quoted } => (self.substitute(net, source), *quoted),
                Part::Arith { source, quoted } => {
                    // `$((…))` may itself hold `$VAR`s: expand them first.
                    let src = super::env::shell_expand(source, &self.vars);
                    match arith::eval(&src, &self.vars) {
                        Ok(v) => (v.to_string(), *quoted),
                        Err(message) => {
                            self.write(2, &format!("{message}\n"));
                            self.status = 2;
                            (String::new(), *quoted)
                        }
                    }
                }
            };
            if quoted {
                current.push_str(&text);
                has_field = true;
            } else {
                // Unquoted expansions split on whitespace.
                let mut pieces = text.split([' ', '\t', '\n']).peekable();
                let starts_blank = text.starts_with([' ', '\t', '\n']);
                if starts_blank && (has_field || !current.is_empty()) {
                    fields.push(std::mem::take(&mut current));
                    has_field = false;
                }
                while let Some(piece) = pieces.next() {
                    if !piece.is_empty() {
                        current.push_str(piece);
                        has_field = true;
                    }
                    if pieces.peek().is_some() && !current.is_empty() {
                        fields.push(std::mem::take(&mut current));
                        has_field = false;
                    }
                }
            }
        }
        if has_field || !current.is_empty() {
            fields.push(current);
        }
        let globbing = word.0.iter().any(|p| matches!(p, Part::Lit { text, quoted: false } if text.contains(['*', '?'])));
        if globbing {
            fields = fields
                .into_iter()
                .flat_map(|f| {
                    let found = files::glob(&self.files, &f);
                    if found.is_empty() {
                        vec![f]
                    } else {
                        found
                    }
                })
                .collect();
        }
        fields
    }

    fn param(&mut self, net: &dyn Net, name: &str, op: Option<&(String, Word)>) -> String {
        let value: Option<String> = match name {
            "?" => Some(self.status.to_string()),
            "$" => Some("1".into()),
            "#" => Some(self.args.len().saturating_sub(1).to_string()),
            "@" | "*" => Some(self.args.iter().skip(1).cloned().collect::<Vec<_>>().join(" ")),
            "RANDOM" => {
                self.random ^= self.random << 13;
                self.random ^= self.random >> 7;
                self.random ^= self.random << 17;
                Some((self.random % 32768).to_string())
            }
            n if n.starts_with('#') && n.len() > 1 => Some(self.param(net, &n[1..], None).chars().count().to_string()),
            n if n.chars().all(|c| c.is_ascii_digit()) => n.parse::<usize>().ok().and_then(|i| self.args.get(i).cloned()),
            n => self.vars.get(n).cloned(),
        };
        let Some((op, word)) = op else { return value.unwrap_or_default() };
        let unset_or_null = value.as_deref().is_none_or(str::is_empty);
        let unset = value.is_none();
        let applies = if op.starts_with(':') { unset_or_null } else { unset };
        match op.trim_start_matches(':') {
            "-" if applies => self.expand(net, word).join(" "),
            "=" if applies => {
                let v = self.expand(net, word).join(" ");
                self.vars.insert(name.to_string(), v.clone());
                v
            }
            "+" if !applies => self.expand(net, word).join(" "),
            "+" => String::new(),
            "?" if applies => {
                let message = self.expand(net, word).join(" ");
                self.write(2, &format!("sh: {name}: {}\n", if message.is_empty() { "parameter not set" } else { &message }));
                self.status = 1;
                String::new()
            }
            _ => value.unwrap_or_default(),
        }
    }

    /// `$(…)`: runs the script in a copy of this shell and takes what it printed, without
    /// the trailing newlines.
    fn substitute(&mut self, net: &dyn Net, source: &str) -> String {
        if self.depth >= MAX_SUBSTITUTION_DEPTH {
            return String::new();
        }
        let script = Script::parse(source);
        let mut sub = Shell::start(&script, self.args.clone(), &self.vars, self.files.clone());
        sub.depth = self.depth + 1;
        sub.xtrace = self.xtrace;
        sub.now = self.now;
        sub.random = self.random;
        sub.sinks = vec![[Sink::Capture, self.sinks.last().map_or(Sink::Log, |s| s[1].clone())]];
        let mut budget = BUDGET;
        while sub.pc < sub.ops.len() && budget > 0 {
            budget -= 1;
            match sub.step(net) {
                Some(Run::Exited(_)) => break,
                Some(_) => sub.blocked = None, // Its sleeps pass instantly.
                None => {}
            }
        }
        self.files = sub.files.clone();
        self.random = sub.random;
        self.substituted = Some(sub.status);
        if self.unmodelled.is_none() {
            self.unmodelled = sub.unmodelled.take();
        }
        sub.flush_log(true);
        for line in sub.output.drain(..) {
            self.write(2, &format!("{line}\n"));
        }
        sub.capture.trim_end_matches('\n').to_string()
    }
}

/// A word as `set -x` shows it: quoted when the shell would need quotes to read it back.
fn xtrace_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_/.:,=+-@%^".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// How a command ended, or that it blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Status(i32),
    Sleep(SimDuration),
    Wait,
    Forever,
    /// A server in the foreground.
    Serve,
    /// `exec` of a server: the shell is gone.
    Replaced,
    Exit(i32),
}

/// The result of a command run to its end in a container (`kubectl exec`, an exec probe).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exec {
    pub code: i32,
    /// stdout and stderr as the terminal shows them.
    pub output: String,
    /// The first command kubeplay does not model (it succeeded silently), if any.
    pub unmodelled: Option<String>,
    /// The container's files afterwards (a command may create or remove some).
    pub files: Rc<Files>,
    /// Virtual time the command's sleeps took.
    pub took: SimDuration,
    /// It did not end by itself (a server, `tail -f`, an endless loop): stopped here.
    pub endless: bool,
}

/// Runs `command` (argv, as `kubectl exec` and exec probes give it) to its end.
pub fn exec(command: &[String], files: Rc<Files>, env: &BTreeMap<String, String>, now: SimTime, net: &dyn Net) -> Exec {
    let is_shell = |w: &str| matches!(w.rsplit('/').next().unwrap_or(w), "sh" | "bash" | "ash" | "dash");
    let (script, args, flags) = match command {
        [shell, flag, script, rest @ ..] if is_shell(shell) && is_command_flag(flag) => {
            (Script::parse(script), rest.to_vec(), flag.as_str())
        }
        _ => (Script::command(command), Vec::new(), ""),
    };
    let mut shell = Shell::start(&script, args, env, files);
    shell.errexit = flags.contains('e');
    shell.xtrace = flags.contains('x');
    run_to_end(&mut shell, now, net)
}

/// One line typed at an interactive shell (`kubectl exec -it POD -- sh`): `vars` are the
/// session's variables, kept from line to line.
pub fn exec_line(line: &str, files: Rc<Files>, vars: &mut BTreeMap<String, String>, now: SimTime, net: &dyn Net) -> Exec {
    let mut shell = Shell::start(&Script::parse(line), Vec::new(), vars, files);
    let result = run_to_end(&mut shell, now, net);
    *vars = std::mem::take(&mut shell.vars);
    result
}

fn run_to_end(shell: &mut Shell, now: SimTime, net: &dyn Net) -> Exec {
    shell.raw = Some(String::new());
    let mut took = SimDuration::ZERO;
    let mut endless = false;
    let mut code = 0;
    for _ in 0..10_000 {
        match shell.run(now.plus(took), net) {
            Run::Sleep(d) => took = SimDuration(took.0.saturating_add(d.0)),
            Run::Forever => {
                endless = true;
                break;
            }
            Run::Exited(c) => {
                code = c;
                break;
            }
        }
    }
    let output = shell.raw.take().unwrap_or_default();
    Exec { code, output, unmodelled: shell.unmodelled.take(), files: shell.files.clone(), took, endless }
}

/// `-c`, or a cluster of shell options that includes it (`-ec`, `-exc`, `-lc`).
pub fn is_command_flag(flag: &str) -> bool {
    flag.strip_prefix('-').is_some_and(|f| !f.starts_with('-') && f.contains('c') && f.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests;
