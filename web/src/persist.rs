//! Where a session comes from when the page opens — a share link in the URL fragment, the
//! autosave in localStorage, or the default example — and the autosave itself. Storage can
//! fail (private mode, quota): that is reported, never fatal.

use kubeplay_core::share::{link, Workspace};
use std::rc::Rc;

use wasm_bindgen::JsValue;

use crate::embed::Settings;
use crate::state::{Notice, Playground, DEFAULT_EXAMPLE, DEFAULT_SEED};

/// The autosaved workspace, and the one an opened link set aside.
const AUTOSAVE: &str = "kubeplay.workspace";
const KEPT: &str = "kubeplay.workspace.kept";

fn storage() -> Result<web_sys::Storage, String> {
    let window = web_sys::window().ok_or("no window")?;
    match window.local_storage() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err("this browser has no local storage".into()),
        Err(e) => Err(js_message(&e, "local storage is not allowed here")),
    }
}

fn js_message(e: &JsValue, fallback: &str) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("message")).ok().and_then(|m| m.as_string()).unwrap_or_else(|| fallback.to_string())
}

/// The page's address without its fragment (what a share link is built on).
pub fn page_address() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return String::new() };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    format!("{origin}{path}{search}")
}

fn fragment() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// Drops the link from the address bar once opened: a reload then restores the autosave,
/// which holds the link's session and what was done since.
fn forget_fragment() {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&page_address()));
    }
}

/// Saves the workspace; the error says why it could not be.
pub fn autosave(workspace: &Workspace) -> Result<(), String> {
    storage()?.set_item(AUTOSAVE, &workspace.to_json()).map_err(|e| format!("Autosave is off: {}.", js_message(&e, "the browser refused")))
}

fn read(key: &str) -> Option<String> {
    storage().ok()?.get_item(key).ok().flatten()
}

/// The playground the page opens with.
pub fn boot(settings: &Settings) -> Playground {
    let mut p = if settings.embedded { embedded() } else { full_page() };
    p.readonly = settings.readonly;
    if let Some(playing) = settings.autoplay {
        p.playing = playing;
    }
    if let Some(speed) = settings.speed {
        p.speed = speed;
    }
    p
}

/// In a documentation page's frame: the playground the page describes, and never the
/// reader's own workspace (no autosave is read or written).
fn embedded() -> Playground {
    open_link(None).unwrap_or_else(default)
}

fn full_page() -> Playground {
    if let Some(p) = open_link(read(AUTOSAVE)) {
        return p;
    }
    match read(AUTOSAVE).map(|saved| Workspace::from_json(&saved).and_then(|w| Playground::open(&w))) {
        Some(Ok(p)) => p,
        Some(Err(why)) => {
            let mut p = default();
            p.notice = Some(Rc::new(Notice {
                testid: "storage-error",
                text: format!("The autosaved workspace could not be restored ({why}); the default playground is open."),
                restore: false,
            }));
            p
        }
        None => default(),
    }
}

/// The default playground nobody has changed yet: nothing to keep aside.
fn untouched(w: &Workspace) -> bool {
    let fresh = Workspace::new(DEFAULT_SEED, DEFAULT_EXAMPLE);
    w.seed == fresh.seed && w.files == fresh.files && w.steps.is_empty() && w.editor.is_none()
}

fn default() -> Playground {
    Playground::start(DEFAULT_SEED, DEFAULT_EXAMPLE.to_string())
}

/// Opens the link in the address bar, if there is one: at boot, or when a link is pasted
/// into the address bar of an open playground (a fragment change does not reload the page).
/// `current` is the workspace the link replaces (JSON): opening a link never overwrites
/// unsaved work, so it is kept aside when it differs.
pub fn open_link(current: Option<String>) -> Option<Playground> {
    let hash = fragment();
    if !link::holds_playground(&hash) {
        return None;
    }
    forget_fragment();
    let opened = link::decode(&hash).map_err(|e| e.to_string()).and_then(|w| {
        Playground::open(&w).map_err(|why| format!("This link cannot be opened: {why}. The default playground is open instead."))
    });
    Some(match opened {
        Ok(mut p) => {
            if let Some(saved) = current {
                if Workspace::from_json(&saved).is_ok_and(|w| w != p.workspace() && !untouched(&w)) {
                    let kept = storage().and_then(|s| s.set_item(KEPT, &saved).map_err(|e| js_message(&e, "refused")));
                    p.notice = Some(Rc::new(match kept {
                        Ok(()) => Notice {
                            testid: "kept-workspace",
                            text: "Opened a shared playground. Your previous workspace is kept.".into(),
                            restore: true,
                        },
                        Err(why) => Notice {
                            testid: "storage-error",
                            text: format!("Opened a shared playground; your previous workspace could not be kept aside ({why}), so autosave is paused until you reload."),
                            restore: false,
                        },
                    }));
                }
            }
            p
        }
        Err(message) => {
            let mut p = default();
            p.notice = Some(Rc::new(Notice { testid: "link-error", text: message, restore: false }));
            p
        }
    })
}

/// The workspace an opened link set aside, replayed (and the link's session kept aside in
/// its place, so nothing is lost either way).
pub fn restore_kept(current: &Workspace) -> Result<Playground, String> {
    let saved = read(KEPT).ok_or("there is no kept workspace")?;
    let w = Workspace::from_json(&saved)?;
    let p = Playground::open(&w)?;
    if let Ok(s) = storage() {
        let _ = s.set_item(KEPT, &current.to_json());
    }
    Ok(p)
}

/// Starts a download of `text` as a file called `name`.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|e| js_message(&e, "no blob"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_message(&e, "no object URL"))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement =
        wasm_bindgen::JsCast::dyn_into(document.create_element("a").map_err(|e| js_message(&e, "no anchor"))?)
            .map_err(|_| "not an anchor")?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Puts `text` on the clipboard (where the browser allows it; the text is on screen anyway).
pub fn copy(text: &str) {
    if let Some(window) = web_sys::window() {
        let promise = window.navigator().clipboard().write_text(text);
        // A refusal (no focus, no permission) is handled here, not left unhandled.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}
