//! Container image references: their tag, and the fully qualified name containerd reports.

/// The tag of an image reference (`nginx:1.27` → `1.27`), ignoring registry ports and digests.
pub fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return Some("@digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, t)| t)
}

/// Checks an image reference as `reference.ParseNormalizedNamed` does; the error is its text.
pub fn parse_reference(image: &str) -> Result<(), String> {
    const INVALID: &str = "invalid reference format";
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    // The tag is after the last ':' that follows the last '/'.
    let slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[slash..].rfind(':') {
        Some(i) => (&name_and_tag[..slash + i], Some(&name_and_tag[slash + i + 1..])),
        None => (name_and_tag, None),
    };
    let (domain, remote) = split_domain(name);
    if remote.to_lowercase() != remote {
        return Err(format!("{INVALID}: repository name ({remote}) must be lowercase"));
    }
    let component_ok = |c: &str| {
        // [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
        let mut chars = c.chars().peekable();
        let mut need_alnum = true;
        let mut seps = String::new();
        while let Some(ch) = chars.next() {
            if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
                need_alnum = false;
                seps.clear();
            } else if !need_alnum && matches!(ch, '.' | '_' | '-') {
                seps.push(ch);
                let ok = matches!(seps.as_str(), "." | "_" | "__") || seps.chars().all(|s| s == '-');
                if !ok {
                    return false;
                }
                if chars.peek().is_none() {
                    return false;
                }
            } else {
                return false;
            }
        }
        !need_alnum && seps.is_empty()
    };
    let host_ok = |d: &str| {
        let (host, port) = d.rsplit_once(':').map_or((d, None), |(h, p)| (h, Some(p)));
        port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    };
    if domain.is_some_and(|d| !host_ok(d)) || remote.is_empty() || !remote.split('/').all(component_ok) {
        return Err(INVALID.into());
    }
    if name.len() > 255 {
        return Err("repository name must not be more than 255 characters".into());
    }
    if let Some(tag) = tag {
        let ok = tag.len() <= 128
            && tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return Err(INVALID.into());
        }
    }
    if let Some(digest) = digest {
        let ok = digest.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Err(INVALID.into());
        }
    }
    Ok(())
}

/// `splitDockerDomain`: the registry (if the first component names one) and the repository
/// path, with Docker Hub's `library/` for one-component names.
fn split_domain(name: &str) -> (Option<&str>, String) {
    match name.split_once('/') {
        None => (None, format!("library/{name}")),
        Some((first, rest)) if first == "localhost" || first.contains(['.', ':']) || first.to_lowercase() != first => {
            (Some(first), rest.to_string())
        }
        Some(_) => (None, name.to_string()),
    }
}

/// containerd reports images fully qualified: `nginx:1.27` → `docker.io/library/nginx:1.27`.
pub fn qualified_image(image: &str) -> String {
    let with_tag = if image_tag(image).is_some() { image.to_string() } else { format!("{image}:latest") };
    let first = with_tag.split('/').next().unwrap_or("");
    let has_registry = with_tag.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        with_tag
    } else if with_tag.contains('/') {
        format!("docker.io/{with_tag}")
    } else {
        format!("docker.io/library/{with_tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_qualified_names() {
        assert_eq!(image_tag("nginx"), None);
        assert_eq!(image_tag("nginx:1.27"), Some("1.27"));
        assert_eq!(image_tag("localhost:5000/app"), None);
        assert_eq!(image_tag("localhost:5000/app:v2"), Some("v2"));
        assert_eq!(qualified_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(qualified_image("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(qualified_image("registry.k8s.io/pause:3.10"), "registry.k8s.io/pause:3.10");
    }

    #[test]
    fn references_are_checked_as_docker_distribution_does() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "library/nginx",
            "registry.k8s.io/e2e-test-images/agnhost:2.40",
            "localhost:5000/app:v1",
            "a__b/c.d-e---f:T_1",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(parse_reference(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            parse_reference("Nginx:latest"),
            Err("invalid reference format: repository name (library/Nginx) must be lowercase".into())
        );
        assert_eq!(parse_reference("me/MyApp"), Err("invalid reference format: repository name (me/MyApp) must be lowercase".into()));
        for bad in ["nginx:", "nginx:-1", "nginx::1", "ngi nx", "-nginx", "nginx.", "nginx@sha256:xyz", ""] {
            assert_eq!(parse_reference(bad), Err("invalid reference format".into()), "{bad:?}");
        }
    }
}
