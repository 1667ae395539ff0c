//! KubeSchedulerConfiguration (`kubescheduler.config.k8s.io/v1`): the scheduler's own
//! configuration file (a component config, not an API object). kubeplay reads it from the
//! manifests a cluster starts from, and the scheduler applies
//! what changes decisions: profiles chosen by a Pod's `schedulerName`, score plugins enabled,
//! disabled and weighted (`plugins.score` and `plugins.multiPoint`), NodeResourcesFit's
//! scoring strategy (LeastAllocated, MostAllocated, RequestedToCapacityRatio with its shape
//! and resource weights) and `percentageOfNodesToScore`. Other fields (leader election,
//! client connection, extenders) change nothing a simulation shows and are accepted as is.

use serde_json::Value;

/// The default profile's score weights.
pub const TAINT_TOLERATION_WEIGHT: i64 = 3;
pub const NODE_AFFINITY_WEIGHT: i64 = 2;
pub const NODE_RESOURCES_FIT_WEIGHT: i64 = 1;
pub const BALANCED_ALLOCATION_WEIGHT: i64 = 1;
pub const POD_TOPOLOGY_SPREAD_WEIGHT: i64 = 2;
pub const INTER_POD_AFFINITY_WEIGHT: i64 = 2;
pub const IMAGE_LOCALITY_WEIGHT: i64 = 1;

pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
pub const KIND: &str = "KubeSchedulerConfiguration";
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// What the editor and `kubectl apply` say about the file (a real API server has no such kind).
pub const NOTICE: &str = "KubeSchedulerConfiguration is kube-scheduler's configuration file, not an API object: it configures the simulated scheduler when the cluster starts (Reset after a change)";

/// The score plugins of the default profile, in its order, with their weights.
pub const SCORE_PLUGINS: [(&str, i64); 7] = [
    ("TaintToleration", TAINT_TOLERATION_WEIGHT),
    ("NodeAffinity", NODE_AFFINITY_WEIGHT),
    ("NodeResourcesFit", NODE_RESOURCES_FIT_WEIGHT),
    ("PodTopologySpread", POD_TOPOLOGY_SPREAD_WEIGHT),
    ("InterPodAffinity", INTER_POD_AFFINITY_WEIGHT),
    ("NodeResourcesBalancedAllocation", BALANCED_ALLOCATION_WEIGHT),
    ("ImageLocality", IMAGE_LOCALITY_WEIGHT),
];

/// The filter plugins kubeplay runs (a profile may disable them).
pub const FILTER_PLUGINS: [&str; 8] = [
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
];

/// Plugins of the default profile that neither score nor filter here (accepted in lists).
const OTHER_PLUGINS: [&str; 11] = [
    "SchedulingGates",
    "PrioritySort",
    "NodeUnschedulable",
    "NodeName",
    "NodePorts",
    "VolumeRestrictions",
    "NodeVolumeLimits",
    "VolumeBinding",
    "VolumeZone",
    "DefaultPreemption",
    "DefaultBinder",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    LeastAllocated,
    MostAllocated,
    /// Points (utilization 0–100, score 0–100: the file's 0–10 times 10).
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub scheduler_name: String,
    /// Weight of each score plugin in `SCORE_PLUGINS` order; 0 when disabled.
    pub weights: [i64; 7],
    pub strategy: Strategy,
    /// NodeResourcesFit's resource weights (cpu, memory).
    pub resource_weights: (i64, i64),
    /// Filter plugins turned off (`plugins.filter.disabled`, `plugins.multiPoint.disabled`).
    pub disabled_filters: Vec<String>,
}

impl Profile {
    pub fn default_profile(name: &str) -> Profile {
        Profile {
            scheduler_name: name.to_string(),
            weights: SCORE_PLUGINS.map(|(_, w)| w),
            strategy: Strategy::LeastAllocated,
            resource_weights: (1, 1),
            disabled_filters: Vec::new(),
        }
    }

    pub fn weight(&self, plugin: &str) -> i64 {
        SCORE_PLUGINS.iter().position(|(p, _)| *p == plugin).map(|i| self.weights[i]).unwrap_or(0)
    }

    /// The column title for NodeResourcesFit's score.
    pub fn fit_label(&self) -> &'static str {
        match self.strategy {
            Strategy::LeastAllocated => "NodeResourcesFit",
            Strategy::MostAllocated => "NodeResourcesFit (MostAllocated)",
            Strategy::RequestedToCapacityRatio(_) => "NodeResourcesFit (RequestedToCapacityRatio)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// 0: the adaptive default.
    pub percentage_of_nodes_to_score: u32,
    pub profiles: Vec<Profile>,
    /// True when it came from a file (explanations then name the profile).
    pub custom: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig { percentage_of_nodes_to_score: 0, profiles: vec![Profile::default_profile(DEFAULT_SCHEDULER_NAME)], custom: false }
    }
}

