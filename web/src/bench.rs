//! `index.html?bench=NAME`: runs one of the core's benchmark workloads in this page (wasm in
//! the browser) and prints its figures, for `cargo xtask bench` to read. The same workloads
//! run natively in `crates/kubeplay-cli/examples/bench.rs`.

use kubeplay_core::bench;
use yew::prelude::*;

/// The workloads by name: (nodes, pods or Deployments, replicas).
fn run(name: &str) -> String {
    let started = js_sys::Date::now();
    let elapsed = || js_sys::Date::now() - started;
    let memory_mib = || {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().into();
        let buffer: js_sys::ArrayBuffer = memory.buffer().into();
        f64::from(buffer.byte_length()) / (1024.0 * 1024.0)
    };
    let deployments = |nodes: usize, count: usize, replicas: usize| {
        let mut session = bench::cluster_with_nodes(nodes);
        let start = js_sys::Date::now();
        let (running, virtual_time) = bench::run_deployments(&mut session, count, replicas);
        format!(
            "{name}: {nodes} nodes, {count} Deployments x {replicas}: {running} Running after {} virtual, {:.0} ms wall (wasm memory {:.0} MiB)",
            virtual_time.go_string(),
            js_sys::Date::now() - start,
            memory_mib()
        )
    };
    match name {
        "scheduling-basic" | "scheduling-basic-quick" => {
            let (nodes, pods) = if name.ends_with("quick") { (500, 15_000) } else { (5000, 150_000) };
            let mut session = bench::cluster_with_nodes(nodes);
            let start = js_sys::Date::now();
            let bound = bench::schedule_pods(&mut session, pods);
            let ms = js_sys::Date::now() - start;
            format!(
                "SchedulingBasic {nodes} nodes, {pods} pods: {bound} bound in {ms:.0} ms = {:.0} pods/s (wasm memory {:.0} MiB)",
                bound as f64 * 1000.0 / ms.max(1.0),
                memory_mib()
            )
        }
        "growth-small" => deployments(500, 50, 100),
        "growth-large" => deployments(5000, 500, 100),
        "envelope" => deployments(5000, 1500, 100),
        other => format!("unknown benchmark {other:?} (after {:.0} ms)", elapsed()),
    }
}

#[derive(Properties, PartialEq)]
pub struct BenchProps {
    pub name: AttrValue,
}

/// Runs the benchmark once, after the first paint, and shows the result.
#[function_component(BenchPage)]
pub fn bench_page(p: &BenchProps) -> Html {
    let result = use_state(|| None::<String>);
    {
        let result = result.clone();
        let name = p.name.to_string();
        use_effect_with((), move |_| {
            // Let the page paint "running" first.
            gloo_timers::callback::Timeout::new(50, move || result.set(Some(run(&name)))).forget();
        });
    }
    html! {
        <main class="bench" aria-label="Benchmark">
            <h1>{ format!("kubeplay benchmark: {}", p.name) }</h1>
            <pre data-testid="bench-result">{ result.as_deref().unwrap_or("running…") }</pre>
        </main>
    }
}

/// The `bench` query parameter, if the page was opened as a benchmark.
pub fn requested() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("bench=")).map(str::to_string)
}
