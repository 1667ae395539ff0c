//! Parsing never panics: thousands of seeded mutations of real manifests (bytes deleted,
//! duplicated, swapped for YAML's special characters) all come back as objects and
//! diagnostics, every diagnostic positioned inside the file.

use kubeplay_core::manifest;
use kubeplay_core::rng::SimRng;

const SEEDS: &[&str] = &[
    include_str!("../../../examples/web.yaml"),
    include_str!("fixtures/k.yaml"),
    include_str!("fixtures/cm.yaml"),
    include_str!("fixtures/k.json"),
];

const SPECIAL: &[&str] = &[
    ":", "-", " ", "\n", "\t", "{", "}", "[", "]", "'", "\"", "#", "&a", "*a", "!!", "|", ">", "---\n", "? ", "%", "@", "\u{feff}", "é",
    "0755", "<<: *a",
];

fn mutate(text: &str, rng: &mut SimRng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..rng.range_inclusive(1, 8) {
        if chars.is_empty() {
            break;
        }
        let at = rng.pick_index(chars.len());
        match rng.below(4) {
            0 => {
                let end = (at + rng.pick_index(20) + 1).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let insert: Vec<char> = SPECIAL[rng.pick_index(SPECIAL.len())].chars().collect();
                chars.splice(at..at, insert);
            }
            2 => {
                let end = (at + rng.pick_index(40) + 1).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
            _ => chars[at] = SPECIAL[rng.pick_index(SPECIAL.len())].chars().next().unwrap_or(' '),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_manifests_never_panic_and_positions_stay_in_the_file() {
    let mut rng = SimRng::stream(2026, "parse-fuzz");
    for i in 0..10_000 {
        let text = mutate(SEEDS[i % SEEDS.len()], &mut rng);
        let parsed = manifest::parse("m.yaml", &text);
        let lines = text.split('\n').count() as u32;
        for d in &parsed.diagnostics {
            assert!(d.position.line >= 1 && d.position.line <= lines + 1, "case {i}: {d}\n{text}");
            assert!(d.position.column >= 1, "case {i}: {d}");
        }
    }
}
