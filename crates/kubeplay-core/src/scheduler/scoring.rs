//! The Score phase over the feasible nodes: each scoring plugin's normalised 0–100 score and
//! its weight in the Pod's profile (a disabled plugin weighs 0), summed (`Σ weight × score`).
//! One place, used by the cycle and by `kubeplay explain`, so the explanation shows the
//! numbers the choice was made on.

use super::cache::{Cache, NodeInfo};
use super::inter_pod_affinity;
use super::plugins::{node_affinity_raw, score_parts, untolerated_prefer_no_schedule, PodInfo};
use crate::api::scheduler_config::{fit_score, Profile};

/// One node's scores (normalised, before weights) and the raw values shown beside some.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeScores {
    pub taint: i64,
    pub node_affinity: i64,
    pub node_affinity_raw: i64,
    pub fit: i64,
    pub balanced: i64,
    pub spread: i64,
    pub inter_pod: i64,
    pub inter_pod_raw: i64,
    pub image: i64,
    pub total: i64,
}

/// DefaultNormalizeScore (not reversed): `100 × raw / max`, all 0 when the max is 0.
pub fn normalize_by_max(raw: &[i64]) -> Vec<i64> {
    let max = raw.iter().copied().max().unwrap_or(0);
    raw.iter().map(|r| if max > 0 { 100 * r / max } else { 0 }).collect()
}

pub fn score_nodes(info: &PodInfo, cache: &Cache, feasible: &[&NodeInfo], profile: &Profile) -> Vec<NodeScores> {
    let max_taint_raw = feasible.iter().map(|n| untolerated_prefer_no_schedule(info, n)).max().unwrap_or(0);
    let affinity_raw: Vec<i64> = feasible.iter().map(|n| info.inter_pod.raw_score(&n.labels)).collect();
    let affinity = inter_pod_affinity::normalize(&affinity_raw);
    let node_affinity_raw: Vec<i64> = feasible.iter().map(|n| node_affinity_raw(info, n)).collect();
    let node_affinity = normalize_by_max(&node_affinity_raw);
    let spread = info.spread_state.scores(info, feasible);
    let total_nodes = cache.len();
    // ImageLocality only where some node reports one of the Pod's images by that name.
    let images_anywhere = info.images.iter().any(|i| cache.nodes_with_image(i) > 0);
    feasible
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let [taint, balanced] = score_parts(info, node, max_taint_raw);
            let (used, want) = (node.non_zero_requested, info.non_zero_requests);
            let fit = fit_score(
                profile,
                (used.milli_cpu.saturating_add(want.milli_cpu), node.allocatable.milli_cpu),
                (used.memory.saturating_add(want.memory), node.allocatable.memory),
            );
            let image = if images_anywhere { image_locality(info, node, cache, total_nodes) } else { 0 };
            let mut s = NodeScores {
                taint,
                node_affinity: node_affinity[i],
                node_affinity_raw: node_affinity_raw[i],
                fit,
                balanced,
                spread: spread.get(i).copied().unwrap_or(0),
                inter_pod: affinity[i],
                inter_pod_raw: affinity_raw[i],
                image,
                total: 0,
            };
            let [w_taint, w_node_affinity, w_fit, w_spread, w_inter_pod, w_balanced, w_image] = profile.weights;
            s.total = w_taint * s.taint
                + w_node_affinity * s.node_affinity
                + w_fit * s.fit
                + w_balanced * s.balanced
                + w_spread * s.spread
                + w_inter_pod * s.inter_pod
                + w_image * s.image;
            s
        })
        .collect()
}

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// ImageLocality: the Pod's images already on the node, each weighted by its size and by the
/// share of nodes that have it (so one node holding an image does not pull every Pod to
/// itself), clamped to 23 MiB … 1000 MiB × containers and scaled onto 0–100. Images are
/// matched by name as the node reports them: `nginx:1.27` is not `docker.io/library/nginx:1.27`
/// (upstream's own TODO), so with containerd only fully qualified references count.
pub fn image_locality(info: &PodInfo, node: &NodeInfo, cache: &Cache, total_nodes: usize) -> i64 {
    if info.images.is_empty() || total_nodes == 0 {
        return 0;
    }
    let sum: i64 = info
        .images
        .iter()
        .filter_map(|image| node.images.get(image).map(|size| (image, *size)))
        .map(|(name, size)| {
            let spread = cache.nodes_with_image(name) as f64 / total_nodes as f64;
            (size as f64 * spread) as i64
        })
        // Sizes come from Node manifests too: saturate rather than overflow.
        .fold(0i64, i64::saturating_add);
    let max = MAX_CONTAINER_THRESHOLD * info.images.len() as i64;
    let clamped = sum.clamp(MIN_THRESHOLD, max);
    100 * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}

/// `normalizedImageName`: `:latest` when the reference has no tag.
pub fn normalized_image_name(image: &str) -> String {
    let colon = image.rfind(':');
    let slash = image.rfind('/');
    match (colon, slash) {
        (Some(c), Some(s)) if c > s => image.to_string(),
        (Some(_), None) => image.to_string(),
        _ => format!("{image}:latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_latest_only_without_a_tag() {
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(normalized_image_name("nginx:1.27"), "nginx:1.27");
        assert_eq!(normalized_image_name("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalized_image_name("docker.io/library/nginx:1.27"), "docker.io/library/nginx:1.27");
    }

    #[test]
    fn normalising_by_the_max() {
        assert_eq!(normalize_by_max(&[0, 5, 10]), [0, 50, 100]);
        assert_eq!(normalize_by_max(&[0, 0]), [0, 0]);
        assert_eq!(normalize_by_max(&[3, 7]), [42, 100]);
    }
}
