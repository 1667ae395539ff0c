//! `kubectl diff -f FILE`: the live object and what applying the file would leave (a
//! server-side dry run of the three-way merge), as YAML, compared with `diff -u -N` over two
//! temporary directories the way kubectl runs it. Exit status 1 when something differs.

use serde_json::Value;

use super::apply::{last_applied_configuration, merged_for_apply, Merged, LAST_APPLIED};
use super::{printers, Files, Output};
use crate::api::Object;
use crate::manifest;
use crate::rng::SimRng;
use crate::sim::Cluster;

pub(super) fn diff(cluster: &mut Cluster, files: &dyn Files, names: &[String], namespace: Option<&str>) -> Output {
    if names.is_empty() {
        return Output::err("error: must specify one of -f and -k\n");
    }
    // kubectl makes `LIVE-<n>` and `MERGED-<n>` with os.MkdirTemp; the numbers come from a
    // seeded stream here so a transcript is reproducible.
    let mut rng = SimRng::stream(cluster.seed() ^ cluster.now().ms(), "kubectl-diff");
    let live_dir = format!("/tmp/LIVE-{}", rng.below(u32::MAX as u64));
    let merged_dir = format!("/tmp/MERGED-{}", rng.below(u32::MAX as u64));
    let stamp = {
        let c = cluster.now().calendar();
        let nanos = cluster.now().ms() % 1000 * 1_000_000;
        format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{nanos:09} +0000", c.year, c.month, c.day, c.hour, c.minute, c.second)
    };
    let mut text = String::new();
    let mut errors = String::new();
    for file in names {
        let Some(source) = files.read(file) else {
            errors.push_str(&format!("error: the path \"{file}\" does not exist\n"));
            continue;
        };
        let parsed = manifest::parse(file, &source);
        for r in &parsed.rejected {
            errors.push_str(&format!("{}\n", r.kubectl_error));
        }
        for po in parsed.objects {
            let mut object: Object = po.object;
            let info = object.info();
            super::args::place_in_namespace(&mut object, namespace);
            let key = object.key();
            let live = cluster.get(&key).cloned();
            let merged = match &live {
                Some(live) => match merged_for_apply(live, object.clone(), &last_applied_configuration(&object)) {
                    Merged::Unchanged => continue,
                    Merged::Invalid(e) => {
                        errors.push_str(&e);
                        continue;
                    }
                    Merged::Changed(o) => cluster.api().dry_run(o, true),
                },
                None => cluster.api().dry_run(with_last_applied(object), false),
            };
            let merged = match merged {
                Ok(m) => m,
                Err(e) => {
                    errors.push_str(&format!("Error from server: {e}\n"));
                    continue;
                }
            };
            let name = format!(
                "{}{}.{}.{}.{}",
                if info.group.is_empty() { String::new() } else { format!("{}.", info.group) },
                info.versions.first().copied().unwrap_or("v1"),
                info.kind,
                key.namespace,
                key.name
            );
            let before = live.as_ref().map(|o| printers::yaml(&without_managed_fields(o))).unwrap_or_default();
            let after = printers::yaml(&without_managed_fields(&merged));
            if before == after {
                continue;
            }
            let (from, to) = (format!("{live_dir}/{name}"), format!("{merged_dir}/{name}"));
            let from_stamp = if live.is_some() { stamp.clone() } else { "1970-01-01 00:00:00.000000000 +0000".to_string() };
            text.push_str(&format!("diff -u -N {from} {to}\n--- {from}\t{from_stamp}\n+++ {to}\t{stamp}\n"));
            text.push_str(&unified(&before, &after));
        }
    }
    let differs = !text.is_empty();
    text.push_str(&errors);
    // kubectl diff exits 1 when there are differences, >1 on errors.
    Output { text, ok: !differs && errors.is_empty() }
}

fn with_last_applied(mut object: Object) -> Object {
    let last = last_applied_configuration(&object);
    object.meta_mut().annotations.get_or_insert_with(Default::default).insert(LAST_APPLIED.into(), last);
    object
}

/// kubectl diff hides `metadata.managedFields`.
fn without_managed_fields(object: &Object) -> Value {
    let mut v = object.to_json();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    v
}

/// One line of an edit script.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same,
    Delete,
    Insert,
}

/// GNU `diff -u` output (three lines of context) for two texts, without the file header.
fn unified(before: &str, after: &str) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let script = edit_script(&a, &b);
    // Positions (in a and in b) at each step of the script.
    let mut steps = Vec::with_capacity(script.len());
    let (mut i, mut j) = (0usize, 0usize);
    for e in &script {
        steps.push((*e, i, j));
        match e {
            Edit::Same => {
                i += 1;
                j += 1;
            }
            Edit::Delete => i += 1,
            Edit::Insert => j += 1,
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = steps.iter().enumerate().filter(|(_, s)| s.0 != Edit::Same).map(|(k, _)| k).collect();
    let mut out = String::new();
    let mut k = 0;
    while k < changed.len() {
        // A hunk covers changes closer than twice the context.
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        while k + 1 < changed.len() && changed[k + 1] - end <= 2 * CONTEXT {
            k += 1;
            end = changed[k];
        }
        let end = (end + CONTEXT + 1).min(steps.len());
        let hunk = &steps[start..end];
        let a_len = hunk.iter().filter(|s| s.0 != Edit::Insert).count();
        let b_len = hunk.iter().filter(|s| s.0 != Edit::Delete).count();
        let range = |first: usize, len: usize| match len {
            0 => format!("{first},0"),
            1 => format!("{}", first + 1),
            _ => format!("{},{len}", first + 1),
        };
        out.push_str(&format!("@@ -{} +{} @@\n", range(hunk[0].1, a_len), range(hunk[0].2, b_len)));
        for (e, i, j) in hunk {
            match e {
                Edit::Same => out.push_str(&format!(" {}\n", a[*i])),
                Edit::Delete => out.push_str(&format!("-{}\n", a[*i])),
                Edit::Insert => out.push_str(&format!("+{}\n", b[*j])),
            }
        }
        k += 1;
    }
    out
}

/// A shortest edit script by longest common subsequence; within a change, deletions come
/// before insertions, as diff prints them.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Edit> {
    // Common prefix and suffix are trimmed first: objects differ in a few lines.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let (n, m) = (ma.len(), mb.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] =
                if ma[i] == mb[j] { lcs[(i + 1) * (m + 1) + j + 1] + 1 } else { lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1]) };
        }
    }
    let mut script = vec![Edit::Same; prefix];
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && ma[i] == mb[j] {
            script.push(Edit::Same);
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
            script.push(Edit::Delete);
            i += 1;
        } else {
            script.push(Edit::Insert);
            j += 1;
        }
    }
    script.extend(std::iter::repeat_n(Edit::Same, suffix));
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_read_as_gnu_diff_prints_them() {
        let a = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let b = "a\nb\nc\nD\ne\nf\ng\nh\n";
        assert_eq!(unified(a, b), "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n");
        assert_eq!(unified("", "x\ny\n"), "@@ -0,0 +1,2 @@\n+x\n+y\n");
        assert_eq!(unified("x\n", ""), "@@ -1 +0,0 @@\n-x\n");
        let long_a: String = (0..20).map(|i| format!("{i}\n")).collect();
        let long_b = long_a.replace("2\n", "two\n").replace("17\n", "seventeen\n");
        let out = unified(&long_a, &long_b);
        assert_eq!(out.matches("@@ -").count(), 2, "changes far apart make two hunks: {out}");
    }
}
