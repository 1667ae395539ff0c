//! Same seed + same inputs ⇒ identical results, natively and in wasm: every scenario page is
//! replayed here, compiled to wasm32 and run by wasm-bindgen-test-runner, and must produce the
//! transcripts the native scenario test checks.
#![cfg(target_arch = "wasm32")]

use kubeplay_core::scenario::Scenario;
use wasm_bindgen_test::wasm_bindgen_test;

macro_rules! pages {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../tests/scenarios/", $name)))),*]
    };
}

const PAGES: &[(&str, &str)] = pages![
    "apply_diff_and_patch.md",
    "bring_your_own_nodes.md",
    "configmaps_secrets_and_env.md",
    "cordon_taint_and_drain.md",
    "cronjobs.md",
    "daemonsets.md",
    "container_shell_and_hooks.md",
    "deployment_progress_and_pause.md",
    "deployment_starts_pods.md",
    "dns_and_requests_from_pods.md",
    "expose_a_deployment.md",
    "external_traffic_policy.md",
    "gke_ingress.md",
    "host_network_and_host_ports.md",
    "http_and_tcp_probes.md",
    "image_pull_back_off.md",
    "immutable_fields.md",
    "ingress_routes_by_host_and_path.md",
    "init_containers_and_sidecars.md",
    "inter_pod_affinity.md",
    "invalid_image_name.md",
    "invalid_manifests_are_rejected.md",
    "job_failure_and_success_policies.md",
    "jobs_run_to_completion.md",
    "kubectl_basics.md",
    "kubectl_top.md",
    "liveness_probe_restarts.md",
    "namespaces_and_deletion.md",
    "load_balancer_source_ranges.md",
    "memory_limits.md",
    "owners_replace_and_cascade.md",
    "pod_updates.md",
    "preferences_and_warm_images.md",
    "priority_and_preemption.md",
    "node_failure.md",
    "proportional_scaling.md",
    "qos_classes.md",
    "readiness_gates_traffic_in_a_rollout.md",
    "recreate_strategy.md",
    "replicaset_adoption_and_scale_down.md",
    "restart_policies.md",
    "rest_api_and_subresources.md",
    "rollout_and_labels.md",
    "rolling_update.md",
    "scheduler_profiles.md",
    "scores_by_hand.md",
    "scheduling_queue.md",
    "set_scale_and_wait.md",
    "services_and_endpoints.md",
    "services_get_addresses.md",
    "shared_empty_dir.md",
    "statefulsets.md",
    "topology_spread.md",
    "topology_aware_routing.md",
    "watching_the_rest_api.md",
    "zone_disruption.md",
    "watching_with_get_w.md",
    "unschedulable_pods_stay_pending.md",
];

#[wasm_bindgen_test]
fn scenarios_replay_identically_in_wasm() {
    for (name, page) in PAGES {
        let scenario = Scenario::parse(page);
        assert_eq!(scenario.replay(), scenario.expected(), "{name} differs in wasm");
    }
}
