//! What a container's main process does, read from its command and args: a shell script of
//! the commands real examples use (`touch`, `rm`, `sleep`, `exit`, `echo`, `true`, `false`,
//! `while true; do …; done`), a bare `sleep N`, or — for anything else — a server that runs
//! until it is stopped. `if` is not evaluated (its branches run in order), and a loop waiting
//! on a condition (`until nslookup …`) waits forever, until DNS and traffic are modelled. The process keeps the files it created, so exec probes (`cat FILE`)
//! see what the script did. Time passes only in `sleep`.

use std::collections::BTreeMap;

use crate::time::SimDuration;

/// One simple command of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    Sleep(SimDuration),
    /// `sleep infinity`, a `while true` loop, a server: runs until stopped.
    Forever,
    Touch(Vec<String>),
    Rm(Vec<String>),
    Exit(i32),
    /// `echo WORDS`: prints a line.
    Echo(String),
    /// A command that succeeds at once (`true`, `date`, commands we do not model).
    Ok,
    /// `false`.
    Fail,
}

/// How a container's main process behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub commands: Vec<Cmd>,
    /// Memory the program allocates and keeps, in bytes (`stress --vm N --vm-bytes B`).
    pub memory: i64,
    /// A shell or `sleep` as PID 1 has no SIGTERM handler: it lives out the grace period and is
    /// killed (exit 137). Servers stop promptly.
    pub ignores_sigterm: bool,
}

const SHELLS: [&str; 6] = ["sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"];

/// Utilities that finish by themselves when they are a container's command.
const ONE_SHOT: [&str; 24] = [
    "echo", "printf", "true", "false", "date", "env", "printenv", "hostname", "cat", "ls", "touch", "rm", "cp", "mv", "mkdir", "chmod",
    "chown", "ln", "wget", "curl", "id", "uname", "whoami", "exit",
];

/// `-c`, or a cluster of shell options that includes it (`-ec`, `-exc`, `-lc`).
fn is_command_flag(flag: &str) -> bool {
    flag.strip_prefix('-').is_some_and(|f| !f.starts_with('-') && f.contains('c') && f.chars().all(|c| c.is_ascii_alphabetic()))
}

