//! What a container's main process is, read from its command and args: a shell script
//! (`sh -c '…'`, run by the container shell in `sh/`), a utility the shell knows run as the
//! command (`sleep 3600`, `echo hi`, `cat /etc/config/x`), the `stress` tool the resource
//! examples use, or — for anything else — the image's server, which runs until it is stopped
//! and handles SIGTERM.

use std::rc::Rc;

use super::sh::{self, OnTerm, Script, Shell};
pub use super::sh::{Files, Run};
use crate::time::SimTime;

/// How a container's main process behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    body: Body,
    /// Memory the program allocates and keeps, in bytes (`stress --vm N --vm-bytes B`).
    pub memory: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Body {
    /// A script or a utility, run by the container shell; `args` are `$0`, `$1`, …
    Shell { script: Script, args: Vec<String>, errexit: bool, xtrace: bool },
    /// A server: runs until stopped, listens on its ports, exits on SIGTERM.
    Server,
}

const SHELLS: [&str; 4] = ["sh", "bash", "ash", "dash"];

fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

impl Program {
    /// The program a container runs (`command` replaces the image's entrypoint, `args` its cmd).
    pub fn of(command: &[String], args: &[String]) -> Program {
        let words: Vec<&String> = command.iter().chain(args).collect();
        match words.as_slice() {
            [shell, flags, script, rest @ ..] if SHELLS.contains(&base(shell)) && sh::is_command_flag(flags) => Program {
                body: Body::Shell {
                    script: Script::parse(script),
                    args: rest.iter().map(|s| s.to_string()).collect(),
                    errexit: flags.contains('e'),
                    xtrace: flags.contains('x'),
                },
                memory: 0,
            },
            // The stress tool the resource examples use: allocates and holds its memory.
            [program, rest @ ..] if base(program) == "stress" => {
                let rest: Vec<&str> = rest.iter().map(|s| s.as_str()).collect();
                Program { body: Body::Server, memory: stress_bytes(&rest) }
            }
            // A utility run as the command does its job and exits (`echo`, `sleep 3600`, `cp`).
            [program, ..] if base(program) == "sleep" || sh::is_utility(base(program)) => {
                let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
                Program {
                    body: Body::Shell { script: Script::command(&words), args: Vec::new(), errexit: false, xtrace: false },
                    memory: 0,
                }
            }
            _ => Program { body: Body::Server, memory: 0 },
        }
    }

    /// An image's server (it listens on its ports), not a script or a utility.
    pub fn is_server(&self) -> bool {
        self.body == Body::Server
    }
}

/// `stress --vm N --vm-bytes SIZE`: N workers of SIZE each (stress's default 256M; suffixes
/// B, K, M, G in powers of 1024).
fn stress_bytes(args: &[&str]) -> i64 {
    let value = |flag: &str| args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1)).copied();
    let workers: i64 = value("--vm").or_else(|| value("-m")).and_then(|v| v.parse().ok()).unwrap_or(0);
    let size = value("--vm-bytes").unwrap_or("256M");
    let (digits, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
    let scale: i64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => 1,
    };
    workers.saturating_mul(digits.parse::<i64>().unwrap_or(0).saturating_mul(scale))
}

/// A running instance of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Process {
    Shell(Box<Shell>),
    Server { files: Rc<Files> },
}

impl Process {
    pub fn start(program: &Program, env: Rc<super::env::Env>, files: Rc<Files>) -> Process {
        match &program.body {
            Body::Shell { script, args, errexit, xtrace } => {
                let mut shell = Shell::start(script, args.clone(), &env, files);
                shell.errexit = *errexit;
                shell.xtrace = *xtrace;
                Process::Shell(Box::new(shell))
            }
            Body::Server => Process::Server { files },
        }
    }

    /// Runs until the process sleeps, runs on, or exits.
    pub fn run(&mut self, now: SimTime) -> Run {
        match self {
            Process::Shell(shell) => shell.run(now),
            Process::Server { .. } => Run::Forever,
        }
    }

    /// SIGTERM: a server takes the default action; a shell as PID 1 ignores it unless it
    /// traps it.
    pub fn terminate(&mut self, now: SimTime) -> OnTerm {
        match self {
            Process::Shell(shell) => shell.terminate(now),
            Process::Server { .. } => OnTerm::Default,
        }
    }

    /// Lines printed since the kubelet last collected them.
    pub fn take_output(&mut self) -> Vec<String> {
        match self {
            Process::Shell(shell) => std::mem::take(&mut shell.output),
            Process::Server { .. } => Vec::new(),
        }
    }

    pub fn files(&self) -> &Rc<Files> {
        match self {
            Process::Shell(shell) => &shell.files,
            Process::Server { files } => files,
        }
    }

    /// A command run with `kubectl exec` changed the container's files.
    pub fn set_files(&mut self, new: Rc<Files>) {
        match self {
            Process::Shell(shell) => shell.files = new,
            Process::Server { files } => *files = new,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn commands_become_scripts_utilities_or_servers() {
        let run = |command: &[&str], args: &[&str]| {
            Process::start(&Program::of(&strings(command), &strings(args)), Rc::default(), Rc::default()).run(SimTime::ZERO)
        };
        assert_eq!(run(&["sh", "-c", "echo hi && exit 3"], &[]), Run::Exited(3));
        assert_eq!(run(&["sleep"], &["3600"]), Run::Sleep(SimDuration::from_secs(3600)));
        assert_eq!(run(&["/bin/sh", "-exc", "echo checking\nexit 4"], &[]), Run::Exited(4), "option clusters with c run a script");
        assert_eq!(run(&["/bin/sh", "-ec", "false; exit 4"], &[]), Run::Exited(1), "-e stops at the first failure");
        assert_eq!(run(&["sh", "-c", "echo $0 $1", "name", "one"], &[]), Run::Exited(0));
        assert_eq!(run(&[], &[]), Run::Forever, "an image's own server");
        assert_eq!(run(&["/bin/false"], &[]), Run::Exited(1));
        assert_eq!(run(&["/agnhost", "netexec"], &[]), Run::Forever, "anything else serves");
        let stress = Program::of(&strings(&["stress"]), &strings(&["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]));
        assert_eq!(stress.memory, 250 << 20);
        assert!(Program::of(&[], &[]).is_server());
        assert!(!Program::of(&strings(&["sleep", "10"]), &[]).is_server());
        let mut p =
            Process::start(&Program::of(&strings(&["sh", "-c", "echo $0 $1"]), &strings(&["name", "one"])), Rc::default(), Rc::default());
        p.run(SimTime::ZERO);
        assert_eq!(p.take_output(), vec!["name one"]);
    }
}
