//! The utilities a container's shell finds on its PATH, as BusyBox writes them (messages
//! included): file commands over the container's files, text tools over stdin, and the
//! environment and clock. A command not here returns `None`: the caller notes it as not
//! simulated and carries on as if it succeeded.

use std::collections::BTreeMap;

use super::{Files, Reply};
use crate::time::{SimDuration, SimTime};

#[derive(Default)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
}

pub struct Ctx<'a> {
    pub vars: &'a BTreeMap<String, String>,
    pub now: SimTime,
    pub net: &'a dyn super::Net,
}

const UTILITIES: [&str; 48] = [
    "wget", "curl", "awk", "nslookup", "echo", "printf", "cat", "touch", "rm", "mkdir", "rmdir", "cp", "mv", "ls", "test", "[", "true",
    "false", ":", "date", "hostname", "env", "printenv", "seq", "wc", "head", "tail", "grep", "basename", "dirname", "id", "whoami",
    "uname", "pwd", "expr", "tee", "sort", "uniq", "cut", "tr", "rev", "nproc", "free", "df", "du", "ln", "chmod", "chown",
];

/// Long-running programs: in a script they run in the foreground until stopped.
const SERVERS: [&str; 16] = [
    "nginx",
    "httpd",
    "httpd-foreground",
    "apache2",
    "redis-server",
    "postgres",
    "mysqld",
    "mongod",
    "caddy",
    "node",
    "java",
    "agnhost",
    "http-echo",
    "serve-hostname",
    "nc",
    "yes",
];

pub fn is_utility(name: &str) -> bool {
    UTILITIES.contains(&name)
}

pub fn is_server(name: &str, args: &[String]) -> bool {
    let python_server = matches!(name, "python" | "python3") && args.iter().any(|a| a == "http.server" || a == "SimpleHTTPServer");
    let nc_listens = name != "nc" || args.iter().any(|a| a.starts_with("-l") || a == "-lk");
    (SERVERS.contains(&name) && nc_listens) || python_server
}

/// `sleep N[smhd]` (several add up); `Ok(None)` for `sleep infinity`.
pub fn sleep_duration(args: &[String]) -> Result<Option<SimDuration>, String> {
    if args.is_empty() {
        return Err("sleep: missing operand\n".into());
    }
    let mut total: u64 = 0;
    for a in args {
        if a == "infinity" || a == "inf" {
            return Ok(None);
        }
        let (num, scale) = match a.chars().last() {
            Some('s') => (&a[..a.len() - 1], 1000.0),
            Some('m') => (&a[..a.len() - 1], 60_000.0),
            Some('h') => (&a[..a.len() - 1], 3_600_000.0),
            Some('d') => (&a[..a.len() - 1], 86_400_000.0),
            _ => (a.as_str(), 1000.0),
        };
        let Some(value) = num.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0) else {
            return Err(format!("sleep: invalid number '{a}'\n"));
        };
        total = total.saturating_add((value * scale).min(1e15) as u64);
    }
    Ok(Some(SimDuration(total)))
}

/// Directories every image has, whatever its files.
const STANDARD_DIRS: [&str; 22] = [
    "/bin",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/usr/bin",
    "/usr/local",
    "/usr/share",
    "/var",
    "/var/log",
    "/var/run",
    "/var/tmp",
];

pub fn is_dir(files: &Files, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    if path.is_empty() || STANDARD_DIRS.contains(&path) {
        return true;
    }
    let prefix = format!("{path}/");
    files.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix))
}

/// The names directly inside `dir`.
fn children(files: &Files, dir: &str) -> Vec<String> {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    let prefix = if prefix == "/" { "/".to_string() } else { prefix };
    let mut names: Vec<String> = files
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(k, _)| k[prefix.len()..].split('/').next().map(str::to_string))
        .filter(|n| !n.is_empty())
        .collect();
    let dir = dir.trim_end_matches('/');
    names.extend(
        STANDARD_DIRS
            .iter()
            .filter_map(|d| d.strip_prefix(dir)?.strip_prefix('/'))
            .filter(|rest| !rest.contains('/'))
            .map(|n| n.to_string()),
    );
    names.sort();
    names.dedup();
    names
}

/// Pathname expansion: the paths `pattern` (`*`, `?`) matches, sorted; none if it matches
/// nothing (the word then stays as written).
pub fn glob(files: &Files, pattern: &str) -> Vec<String> {
    if !pattern.starts_with('/') {
        return Vec::new(); // The working directory is `/`: relative patterns match `/` entries.
    }
    let mut found: Vec<String> = vec![String::new()];
    for segment in pattern.trim_start_matches('/').split('/') {
        let mut next = Vec::new();
        for base in &found {
            let dir = if base.is_empty() { "/".to_string() } else { base.clone() };
            if segment.contains(['*', '?']) {
                for name in children(files, &dir) {
                    if !name.starts_with('.') && matches(segment, &name) {
                        next.push(format!("{base}/{name}"));
                    }
                }
            } else {
                let path = format!("{base}/{segment}");
                if files.contains_key(&path) || is_dir(files, &path) {
                    next.push(path);
                }
            }
        }
        found = next;
        if found.is_empty() || found.len() > 10_000 {
            return Vec::new();
        }
    }
    found.sort();
    found
}

