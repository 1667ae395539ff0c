//! Scenario pages (`tests/scenarios/*.md`): Markdown with ```yaml file=NAME blocks and
//! ```console blocks of `$ command` lines followed by the exact expected output. Pure, so the
//! same pages are replayed natively and in wasm.

use crate::{Cluster, Session};

#[derive(Debug, Default)]
pub struct Scenario {
    pub seed: u64,
    pub files: Vec<(String, String)>,
    /// Each console block: its byte range in the page and its text.
    pub consoles: Vec<(usize, usize, String)>,
}

impl Scenario {
    /// Reads a page. `Seed: N` on a line of its own sets the seed (default 1).
    pub fn parse(text: &str) -> Scenario {
        let mut s = Scenario { seed: 1, ..Default::default() };
        let mut offset = 0;
        let mut lines = text.split_inclusive('\n');
        while let Some(line) = lines.next() {
            offset += line.len();
            let trimmed = line.trim_end();
            if let Some(seed) = trimmed.strip_prefix("Seed: ").and_then(|n| n.trim().parse().ok()) {
                s.seed = seed;
            }
            let Some(info) = trimmed.strip_prefix("```") else {
                continue;
            };
            let start = offset;
            let mut body = String::new();
            for l in lines.by_ref() {
                offset += l.len();
                if l.trim_end() == "```" {
                    break;
                }
                body.push_str(l);
            }
            if let Some(name) = info.strip_prefix("yaml file=") {
                s.files.push((name.trim().to_string(), body));
            } else if info == "console" {
                s.consoles.push((start, start + body.len(), body));
            }
        }
        s
    }

    /// The expected transcripts, one per console block.
    pub fn expected(&self) -> Vec<String> {
        self.consoles.iter().map(|(_, _, body)| body.clone()).collect()
    }

    /// Replays every console block's commands on one fresh cluster (default nodes unless the
    /// page's first file brings Nodes — as the playground decides by its editor's manifests; a
    /// Node in a later file joins the default ones) and returns the transcripts.
    pub fn replay(&self) -> Vec<String> {
        self.replay_with(|_| {})
    }

    /// [`Scenario::replay`] on a cluster `prepare` adjusted first.
    pub fn replay_with(&self, prepare: impl FnOnce(&mut Cluster)) -> Vec<String> {
        let mut cluster = Cluster::for_manifests(self.seed, self.files.iter().take(1).map(|(n, t)| (n.as_str(), t.as_str())));
        prepare(&mut cluster);
        let mut session = Session::new(cluster);
        session.files = self.files.iter().cloned().collect();
        self.consoles
            .iter()
            .map(|(_, _, body)| {
                let commands: String = body.lines().filter_map(|l| l.strip_prefix("$ ")).map(|c| format!("{c}\n")).collect();
                let transcript = session.run_script(&commands);
                assert!(!session.cluster.livelocked(), "a controller never settled");
                transcript
            })
            .collect()
    }

    /// The page with its console blocks replaced by `transcripts`.
    pub fn rewrite(&self, page: &str, transcripts: &[String]) -> String {
        let mut out = page.to_string();
        for ((start, end, _), new) in self.consoles.iter().zip(transcripts).rev() {
            out.replace_range(*start..*end, new);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pages() {
        let page = "# T\n\nSeed: 7\n\n```yaml file=a.yaml\nx: 1\n```\n\n```console\n$ help\nold\n```\n";
        let s = Scenario::parse(page);
        assert_eq!(s.seed, 7);
        assert_eq!(s.files, vec![("a.yaml".to_string(), "x: 1\n".to_string())]);
        assert_eq!(s.expected(), vec!["$ help\nold\n".to_string()]);
        let new = s.rewrite(page, &["$ help\nnew\n".to_string()]);
        assert!(new.ends_with("```console\n$ help\nnew\n```\n"), "{new}");
    }
}
