//! What a container's main process is, read from its command and args: a shell script
//! (`sh -c '…'`, run by the container shell in `sh/`), a utility the shell knows run as the
//! command (`sleep 3600`, `echo hi`, `cat /etc/config/x`), the `stress` tool the resource
//! examples use, or — for anything else — the image's server, which runs until it is stopped
//! and handles SIGTERM.

use std::rc::Rc;

use super::sh::{self, Net, OnTerm, Script, Shell};
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
            // The Job examples' `perl -Mbignum=bpi -wle 'print bpi(2000)'`: computes π to that
            // many digits (about N²/400,000 s of CPU), prints it and exits.
            [program, rest @ ..] if base(program) == "perl" && rest.iter().any(|a| a.contains("bpi(")) => {
                let n = rest.iter().find_map(|a| a.split("bpi(").nth(1)?.split(')').next()?.trim().parse::<usize>().ok()).unwrap_or(0);
                let digits = pi_digits(n.clamp(1, MAX_PI_DIGITS));
                let millis = 500 + (n * n / 400) as u64;
                let script = Script::parse(&format!("sleep {}.{:03}; echo {digits}", millis / 1000, millis % 1000));
                Program { body: Body::Shell { script, args: Vec::new(), errexit: false, xtrace: false }, memory: 0 }
            }
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

/// More digits of π than this are not computed (the spigot is quadratic).
const MAX_PI_DIGITS: usize = 5000;

/// π to `n` significant digits, rounded, as Perl's `bpi(n)` prints it (`3.14159…`).
fn pi_digits(n: usize) -> String {
    // Rabinowitz–Wagon spigot, with a few guard digits for the rounding.
    let want = n + 6;
    let len = want * 10 / 3 + 2;
    let mut a = vec![2u64; len];
    let mut out: Vec<u8> = Vec::with_capacity(want);
    let mut nines = 0usize;
    let mut predigit = 0u8;
    for _ in 0..want {
        let mut carry = 0u64;
        for i in (0..len).rev() {
            let x = a[i] * 10 + carry * (i as u64 + 1);
            let denom = 2 * i as u64 + 1;
            a[i] = x % denom;
            carry = x / denom;
        }
        a[0] = carry % 10;
        let q = (carry / 10) as u8;
        match q {
            9 => nines += 1,
            10 => {
                out.push(predigit + 1);
                out.extend(std::iter::repeat_n(0, nines));
                predigit = 0;
                nines = 0;
            }
            _ => {
                out.push(predigit);
                predigit = q;
                out.extend(std::iter::repeat_n(9, nines));
                nines = 0;
            }
        }
    }
    out.push(predigit);
    // out[0] is the spigot's leading 0; the digits of π start at out[1].
    let mut digits: Vec<u8> = out.into_iter().skip(1).take(n + 1).collect();
    // Round to n significant digits.
    if digits.len() > n {
        let round_up = digits[n] >= 5;
        digits.truncate(n);
        if round_up {
            let mut i = n;
            while i > 0 {
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    }
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    if text.len() > 1 {
        format!("{}.{}", &text[..1], &text[1..])
    } else {
        text
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
    /// `hostname` is what the runtime sets HOSTNAME to (the Pod's name).
    pub fn start(program: &Program, env: &super::env::Env, hostname: &str, files: Rc<Files>) -> Process {
        match &program.body {
            Body::Shell { script, args, errexit, xtrace } => {
                let mut shell = Shell::start(script, args.clone(), &super::env::with_hostname(env, hostname), files);
                shell.errexit = *errexit;
                shell.xtrace = *xtrace;
                Process::Shell(Box::new(shell))
            }
            Body::Server => Process::Server { files },
        }
    }

    /// Runs until the process sleeps, runs on, or exits.
    pub fn run(&mut self, now: SimTime, net: &dyn Net) -> Run {
        match self {
            Process::Shell(shell) => shell.run(now, net),
            Process::Server { .. } => Run::Forever,
        }
    }

    /// SIGTERM: a server takes the default action; a shell as PID 1 ignores it unless it
    /// traps it.
    pub fn terminate(&mut self, now: SimTime, net: &dyn Net) -> OnTerm {
        match self {
            Process::Shell(shell) => shell.terminate(now, net),
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
            Process::start(&Program::of(&strings(command), &strings(args)), &Default::default(), "pod", Rc::default())
                .run(SimTime::ZERO, &sh::NoNet)
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
        let mut p = Process::start(
            &Program::of(&strings(&["sh", "-c", "echo $0 $1"]), &strings(&["name", "one"])),
            &Default::default(),
            "pod",
            Rc::default(),
        );
        p.run(SimTime::ZERO, &sh::NoNet);
        assert_eq!(p.take_output(), vec!["name one"]);
        // The Job example's π.
        assert_eq!(pi_digits(10), "3.141592654");
        assert_eq!(pi_digits(50), "3.1415926535897932384626433832795028841971693993751");
        // 999 decimals: …2164201989 rounded at the last place.
        assert!(pi_digits(1000).ends_with("216420199"), "{}", &pi_digits(1000)[990..]);
        let mut perl = Process::start(
            &Program::of(&strings(&["perl", "-Mbignum=bpi", "-wle", "print bpi(1000)"]), &[]),
            &Default::default(),
            "pod",
            Rc::default(),
        );
        assert_eq!(perl.run(SimTime::ZERO, &sh::NoNet), Run::Sleep(SimDuration(3000)));
        assert_eq!(perl.run(SimTime(3000), &sh::NoNet), Run::Exited(0));
        assert_eq!(perl.take_output()[0].len(), 1001);
    }
}
