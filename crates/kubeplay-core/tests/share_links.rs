//! Share links: encode ∘ decode is the identity over generated sessions, and every damaged,
//! truncated, oversized or hostile link gives a message — never a panic, never a workspace
//! that breaks the rules. `KUBEPLAY_SEEDS=N` runs more seeds.

use kubeplay_core::rng::SimRng;
use kubeplay_core::share::link::{self, LinkError};
use kubeplay_core::share::{Action, Position, Step, Workspace};

// Tests may read the environment; the core library may not (clippy.toml).
#[allow(clippy::disallowed_methods)]
fn seeds() -> u64 {
    std::env::var("KUBEPLAY_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300)
}

const TEXTS: &[&str] = &[
    include_str!("../../../examples/web.yaml"),
    include_str!("fixtures/k.yaml"),
    include_str!("fixtures/cm.yaml"),
    "",
    "日本語のコメント: ポッド\nkind: Pod\n",
    "a\u{0}b\"\\\n\t\r{}[]#s=&",
];

fn random_text(rng: &mut SimRng) -> String {
    let base = TEXTS[rng.pick_index(TEXTS.len())];
    if rng.chance(1, 3) {
        let cut = base.char_indices().map(|(i, _)| i).nth(rng.pick_index(base.chars().count().max(1))).unwrap_or(0);
        return base[..cut].to_string();
    }
    base.to_string()
}

fn random_workspace(seed: u64) -> Workspace {
    let mut rng = SimRng::stream(seed, "share-links");
    let mut w = Workspace::new(rng.next_u64(), &random_text(&mut rng));
    for i in 0..rng.below(3) {
        w.files.insert(format!("extra-{i}.yaml"), random_text(&mut rng));
    }
    let mut at = Position::default();
    for _ in 0..rng.below(40) {
        at.at += rng.below(100_000);
        at.work += rng.below(500);
        let action = match rng.below(5) {
            0 => Action::Apply(random_text(&mut rng)),
            1 => Action::Diff(random_text(&mut rng)),
            2 => Action::Run(
                ["kubectl get pods", "sleep 30s", "curl http://203.0.113.10/", "k scale deploy web --replicas=9"][rng.pick_index(4)].into(),
            ),
            3 => Action::Detached("kubeplay node fail worker-1".into()),
            _ => Action::CancelEdit(rng.chance(1, 2)),
        };
        w.steps.push(Step { position: at, action });
    }
    at.at += rng.below(1_000_000);
    w.open = at;
    w.editor = rng.chance(1, 3).then(|| random_text(&mut rng));
    w.view.playing = rng.chance(1, 2);
    w.view.speed = rng.range_inclusive(1, 100) as u32;
    w.view.selected = rng.chance(1, 2).then(|| format!("uid-{}", rng.below(1000)));
    w
}

#[test]
fn encode_then_decode_is_the_identity() {
    for seed in 0..seeds() {
        let w = random_workspace(seed);
        assert_eq!(w.validate(), Ok(()), "seed {seed}");
        let link = link::fragment(&w);
        assert_eq!(link::decode(&link).as_ref(), Ok(&w), "seed {seed}: {link}");
        assert_eq!(Workspace::from_json(&w.to_json()).as_ref(), Ok(&w), "seed {seed}");
    }
}

/// Cut, flipped, spliced and padded links: each is refused with a message or opens a valid
/// workspace (a change can land in a string and still be a valid session).
#[test]
fn hostile_links_give_a_message() {
    let mut refused = 0;
    for seed in 0..seeds() {
        let mut rng = SimRng::stream(seed, "share-links-hostile");
        let payload = link::encode(&random_workspace(seed));
        let mut chars: Vec<char> = payload.chars().collect();
        match rng.below(5) {
            0 => chars.truncate(rng.pick_index(chars.len())),
            1 => {
                let i = rng.pick_index(chars.len());
                chars[i] = "AZaz09-_!%/+= é".chars().nth(rng.pick_index(15)).unwrap_or('A');
            }
            2 => {
                let i = rng.pick_index(chars.len());
                chars.insert(i, 'Q');
            }
            3 => chars.reverse(),
            _ => chars.extend(std::iter::repeat_n('A', rng.range_inclusive(1, 9) as usize)),
        }
        let damaged: String = chars.into_iter().collect();
        match link::decode(&format!("#s={damaged}")) {
            Ok(w) => assert_eq!(w.validate(), Ok(()), "seed {seed}"),
            Err(e) => {
                refused += 1;
                let message = e.to_string();
                assert!(message.starts_with("This link cannot be opened: ") && message.ends_with("open instead."), "{message}");
            }
        }
    }
    assert!(refused > seeds() / 2, "only {refused} refused");
}

#[test]
fn oversized_links_are_refused_before_work() {
    let huge = "A".repeat(link::MAX_LINK_CHARS + 1);
    assert_eq!(link::decode(&format!("#s={huge}")), Err(LinkError::TooLarge));
    // A session that replays for years of virtual time is refused by its rules.
    let mut w = Workspace::new(1, "");
    w.open = Position { at: u64::MAX, work: 1 };
    assert!(matches!(link::decode(&link::fragment(&w)), Err(LinkError::Invalid(_))));
}

/// The sizes `issues` asks for: every example as a fresh playground's link.
#[test]
fn every_example_makes_a_link() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut sizes = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let link = link::fragment(&Workspace::new(1, &text));
                assert!(link.len() < 2000, "{}: {} characters", path.display(), link.len());
                sizes.push((link.len(), text.len(), path.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_default()));
            }
        }
    }
    sizes.sort();
    assert!(sizes.len() > 10);
    for (link, yaml, name) in &sizes {
        println!("{name}: {yaml} bytes of YAML -> a {link}-character link");
    }
}

