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

/// BIND's `dig` (9.18, as Debian ships it): one query to the Pod's nameserver, without the
/// search path unless `+search`; `+short` prints only the answers. Types A (the default),
/// SRV and CNAME. The message sizes are what the answers would take on the wire (names
/// compressed in answers), the id is derived from the question.
pub(super) fn dig(args: &[String], ctx: &Ctx<'_>, out: &mut Out) -> i32 {
    let short = args.iter().any(|a| a == "+short");
    let search = args.iter().any(|a| a == "+search");
    let mut qtype = "A".to_string();
    let mut name = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-t" {
            i += 1;
            qtype = args.get(i).map_or("A".into(), |t| t.to_ascii_uppercase());
        } else if matches!(a.to_ascii_uppercase().as_str(), "A" | "SRV" | "CNAME" | "AAAA")
            && args.iter().filter(|x| !x.starts_with(['+', '@', '-'])).count() > 1
        {
            // A type, before or after the name.
            qtype = a.to_ascii_uppercase();
        } else if !a.starts_with('+') && !a.starts_with('@') && !a.starts_with('-') && name.is_none() {
            name = Some(a.clone());
        }
        i += 1;
    }
    let name = name.unwrap_or_else(|| ".".into());
    let server = ctx.net.nameserver();
    // The question, fully qualified (with +search, the first name of the search path that answers).
    let (qname, answers): (String, Vec<(String, &str, String)>) = match qtype.as_str() {
        "SRV" => {
            let records = ctx.net.resolve_srv(if search { &name } else { name.trim_end_matches('.') });
            let qname = records.first().map_or_else(|| name.trim_end_matches('.').to_string(), |r| r.0.clone());
            let answers =
                records.into_iter().map(|(fqdn, p, w, port, target)| (fqdn, "SRV", format!("{p} {w} {port} {target}."))).collect();
            (qname, answers)
        }
        _ => {
            let lookup = if search { name.clone() } else { format!("{}.", name.trim_end_matches('.')) };
            match ctx.net.resolve(&lookup) {
                Ok(r) => {
                    let mut answers = Vec::new();
                    let mut owner = r.fqdn.clone();
                    if let Some(cname) = &r.cname {
                        answers.push((r.fqdn.clone(), "CNAME", format!("{}.", cname.trim_end_matches('.'))));
                        owner = cname.trim_end_matches('.').to_string();
                    }
                    if qtype == "A" {
                        answers.extend(r.addresses.iter().map(|a| (owner.clone(), "A", a.clone())));
                    }
                    (r.fqdn, answers)
                }
                Err(_) => (name.trim_end_matches('.').to_string(), Vec::new()),
            }
        }
    };
    if short {
        for (_, _, data) in &answers {
            out.stdout.push_str(&format!("{data}\n"));
        }
        return 0;
    }
    let in_cluster = qname.ends_with("cluster.local");
    let status = if answers.is_empty() && (in_cluster || qtype == "A") { "NXDOMAIN" } else { "NOERROR" };
    let flags = if in_cluster { "qr aa rd" } else { "qr rd ra" };
    let id = crate::rng::fnv1a64(format!("{qname}/{qtype}/{}", ctx.now.ms()).as_bytes()) % 65_536;
    let wire = |n: &str| n.trim_end_matches('.').split('.').map(|l| l.len() + 1).sum::<usize>() + 1;
    let rdata = |ty: &str, data: &str| match ty {
        "A" => 4,
        "SRV" => 6 + wire(data.rsplit(' ').next().unwrap_or("")),
        _ => wire(data),
    };
    let authority = answers.is_empty() && in_cluster;
    let soa = "ns.dns.cluster.local. hostmaster.cluster.local. 1767225600 7200 1800 86400 30";
    let size = 12
        + wire(&qname)
        + 4
        + answers.iter().map(|(_, ty, data)| 2 + 10 + rdata(ty, data)).sum::<usize>()
        + if authority { 2 + 10 + wire("ns.dns.cluster.local") + wire("hostmaster.cluster.local") + 20 } else { 0 }
        + 11;
    let mut text = format!("\n; <<>> DiG 9.18.33-1~deb12u2-Debian <<>> {}\n", args.join(" "));
    text.push_str(";; global options: +cmd\n;; Got answer:\n");
    text.push_str(&format!(";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {id}\n"));
    text.push_str(&format!(
        ";; flags: {flags}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: 1\n",
        answers.len(),
        usize::from(authority)
    ));
    if in_cluster {
        text.push_str(";; WARNING: recursion requested but not available\n");
    }
    text.push_str("\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n");
    text.push_str(&format!(";; QUESTION SECTION:\n;{qname}.\t\tIN\t{qtype}\n"));
    if !answers.is_empty() {
        text.push_str("\n;; ANSWER SECTION:\n");
        for (owner, ty, data) in &answers {
            text.push_str(&format!("{owner}.\t30\tIN\t{ty}\t{data}\n"));
        }
    }
    if authority {
        text.push_str(&format!("\n;; AUTHORITY SECTION:\ncluster.local.\t\t30\tIN\tSOA\t{soa}\n"));
    }
    let c = ctx.now.calendar();
    text.push_str(&format!(
        "\n;; Query time: 0 msec\n;; SERVER: {server}#53({server}) (UDP)\n;; WHEN: {}\n;; MSG SIZE  rcvd: {size}\n\n",
        super::text::strftime("%a %b %d %H:%M:%S UTC %Y", &c)
    ));
    out.stdout.push_str(&text);
    0
}