/// `*` and `?` wildcards.
fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative wildcard match with one backtrack point: linear in practice.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

fn flags_and_operands(args: &[String]) -> (String, Vec<&String>) {
    let mut flags = String::new();
    let mut operands = Vec::new();
    let mut done = false;
    for a in args {
        if !done && a == "--" {
            done = true;
        } else if !done && a.len() > 1 && a.starts_with('-') && !a[1..].starts_with(|c: char| c.is_ascii_digit()) {
            flags.push_str(&a[1..]);
        } else {
            operands.push(a);
        }
    }
    (flags, operands)
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn joined(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Runs utility `name`; `None` when kubeplay does not model it.
pub fn run(name: &str, args: &[String], stdin: Option<&str>, files: &mut Files, ctx: &Ctx<'_>, out: &mut Out) -> Option<i32> {
    let input = stdin.unwrap_or("");
    let status = match name {
        "true" | ":" => 0,
        "false" => 1,
        "echo" => {
            let mut rest = args;
            let (mut newline, mut escapes) = (true, false);
            while let Some(flag) = rest.first().filter(|f| f.len() > 1 && f.starts_with('-') && f[1..].chars().all(|c| "neE".contains(c))) {
                newline &= !flag.contains('n');
                escapes |= flag.contains('e');
                rest = &rest[1..];
            }
            let mut text = rest.join(" ");
            if escapes {
                text = unescape(&text);
            }
            out.stdout.push_str(&text);
            if newline {
                out.stdout.push('\n');
            }
            0
        }
        "printf" => match args.split_first() {
            None => {
                out.stderr.push_str("printf: usage: printf FORMAT [ARGUMENT...]\n");
                1
            }
            Some((format, rest)) => {
                out.stdout.push_str(&printf(format, rest));
                0
            }
        },
        "cat" => {
            let (_, operands) = flags_and_operands(args);
            if operands.is_empty() {
                out.stdout.push_str(input);
                return Some(0);
            }
            let mut status = 0;
            for path in operands {
                if path == "-" {
                    out.stdout.push_str(input);
                } else if let Some(content) = files.get(path.as_str()) {
                    out.stdout.push_str(content);
                } else if is_dir(files, path) {
                    out.stderr.push_str("cat: read error: Is a directory\n");
                    status = 1;
                } else {
                    out.stderr.push_str(&format!("cat: can't open '{path}': No such file or directory\n"));
                    status = 1;
                }
            }
            status
        }
        "touch" => {
            let (_, operands) = flags_and_operands(args);
            for path in operands {
                files.entry(path.clone()).or_default();
            }
            0
        }
        "rm" => {
            let (flags, operands) = flags_and_operands(args);
            let mut status = 0;
            for path in operands {
                if files.remove(path.as_str()).is_some() {
                    continue;
                }
                if is_dir(files, path) {
                    if flags.contains('r') || flags.contains('R') {
                        let prefix = format!("{}/", path.trim_end_matches('/'));
                        files.retain(|k, _| !k.starts_with(&prefix));
                    } else {
                        out.stderr.push_str(&format!("rm: '{path}' is a directory\n"));
                        status = 1;
                    }
                } else if !flags.contains('f') {
                    out.stderr.push_str(&format!("rm: can't remove '{path}': No such file or directory\n"));
                    status = 1;
                }
            }
            status
        }
        "mkdir" => {
            let (flags, operands) = flags_and_operands(args);
            let mut status = 0;
            for path in operands {
                if is_dir(files, path) && !flags.contains('p') {
                    out.stderr.push_str(&format!("mkdir: can't create directory '{path}': File exists\n"));
                    status = 1;
                } else {
                    files.entry(format!("{}/", path.trim_end_matches('/'))).or_default();
                }
            }
            status
        }
        "rmdir" => {
            let (_, operands) = flags_and_operands(args);
            for path in operands {
                files.remove(&format!("{}/", path.trim_end_matches('/')));
            }
            0
        }
        "cp" | "mv" | "ln" => {
            let (flags, operands) = flags_and_operands(args);
            if name == "ln" && !flags.contains('s') {
                return Some(0);
            }
            let [from, to] = operands.as_slice() else {
                out.stderr.push_str(&format!("{name}: missing file operand\n"));
                return Some(1);
            };
            let Some(content) = files.get(from.as_str()).cloned() else {
                out.stderr.push_str(&format!("{name}: can't stat '{from}': No such file or directory\n"));
                return Some(1);
            };
            let target = if is_dir(files, to) {
                format!("{}/{}", to.trim_end_matches('/'), from.rsplit('/').next().unwrap_or(from))
            } else {
                to.to_string()
            };
            if name == "mv" {
                files.remove(from.as_str());
            }
            files.insert(target, content);
            0
        }
        "ls" => {
            let (flags, operands) = flags_and_operands(args);
            let targets: Vec<String> =
                if operands.is_empty() { vec!["/".into()] } else { operands.iter().map(|s| s.to_string()).collect() };
            let mut status = 0;
            for (n, target) in targets.iter().enumerate() {
                if n > 0 && targets.len() > 1 {
                    out.stdout.push('\n');
                }
                if files.contains_key(target) {
                    out.stdout.push_str(&format!("{target}\n"));
                } else if is_dir(files, target) {
                    if targets.len() > 1 {
                        out.stdout.push_str(&format!("{target}:\n"));
                    }
                    let mut names = children(files, target);
                    if !flags.contains('a') && !flags.contains('A') {
                        names.retain(|n| !n.starts_with('.'));
                    }
                    for n in names {
                        out.stdout.push_str(&format!("{n}\n"));
                    }
                } else {
                    out.stderr.push_str(&format!("ls: {target}: No such file or directory\n"));
                    status = 1;
                }
            }
            status
        }
        "test" | "[" => {
            let mut words: Vec<&str> = args.iter().map(String::as_str).collect();
            if name == "[" {
                if words.last() != Some(&"]") {
                    out.stderr.push_str("[: missing ]\n");
                    return Some(2);
                }
                words.pop();
            }
            match test(&words, files) {
                Ok(true) => 0,
                Ok(false) => 1,
                Err(message) => {
                    out.stderr.push_str(&format!("{name}: {message}\n"));
                    2
                }
            }
        }
        "date" => {
            let c = ctx.now.calendar();
            let format = args.iter().find_map(|a| a.strip_prefix('+')).unwrap_or("%a %b %e %H:%M:%S %Z %Y");
            out.stdout.push_str(&strftime(format, &c));
            out.stdout.push('\n');
            0
        }
        "hostname" => {
            out.stdout.push_str(&format!("{}\n", ctx.vars.get("HOSTNAME").map_or("", String::as_str)));
            0
        }
        "env" | "printenv" if args.is_empty() => {
            for (k, v) in ctx.vars {
                if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.stdout.push_str(&format!("{k}={v}\n"));
                }
            }
            0
        }
        "printenv" => {
            let mut status = 0;
            for a in args {
                match ctx.vars.get(a) {
                    Some(v) => out.stdout.push_str(&format!("{v}\n")),
                    None => status = 1,
                }
            }
            status
        }
        "env" => return None,
        "seq" => {
            let nums: Vec<i64> = args.iter().filter_map(|a| a.parse().ok()).collect();
            let (first, step, last) = match nums.as_slice() {
                [last] => (1, 1, *last),
                [first, last] => (*first, 1, *last),
                [first, step, last, ..] => (*first, *step, *last),
                [] => {
                    out.stderr.push_str("seq: missing operand\n");
                    return Some(1);
                }
            };
            let mut n = first;
            let mut count = 0;
            while step != 0 && ((step > 0 && n <= last) || (step < 0 && n >= last)) && count < 100_000 {
                out.stdout.push_str(&format!("{n}\n"));
                n = n.saturating_add(step);
                count += 1;
            }
            0
        }
        "wc" => {
            let (flags, operands) = flags_and_operands(args);
            let Some(text) = read_input("wc", operands.first().map(|p| p.as_str()), files, input, out) else { return Some(1) };
            let counts = [('l', text.matches('\n').count()), ('w', text.split_whitespace().count()), ('c', text.len())];
            let chosen: Vec<String> =
                counts.iter().filter(|(f, _)| flags.is_empty() || flags.contains(*f)).map(|(_, n)| n.to_string()).collect();
            let mut line = chosen.join(" ");
            if let Some(path) = operands.first() {
                line.push_str(&format!(" {path}"));
            }
            out.stdout.push_str(&format!("{line}\n"));
            0
        }
        "head" | "tail" => {
            let mut n: usize = 10;
            let mut path = None;
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if a == "-n" {
                    i += 1;
                    n = args.get(i).and_then(|v| v.trim_start_matches('+').parse().ok()).unwrap_or(10);
                } else if let Some(v) = a.strip_prefix("-n").or_else(|| a.strip_prefix('-')).and_then(|v| v.parse().ok()) {
                    n = v;
                } else if !a.starts_with('-') {
                    path = Some(a.clone());
                }
                i += 1;
            }
            let Some(text) = read_input(name, path.as_deref(), files, input, out) else { return Some(1) };
            let all = lines(&text);
            let picked = if name == "head" { &all[..n.min(all.len())] } else { &all[all.len().saturating_sub(n)..] };
            out.stdout.push_str(&joined(picked));
            0
        }
        "grep" => {
            let (flags, operands) = flags_and_operands(args);
            let Some((pattern, paths)) = operands.split_first() else {
                out.stderr.push_str("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n");
                return Some(2);
            };
            let Some(text) = read_input("grep", paths.first().map(|p| p.as_str()), files, input, out) else { return Some(2) };
            let ignore_case = flags.contains('i');
            let matches = |line: &str| {
                let found =
                    if ignore_case { line.to_lowercase().contains(&pattern.to_lowercase()) } else { line.contains(pattern.as_str()) };
                found != flags.contains('v')
            };
            let found: Vec<&str> = text.lines().filter(|l| matches(l)).collect();
            if flags.contains('c') {
                out.stdout.push_str(&format!("{}\n", found.len()));
            } else if !flags.contains('q') {
                out.stdout.push_str(&joined(&found));
            }
            i32::from(found.is_empty())
        }
        "basename" => {
            let path = args.first().map_or("", String::as_str).trim_end_matches('/');
            let mut base = path.rsplit('/').next().unwrap_or(path).to_string();
            if let Some(suffix) = args.get(1) {
                base = base.strip_suffix(suffix.as_str()).map_or(base.clone(), str::to_string);
            }
            out.stdout.push_str(&format!("{base}\n"));
            0
        }
        "dirname" => {
            let path = args.first().map_or("", String::as_str).trim_end_matches('/');
            let dir = match path.rfind('/') {
                Some(0) => "/",
                Some(i) => &path[..i],
                None => ".",
            };
            out.stdout.push_str(&format!("{dir}\n"));
            0
        }
        "id" => {
            out.stdout.push_str("uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
            0
        }
        "whoami" => {
            out.stdout.push_str("root\n");
            0
        }
        "uname" => {
            let (flags, _) = flags_and_operands(args);
            out.stdout.push_str(if flags.contains('a') {
                "Linux kubeplay 6.12.0 #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n"
            } else if flags.contains('r') {
                "6.12.0\n"
            } else if flags.contains('m') {
                "x86_64\n"
            } else {
                "Linux\n"
            });
            0
        }
        "pwd" => {
            out.stdout.push_str("/\n");
            0
        }
        "nproc" => {
            out.stdout.push_str("4\n");
            0
        }
        "expr" => {
            let src = args.join(" ");
            match super::arith::eval(&src, ctx.vars) {
                Ok(v) => {
                    out.stdout.push_str(&format!("{v}\n"));
                    i32::from(v == 0)
                }
                Err(_) => {
                    out.stderr.push_str("expr: syntax error\n");
                    2
                }
            }
        }
        "tee" => {
            let (flags, operands) = flags_and_operands(args);
            for path in operands {
                let file = files.entry(path.clone()).or_default();
                if !flags.contains('a') {
                    file.clear();
                }
                file.push_str(input);
            }
            out.stdout.push_str(input);
            0
        }
        "sort" | "uniq" | "rev" | "tr" | "cut" => {
            let (flags, operands) = flags_and_operands(args);
            let text = match operands.first().filter(|_| name != "tr" && name != "cut") {
                Some(p) => files.get(p.as_str()).cloned().unwrap_or_default(),
                None => input.to_string(),
            };
            let mut all: Vec<String> = text.lines().map(str::to_string).collect();
            match name {
                "sort" => {
                    all.sort();
                    if flags.contains('r') {
                        all.reverse();
                    }
                }
                "uniq" => all.dedup(),
                "rev" => all = all.iter().map(|l| l.chars().rev().collect()).collect(),
                "tr" => {
                    let (from, to) = (operands.first().map_or("", |s| s.as_str()), operands.get(1).map_or("", |s| s.as_str()));
                    let (from, to) = (char_set(from), char_set(to));
                    all = all
                        .iter()
                        .map(|l| {
                            l.chars()
                                .filter_map(|c| match from.iter().position(|f| *f == c) {
                                    Some(_) if flags.contains('d') => None,
                                    Some(i) => to.get(i).or(to.last()).copied().or(Some(c)),
                                    None => Some(c),
                                })
                                .collect()
                        })
                        .collect();
                }
                _ => {
                    let delim = args.iter().position(|a| a == "-d").and_then(|i| args.get(i + 1)).and_then(|d| d.chars().next());
                    let delim =
                        delim.or_else(|| args.iter().find_map(|a| a.strip_prefix("-d")).and_then(|d| d.chars().next())).unwrap_or('\t');
                    let field = args.iter().position(|a| a == "-f").and_then(|i| args.get(i + 1)).cloned();
                    let field = field.or_else(|| args.iter().find_map(|a| a.strip_prefix("-f")).map(str::to_string));
                    let index: usize = field.and_then(|f| f.parse().ok()).unwrap_or(1).max(1);
                    all = all.iter().map(|l| l.split(delim).nth(index - 1).unwrap_or("").to_string()).collect();
                }
            }
            out.stdout.push_str(&all.iter().map(|l| format!("{l}\n")).collect::<String>());
            0
        }
        "wget" => return Some(wget(args, files, ctx, out)),
        "curl" => return Some(curl(args, files, ctx, out)),
        "nslookup" => return Some(nslookup(args, ctx, out)),
        "nc" if args.iter().any(|a| a.starts_with("-z") || a == "-vz" || a == "-zv") => {
            let operands: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
            let (Some(host), Some(port)) = (operands.first(), operands.get(1).and_then(|p| p.parse::<i32>().ok())) else {
                out.stderr.push_str("nc: bad port\n");
                return Some(1);
            };
            let ip = match ctx.net.resolve(host) {
                Ok(r) => r.addresses.first().cloned().unwrap_or_default(),
                Err(_) => {
                    out.stderr.push_str(&format!("nc: bad address '{host}'\n"));
                    return Some(1);
                }
            };
            match ctx.net.connect(&ip, port, None, host) {
                Reply::Http { .. } => {
                    if args.iter().any(|a| a.contains('v')) {
                        out.stderr.push_str(&format!("{host} ({ip}:{port}) open\n"));
                    }
                    0
                }
                _ => 1,
            }
        }
        "awk" => {
            let mut separator: Option<String> = None;
            let mut program = None;
            let mut paths = Vec::new();
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if a == "-F" {
                    separator = args.get(i + 1).cloned();
                    i += 1;
                } else if let Some(sep) = a.strip_prefix("-F") {
                    separator = Some(sep.to_string());
                } else if program.is_none() {
                    program = Some(a.clone());
                } else {
                    paths.push(a.clone());
                }
                i += 1;
            }
            let text = match paths.first() {
                Some(p) => files.get(p).cloned().unwrap_or_default(),
                None => input.to_string(),
            };
            match awk(program.as_deref().unwrap_or(""), separator.as_deref(), &text) {
                Some(printed) => {
                    out.stdout.push_str(&printed);
                    0
                }
                None => return None,
            }
        }
        "free" | "df" | "du" | "chmod" | "chown" => 0,
        _ => return None,
    };
    Some(status)
}

