//! Share links: `#s=` + URL-safe base64 of a version byte and the workspace's JSON deflated
//! against that version's preset dictionary of common Kubernetes YAML. The link lives in the
//! URL fragment, which browsers never send to a server.
//!
//! Links are untrusted: decoding is bounded (characters in, bytes out), never panics, and
//! says in plain words why a link cannot be opened.

use std::fmt;

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::deflate::{self, InflateError};
use super::Workspace;

/// The fragment key: `https://…/#s=…`.
pub const KEY: &str = "s";
/// Version 1's dictionary. Frozen: links made with it must decode forever (a test pins its
/// hash); a better dictionary is a new version byte.
const DICTIONARY_V1: &[u8] = include_bytes!("dictionary_v1.txt");
/// The version byte written now.
const CURRENT: u8 = 1;
/// Bounds on untrusted links: characters read, bytes inflated.
pub const MAX_LINK_CHARS: usize = 4 << 20;
pub const MAX_JSON_BYTES: usize = 8 << 20;
/// Past this many characters some browsers, chat tools and servers cut URLs short.
pub const LONG_LINK: usize = 8 * 1024;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a link cannot be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// No `#s=` part: the URL is not a shared playground.
    NoPlayground,
    /// Characters base64 does not have: changed or not from kubeplay.
    NotALink,
    /// Cut short (a chat tool or a length limit truncated it).
    Truncated,
    /// Decodes to something that is not a kubeplay workspace.
    Corrupt(String),
    TooLarge,
    /// A version byte this kubeplay does not know (a newer one made it).
    UnknownVersion(u8),
    /// A workspace that breaks a rule (see [`Workspace::validate`]).
    Invalid(String),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("This link cannot be opened: ")?;
        match self {
            LinkError::NoPlayground => f.write_str("it holds no playground (no #s= part)"),
            LinkError::NotALink => f.write_str("it has characters a kubeplay link never has; was it changed?"),
            LinkError::Truncated => f.write_str("it was cut short; copy the whole link and try again"),
            LinkError::Corrupt(why) => write!(f, "its content is damaged ({why})"),
            LinkError::TooLarge => write!(f, "it unpacks to more than {} MB", MAX_JSON_BYTES >> 20),
            LinkError::UnknownVersion(v) => write!(f, "it was made by a newer kubeplay (link version {v})"),
            LinkError::Invalid(why) => f.write_str(why),
        }?;
        f.write_str(". The default playground is open instead.")
    }
}

/// The link's payload (what follows `#s=`).
pub fn encode(workspace: &Workspace) -> String {
    let json = serde_json::to_string(workspace).unwrap_or_default();
    let mut bytes = vec![CURRENT];
    bytes.extend(deflate::deflate(DICTIONARY_V1, json.as_bytes()));
    BASE64.encode(bytes)
}

/// The fragment to put after a page's address: `#s=…`.
pub fn fragment(workspace: &Workspace) -> String {
    format!("#{KEY}={}", encode(workspace))
}

/// A fragment's `&`-separated keys (`#a=1&b=2`, or a whole URL's fragment).
fn fragment_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let fragment = text.trim().split_once('#')?.1;
    fragment.split('&').find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('='))).filter(|v| !v.is_empty())
}

/// The payload of a whole URL, a fragment (`#s=…`, other `&`-separated keys ignored), or
/// the payload itself.
pub fn payload(text: &str) -> Option<&str> {
    let text = text.trim();
    if text.contains('#') {
        return fragment_value(text, KEY);
    }
    Some(text).filter(|t| !t.is_empty() && !t.contains('=') && !t.contains("://"))
}

/// True when `text` (a URL or its fragment) holds a playground: a link, or the plain form
/// pages that embed kubeplay write (see [`decode`]).
pub fn holds_playground(text: &str) -> bool {
    payload(text).is_some() || fragment_value(text, PLAIN_MANIFESTS).is_some()
}

/// The plain form, for pages without our encoder (`embed.js` writes it): `#m=` the
/// manifests, `c=` commands run once they are applied (a script: lines or `;`), `seed=`;
/// text as URL-safe base64 of UTF-8.
pub const PLAIN_MANIFESTS: &str = "m";
pub const PLAIN_COMMANDS: &str = "c";
pub const PLAIN_SEED: &str = "seed";

