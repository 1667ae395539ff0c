//! The cluster picture as a standalone SVG (for READMEs and slides): the nodes with their
//! Pods, the Pods no node has yet, and the Services, in the page's theme. Built from the same
//! view model the page renders, so it shows what the reader sees.

use std::fmt::Write;

use crate::view::{NodeView, PodView, View};

const WIDTH: f64 = 960.0;
const MARGIN: f64 = 16.0;
const GAP: f64 = 12.0;
const COLUMNS: usize = 3;
/// Width of one character of the 11px monospace chip text.
const CHAR: f64 = 6.7;
const CHIP_H: f64 = 20.0;

struct Palette {
    bg: &'static str,
    panel: &'static str,
    line: &'static str,
    text: &'static str,
    muted: &'static str,
    accent: &'static str,
}

const DARK: Palette = Palette { bg: "#0f172a", panel: "#111827", line: "#334155", text: "#e5e7eb", muted: "#9ca3af", accent: "#38bdf8" };
const LIGHT: Palette = Palette { bg: "#ffffff", panel: "#f8fafc", line: "#cbd5e1", text: "#0f172a", muted: "#475569", accent: "#0369a1" };

/// Chip colours (border, fill) for a Pod, as the page colours its chips.
fn chip_colors(pod: &PodView, light: bool) -> (&'static str, &'static str) {
    let status = pod.status.to_ascii_lowercase();
    let key = if status == "terminating" {
        "term"
    } else if status == "crashloopbackoff" || status == "error" {
        "failed"
    } else {
        match pod.phase.as_str() {
            "Running" => "running",
            "Failed" => "failed",
            "Succeeded" => "term",
            _ => "pending",
        }
    };
    match (key, light) {
        ("running", false) => ("#22c55e", "#052e16"),
        ("running", true) => ("#15803d", "#dcfce7"),
        ("failed", false) => ("#ef4444", "#450a0a"),
        ("failed", true) => ("#b91c1c", "#fee2e2"),
        ("term", false) => ("#6b7280", "#1f2937"),
        ("term", true) => ("#64748b", "#f1f5f9"),
        (_, false) => ("#f59e0b", "#451a03"),
        (_, true) => ("#b45309", "#fef3c7"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Chips laid out in rows within `width`: (x, y, w) relative to the area's corner.
fn flow(pods: &[std::rc::Rc<PodView>], width: f64) -> (Vec<(f64, f64, f64)>, f64) {
    let (mut x, mut y) = (0.0, 0.0);
    let mut places = Vec::new();
    for pod in pods {
        let w = (12.0 + CHAR * (pod.name.chars().count() + 1 + pod.status.chars().count()) as f64).min(width);
        if x > 0.0 && x + w > width {
            x = 0.0;
            y += CHIP_H + 6.0;
        }
        places.push((x, y, w));
        x += w + 6.0;
    }
    let height = if pods.is_empty() { 0.0 } else { y + CHIP_H };
    (places, height)
}

fn chips(out: &mut String, pods: &[std::rc::Rc<PodView>], left: f64, top: f64, width: f64, light: bool, text: &str) {
    let (places, _) = flow(pods, width);
    for (pod, (x, y, w)) in pods.iter().zip(places) {
        let (stroke, fill) = chip_colors(pod, light);
        let _ = write!(
            out,
            r#"<g><title>{ns}/{name}: {status}</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{CHIP_H}" rx="10" fill="{fill}" stroke="{stroke}"/><text x="{tx:.1}" y="{ty:.1}" fill="{text}">{name} <tspan opacity="0.75">{status}</tspan></text></g>"#,
            ns = escape(&pod.namespace),
            name = escape(&pod.name),
            status = escape(&pod.status),
            x = left + x,
            y = top + y,
            tx = left + x + 6.0,
            ty = top + y + 14.0,
        );
    }
}

fn node_height(node: &NodeView, inner: f64) -> f64 {
    let (_, chips) = flow(&node.pods, inner);
    (40.0 + chips + 12.0).max(72.0)
}

/// The picture at virtual time `time` (the clock's text, e.g. `t = 12.3s`).
pub fn render(view: &View, time: &str, light: bool) -> String {
    let c = if light { &LIGHT } else { &DARK };
    let column = (WIDTH - 2.0 * MARGIN - GAP * (COLUMNS - 1) as f64) / COLUMNS as f64;
    let inner = column - 20.0;
    let mut body = String::new();
    let mut y = MARGIN;
    let _ = write!(
        body,
        r#"<text x="{MARGIN}" y="{:.1}" font-size="16" font-weight="600" fill="{}">kubeplay <tspan fill="{}" font-weight="400">{}</tspan></text>"#,
        y + 14.0,
        c.accent,
        c.muted,
        escape(time)
    );
    y += 28.0;
    for service in view.services.iter() {
        let address =
            if service.external.is_empty() { service.address.clone() } else { format!("{} {}", service.address, service.external) };
        let _ = write!(
            body,
            r#"<text x="{MARGIN}" y="{:.1}" fill="{}">Service <tspan font-weight="600">{}</tspan> {} {} {} → {}/{} ready</text>"#,
            y + 12.0,
            c.text,
            escape(&service.name),
            escape(&service.type_),
            escape(&address),
            escape(&service.ports),
            service.ready,
            service.endpoints
        );
        y += 18.0;
    }
    y += 6.0;
    for row in view.nodes.chunks(COLUMNS) {
        let height = row.iter().map(|n| node_height(n, inner)).fold(0.0, f64::max);
        for (i, node) in row.iter().enumerate() {
            let x = MARGIN + i as f64 * (column + GAP);
            let stroke = if node.ready { c.line } else { "#ef4444" };
            let dash = if node.down || node.cordoned { r#" stroke-dasharray="6 4""# } else { "" };
            let mut meta = format!("{} {}", node.roles, node.zone);
            if !node.ready {
                meta.push_str(" NotReady");
            }
            if node.cordoned {
                meta.push_str(" SchedulingDisabled");
            }
            let _ = write!(
                body,
                r#"<g><rect x="{x:.1}" y="{y:.1}" width="{column:.1}" height="{height:.1}" rx="8" fill="{}" stroke="{stroke}"{dash}/><text x="{:.1}" y="{:.1}" font-weight="600" font-size="13" fill="{}">{}</text><text x="{:.1}" y="{:.1}" fill="{}">{}</text>"#,
                c.panel,
                x + 10.0,
                y + 20.0,
                c.text,
                escape(&node.name),
                x + 10.0,
                y + 34.0,
                c.muted,
                escape(meta.trim())
            );
            chips(&mut body, &node.pods, x + 10.0, y + 42.0, inner, light, c.text);
            body.push_str("</g>");
        }
        y += height + GAP;
    }
    if !view.unscheduled.is_empty() {
        let (_, chips_h) = flow(&view.unscheduled, WIDTH - 2.0 * MARGIN - 20.0);
        let height = 30.0 + chips_h + 12.0;
        let _ = write!(
            body,
            r##"<rect x="{MARGIN}" y="{y:.1}" width="{:.1}" height="{height:.1}" rx="8" fill="none" stroke="#f59e0b" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" fill="#f59e0b" font-weight="600">Not scheduled</text>"##,
            WIDTH - 2.0 * MARGIN,
            MARGIN + 10.0,
            y + 20.0
        );
        chips(&mut body, &view.unscheduled, MARGIN + 10.0, y + 30.0, WIDTH - 2.0 * MARGIN - 20.0, light, c.text);
        y += height + GAP;
    }
    let height = y + MARGIN - GAP;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="ui-monospace, SFMono-Regular, Menlo, monospace" font-size="11"><title>kubeplay cluster, {}</title><rect width="100%" height="100%" fill="{}"/>{body}</svg>
"#,
        escape(time),
        c.bg
    )
}