impl Program {
    /// The program a container runs (`command` replaces the image's entrypoint, `args` its cmd).
    pub fn of(command: &[String], args: &[String]) -> Program {
        let words: Vec<&str> = command.iter().chain(args).map(String::as_str).collect();
        match words.as_slice() {
            [shell, flags, script, ..] if SHELLS.contains(shell) && is_command_flag(flags) => {
                Program { commands: parse_script(script), memory: 0, ignores_sigterm: true }
            }
            ["sleep" | "/bin/sleep", rest @ ..] => Program { commands: vec![sleep(rest), Cmd::Exit(0)], memory: 0, ignores_sigterm: true },
            // The stress tool the resource examples use: allocates and holds its memory.
            ["stress" | "/usr/bin/stress" | "/usr/local/bin/stress", rest @ ..] => {
                Program { commands: vec![Cmd::Forever], memory: stress_bytes(rest), ignores_sigterm: false }
            }
            // A utility run as the command does its job and exits (`echo`, `wget -O …`, `cp`).
            [program, rest @ ..] if ONE_SHOT.contains(&program.rsplit('/').next().unwrap_or(program)) => {
                let mut words = vec![program.rsplit('/').next().unwrap_or(program)];
                words.extend_from_slice(rest);
                Program { commands: vec![simple(&words)], memory: 0, ignores_sigterm: true }
            }
            _ => Program { commands: vec![Cmd::Forever], memory: 0, ignores_sigterm: false },
        }
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

fn sleep(args: &[&str]) -> Cmd {
    match args.first().map(|a| a.trim_end_matches('s')) {
        Some("infinity") => Cmd::Forever,
        Some(n) => n.parse::<f64>().map_or(Cmd::Ok, |s| Cmd::Sleep(SimDuration((s.max(0.0) * 1000.0) as u64))),
        None => Cmd::Fail, // `sleep: missing operand`
    }
}

/// Splits a script on `;`, `&&`, `||` and newlines into simple commands. A `while true` (or
/// `while :`) loop runs forever. Quotes around words are dropped.
pub fn parse_script(script: &str) -> Vec<Cmd> {
    let mut commands = Vec::new();
    let normalized = script.replace("&&", ";").replace("||", ";").replace('\n', ";");
    for part in normalized.split(';') {
        let words: Vec<String> = part.split_whitespace().map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string()).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let cmd = match words.as_slice() {
            [] | ["done"] | ["do"] => continue,
            ["while", "true" | ":", ..] => Cmd::Forever,
            // A loop that waits for something kubeplay cannot check yet (DNS, the network):
            // it keeps waiting.
            ["until" | "while", ..] => Cmd::Forever,
            ["do" | "then" | "else", rest @ ..] => simple(rest),
            other => simple(other),
        };
        let forever = cmd == Cmd::Forever;
        commands.push(cmd);
        if forever {
            break; // Nothing after an endless loop runs.
        }
    }
    commands // At the end, the script exits with its last command's status.
}

fn simple(words: &[&str]) -> Cmd {
    let files = |rest: &[&str]| rest.iter().filter(|w| !w.starts_with('-')).map(|w| w.to_string()).collect();
    match words {
        ["sleep", rest @ ..] => sleep(rest),
        ["touch", rest @ ..] => Cmd::Touch(files(rest)),
        ["rm", rest @ ..] => Cmd::Rm(files(rest)),
        ["exit"] => Cmd::Exit(0),
        ["exit", code, ..] => Cmd::Exit(code.parse().unwrap_or(255)),
        ["false"] => Cmd::Fail,
        ["echo", "-n", rest @ ..] | ["echo", rest @ ..] => Cmd::Echo(rest.join(" ")),
        // Following a file, or replacing the shell with a server, runs until stopped.
        ["tail", rest @ ..] if rest.iter().any(|w| matches!(*w, "-f" | "-F" | "--follow")) => Cmd::Forever,
        ["exec", program, rest @ ..] if ONE_SHOT.contains(&program.rsplit('/').next().unwrap_or(program)) => {
            let mut words = vec![program.rsplit('/').next().unwrap_or(program)];
            words.extend_from_slice(rest);
            simple(&words)
        }
        ["exec", ..] => Cmd::Forever,
        _ => Cmd::Ok,
    }
}

/// A container's files: path → contents (what its volumes hold, and what its program made).
pub type Files = BTreeMap<String, String>;

/// A running instance of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    program: Program,
    next: usize,
    /// Shared until the program changes a file (copy on write).
    pub files: std::rc::Rc<Files>,
    last_status: i32,
    /// Lines printed since the kubelet last collected them.
    pub output: Vec<String>,
    /// Its environment, for `$VAR`.
    env: std::rc::Rc<super::env::Env>,
}

/// What the process does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Sleeping: resume after this long.
    Sleep(SimDuration),
    /// Running until stopped.
    Forever,
    /// The process exited with this code.
    Exited(i32),
}

impl Process {
    pub fn start(program: &Program, env: std::rc::Rc<super::env::Env>, files: std::rc::Rc<Files>) -> Process {
        Process { program: program.clone(), next: 0, files, last_status: 0, output: Vec::new(), env }
    }

    #[cfg(test)]
    fn start_plain(program: &Program) -> Process {
        Process::start(program, Default::default(), Default::default())
    }

