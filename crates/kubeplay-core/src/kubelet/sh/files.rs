//! The container's file system as the utilities see it: directories every image has, what a
//! directory holds, and pathname expansion.

use super::Files;

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
pub(super) fn children(files: &Files, dir: &str) -> Vec<String> {
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
pub(super) fn matches(pattern: &str, name: &str) -> bool {
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