fn plain_text(text: &str, key: &str) -> Result<Option<String>, LinkError> {
    let Some(value) = fragment_value(text, key) else { return Ok(None) };
    let bytes = BASE64.decode(value).map_err(|e| match e {
        base64::DecodeError::InvalidByte(..) => LinkError::NotALink,
        _ => LinkError::Truncated,
    })?;
    String::from_utf8(bytes).map(Some).map_err(|_| LinkError::Corrupt("not UTF-8".into()))
}

fn decode_plain(text: &str) -> Result<Workspace, LinkError> {
    let manifests = plain_text(text, PLAIN_MANIFESTS)?.unwrap_or_default();
    let seed = match fragment_value(text, PLAIN_SEED) {
        Some(s) => s.parse().map_err(|_| LinkError::Invalid(format!("its seed {s:?} is not a number")))?,
        None => 1,
    };
    let mut workspace = Workspace::new(seed, &manifests);
    // Commands at the start: each runs when the one before it is done (`sleep` lets time pass).
    let script = plain_text(text, PLAIN_COMMANDS)?.unwrap_or_default();
    workspace.steps = crate::shell::split_script(&script)
        .into_iter()
        .map(|line| super::Step { position: super::Position::default(), action: super::Action::Run(line) })
        .collect();
    workspace.validate().map_err(LinkError::Invalid)?;
    Ok(workspace)
}