    /// Runs until the process sleeps, runs forever or exits.
    pub fn run(&mut self) -> Run {
        while let Some(cmd) = self.program.commands.get(self.next) {
            self.next += 1;
            match cmd {
                Cmd::Sleep(d) => return Run::Sleep(*d),
                Cmd::Forever => {
                    self.next -= 1;
                    return Run::Forever;
                }
                Cmd::Touch(files) => {
                    for f in files {
                        std::rc::Rc::make_mut(&mut self.files).entry(f.clone()).or_default();
                    }
                    self.last_status = 0;
                }
                Cmd::Rm(files) => {
                    for f in files {
                        if self.files.contains_key(f) {
                            std::rc::Rc::make_mut(&mut self.files).remove(f);
                        }
                    }
                    self.last_status = 0;
                }
                Cmd::Exit(code) => return Run::Exited(*code),
                Cmd::Echo(line) => {
                    self.output.push(super::env::shell_expand(line, &self.env));
                    self.last_status = 0;
                }
                Cmd::Ok => self.last_status = 0,
                Cmd::Fail => self.last_status = 1,
            }
        }
        Run::Exited(self.last_status)
    }
}

/// The result of a command run in a container (`kubectl exec`, an exec probe).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exec {
    pub code: i32,
    pub output: String,
    /// False for a program kubeplay does not model inside containers (it then succeeds silently).
    pub modelled: bool,
}

fn done(code: i32, output: String) -> Exec {
    Exec { code, output, modelled: true }
}