/// `http://host:port/path` → (host, port, path).
fn parse_url(url: &str) -> (String, i32, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let default = if scheme == "https" { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(default)),
        None => (authority.to_string(), default),
    };
    (host, port, path)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// How an HTTP request went.
enum Fetched {
    /// The name did not resolve.
    BadAddress,
    /// No connection (refused, or no route).
    NoConnection(Reply),
    Http(u16, String),
}

/// An HTTP GET of `url` (with `host_header` as the Host, if given): the host as written, the
/// `ip:port` connected to, and the outcome.
fn fetch(url: &str, host_header: Option<&str>, ctx: &Ctx<'_>) -> (String, String, Fetched) {
    let (host, port, path) = parse_url(url);
    let ip = match ctx.net.resolve(&host) {
        Ok(r) => r.addresses.first().cloned().unwrap_or_default(),
        Err(_) => return (host, String::new(), Fetched::BadAddress),
    };
    let target = format!("{ip}:{port}");
    match ctx.net.connect(&ip, port, Some(&path), host_header.unwrap_or(&host)) {
        Reply::Http { status, body } => (host, target, Fetched::Http(status, body)),
        other => (host, target, Fetched::NoConnection(other)),
    }
}

/// BusyBox `wget URL [-O FILE] [-q] [-S] [--spider]`.
fn wget(args: &[String], files: &mut Files, ctx: &Ctx<'_>, out: &mut Out) -> i32 {
    let quiet = args.iter().any(|a| a == "-q" || (a.starts_with("-q") && !a.starts_with("--")));
    let headers = args.iter().any(|a| a == "-S" || a == "--server-response");
    let spider = args.iter().any(|a| a == "--spider");
    let mut target: Option<String> = None;
    let mut url = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-O" || a == "-T" || a == "--timeout" || a == "-U" || a == "--header" {
            if a == "-O" {
                target = args.get(i + 1).cloned();
            }
            i += 1;
        } else if let Some(v) = a.strip_prefix("-qO").or_else(|| a.strip_prefix("-O")).filter(|v| !v.is_empty()) {
            target = Some(v.to_string());
        } else if !a.starts_with('-') {
            url = Some(a.clone());
        }
        i += 1;
    }
    let Some(url) = url else {
        out.stderr.push_str("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n");
        return 1;
    };
    let header = args.iter().position(|a| a == "--header").and_then(|i| args.get(i + 1));
    let host_header = header.and_then(|h| h.strip_prefix("Host:").or_else(|| h.strip_prefix("host:"))).map(str::trim);
    let (host, addr, result) = fetch(&url, host_header, ctx);
    match result {
        Fetched::BadAddress => {
            out.stderr.push_str(&format!("wget: bad address '{host}'\n"));
            1
        }
        Fetched::NoConnection(reply) => {
            if !quiet {
                out.stderr.push_str(&format!("Connecting to {host} ({addr})\n"));
            }
            // Dropped packets: connect() gives up after the kernel's SYN retries.
            let why = if reply == Reply::Refused { "Connection refused" } else { "Connection timed out" };
            let ip = addr.rsplit_once(':').map_or(addr.as_str(), |(ip, _)| ip);
            out.stderr.push_str(&format!("wget: can't connect to remote host ({ip}): {why}\n"));
            1
        }
        Fetched::Http(status, body) => {
            if !quiet {
                out.stderr.push_str(&format!("Connecting to {host} ({addr})\n"));
            }
            if headers {
                out.stderr.push_str(&format!("  HTTP/1.1 {status} {}\n", reason(status)));
            }
            if status >= 400 {
                out.stderr.push_str(&format!("wget: server returned error: HTTP/1.1 {status} {}\n", reason(status)));
                return 1;
            }
            if spider {
                if !quiet {
                    out.stderr.push_str("remote file exists\n");
                }
                return 0;
            }
            match target.as_deref() {
                Some("-") => {
                    if !quiet {
                        out.stderr.push_str("writing to stdout\n");
                    }
                    out.stdout.push_str(&body);
                    if !quiet {
                        out.stderr.push_str("-                    100% |********************************|   ");
                        out.stderr.push_str(&format!("{}  0:00:00 ETA\nwritten to stdout\n", body.len()));
                    }
                }
                other => {
                    let name = other.map(str::to_string).unwrap_or_else(|| {
                        let (_, _, path) = parse_url(&url);
                        let last = path.rsplit('/').next().unwrap_or("");
                        if last.is_empty() {
                            "index.html".into()
                        } else {
                            last.to_string()
                        }
                    });
                    let path = if name.starts_with('/') { name.clone() } else { format!("/{name}") };
                    if !quiet {
                        out.stderr.push_str(&format!(
                            "saving to '{name}'\n{name:<20} 100% |********************************| {:>5}  0:00:00 ETA\n'{name}' saved\n",
                            body.len()
                        ));
                    }
                    files.insert(path, body);
                }
            }
            0
        }
    }
}