/// Opens a link (see [`payload`] for the forms it accepts), or the plain form.
pub fn decode(text: &str) -> Result<Workspace, LinkError> {
    if text.len() > MAX_LINK_CHARS {
        return Err(LinkError::TooLarge);
    }
    let Some(payload) = payload(text) else {
        return match fragment_value(text, PLAIN_MANIFESTS) {
            Some(_) => decode_plain(text),
            None => Err(LinkError::NoPlayground),
        };
    };
    if payload.len() > MAX_LINK_CHARS {
        return Err(LinkError::TooLarge);
    }
    let bytes = BASE64.decode(payload).map_err(|e| match e {
        base64::DecodeError::InvalidByte(..) => LinkError::NotALink,
        _ => LinkError::Truncated,
    })?;
    let Some((&version, packed)) = bytes.split_first() else { return Err(LinkError::Truncated) };
    let dictionary = match version {
        1 => DICTIONARY_V1,
        v => return Err(LinkError::UnknownVersion(v)),
    };
    let json = deflate::inflate(dictionary, packed, MAX_JSON_BYTES).map_err(|e| match e {
        InflateError::Truncated => LinkError::Truncated,
        InflateError::Corrupt => LinkError::Corrupt("not a deflate stream".into()),
        InflateError::TooLarge => LinkError::TooLarge,
    })?;
    let text = std::str::from_utf8(&json).map_err(|_| LinkError::Corrupt("not UTF-8".into()))?;
    let workspace: Workspace = serde_json::from_str(text).map_err(|e| LinkError::Corrupt(e.to_string()))?;
    workspace.validate().map_err(LinkError::Invalid)?;
    Ok(workspace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::{Action, Position, Step};

    /// Links made today must open forever: the dictionary cannot change under them.
    #[test]
    fn the_version_1_dictionary_is_frozen() {
        let hash = DICTIONARY_V1.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3));
        assert_eq!((DICTIONARY_V1.len(), hash), (5667, 0xef7d670bc0b3b08a), "dictionary_v1.txt changed: add a version 2 instead");
    }

    #[test]
    fn a_link_made_by_version_1_still_opens() {
        // Recorded when version 1 shipped; never re-record it.
        let link = "#s=Ae1YPQqAIBS-ijhXYLTUIbpDkJGbINXkNTpKB-okfY_QTBwag5qiQfTpe99fEgmr8g1QSFknw-iOncHHIFDqyTZnbF835tseka7x2g02kVYM0OAMcGUAithZOkVU3B_nb_vPtH1MqlUZsIB4TKwxBKfA9Kq9dQFlsnqYIZ2YSBEScV3j5LOSixtE6EvekLtDQdqplvOO6IdPqs8Ft_YA";
        // Its file was examples/web.yaml of the day (which may change since).
        let Ok(opened) = decode(link) else { panic!("{:?}", decode(link)) };
        let text = &opened.files["playground.yaml"];
        assert!(text.starts_with("# The playground's default example") && text.ends_with("targetPort: 80\n"), "{text}");
        let mut w = Workspace::new(42, text);
        w.steps.push(Step { position: Position { at: 4200, work: 61 }, action: Action::Run("kubectl get pods -o wide".into()) });
        w.steps.push(Step {
            position: Position { at: 9000, work: 90 },
            action: Action::Apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n".into()),
        });
        w.open = Position { at: 12_000, work: 99 };
        w.view.selected = Some("uid-1".into());
        assert_eq!(opened, w);
    }

    #[test]
    fn the_default_example_fits_in_2000_characters() {
        let mut w = Workspace::new(1, include_str!("../../../../examples/web.yaml"));
        w.steps.push(Step { position: Position { at: 4200, work: 61 }, action: Action::Run("kubectl get pods -o wide".into()) });
        w.open = Position { at: 9000, work: 70 };
        let link = fragment(&w);
        assert!(link.len() < 2000, "{}", link.len());
        assert_eq!(decode(&format!("https://kubeplay.dev/{link}")), Ok(w));
    }

    #[test]
    fn accepts_urls_fragments_and_payloads() {
        let w = Workspace::new(3, "kind: Pod\n");
        let p = encode(&w);
        for form in [format!("http://localhost:8080/#s={p}"), format!("#embed=1&s={p}"), p.clone(), format!("  {p}\n")] {
            assert_eq!(decode(&form).as_ref(), Ok(&w), "{form}");
        }
        assert_eq!(decode("https://kubeplay.dev/"), Err(LinkError::NoPlayground));
        assert_eq!(decode("https://kubeplay.dev/#s="), Err(LinkError::NoPlayground));
    }

    #[test]
    fn the_plain_form_opens_with_its_commands() {
        let m = BASE64.encode("kind: Pod\n");
        let c = BASE64.encode("kubectl get pods\nsleep 5s; kubectl get pods -o wide # a comment");
        let w = decode(&format!("https://docs.example/page#m={m}&c={c}&seed=9"));
        let mut expected = Workspace::new(9, "kind: Pod\n");
        for line in ["kubectl get pods", "sleep 5s", "kubectl get pods -o wide"] {
            expected.steps.push(Step { position: Position::default(), action: Action::Run(line.into()) });
        }
        assert_eq!(w, Ok(expected));
        assert!(holds_playground(&format!("#m={m}")) && holds_playground("#s=abc") && !holds_playground("#top"));
        assert_eq!(decode(&format!("#m={m}&seed=x")), Err(LinkError::Invalid("its seed \"x\" is not a number".into())));
        assert_eq!(decode("#m=%%%"), Err(LinkError::NotALink));
    }

    #[test]
    fn damaged_links_say_why() {
        let w = Workspace::new(3, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n");
        let p = encode(&w);
        assert_eq!(decode(&p[..p.len() / 2]), Err(LinkError::Truncated));
        assert_eq!(decode(&format!("{}!{}", &p[..4], &p[5..])), Err(LinkError::NotALink));
        let mut bytes = BASE64.decode(&p).unwrap_or_default();
        bytes[0] = 7;
        assert_eq!(decode(&BASE64.encode(&bytes)), Err(LinkError::UnknownVersion(7)));
        let not_json = BASE64.encode([&[1u8][..], &deflate::deflate(DICTIONARY_V1, b"hello")].concat());
        assert!(matches!(decode(&not_json), Err(LinkError::Corrupt(_))));
        let bomb = BASE64.encode([&[1u8][..], &deflate::deflate(DICTIONARY_V1, &vec![b' '; MAX_JSON_BYTES + 1])].concat());
        assert_eq!(decode(&bomb), Err(LinkError::TooLarge));
        let newer = BASE64
            .encode([&[1u8][..], &deflate::deflate(DICTIONARY_V1, br#"{"kubeplay":2,"seed":1,"files":{"playground.yaml":""}}"#)].concat());
        assert_eq!(
            decode(&newer).map_err(|e| e.to_string()),
            Err("This link cannot be opened: it was made by a newer kubeplay (format 2; this one reads up to 1). The default playground is open instead.".into())
        );
    }
}
