//! A parsed script flattened into operations with jumps, so the machine can stop at any
//! `sleep` and resume later with nothing but a program counter and a few stacks.

use std::rc::Rc;

use super::parse::{Node, Redir, RedirOp, Simple, Word};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Runs a command. `checked`: its failure is tested (a condition, the left of `&&`), so
    /// `set -e` does not end the script.
    Simple {
        cmd: Rc<Simple>,
        checked: bool,
    },
    Pipeline {
        cmds: Rc<[Simple]>,
        checked: bool,
    },
    /// `cmd &`: a compound command in the background is taken as a job that runs on.
    Background(Rc<Simple>),
    Jump(usize),
    JumpIfFail(usize),
    JumpIfOk(usize),
    Negate,
    SetStatus(i32),
    /// `for VAR in WORDS` (None: `"$@"`).
    ForInit(Option<Rc<[Word]>>),
    ForNext {
        var: Rc<str>,
        end: usize,
    },
    ForPop,
    PushRedirs(Rc<[Redir]>),
    PopRedirs,
}

struct LoopCtx {
    /// Where `continue` goes.
    top: usize,
    /// `break`s to point at the loop's end.
    breaks: Vec<usize>,
}

struct Compiler {
    ops: Vec<Op>,
    loops: Vec<LoopCtx>,
}

pub fn compile(node: &Node) -> Vec<Op> {
    let mut c = Compiler { ops: Vec::new(), loops: Vec::new() };
    c.node(node, false);
    c.ops
}

/// A script that does not parse prints why and exits 2, as sh does.
pub fn syntax_error(message: String) -> Vec<Op> {
    let echo = Simple {
        words: vec![Word::plain("echo"), Word::plain(&message)],
        redirs: vec![Redir { fd: 1, op: RedirOp::Dup, target: Word::plain("2") }],
        ..Default::default()
    };
    let exit = Simple { words: vec![Word::plain("exit"), Word::plain("2")], ..Default::default() };
    vec![Op::Simple { cmd: Rc::new(echo), checked: true }, Op::Simple { cmd: Rc::new(exit), checked: true }]
}

impl Compiler {
    fn here(&self) -> usize {
        self.ops.len()
    }

    fn patch(&mut self, at: usize, to: usize) {
        if let Some(Op::Jump(t) | Op::JumpIfFail(t) | Op::JumpIfOk(t)) = self.ops.get_mut(at) {
            *t = to;
        }
        if let Some(Op::ForNext { end, .. }) = self.ops.get_mut(at) {
            *end = to;
        }
    }

    fn node(&mut self, node: &Node, checked: bool) {
        match node {
            Node::Simple(s) => self.simple(s, checked),
            Node::List(items) => {
                for item in items {
                    self.node(item, checked);
                }
            }
            Node::And(left, right) | Node::Or(left, right) => {
                self.node(left, true);
                let jump = self.here();
                self.ops.push(if matches!(node, Node::And(..)) { Op::JumpIfFail(0) } else { Op::JumpIfOk(0) });
                self.node(right, checked);
                let end = self.here();
                self.patch(jump, end);
            }
            Node::Pipeline { negate, commands } => {
                let simple: Option<Vec<Simple>> =
                    commands.iter().map(|c| if let Node::Simple(s) = c { Some(s.clone()) } else { None }).collect();
                let checked = checked || *negate;
                match simple {
                    Some(cmds) if cmds.len() > 1 => self.ops.push(Op::Pipeline { cmds: cmds.into(), checked }),
                    // A pipeline with a compound command runs its parts in turn (an approximation).
                    _ => {
                        for c in commands {
                            self.node(c, checked);
                        }
                    }
                }
                if *negate {
                    self.ops.push(Op::Negate);
                }
            }
            Node::Background(inner) => {
                let cmd = match inner.as_ref() {
                    Node::Simple(s) => s.clone(),
                    _ => Simple::default(),
                };
                self.ops.push(Op::Background(Rc::new(cmd)));
            }
            Node::If { cond, then, otherwise } => {
                self.node(cond, true);
                let to_else = self.here();
                self.ops.push(Op::JumpIfFail(0));
                self.node(then, checked);
                let to_end = self.here();
                self.ops.push(Op::Jump(0));
                let else_at = self.here();
                self.patch(to_else, else_at);
                match otherwise {
                    Some(o) => self.node(o, checked),
                    None => self.ops.push(Op::SetStatus(0)),
                }
                let end = self.here();
                self.patch(to_end, end);
            }
            Node::Loop { until, cond, body } => {
                let top = self.here();
                self.node(cond, true);
                let exit = self.here();
                self.ops.push(if *until { Op::JumpIfOk(0) } else { Op::JumpIfFail(0) });
                self.loops.push(LoopCtx { top, breaks: Vec::new() });
                self.node(body, checked);
                self.ops.push(Op::Jump(top));
                let done = self.here();
                self.patch(exit, done);
                self.ops.push(Op::SetStatus(0));
                let end = self.here();
                self.close_loop(end);
            }
            Node::For { var, words, body } => {
                self.ops.push(Op::ForInit(words.as_ref().map(|w| w.clone().into())));
                let top = self.here();
                self.ops.push(Op::ForNext { var: var.as_str().into(), end: 0 });
                self.loops.push(LoopCtx { top, breaks: Vec::new() });
                self.node(body, checked);
                self.ops.push(Op::Jump(top));
                let end = self.here();
                self.patch(top, end);
                self.close_loop(end);
                self.ops.push(Op::ForPop);
            }
            Node::Group { body, redirs } => {
                if !redirs.is_empty() {
                    self.ops.push(Op::PushRedirs(redirs.clone().into()));
                }
                self.node(body, checked);
                if !redirs.is_empty() {
                    self.ops.push(Op::PopRedirs);
                }
            }
        }
    }

    fn close_loop(&mut self, end: usize) {
        if let Some(ctx) = self.loops.pop() {
            for b in ctx.breaks {
                self.patch(b, end);
            }
        }
    }

    fn simple(&mut self, s: &Simple, checked: bool) {
        let word = s.words.first().and_then(Word::literal);
        if let Some(kind @ ("break" | "continue")) = word.filter(|_| s.assigns.is_empty()) {
            let levels = s.words.get(1).and_then(Word::literal).and_then(|n| n.parse::<usize>().ok()).unwrap_or(1).max(1);
            if self.loops.is_empty() {
                return; // Outside a loop: nothing to do.
            }
            let index = self.loops.len() - levels.min(self.loops.len());
            let at = self.here();
            if kind == "continue" {
                let top = self.loops[index].top;
                self.ops.push(Op::Jump(top));
            } else {
                self.ops.push(Op::Jump(0));
                self.loops[index].breaks.push(at);
            }
            return;
        }
        self.ops.push(Op::Simple { cmd: Rc::new(s.clone()), checked });
    }
}