/// curl URL [-s] [-S] [-f] [-o FILE] [-w FORMAT] [-I].
fn curl(args: &[String], files: &mut Files, ctx: &Ctx<'_>, out: &mut Out) -> i32 {
    let has = |short: char, long: &str| args.iter().any(|a| a == long || (a.starts_with('-') && !a.starts_with("--") && a.contains(short)));
    let silent = has('s', "--silent") && !has('S', "--show-error");
    let fail = has('f', "--fail");
    let head = has('I', "--head");
    let value = |flags: &[&str]| args.iter().position(|a| flags.contains(&a.as_str())).and_then(|i| args.get(i + 1)).cloned();
    let output = value(&["-o", "--output"]);
    let write_out = value(&["-w", "--write-out"]);
    let skip: Vec<usize> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            matches!(a.as_str(), "-o" | "--output" | "-w" | "--write-out" | "-H" | "--header" | "-m" | "--max-time" | "-X" | "-d")
        })
        .map(|(i, _)| i + 1)
        .collect();
    let Some(url) = args.iter().enumerate().find(|(i, a)| !a.starts_with('-') && !skip.contains(i)).map(|(_, a)| a.clone()) else {
        out.stderr.push_str("curl: try 'curl --help' or 'curl --manual' for more information\n");
        return 2;
    };
    let header = value(&["-H", "--header"]);
    let host_header = header.as_deref().and_then(|h| h.strip_prefix("Host:").or_else(|| h.strip_prefix("host:"))).map(str::trim);
    let (host, _, result) = fetch(&url, host_header, ctx);
    let (_, port, _) = parse_url(&url);
    let (code, status, body) = match result {
        Fetched::BadAddress => {
            if !silent {
                out.stderr.push_str(&format!("curl: (6) Could not resolve host: {host}\n"));
            }
            (6, 0, String::new())
        }
        Fetched::NoConnection(_) => {
            if !silent {
                out.stderr
                    .push_str(&format!("curl: (7) Failed to connect to {host} port {port} after 0 ms: Could not connect to server\n"));
            }
            (7, 0, String::new())
        }
        Fetched::Http(status, _) if fail && status >= 400 => {
            if !silent {
                out.stderr.push_str(&format!("curl: (22) The requested URL returned error: {status}\n"));
            }
            (22, status, String::new())
        }
        Fetched::Http(status, body) => (0, status, body),
    };
    if code == 0 {
        let text = if head { format!("HTTP/1.1 {status} {}\r\n\r\n", reason(status)) } else { body };
        match output.as_deref() {
            Some("/dev/null") => {}
            Some(path) => _ = files.insert(path.to_string(), text),
            None => out.stdout.push_str(&text),
        }
    }
    if let Some(format) = write_out {
        out.stdout.push_str(&unescape(&format.replace("%{http_code}", &format!("{status:03}"))));
    }
    code
}

