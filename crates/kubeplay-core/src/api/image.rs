//! Container image references: their tag, and the fully qualified name containerd reports.

/// The tag of an image reference (`nginx:1.27` → `1.27`), ignoring registry ports and digests.
pub fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return Some("@digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, t)| t)
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
}
