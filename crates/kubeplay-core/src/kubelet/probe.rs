//! Probes as the kubelet's prober runs them: parameters with their defaults (initial delay 0,
//! period 10 s, timeout 1 s, success 1, failure 3), and one probe's result with the message
//! the kubelet reports (`Liveness probe failed: …`).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::sh;
use crate::time::{SimDuration, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Startup,
    Liveness,
    Readiness,
}

impl Kind {
    /// As the kubelet words it in events: `Liveness probe failed: …`.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Startup => "Startup",
            Kind::Liveness => "Liveness",
            Kind::Readiness => "Readiness",
        }
    }

    pub fn of(self, c: &Container) -> Option<&Probe> {
        match self {
            Kind::Startup => c.startup_probe.as_ref(),
            Kind::Liveness => c.liveness_probe.as_ref(),
            Kind::Readiness => c.readiness_probe.as_ref(),
        }
    }
}

/// A probe's timing and thresholds, defaulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub initial_delay: SimDuration,
    pub period: SimDuration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Params {
    pub fn of(p: &Probe) -> Params {
        let secs = |v: Option<i32>, default: i32| SimDuration::from_secs(v.unwrap_or(default).max(0) as u64);
        Params {
            initial_delay: secs(p.initial_delay_seconds, 0),
            period: secs(p.period_seconds, 10).max(SimDuration::from_secs(1)),
            success_threshold: p.success_threshold.unwrap_or(1).max(1) as u32,
            failure_threshold: p.failure_threshold.unwrap_or(3).max(1) as u32,
        }
    }
}

/// What the container looks like from the prober: its files, the ports it listens on, its IP.
pub struct Target<'a> {
    pub files: &'a std::rc::Rc<sh::Files>,
    pub env: &'a super::env::Env,
    pub listening: &'a BTreeSet<i32>,
    pub pod_ip: &'a str,
    pub container: &'a Container,
    pub now: SimTime,
    /// The HTTP status the container's server answers for a path.
    pub http_status: &'a dyn Fn(&str) -> u16,
    pub net: &'a dyn sh::Net,
}

/// Runs one probe: `Ok(())` on success, `Err(message)` with the kubelet's wording.
pub fn run(p: &Probe, target: &Target<'_>) -> Result<(), String> {
    if let Some(exec) = &p.exec {
        let command = exec.command.as_deref().unwrap_or_default();
        let result = sh::exec(command, target.files.clone(), target.env, target.now, target.net);
        let output = result.output.trim_end();
        // The runtime stops an exec probe at timeoutSeconds (ExecProbeTimeout, GA).
        let timeout = SimDuration::from_secs(p.timeout_seconds.unwrap_or(1).max(1) as u64);
        return if result.endless || result.took > timeout {
            Err(format!("command {} timed out", go_quote(&command.join(" "))))
        } else if result.code == 0 {
            Ok(())
        } else if output.is_empty() {
            Err(format!("command {} exited with {}", quoted(command), result.code))
        } else {
            Err(output.to_string())
        };
    }
    if let Some(http) = &p.http_get {
        let port = port_number(&http.port, target.container);
        let scheme = http.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
        let path = http.path.as_deref().unwrap_or("/");
        let host = http.host.as_deref().filter(|h| !h.is_empty()).unwrap_or(target.pod_ip);
        let url = format!("{scheme}://{host}:{port}{path}");
        return if target.listening.contains(&port) {
            // The prober counts 200–399 as success.
            match (target.http_status)(path) {
                code if (200..400).contains(&code) => Ok(()),
                code => Err(format!("HTTP probe failed with statuscode: {code}")),
            }
        } else {
            Err(format!("Get \"{url}\": dial tcp {host}:{port}: connect: connection refused"))
        };
    }
    if let Some(tcp) = &p.tcp_socket {
        let port = port_number(&tcp.port, target.container);
        let host = tcp.host.as_deref().filter(|h| !h.is_empty()).unwrap_or(target.pod_ip);
        return if target.listening.contains(&port) { Ok(()) } else { Err(format!("dial tcp {host}:{port}: connect: connection refused")) };
    }
    if let Some(grpc) = &p.grpc {
        return if target.listening.contains(&grpc.port) {
            Ok(())
        } else {
            Err(format!("timeout: failed to connect service \"{}:{}\" within 1s: context deadline exceeded", target.pod_ip, grpc.port))
        };
    }
    Ok(())
}

/// The numeric port of a probe (`port: http` names a containerPort).
fn port_number(port: &IntOrString, c: &Container) -> i32 {
    match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => {
            c.ports.iter().flatten().find(|p| p.name.as_deref() == Some(name.as_str())).map_or(0, |p| p.container_port)
        }
    }
}

/// Go's `%q`.
fn go_quote(text: &str) -> String {
    format!("{text:?}")
}

/// `[cat /tmp/healthy]`, as Go prints a string slice.
fn quoted(command: &[String]) -> String {
    format!("[{}]", command.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, ExecAction, HTTPGetAction, TCPSocketAction};

    #[test]
    fn defaults_are_the_kubelets() {
        let p = Params::of(&Probe::default());
        assert_eq!(
            p,
            Params { initial_delay: SimDuration(0), period: SimDuration::from_secs(10), success_threshold: 1, failure_threshold: 3 }
        );
    }

    #[test]
    fn each_mechanism_fails_with_the_kubelets_message() {
        let files = std::rc::Rc::new(sh::Files::new());
        let env = super::super::env::Env::new();
        let c = Container {
            name: "app".into(),
            image: Some("registry.k8s.io/agnhost:2.40".into()),
            ports: Some(vec![ContainerPort { container_port: 8080, name: Some("http".into()), ..Default::default() }]),
            ..Default::default()
        };
        let ports: BTreeSet<i32> = [8080].into();
        let status = |path: &str| if path == "/healthz" { 200 } else { 404 };
        let target = Target {
            files: &files,
            env: &env,
            listening: &ports,
            pod_ip: "10.244.1.5",
            container: &c,
            now: SimTime::ZERO,
            http_status: &status,
            net: &sh::NoNet,
        };
        let exec = Probe { exec: Some(ExecAction { command: Some(vec!["cat".into(), "/tmp/healthy".into()]) }), ..Default::default() };
        assert_eq!(run(&exec, &target), Err("cat: can't open '/tmp/healthy': No such file or directory".into()));
        let slow = Probe {
            exec: Some(ExecAction { command: Some(vec!["sh".into(), "-c".into(), "sleep 5".into()]) }),
            timeout_seconds: Some(2),
            ..Default::default()
        };
        assert_eq!(run(&slow, &target), Err("command \"sh -c sleep 5\" timed out".into()));
        let http = |port: IntOrString| Probe {
            http_get: Some(HTTPGetAction { path: Some("/healthz".into()), port, ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(run(&http(IntOrString::String("http".into())), &target), Ok(()));
        assert_eq!(
            run(&http(IntOrString::Int(9090)), &target),
            Err("Get \"http://10.244.1.5:9090/healthz\": dial tcp 10.244.1.5:9090: connect: connection refused".into())
        );
        let tcp = Probe { tcp_socket: Some(TCPSocketAction { port: IntOrString::Int(3306), host: None }), ..Default::default() };
        assert_eq!(run(&tcp, &target), Err("dial tcp 10.244.1.5:3306: connect: connection refused".into()));
        let missing = Probe {
            http_get: Some(HTTPGetAction { path: Some("/_status/healthz".into()), port: IntOrString::Int(8080), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(run(&missing, &target), Err("HTTP probe failed with statuscode: 404".into()));
    }
}