/// BusyBox nslookup NAME: the cluster DNS's answer.
fn nslookup(args: &[String], ctx: &Ctx<'_>, out: &mut Out) -> i32 {
    let Some(name) = args.iter().find(|a| !a.starts_with('-')) else {
        out.stderr.push_str("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n");
        return 1;
    };
    let server = ctx.net.nameserver();
    out.stdout.push_str(&format!("Server:\t\t{server}\nAddress:\t{server}:53\n\n"));
    let srv = args.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        a == "-type=srv" || a == "-query=srv" || a == "-q=srv"
    });
    if srv {
        let records = ctx.net.resolve_srv(name);
        if records.is_empty() {
            out.stdout.push_str(&format!("** server can't find {name}: NXDOMAIN\n\n"));
            return 1;
        }
        for (fqdn, priority, weight, port, target) in records {
            out.stdout.push_str(&format!("{fqdn}\tservice = {priority} {weight} {port} {target}\n"));
        }
        out.stdout.push('\n');
        return 0;
    }
    match ctx.net.resolve(name) {
        Ok(r) => {
            if let Some(cname) = &r.cname {
                out.stdout.push_str(&format!("{}\tcanonical name = {cname}\n", r.fqdn));
            }
            for address in &r.addresses {
                out.stdout.push_str(&format!("Name:\t{}\nAddress: {address}\n", r.cname.as_deref().unwrap_or(&r.fqdn)));
            }
            out.stdout.push('\n');
            0
        }
        Err(_) => {
            out.stdout.push_str(&format!("** server can't find {name}: NXDOMAIN\n\n"));
            1
        }
    }
}

