//! The image catalogue: which tags of the images learners use exist, their sizes, and pull
//! times. A tag the catalogue does not know for a catalogued image (`nginx:1.999`,
//! `busybox:nope`) fails to pull as containerd reports it; an image the catalogue does not
//! know is taken to exist. (Approximation: real sizes depend on tag and platform.)

use crate::api::image::qualified_image;
use crate::rng::{fnv1a64, SimRng};

/// A catalogued repository: its newest version and the named tags (and tag suffixes) it has.
struct Entry {
    /// The repository as `qualified_image` spells it, without a tag.
    repo: &'static str,
    size: u64,
    /// The newest (major, minor) release; a higher numeric tag does not exist.
    newest: (u32, u32),
    named: &'static [&'static str],
}

const DEBIAN: &[&str] = &["latest", "bookworm", "trixie", "bullseye", "slim", "alpine", "alpine3.21", "alpine3.22"];

const CATALOGUE: &[Entry] = &[
    Entry {
        repo: "docker.io/library/nginx",
        size: 72_219_556,
        newest: (1, 29),
        named: &["latest", "stable", "mainline", "alpine", "alpine-slim", "alpine-perl", "perl", "bookworm", "trixie", "otel", "slim"],
    },
    Entry { repo: "docker.io/library/busybox", size: 2_155_170, newest: (1, 37), named: &["latest", "stable", "musl", "glibc", "uclibc"] },
    Entry { repo: "docker.io/library/alpine", size: 3_653_068, newest: (3, 22), named: &["latest", "edge"] },
    Entry { repo: "docker.io/library/httpd", size: 58_226_718, newest: (2, 4), named: &["latest", "alpine", "bookworm", "trixie"] },
    Entry { repo: "docker.io/library/redis", size: 45_125_393, newest: (8, 2), named: DEBIAN },
    Entry { repo: "docker.io/library/postgres", size: 158_504_204, newest: (18, 1), named: DEBIAN },
    Entry {
        repo: "docker.io/library/mysql",
        size: 172_338_150,
        newest: (9, 5),
        named: &["latest", "lts", "oracle", "debian", "innovation"],
    },
    Entry {
        repo: "docker.io/library/ubuntu",
        size: 29_754_290,
        newest: (25, 10),
        named: &["latest", "rolling", "devel", "noble", "jammy", "focal", "oracular", "plucky", "questing"],
    },
    Entry { repo: "docker.io/library/debian", size: 48_494_420, newest: (13, 2), named: DEBIAN },
    Entry { repo: "docker.io/library/python", size: 412_538_123, newest: (3, 14), named: DEBIAN },
    Entry {
        repo: "docker.io/library/node",
        size: 398_102_735,
        newest: (25, 2),
        named: &["latest", "lts", "current", "slim", "alpine", "bookworm", "trixie"],
    },
    Entry {
        repo: "docker.io/library/perl",
        size: 336_241_512,
        newest: (5, 42),
        named: &["latest", "slim", "threaded", "bookworm", "trixie"],
    },
    Entry { repo: "registry.k8s.io/pause", size: 320_368, newest: (3, 10), named: &["latest"] },
    Entry { repo: "registry.k8s.io/busybox", size: 2_155_170, newest: (1, 37), named: &["latest"] },
    Entry { repo: "registry.k8s.io/e2e-test-images/agnhost", size: 52_463_194, newest: (2, 56), named: &[] },
    Entry { repo: "us-docker.pkg.dev/google-samples/containers/gke/hello-app", size: 10_386_532, newest: (2, 0), named: &["latest"] },
];

fn entry(qualified: &str) -> Option<(&'static Entry, &str)> {
    let (repo, tag) = qualified.rsplit_once(':').filter(|(r, _)| !r.ends_with('/'))?;
    CATALOGUE.iter().find(|e| e.repo == repo).map(|e| (e, tag))
}

/// Whether a catalogued repository has `tag`: a version no newer than its newest, a named tag,
/// or a version with named suffixes (`1.27-alpine`).
fn has_tag(e: &Entry, tag: &str) -> bool {
    let mut pieces = tag.split('-');
    let first = pieces.next().unwrap_or("");
    let first_ok = if first.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        let mut nums = first.split('.').map(|n| n.parse::<u32>());
        let major = nums.next().and_then(Result::ok);
        let minor = nums.next().map(|m| m.ok());
        let well_formed = first.split('.').all(|n| n.parse::<u32>().is_ok());
        match (major, minor) {
            _ if !well_formed => false,
            (Some(major), _) if major < e.newest.0 => true,
            (Some(major), None) => major == e.newest.0,
            (Some(major), Some(Some(minor))) => major == e.newest.0 && minor <= e.newest.1,
            _ => false,
        }
    } else {
        e.named.contains(&first)
    };
    first_ok && pieces.all(|p| e.named.contains(&p) || p.starts_with("alpine") || p.starts_with("bookworm") || p.starts_with("trixie"))
}

/// What an image has on its PATH, as far as kubeplay knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Userland {
    /// `pause`: one static binary.
    Pause,
    /// distroless: no shell, no utilities.
    Distroless,
    /// BusyBox (busybox, alpine and `-alpine` tags): `sh` and its applets (`wget`, not `curl`),
    /// no `bash`.
    BusyBox,
    /// A Debian, Ubuntu or Oracle Linux base, or an image kubeplay does not know: assume a full one.
    Full,
}