/// Runs a command in a container: `cat`, `ls`, `test -e|-f`, `[ -e … ]` look at its files,
/// `echo`, `env`, `printenv`, `hostname` at its environment, `sh -c` runs a script of these,
/// `exit N`/`true`/`false` give their status. Anything else succeeds without output.
pub fn exec(command: &[String], files: &Files, env: &super::env::Env) -> Exec {
    let words: Vec<String> = command.iter().map(|w| super::env::shell_expand(w, env)).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [shell, flags, ..] if SHELLS.contains(shell) && is_command_flag(flags) => {
            let script = command.get(2).cloned().unwrap_or_default();
            let mut result = done(0, String::new());
            for part in script.replace("&&", ";").replace('\n', ";").split(';') {
                let inner: Vec<String> = part.split_whitespace().map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string()).collect();
                if inner.is_empty() {
                    continue;
                }
                let step = exec(&inner, files, env);
                result.output.push_str(&step.output);
                result.code = step.code;
                result.modelled &= step.modelled;
                if step.code != 0 {
                    break;
                }
            }
            result
        }
        ["cat", paths @ ..] => {
            let mut out = String::new();
            for path in paths.iter().filter(|p| !p.starts_with('-')) {
                match files.get(*path) {
                    Some(content) => out.push_str(content),
                    None => return done(1, format!("{out}cat: can't open '{path}': No such file or directory\n")),
                }
            }
            done(0, out)
        }
        ["ls", args @ ..] => {
            let target = args.iter().find(|a| !a.starts_with('-')).copied().unwrap_or("/");
            if files.contains_key(target) {
                return done(0, format!("{target}\n"));
            }
            let dir = format!("{}/", target.trim_end_matches('/'));
            let mut entries: Vec<&str> =
                files.keys().filter_map(|f| f.strip_prefix(dir.as_str())).map(|rest| rest.split('/').next().unwrap_or(rest)).collect();
            entries.dedup();
            if entries.is_empty() {
                done(1, format!("ls: {target}: No such file or directory\n"))
            } else {
                done(0, entries.iter().map(|e| format!("{e}\n")).collect())
            }
        }
        ["test" | "[", "-e" | "-f", path, ..] => done(i32::from(!files.contains_key(*path)), String::new()),
        ["echo", "-n", rest @ ..] => done(0, rest.join(" ")),
        ["echo", rest @ ..] => done(0, format!("{}\n", rest.join(" "))),
        ["env"] | ["printenv"] => done(0, env.iter().map(|(k, v)| format!("{k}={v}\n")).collect()),
        ["printenv", name] => match env.get(*name) {
            Some(v) => done(0, format!("{v}\n")),
            None => done(1, String::new()),
        },
        ["hostname"] => done(0, format!("{}\n", env.get("HOSTNAME").map(String::as_str).unwrap_or(""))),
        ["exit", code, ..] => done(code.parse().unwrap_or(255), String::new()),
        ["true"] | [":"] => done(0, String::new()),
        ["false"] => done(1, String::new()),
        _ => Exec { code: 0, output: String::new(), modelled: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn the_liveness_example_creates_then_removes_its_file() {
        let program = Program::of(&[], &strings(&["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"]));
        assert!(program.ignores_sigterm);
        let mut p = Process::start(&program, Default::default(), Default::default());
        assert_eq!(p.run(), Run::Sleep(SimDuration::from_secs(30)));
        assert_eq!(exec(&strings(&["cat", "/tmp/healthy"]), &p.files, &Default::default()).code, 0);
        assert_eq!(p.run(), Run::Sleep(SimDuration::from_secs(600)));
        assert_eq!(
            exec(&strings(&["cat", "/tmp/healthy"]), &p.files, &Default::default()),
            done(1, "cat: can't open '/tmp/healthy': No such file or directory\n".into())
        );
        assert_eq!(p.run(), Run::Exited(0));
    }

    #[test]
    fn scripts_exit_with_their_code_loops_and_servers_run_forever() {
        let run = |command: &[&str], args: &[&str]| Process::start_plain(&Program::of(&strings(command), &strings(args))).run();
        assert_eq!(run(&["sh", "-c", "echo hi && exit 3"], &[]), Run::Exited(3));
        let mut p = Process::start_plain(&Program::of(&strings(&["sh", "-c", "echo starting up; sleep 1; echo 'ready now'"]), &[]));
        p.run();
        assert_eq!(p.output, vec!["starting up".to_string()]);
        p.run();
        assert_eq!(p.output, vec!["starting up".to_string(), "ready now".to_string()]);
        assert_eq!(run(&["sh", "-c", "false"], &[]), Run::Exited(1));
        assert_eq!(run(&["sh", "-c", "while true; do echo tick; sleep 5; done"], &[]), Run::Forever);
        assert_eq!(run(&["sleep"], &["3600"]), Run::Sleep(SimDuration::from_secs(3600)));
        assert_eq!(run(&["sleep", "infinity"], &[]), Run::Forever);
        assert_eq!(run(&["/bin/sh", "-exc", "echo checking\nexit 4"], &[]), Run::Exited(4), "option clusters with c run a script");
        assert_eq!(run(&[], &[]), Run::Forever, "an image's own server");
        assert_eq!(run(&["wget", "-O", "/work-dir/index.html", "http://info.cern.ch"], &[]), Run::Exited(0), "a utility finishes");
        assert_eq!(run(&["/bin/false"], &[]), Run::Exited(1));
        assert_eq!(run(&["/agnhost", "netexec"], &[]), Run::Forever, "anything else serves");
        let stress = Program::of(&strings(&["stress"]), &strings(&["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]));
        assert_eq!(stress.memory, 250 << 20);
        assert_eq!(run(&["sh", "-c", "tail -F /opt/logs.txt"], &[]), Run::Forever, "following a file");
        assert_eq!(run(&["sh", "-c", "echo start; exec nginx -g 'daemon off;'"], &[]), Run::Forever);
        assert!(!Program::of(&[], &[]).ignores_sigterm);
    }

    #[test]
    fn no_script_panics_or_loops() {
        // Whatever the text, running a script terminates within its own length.
        let mut rng = crate::rng::SimRng::stream(9, "scripts");
        let words = ["sleep", "1", "touch", "/a", "rm", "-f", "exit", "7", "while", "true", ";", "&&", "do", "done", "\"", "'", "x", ""];
        for _ in 0..2000 {
            let script: Vec<&str> = (0..rng.range_inclusive(0, 12)).map(|_| words[rng.pick_index(words.len())]).collect();
            let mut p = Process::start_plain(&Program::of(&strings(&["sh", "-c"]), &[script.join(" ")]));
            let finished = (0..=script.len() + 1).any(|_| matches!(p.run(), Run::Exited(_) | Run::Forever));
            assert!(finished, "{script:?} neither ended nor settled into running forever");
        }
    }
}