/// A utility's input: the file it names, or stdin; a missing file is reported as BusyBox does.
fn read_input(name: &str, path: Option<&str>, files: &Files, stdin: &str, out: &mut Out) -> Option<String> {
    match path {
        None | Some("-") => Some(stdin.to_string()),
        Some(p) => match files.get(p) {
            Some(text) => Some(text.clone()),
            None => {
                out.stderr.push_str(&format!("{name}: {p}: No such file or directory\n"));
                None
            }
        },
    }
}

/// The awk programs one-liners use: `[/RE/]{print $N, …}` or `/RE/` (a literal pattern,
/// `^` anchoring it); None for anything else.
fn awk(program: &str, separator: Option<&str>, text: &str) -> Option<String> {
    let program = program.trim();
    let (pattern, action) = match program.strip_prefix('/') {
        Some(rest) => {
            let end = rest.find('/')?;
            (Some(&rest[..end]), rest[end + 1..].trim())
        }
        None => (None, program),
    };
    let fields: Vec<String> = if action.is_empty() {
        vec!["$0".into()]
    } else {
        let inner = action.strip_prefix('{')?.strip_suffix('}')?.trim();
        let list = inner.strip_prefix("print")?.trim();
        if list.is_empty() {
            vec!["$0".into()]
        } else {
            list.split(',').map(|f| f.trim().to_string()).collect()
        }
    };
    let matches = |line: &str| match pattern {
        None => true,
        Some(p) => match p.strip_prefix('^') {
            Some(anchored) => line.starts_with(anchored),
            None => line.contains(p),
        },
    };
    let mut out = String::new();
    for line in text.lines().filter(|l| matches(l)) {
        let split: Vec<&str> = match separator {
            Some(sep) if !sep.is_empty() && sep != " " => line.split(sep).collect(),
            _ => line.split_whitespace().collect(),
        };
        let values: Vec<String> = fields
            .iter()
            .map(|f| match f.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                Some(0) => line.to_string(),
                Some(n) => split.get(n - 1).map_or(String::new(), |v| v.to_string()),
                None if f == "NF" => split.len().to_string(),
                None => f.trim_matches('"').to_string(),
            })
            .collect();
        out.push_str(&values.join(" "));
        out.push('\n');
    }
    Some(out)
}