impl SchedulerConfig {
    /// The profile a Pod asks for by `spec.schedulerName` (empty: the default scheduler).
    pub fn profile(&self, scheduler_name: Option<&str>) -> Option<&Profile> {
        let name = scheduler_name.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_SCHEDULER_NAME);
        self.profiles.iter().find(|p| p.scheduler_name == name)
    }

    /// Reads the file; the errors are kube-scheduler's reasons to refuse to start.
    pub fn from_value(value: &Value) -> Result<SchedulerConfig, Vec<String>> {
        let mut errors = Vec::new();
        let mut config = SchedulerConfig { custom: true, ..SchedulerConfig::default() };
        match value.get("percentageOfNodesToScore") {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_i64() {
                Some(p) if (0..=100).contains(&p) => config.percentage_of_nodes_to_score = p as u32,
                _ => errors.push(format!("percentageOfNodesToScore: Invalid value: {v}: not in valid range [0-100]")),
            },
        }
        let profiles = value.get("profiles").and_then(Value::as_array).cloned().unwrap_or_default();
        if !profiles.is_empty() {
            config.profiles.clear();
        }
        for (i, p) in profiles.iter().enumerate() {
            let path = format!("profiles[{i}]");
            let name = p.get("schedulerName").and_then(Value::as_str).unwrap_or(DEFAULT_SCHEDULER_NAME).to_string();
            if config.profiles.iter().any(|q| q.scheduler_name == name) {
                errors.push(format!("{path}.schedulerName: Duplicate value: {name:?}"));
                continue;
            }
            let mut profile = Profile::default_profile(&name);
            let plugins = p.get("plugins");
            for set in ["multiPoint", "filter", "score"] {
                let set_value = plugins.and_then(|pl| pl.get(set));
                let scores = set != "filter";
                let filters = set != "score";
                for d in set_value.and_then(|s| s.get("disabled")).and_then(Value::as_array).into_iter().flatten() {
                    let plugin = d.get("name").and_then(Value::as_str).unwrap_or_default();
                    let score = SCORE_PLUGINS.iter().position(|(n, _)| *n == plugin);
                    let filter = FILTER_PLUGINS.contains(&plugin);
                    if plugin == "*" {
                        if scores {
                            profile.weights = [0; 7];
                        }
                        if filters {
                            profile.disabled_filters = FILTER_PLUGINS.iter().map(|p| p.to_string()).collect();
                        }
                        continue;
                    }
                    if let Some(k) = score.filter(|_| scores) {
                        profile.weights[k] = 0;
                    }
                    if filter && filters && !profile.disabled_filters.iter().any(|p| p == plugin) {
                        profile.disabled_filters.push(plugin.to_string());
                    }
                    if score.is_none() && !filter && !OTHER_PLUGINS.contains(&plugin) {
                        errors.push(format!("{path}.plugins.{set}.disabled: plugin {plugin:?} does not exist"));
                    }
                }
                for e in set_value.and_then(|s| s.get("enabled")).and_then(Value::as_array).into_iter().flatten() {
                    let plugin = e.get("name").and_then(Value::as_str).unwrap_or_default();
                    let weight = e.get("weight").and_then(Value::as_i64).unwrap_or(0);
                    let score = SCORE_PLUGINS.iter().position(|(n, _)| *n == plugin);
                    let filter = FILTER_PLUGINS.contains(&plugin);
                    if let Some(k) = score.filter(|_| scores) {
                        if weight < 0 {
                            errors.push(format!("{path}.plugins.{set}.enabled[{plugin}].weight: Invalid value: {weight}: must be greater than or equal to 0"));
                        }
                        profile.weights[k] = if weight > 0 { weight } else { SCORE_PLUGINS[k].1 };
                    }
                    if filter && filters {
                        profile.disabled_filters.retain(|p| p != plugin);
                    }
                    if score.is_none() && !filter && !OTHER_PLUGINS.contains(&plugin) {
                        errors.push(format!("{path}.plugins.{set}.enabled: plugin {plugin:?} does not exist"));
                    }
                }
            }
            for pc in p.get("pluginConfig").and_then(Value::as_array).into_iter().flatten() {
                if pc.get("name").and_then(Value::as_str) != Some("NodeResourcesFit") {
                    continue;
                }
                let Some(strategy) = pc.get("args").and_then(|a| a.get("scoringStrategy")) else { continue };
                let spath = format!("{path}.pluginConfig[NodeResourcesFit].args.scoringStrategy");
                for r in strategy.get("resources").and_then(Value::as_array).into_iter().flatten() {
                    let weight = r.get("weight").and_then(Value::as_i64).unwrap_or(1);
                    if !(1..=100).contains(&weight) {
                        errors.push(format!(
                            "{spath}.resources[].weight: Invalid value: {weight}: resource weight of {} not in valid range [1, 100]",
                            r.get("name").and_then(Value::as_str).unwrap_or_default()
                        ));
                    }
                    match r.get("name").and_then(Value::as_str) {
                        Some("cpu") => profile.resource_weights.0 = weight,
                        Some("memory") => profile.resource_weights.1 = weight,
                        _ => {}
                    }
                }
                profile.strategy = match strategy.get("type").and_then(Value::as_str).unwrap_or("LeastAllocated") {
                    "LeastAllocated" => Strategy::LeastAllocated,
                    "MostAllocated" => Strategy::MostAllocated,
                    "RequestedToCapacityRatio" => {
                        let shape: Vec<(i64, i64)> = strategy
                            .get("requestedToCapacityRatio")
                            .and_then(|r| r.get("shape"))
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .map(|pt| {
                                (
                                    pt.get("utilization").and_then(Value::as_i64).unwrap_or(0),
                                    pt.get("score").and_then(Value::as_i64).unwrap_or(0),
                                )
                            })
                            .collect();
                        if shape.is_empty() {
                            errors.push(format!(
                                "{spath}.requestedToCapacityRatio.shape: Required value: at least one point must be specified"
                            ));
                        }
                        for (k, (u, s)) in shape.iter().enumerate() {
                            if !(0..=100).contains(u) {
                                errors.push(format!("{spath}.requestedToCapacityRatio.shape[{k}].utilization: Invalid value: {u}: not in valid range [0, 100]"));
                            }
                            if !(0..=10).contains(s) {
                                errors.push(format!(
                                    "{spath}.requestedToCapacityRatio.shape[{k}].score: Invalid value: {s}: not in valid range [0, 10]"
                                ));
                            }
                            if k > 0 && shape[k - 1].0 >= *u {
                                errors.push(format!("{spath}.requestedToCapacityRatio.shape[{k}].utilization: Invalid value: {u}: utilization values must be sorted in increasing order"));
                            }
                        }
                        Strategy::RequestedToCapacityRatio(shape.into_iter().map(|(u, s)| (u, s * 10)).collect())
                    }
                    other => {
                        errors.push(format!("{spath}.type: Unsupported value: {other:?}: supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""));
                        Strategy::LeastAllocated
                    }
                };
            }
            config.profiles.push(profile);
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}

/// NodeResourcesFit's score for one resource under `strategy` (requested includes the Pod).
pub fn resource_score(strategy: &Strategy, requested: i64, capacity: i64) -> Option<i64> {
    if capacity == 0 {
        return None; // A resource the node does not have is left out of the average.
    }
    // Quantities saturate at i64::MAX (a node or a Pod may claim 1e30 CPUs): `n × 100` is
    // taken in i128 when it does not fit in i64 (i128 division is slow, and this runs for
    // every feasible node of every Pod).
    let requested = requested.max(0);
    let percent = |n: i64| match n.checked_mul(100) {
        Some(hundredfold) => hundredfold / capacity,
        None => (i128::from(n) * 100 / i128::from(capacity)) as i64,
    };
    Some(match strategy {
        Strategy::LeastAllocated => {
            if requested > capacity {
                0
            } else {
                percent(capacity - requested)
            }
        }
        Strategy::MostAllocated => percent(requested.min(capacity)),
        Strategy::RequestedToCapacityRatio(shape) => {
            let utilization = if requested > capacity { 100 } else { percent(requested) };
            broken_linear(shape, utilization)
        }
    })
}

/// `buildBrokenLinearFunction`: the shape's score at `p`, linear between its points.
fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for (i, (u, s)) in shape.iter().enumerate() {
        if p <= *u {
            if i == 0 {
                return *s;
            }
            let (pu, ps) = shape[i - 1];
            return ps + (s - ps) * (p - pu) / (u - pu);
        }
    }
    shape.last().map(|(_, s)| *s).unwrap_or(0)
}

/// The weighted average over cpu and memory (RequestedToCapacityRatio rounds and skips
/// resources that score 0, as upstream's scorer does).
pub fn fit_score(profile: &Profile, cpu: (i64, i64), memory: (i64, i64)) -> i64 {
    let (wc, wm) = profile.resource_weights;
    let parts = [(resource_score(&profile.strategy, cpu.0, cpu.1), wc), (resource_score(&profile.strategy, memory.0, memory.1), wm)];
    match profile.strategy {
        Strategy::RequestedToCapacityRatio(_) => {
            let (mut sum, mut weights) = (0, 0);
            for (score, w) in parts {
                if let Some(s) = score.filter(|s| *s > 0) {
                    sum += s * w;
                    weights += w;
                }
            }
            if weights == 0 {
                0
            } else {
                (sum as f64 / weights as f64).round() as i64
            }
        }
        _ => {
            let (mut sum, mut weights) = (0, 0);
            for (score, w) in parts {
                if let Some(s) = score {
                    sum += s * w;
                    weights += w;
                }
            }
            if weights == 0 {
                0
            } else {
                sum / weights
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Result<SchedulerConfig, Vec<String>> {
        let value: Value = serde_yaml::from_str(yaml).unwrap_or(Value::Null);
        SchedulerConfig::from_value(&value)
    }

    #[test]
    fn profiles_weights_and_strategies() {
        let c = config(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 40\nprofiles:\n- schedulerName: default-scheduler\n- schedulerName: bin-packer\n  plugins:\n    score:\n      disabled:\n      - name: ImageLocality\n      - name: NodeResourcesBalancedAllocation\n      enabled:\n      - name: NodeResourcesFit\n        weight: 5\n  pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: MostAllocated\n        resources:\n        - {name: cpu, weight: 2}\n        - {name: memory, weight: 1}\n",
        );
        let Ok(c) = c else { panic!("{c:?}") };
        assert_eq!(c.percentage_of_nodes_to_score, 40);
        assert_eq!(c.profile(None), Some(&Profile::default_profile("default-scheduler")));
        let p = c.profile(Some("bin-packer")).cloned().unwrap_or_else(|| Profile::default_profile("x"));
        assert_eq!((p.weight("NodeResourcesFit"), p.weight("ImageLocality"), p.weight("TaintToleration")), (5, 0, 3));
        assert_eq!((p.strategy, p.resource_weights), (Strategy::MostAllocated, (2, 1)));
        assert!(p.disabled_filters.is_empty(), "score.disabled leaves filters on");
        let f = config("profiles:\n- schedulerName: loose\n  plugins:\n    multiPoint:\n      disabled:\n      - name: TaintToleration\n    filter:\n      disabled:\n      - name: NodeResourcesFit\n");
        let Ok(f) = f else { panic!("{f:?}") };
        let loose = f.profile(Some("loose")).cloned().unwrap_or_else(|| Profile::default_profile("x"));
        assert_eq!(loose.disabled_filters, ["TaintToleration", "NodeResourcesFit"]);
        assert_eq!((loose.weight("TaintToleration"), loose.weight("NodeResourcesFit")), (0, 1));
        assert_eq!(c.profile(Some("nobody")), None);
    }

    #[test]
    fn what_kube_scheduler_refuses() {
        let errs = config("profiles:\n- schedulerName: a\n- schedulerName: a\n- plugins:\n    score:\n      enabled:\n      - name: Magic\npercentageOfNodesToScore: 120\n");
        assert_eq!(
            errs,
            Err(vec![
                "percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]".to_string(),
                "profiles[1].schedulerName: Duplicate value: \"a\"".to_string(),
                "profiles[2].plugins.score.enabled: plugin \"Magic\" does not exist".to_string(),
            ])
        );
    }

    #[test]
    fn strategies_score_as_upstream() {
        let least = Profile::default_profile("d");
        let most = Profile { strategy: Strategy::MostAllocated, ..least.clone() };
        // 1 of 4 CPUs, 2 of 8 GiB.
        assert_eq!(fit_score(&least, (1000, 4000), (2, 8)), 75);
        assert_eq!(fit_score(&most, (1000, 4000), (2, 8)), 25);
        let ratio = Profile { strategy: Strategy::RequestedToCapacityRatio(vec![(0, 0), (100, 100)]), ..least.clone() };
        assert_eq!(fit_score(&ratio, (1000, 4000), (2, 8)), 25);
        assert_eq!(broken_linear(&[(0, 100), (50, 0), (100, 100)], 25), 50);
        // Saturated quantities do not overflow.
        assert_eq!(fit_score(&least, (i64::MAX, i64::MAX), (i64::MAX - 1, i64::MAX)), 0);
        assert_eq!(fit_score(&most, (i64::MAX, i64::MAX), (1, i64::MAX)), 50);
        assert_eq!(broken_linear(&[(20, 40)], 10), 40);
    }
}
