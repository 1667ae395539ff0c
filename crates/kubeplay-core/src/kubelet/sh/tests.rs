use super::*;

/// A network where every name resolves and every server answers 200.
struct Friendly;

impl Net for Friendly {
    fn resolve(&self, name: &str) -> Result<Resolved, Vec<String>> {
        if name == "nosuch" {
            return Err(vec![format!("{name}.default.svc.cluster.local")]);
        }
        Ok(Resolved { fqdn: format!("{name}.default.svc.cluster.local"), addresses: vec!["10.96.0.42".into()], cname: None })
    }

    fn connect(&self, _ip: &str, port: i32, path: Option<&str>, _host: &str) -> Reply {
        match (port, path) {
            (81, _) => Reply::Refused,
            (_, Some("/missing")) => Reply::Http { status: 404, body: String::new() },
            _ => Reply::Http { status: 200, body: "hello\n".into() },
        }
    }

    fn nameserver(&self) -> String {
        "10.96.0.10".into()
    }
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn sh(script: &str) -> Shell {
    Shell::start(&Script::parse(script), vec![], &BTreeMap::new(), Rc::default())
}

/// Runs to the end, letting virtual time pass through sleeps; (exit code, output, slept ms).
fn finish(script: &str) -> (i32, Vec<String>, u64) {
    let mut s = sh(script);
    let mut now = SimTime::ZERO;
    for _ in 0..1000 {
        match s.run(now, &Friendly) {
            Run::Sleep(d) => now = now.plus(d),
            Run::Exited(code) => return (code, s.output, now.0),
            Run::Forever => return (-1, s.output, now.0),
        }
    }
    (-2, s.output, now.0)
}

fn out(script: &str) -> String {
    finish(script).1.join("\n")
}

#[test]
fn the_liveness_example_creates_then_removes_its_file() {
    let mut s = sh("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600");
    assert_eq!(s.run(SimTime::ZERO, &Friendly), Run::Sleep(SimDuration::from_secs(30)));
    let cat = |files: &Rc<Files>| exec(&strings(&["cat", "/tmp/healthy"]), files.clone(), &BTreeMap::new(), SimTime::ZERO, &Friendly);
    assert_eq!(cat(&s.files).code, 0);
    assert_eq!(s.run(SimTime(30_000), &Friendly), Run::Sleep(SimDuration::from_secs(600)));
    let failed = cat(&s.files);
    assert_eq!((failed.code, failed.output.as_str()), (1, "cat: can't open '/tmp/healthy': No such file or directory\n"));
    assert_eq!(s.run(SimTime(630_000), &Friendly), Run::Exited(0));
}

#[test]
fn variables_arithmetic_and_substitution() {
    // kubernetes.io's counter Pod (the logging page).
    let mut s = sh("i=0; while true; do echo \"$i: $(date)\"; i=$((i+1)); sleep 1; done");
    assert_eq!(s.run(SimTime::ZERO, &Friendly), Run::Sleep(SimDuration::from_secs(1)));
    assert_eq!(s.run(SimTime(1000), &Friendly), Run::Sleep(SimDuration::from_secs(1)));
    assert_eq!(s.output, vec!["0: Thu Jan  1 00:00:00 UTC 2026", "1: Thu Jan  1 00:00:01 UTC 2026"]);
    assert_eq!(out("X=hello; echo ${X} ${#X} ${Y:-default} ${Y-unset} \"$X world\""), "hello 5 default unset hello world");
    assert_eq!(out("A='a  b'; for w in $A \"$A\"; do echo \"[$w]\"; done"), "[a]\n[b]\n[a  b]");
    assert_eq!(out("echo $(echo one; echo two) `echo three`"), "one two three");
    assert_eq!(out("false; echo $?; true; echo $?"), "1\n0");
    assert_eq!(out("printf '%s=%03d\\n' a 7 b 42"), "a=007\nb=042");
    assert_eq!(out("echo -n a; echo b"), "ab");
    assert_eq!(out("for i in $(seq 1 3); do echo $i; done | wc -l"), "1\n2\n3\n0", "a compound command in a pipeline runs in turn");
    assert_eq!(out("seq 1 3 | wc -l"), "3");
    assert_eq!(out("echo hello world | tr a-z A-Z"), "HELLO WORLD");
    // microservices-demo's frontend check: the status code out of wget's headers.
    assert_eq!(out("STATUSCODE=$(wget --server-response http://frontend:80 2>&1 | awk '/^  HTTP/{print $2}'); echo $STATUSCODE"), "200");
    assert_eq!(out("printf 'a:b:c\\n' | awk -F: '{print $3, $1}'"), "c a");
    assert_eq!(out("set -x; X=1; echo \"$X two\" $(echo 3)"), "+ X=1\n+ echo 3\n+ echo '1 two' 3\n1 two 3");
}

#[test]
fn control_flow() {
    assert_eq!(out("if [ -f /nope ]; then echo yes; elif [ 1 -lt 2 ]; then echo elif; else echo no; fi"), "elif");
    assert_eq!(out("n=0; until [ $n -ge 3 ]; do n=$((n+1)); done; echo $n"), "3");
    assert_eq!(out("for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done"), "1\n3");
    assert_eq!(out("true && echo a || echo b; false && echo c || echo d"), "a\nd");
    assert_eq!(out("! false && echo negated"), "negated");
    assert_eq!(finish("echo hi && exit 3").0, 3);
    assert_eq!(finish("set -e; false; echo never").0, 1, "set -e stops at a failure");
    assert_eq!(finish("set -e; if false; then :; fi; false || true; echo fine").1, vec!["fine"]);
    assert_eq!(finish("exit").0, 0);
    assert_eq!(finish("sleep 2; sleep 3").2, 5000);
}

#[test]
fn files_and_redirection() {
    let (code, output, _) =
        finish("mkdir -p /data; echo one > /data/f; echo two >> /data/f; cat /data/f; ls /data; cat /nope 2>/dev/null || echo missing");
    assert_eq!(code, 0);
    assert_eq!(output, vec!["one", "two", "f", "missing"]);
    assert_eq!(out("{ echo a; echo b; } > /x; wc -l < /x"), "2");
    assert_eq!(out("echo err >&2"), "err", "stderr reaches the log too");
    assert_eq!(
        out("[ -d /work ] || echo no-work; mkdir /work; [ -d /work ] && echo work; mkdir /tmp"),
        "no-work\nwork\nmkdir: can't create directory '/tmp': File exists"
    );
    assert_eq!(out("echo x > /proc/1/fd/1"), "x", "a preStop hook writing to PID 1's stdout");
    assert_eq!(
        out("touch /etc/b /etc/a.conf /etc/c.conf; echo /etc/*.conf; echo '/etc/*'; echo /nope/*"),
        "/etc/a.conf /etc/c.conf\n/etc/*\n/nope/*"
    );
    assert_eq!(out("rm /tmp/x 2>/dev/null; ls /tmp; ls / | head -3"), "bin\ndev\netc", "standard directories exist, empty");
}

#[test]
fn servers_busy_loops_and_background_jobs() {
    assert_eq!(sh("while true; do echo tick; sleep 5; done").run(SimTime::ZERO, &Friendly), Run::Sleep(SimDuration::from_secs(5)));
    assert_eq!(sh("while true; do :; done").run(SimTime::ZERO, &Friendly), Run::Forever, "a loop that never sleeps spins");
    assert_eq!(sh("echo start; exec nginx -g 'daemon off;'").run(SimTime::ZERO, &Friendly), Run::Forever);
    assert_eq!(sh("tail -f /dev/null").run(SimTime::ZERO, &Friendly), Run::Forever);
    assert_eq!(sh("sleep infinity").run(SimTime::ZERO, &Friendly), Run::Forever);
    assert_eq!(sh("sleep 10 & wait").run(SimTime::ZERO, &Friendly), Run::Sleep(SimDuration::from_secs(10)));
    assert_eq!(sh("nginx & wait").run(SimTime::ZERO, &Friendly), Run::Forever);
    assert_eq!(finish("sleep 1.5").2, 1500);
    // kubernetes.io's lifecycle-events preStop hook ends once nginx has quit.
    assert_eq!(finish("nginx -s quit; while killall -0 nginx; do sleep 1; done").0, 0);
    assert_eq!(finish("sleep").0, 1);
}

#[test]
fn sigterm_and_traps_as_pid_1() {
    let mut plain = sh("sleep 3600");
    plain.run(SimTime::ZERO, &Friendly);
    assert_eq!(plain.terminate(SimTime(1000), &Friendly), OnTerm::Ignored, "PID 1 has no default handler");

    // The trap waits for the foreground sleep…
    let mut fg = sh("trap 'echo bye; exit 0' TERM; sleep 20");
    assert_eq!(fg.run(SimTime::ZERO, &Friendly), Run::Sleep(SimDuration::from_secs(20)));
    assert_eq!(fg.terminate(SimTime(1000), &Friendly), OnTerm::Deferred);
    assert_eq!(fg.run(SimTime(20_000), &Friendly), Run::Exited(0));
    assert_eq!(fg.output, vec!["bye"]);

    // …but interrupts `wait` at once.
    let mut bg = sh("trap 'echo stopping; exit 0' SIGTERM; sleep 3600 & wait");
    assert_eq!(bg.run(SimTime::ZERO, &Friendly), Run::Sleep(SimDuration::from_secs(3600)));
    assert_eq!(bg.terminate(SimTime(1000), &Friendly), OnTerm::Handled(Run::Exited(0)));
    assert_eq!(bg.output, vec!["stopping"]);

    let mut replaced = sh("exec nginx");
    replaced.run(SimTime::ZERO, &Friendly);
    assert_eq!(replaced.terminate(SimTime(5), &Friendly), OnTerm::Default);
}

#[test]
fn exec_runs_to_the_end_and_keeps_what_it_wrote() {
    let files: Rc<Files> = Rc::new([("/etc/config/color".to_string(), "blue".to_string())].into());
    let env: BTreeMap<String, String> = [("HOSTNAME".to_string(), "web-0".to_string())].into();
    let run = |cmd: &[&str]| exec(&strings(cmd), files.clone(), &env, SimTime::ZERO, &Friendly);
    assert_eq!(run(&["cat", "/etc/config/color"]).output, "blue");
    assert_eq!(run(&["hostname"]).output, "web-0\n");
    assert_eq!(run(&["ls", "/etc/config"]).output, "color\n");
    assert_eq!(run(&["sh", "-c", "echo $HOSTNAME; exit 4"]).code, 4);
    let touched = run(&["touch", "/tmp/healthy"]);
    assert!(touched.files.contains_key("/tmp/healthy"));
    assert_eq!(run(&["sh", "-c", "sleep 3; echo late"]).took, SimDuration::from_secs(3));
    assert!(run(&["tail", "-f", "/var/log/x"]).endless);
    assert_eq!(run(&["dig", "+search", "+short", "web"]).output, "10.96.0.42\n");
    assert_eq!(run(&["dig", "+search", "+short", "nosuch"]).output, "");
    let full = run(&["dig", "+search", "web"]).output;
    assert!(full.contains(";; ->>HEADER<<- opcode: QUERY, status: NOERROR"), "{full}");
    assert!(full.contains(";; ANSWER SECTION:\nweb.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.42\n"), "{full}");
    assert!(run(&["dig", "+search", "nosuch"]).output.contains("status: NXDOMAIN"));
    // The network, through the Net the kubelet provides.
    assert_eq!(run(&["wget", "-qO-", "http://web/"]).output, "hello\n");
    assert_eq!(run(&["wget", "-q", "http://nosuch/"]).output, "wget: bad address 'nosuch'\n");
    assert_eq!(run(&["wget", "-q", "-O-", "web:81"]).output, "wget: can't connect to remote host (10.96.0.42): Connection refused\n");
    assert_eq!(run(&["wget", "-q", "-O-", "web/missing"]).output, "wget: server returned error: HTTP/1.1 404 Not Found\n");
    assert_eq!(run(&["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://web/missing"]).output, "404");
    assert_eq!(run(&["curl", "http://nosuch"]).code, 6);
    assert_eq!(
        run(&["nslookup", "web"]).output,
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb.default.svc.cluster.local\nAddress: 10.96.0.42\n\n"
    );
    assert_eq!(run(&["nslookup", "nosuch"]).code, 1);
    assert_eq!(run(&["sh", "-c", "nc -z web 81 || echo closed"]).output, "closed\n");
    assert_eq!(
        run(&["sh", "-c", "if then"]),
        Exec {
            code: 2,
            output: "sh: syntax error: unexpected \"then\"\n".into(),
            unmodelled: None,
            files: files.clone(),
            took: SimDuration::ZERO,
            endless: false
        }
    );
}

#[test]
fn no_script_panics_or_runs_unbounded() {
    // Whatever the text, each `run` returns (its work is bounded by the operation budget)
    // and a process that sleeps lets virtual time pass: the simulation always moves on.
    let mut rng = crate::rng::SimRng::stream(9, "scripts");
    let words = [
        "sleep", "1", "touch", "/a", "rm", "-f", "exit", "7", "while", "true", ";", "&&", "||", "|", "&", "do", "done", "if", "then",
        "else", "fi", "for", "in", "\"", "'", "$(", ")", "$((", "))", "${", "}", "{", "(", "x=1", "$x", ">", ">>", "<", "2>&1", "echo",
        "cat", "wait", "trap", "TERM", "break", "continue", "`", "\\", "\n", "#", "-", "[", "]", "seq", "1000",
    ];
    for _ in 0..3000 {
        let script: Vec<&str> = (0..rng.range_inclusive(0, 16)).map(|_| words[rng.pick_index(words.len())]).collect();
        let source = script.join(" ");
        let mut s = sh(&source);
        let mut now = SimTime::ZERO;
        for round in 0..50 {
            if round == 3 {
                let _ = s.terminate(now, &Friendly);
            }
            match s.run(now, &Friendly) {
                Run::Sleep(d) => {
                    assert!(d > SimDuration::ZERO, "{source:?} sleeps for no time: the simulation would stall");
                    now = now.plus(d);
                }
                Run::Forever | Run::Exited(_) => break,
            }
        }
        let _ = exec(&strings(&["sh", "-c", &source]), Rc::default(), &BTreeMap::new(), SimTime::ZERO, &Friendly);
    }
}