/// `a-z` style ranges for `tr`.
fn char_set(spec: &str) -> Vec<char> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i] <= chars[i + 2] && (chars[i + 2] as u32 - chars[i] as u32) < 256 {
            out.extend(chars[i]..=chars[i + 2]);
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// `test` / `[`: unary file and string tests, binary comparisons, `!`, `-a`, `-o`.
fn test(words: &[&str], files: &Files) -> Result<bool, String> {
    if let Some(i) = words.iter().position(|w| *w == "-o") {
        return Ok(test(&words[..i], files)? || test(&words[i + 1..], files)?);
    }
    if let Some(i) = words.iter().position(|w| *w == "-a") {
        if i > 0 {
            return Ok(test(&words[..i], files)? && test(&words[i + 1..], files)?);
        }
    }
    let int = |s: &str| s.trim().parse::<i64>().map_err(|_| format!("{s}: bad number"));
    Ok(match words {
        [] => false,
        ["!", rest @ ..] => !test(rest, files)?,
        [s] => !s.is_empty(),
        ["-n", s] => !s.is_empty(),
        ["-z", s] => s.is_empty(),
        ["-e" | "-r" | "-w" | "-x", p] => files.contains_key(*p) || is_dir(files, p),
        ["-f", p] => files.contains_key(*p) && !p.ends_with('/'),
        ["-d", p] => is_dir(files, p),
        ["-s", p] => files.get(*p).is_some_and(|c| !c.is_empty()),
        ["-L" | "-h" | "-p" | "-S" | "-b" | "-c", _] => false,
        [a, "=" | "==", b] => a == b,
        [a, "!=", b] => a != b,
        [a, op @ ("-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"), b] => {
            let (a, b) = (int(a)?, int(b)?);
            match *op {
                "-eq" => a == b,
                "-ne" => a != b,
                "-lt" => a < b,
                "-le" => a <= b,
                "-gt" => a > b,
                _ => a >= b,
            }
        }
        [_, op, _] => return Err(format!("{op}: unknown operand")),
        _ => return Err("syntax error".into()),
    })
}

/// `echo -e` and `printf`'s backslash escapes.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('a') => out.push('\u{7}'),
            Some('c') => break,
            Some('0') => {}
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `printf FORMAT ARGS…`: `%s %d %i %x %o %c %b %%` with flags and width; the format is
/// reused while arguments remain.
fn printf(format: &str, args: &[String]) -> String {
    let format = unescape(format);
    let mut out = String::new();
    let mut next = 0;
    for _round in 0..1000 {
        let chars: Vec<char> = format.chars().collect();
        let mut i = 0;
        let mut consumed = false;
        while i < chars.len() {
            if chars[i] != '%' {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            i += 1;
            let start = i;
            while i < chars.len() && "-+ 0#".contains(chars[i]) {
                i += 1;
            }
            let flags: String = chars[start..i].iter().collect();
            let wstart = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let width: String = chars[wstart..i].iter().collect();
            let Some(&conv) = chars.get(i) else { break };
            i += 1;
            if conv == '%' {
                out.push('%');
                continue;
            }
            let arg = args.get(next).cloned().unwrap_or_default();
            if next < args.len() {
                next += 1;
                consumed = true;
            }
            let text = match conv {
                'd' | 'i' => arg.trim().parse::<i64>().unwrap_or(0).to_string(),
                'x' => format!("{:x}", arg.trim().parse::<i64>().unwrap_or(0)),
                'o' => format!("{:o}", arg.trim().parse::<i64>().unwrap_or(0)),
                'c' => arg.chars().next().map(String::from).unwrap_or_default(),
                'b' => unescape(&arg),
                'f' => {
                    let precision = width.split_once('.').and_then(|(_, p)| p.parse().ok()).unwrap_or(6);
                    format!("{:.*}", precision, arg.trim().parse::<f64>().unwrap_or(0.0))
                }
                _ => arg,
            };
            let w: usize = width.split('.').next().and_then(|w| w.parse().ok()).unwrap_or(0).min(1000);
            let pad = w.saturating_sub(text.chars().count());
            if flags.contains('-') {
                out.push_str(&text);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && matches!(conv, 'd' | 'i' | 'x' | 'o' | 'f') {
                out.push_str(&"0".repeat(pad));
                out.push_str(&text);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&text);
            }
        }
        if !consumed || next >= args.len() {
            break;
        }
    }
    out
}

/// `date +FORMAT`.
fn strftime(format: &str, c: &crate::time::Calendar) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{:04}", c.year)),
            Some('m') => out.push_str(&format!("{:02}", c.month)),
            Some('d') => out.push_str(&format!("{:02}", c.day)),
            Some('e') => out.push_str(&format!("{:>2}", c.day)),
            Some('H') => out.push_str(&format!("{:02}", c.hour)),
            Some('M') => out.push_str(&format!("{:02}", c.minute)),
            Some('S') => out.push_str(&format!("{:02}", c.second)),
            Some('s') => out.push_str(&c.unix_seconds.to_string()),
            Some('a') => out.push_str(DAYS[c.weekday as usize % 7]),
            Some('b') => out.push_str(MONTHS[(c.month as usize).saturating_sub(1) % 12]),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('T') => out.push_str(&format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)),
            Some('F') => out.push_str(&format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}