fn userland(image: &str) -> Userland {
    let qualified = qualified_image(image);
    let (repo, tag) = qualified.rsplit_once(':').unwrap_or((&qualified, ""));
    let name = repo.rsplit('/').next().unwrap_or(repo);
    if name == "pause" {
        Userland::Pause
    } else if repo.contains("/distroless/") {
        Userland::Distroless
    } else if matches!(name, "busybox" | "alpine" | "agnhost") || tag.contains("alpine") {
        Userland::BusyBox
    } else {
        Userland::Full
    }
}

/// Whether `program` (a path or a name) exists in `image`.
pub fn has_program(image: &str, program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    let shell_or_utility = matches!(name, "sh" | "bash" | "ash" | "dash") || name == "sleep" || super::sh::is_utility(name);
    match userland(image) {
        Userland::Pause => name == "pause",
        Userland::Distroless => !shell_or_utility,
        Userland::BusyBox => !matches!(name, "bash" | "dash" | "curl" | "dig"),
        Userland::Full => true,
    }
}

/// Why pulling `image` fails, in containerd's words through the CRI, or None if it exists.
pub fn pull_error(image: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let qualified = qualified_image(image);
    let (e, tag) = entry(&qualified)?;
    if has_tag(e, tag) {
        return None;
    }
    Some(format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{qualified}\": failed to resolve reference \"{qualified}\": {qualified}: not found"
    ))
}

/// Approximate compressed sizes of images learners use most; others get a stable size
/// derived from the name.
pub fn image_size(image: &str) -> u64 {
    let qualified = qualified_image(image);
    if let Some((e, _)) = entry(&qualified) {
        return e.size;
    }
    // Elsewhere (a mirror, another registry) the same image has the same size.
    let repo = image.rsplit('/').next().unwrap_or(image).split([':', '@']).next().unwrap_or("");
    match CATALOGUE.iter().find(|e| e.repo.rsplit('/').next() == Some(repo)) {
        Some(e) => e.size,
        None => 5_000_000 + fnv1a64(repo.as_bytes()) % 115_000_000,
    }
}

/// What a container of `image` uses when idle: (millicores, bytes of working set), as
/// metrics-server reports a freshly started one. Servers tick over; a shell that sleeps uses
/// next to nothing.
pub fn idle_usage(image: &str) -> (i64, i64) {
    const MI: i64 = 1 << 20;
    let qualified = qualified_image(image);
    let repo = qualified.split([':', '@']).next().unwrap_or("");
    let name = repo.rsplit('/').next().unwrap_or(repo);
    match name {
        "nginx" => (1, 3 * MI),
        "httpd" => (1, 7 * MI),
        "redis" => (2, 3 * MI),
        "postgres" => (3, 24 * MI),
        "mysql" => (6, 362 * MI),
        "python" => (1, 9 * MI),
        "node" => (1, 38 * MI),
        "perl" => (1, 5 * MI),
        "busybox" | "alpine" | "ubuntu" | "debian" => (0, MI / 2),
        "pause" => (0, MI / 4),
        "agnhost" => (1, 6 * MI),
        "hello-app" => (1, 4 * MI),
        _ => (1, 12 * MI),
    }
}

/// The image's content address as containerd reports it (`repo@sha256:…`, stable per image).
pub fn image_id(qualified: &str) -> String {
    let repo = qualified.split(':').next().unwrap_or("");
    let digest = format!(
        "{:016x}{:016x}{:016x}{:016x}",
        fnv1a64(qualified.as_bytes()),
        fnv1a64(repo.as_bytes()),
        fnv1a64(&[1]),
        fnv1a64(qualified.as_bytes()).rotate_left(7)
    );
    format!("{repo}@sha256:{digest}")
}

/// Pull time: ~40 MB/s plus registry round trips, ±25 % jitter.
pub fn pull_ms(rng: &mut SimRng, image: &str) -> u64 {
    let base = 400 + image_size(image) / 40_000;
    let jitter = rng.range_inclusive(0, base / 2);
    base - base / 4 + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogued_tags_exist_and_others_do_not() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "nginx:1.14.2",
            "nginx:1.29.1-alpine",
            "nginx:alpine",
            "busybox:1.28",
            "registry.k8s.io/busybox:1.27.2",
            "registry.k8s.io/e2e-test-images/agnhost:2.40",
            "redis:7-alpine",
            "example.com/team/app:v9",
            "ubuntu:22.04",
        ] {
            assert_eq!(pull_error(ok), None, "{ok}");
        }
        assert_eq!(
            pull_error("nginx:1.999").as_deref(),
            Some(
                "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.999\": failed to resolve reference \"docker.io/library/nginx:1.999\": docker.io/library/nginx:1.999: not found"
            )
        );
        for missing in ["busybox:nope", "nginx:2", "nginx:1.30", "alpine:3.99", "nginx:latest-foo", "nginx:1.x"] {
            assert!(pull_error(missing).is_some(), "{missing}");
        }
        assert_eq!(image_size("nginx:1.27"), 72_219_556);
        assert!(has_program("nginx:1.29", "bash"));
        assert!(!has_program("nginx:1.29-alpine", "bash"));
        assert!(has_program("busybox:1.36", "/bin/sh"));
        assert!(!has_program("registry.k8s.io/pause:3.10", "sh"));
        assert!(!has_program("gcr.io/distroless/static-debian12", "ls"));
        assert_eq!(image_size("registry.k8s.io/pause:3.10"), 320_368);
    }
}
