//! The utilities that use the network — `wget`, `curl`, `nslookup` — as BusyBox and curl word
//! their results, over the `Net` the kubelet provides.

use super::text::unescape;
use super::utils::{Ctx, Out};
use super::{Files, Reply};

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
pub(super) fn wget(args: &[String], files: &mut Files, ctx: &Ctx<'_>, out: &mut Out) -> i32 {
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
pub(super) fn curl(args: &[String], files: &mut Files, ctx: &Ctx<'_>, out: &mut Out) -> i32 {
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
pub(super) fn nslookup(args: &[String], ctx: &Ctx<'_>, out: &mut Out) -> i32 {
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
