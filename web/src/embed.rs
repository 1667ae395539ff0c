//! Embed mode: the same app in an iframe on a documentation page, set up by URL parameters
//! (`embed.js` writes them): `?embed=1&panes=cluster,console&readonly=1&autoplay=0&speed=5
//! &theme=light&lang=ja&height=420&host=ORIGIN&id=ID`, the playground itself in the fragment.
//! It talks to the host page only through postMessage, checked against `host` both ways.

use wasm_bindgen::JsValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

/// The few words of the playground's chrome, in the page's language (the guided examples
/// bring full translations).
pub fn tr(lang: Lang, en: &'static str) -> &'static str {
    if lang == Lang::En {
        return en;
    }
    match en {
        "Play" => "再生",
        "Pause" => "一時停止",
        "Reset" => "リセット",
        "Share" => "共有",
        "Speed " => "速度 ",
        "Manifests" => "マニフェスト",
        "Apply" => "適用",
        "Diff" => "差分",
        "Events" => "イベント",
        "Console" => "コンソール",
        "Open in kubeplay" => "kubeplay で開く",
        "Export SVG" => "SVG で保存",
        _ => en,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Panes {
    pub editor: bool,
    pub cluster: bool,
    pub console: bool,
    pub events: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Running inside another page's iframe (compact layout, no autosave).
    pub embedded: bool,
    pub panes: Panes,
    pub readonly: bool,
    pub autoplay: Option<bool>,
    pub speed: Option<u32>,
    /// `light` or `dark`; the host page's choice, followed as it changes.
    pub theme: Option<String>,
    pub lang: Lang,
    /// A fixed height in CSS pixels; without it the frame asks the host to fit its content.
    pub height: Option<u32>,
    /// The host page's origin: the only one messages go to and come from.
    pub host: Option<String>,
    /// The host's name for this frame, echoed in every message.
    pub id: String,
}

impl Settings {
    pub fn full_page() -> Settings {
        Settings {
            embedded: false,
            panes: Panes { editor: true, cluster: true, console: true, events: true },
            readonly: false,
            autoplay: None,
            speed: None,
            theme: None,
            lang: Lang::En,
            height: None,
            host: None,
            id: String::new(),
        }
    }

    /// Reads the page's query string (`?embed=1&…`).
    pub fn from_query(query: &str) -> Settings {
        let params = web_sys::UrlSearchParams::new_with_str(query).ok();
        let get = |k: &str| params.as_ref().and_then(|p| p.get(k)).filter(|v| !v.is_empty());
        let flag = |k: &str| get(k).map(|v| v == "1" || v == "true");
        let mut s = Settings::full_page();
        s.embedded = flag("embed").unwrap_or(false);
        if let Some(list) = get("panes") {
            let has = |name: &str| list.split(',').any(|p| p.trim() == name);
            s.panes = Panes { editor: has("editor"), cluster: has("cluster"), console: has("console"), events: has("events") };
        } else if s.embedded {
            s.panes = Panes { editor: false, cluster: true, console: true, events: false };
        }
        s.readonly = flag("readonly").unwrap_or(false);
        s.autoplay = flag("autoplay");
        s.speed = get("speed").and_then(|v| v.parse().ok()).map(|v: u32| v.clamp(1, 100));
        s.theme = get("theme").filter(|t| t == "light" || t == "dark");
        s.lang = if get("lang").is_some_and(|l| l.starts_with("ja")) { Lang::Ja } else { Lang::En };
        s.height = get("height").and_then(|v| v.parse().ok()).map(|v: u32| v.clamp(160, 4000));
        // Only a web origin can be a host (never `*`).
        s.host = get("host").filter(|h| {
            let scheme_ok = h.starts_with("https://") || h.starts_with("http://");
            scheme_ok && h.split_once("://").is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
        });
        s.id = get("id").unwrap_or_default();
        s
    }

    pub fn current() -> Settings {
        let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        Settings::from_query(&query)
    }
}

/// The page's theme attribute (`:root[data-theme=light]` in style.css).
pub fn apply_theme(theme: &str) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme);
    }
}

pub fn apply_lang(lang: Lang) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("lang", if lang == Lang::Ja { "ja" } else { "en" });
    }
}

/// Tells the host page something (only when it named its origin).
pub fn post(settings: &Settings, kind: &str, fields: &[(&str, JsValue)]) {
    let (Some(host), Some(window)) = (&settings.host, web_sys::window()) else { return };
    let Ok(Some(parent)) = window.parent() else { return };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &JsValue::from_str(kind));
    let _ = js_sys::Reflect::set(&message, &"id".into(), &JsValue::from_str(&settings.id));
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&message, &JsValue::from_str(k), v);
    }
    let _ = parent.post_message(&message, host);
}

/// The playground's own height (not the document's, which is at least the frame's).
pub fn content_height() -> f64 {
    let app = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector(".app").ok().flatten());
    app.map(|e| e.get_bounding_client_rect().height()).unwrap_or(0.0)
}

/// The address of the full playground (this page without its embed parameters).
pub fn full_playground_address() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return String::new() };
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}