/// What a link's replay must reproduce: every object (with its timestamps and resource
/// versions), the traffic counters and the clock.
fn state(session: &mut kubeplay_core::Session) -> String {
    let mut out = String::new();
    for command in ["kubectl get pods,services,endpointslices,replicasets,events -A -o yaml", "traffic", "traffic pods"] {
        out.push_str(&session.exec(command).text);
    }
    out + &format!("clock {:?}\n", session.cluster.position())
}

/// A playground run — frames with random work budgets (the clock stops mid-instant when one
/// runs out), commands between them — replays from its recorded positions to the same state.
#[test]
fn a_recorded_run_replays_to_the_same_state() {
    use kubeplay_core::time::{SimDuration, SimTime};
    use kubeplay_core::{Cluster, Session};
    const COMMANDS: &[&str] = &[
        "kubectl scale deployment web --replicas=5",
        "traffic start http://203.0.113.10/ --rate=50",
        "kubectl delete pod -l app=web --wait=false",
        "kubectl set image deployment/web nginx=nginx:1.28",
        "sleep 20s",
        "kubeplay node fail worker-1",
        "kubectl get pods -o wide",
    ];
    let text = include_str!("../../../examples/web.yaml");
    let start = |seed: u64| {
        let mut session = Session::new(Cluster::for_manifests(seed, [("playground.yaml", text)]));
        session.files.insert("playground.yaml".into(), text.into());
        session.exec("kubectl apply -f playground.yaml");
        session
    };
    for seed in 0..seeds().min(12) {
        let mut rng = SimRng::stream(seed, "share-replay");
        let mut live = start(seed);
        let mut w = Workspace::new(seed, text);
        let mut outputs = Vec::new();
        for _ in 0..rng.range_inclusive(20, 120) {
            let speed = [1, 5, 100][rng.pick_index(3)];
            live.cluster.advance_at_most(SimDuration(100 * speed), rng.range_inclusive(1, 60));
            if rng.chance(1, 8) {
                let (at, work) = live.cluster.position();
                let command = COMMANDS[rng.pick_index(COMMANDS.len())];
                outputs.push(live.exec(command).text);
                w.steps.push(Step { position: Position { at: at.ms(), work }, action: Action::Run(command.into()) });
            }
        }
        let (at, work) = live.cluster.position();
        w.open = Position { at: at.ms(), work };
        let expected = state(&mut live);

        let Ok(opened) = link::decode(&link::fragment(&w)) else { panic!("seed {seed}: the link does not open") };
        let mut replay = start(opened.seed);
        let mut replayed = Vec::new();
        for step in &opened.steps {
            replay.cluster.replay_to(SimTime(step.position.at), step.position.work);
            if let Action::Run(command) = &step.action {
                replayed.push(replay.exec(command).text);
            }
        }
        replay.cluster.replay_to(SimTime(opened.open.at), opened.open.work);
        assert_eq!(replayed, outputs, "seed {seed}: console output");
        assert_eq!(state(&mut replay), expected, "seed {seed}: state");
    }
}
