//! grep's patterns, as much of POSIX basic regular expressions as scripts in containers use:
//! `^` and `$` anchors, `.`, `*`, bracket expressions (`[abc]`, `[a-z]`, `[^0-9]`) and
//! backslash escapes; with `-E`, also `+`, `?` and `|` alternatives. A matcher in the style of
//! Pike's, over chars: no backtracking blow-up matters for lines this short.

#[derive(Clone, Debug, PartialEq)]
enum Atom {
    Char(char),
    Any,
    Class { negated: bool, items: Vec<(char, char)> },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Repeat {
    One,
    Star,
    Plus,
    Optional,
}

#[derive(Clone, Debug, PartialEq)]
struct Piece {
    atom: Atom,
    repeat: Repeat,
}

#[derive(Clone, Debug, PartialEq)]
struct Branch {
    anchored_start: bool,
    anchored_end: bool,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Regex {
    branches: Vec<Branch>,
    ignore_case: bool,
}

impl Atom {
    fn matches(&self, c: char, ignore_case: bool) -> bool {
        let fold = |c: char| if ignore_case { c.to_ascii_lowercase() } else { c };
        match self {
            Atom::Char(a) => fold(*a) == fold(c),
            Atom::Any => true,
            Atom::Class { negated, items } => {
                items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&fold(c)) || (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

fn parse_branch(pattern: &str, extended: bool) -> Branch {
    let mut chars: Vec<char> = pattern.chars().collect();
    let anchored_start = chars.first() == Some(&'^');
    if anchored_start {
        chars.remove(0);
    }
    let anchored_end = chars.last() == Some(&'$') && !(chars.len() >= 2 && chars[chars.len() - 2] == '\\');
    if anchored_end {
        chars.pop();
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let atom = match c {
            '.' => Atom::Any,
            '\\' if i + 1 < chars.len() => {
                i += 1;
                Atom::Char(chars[i])
            }
            '[' => {
                let mut j = i + 1;
                let negated = chars.get(j) == Some(&'^');
                if negated {
                    j += 1;
                }
                let mut items = Vec::new();
                let start = j;
                while j < chars.len() && (chars[j] != ']' || j == start) {
                    if j + 2 < chars.len() && chars[j + 1] == '-' && chars[j + 2] != ']' {
                        items.push((chars[j], chars[j + 2]));
                        j += 3;
                    } else {
                        items.push((chars[j], chars[j]));
                        j += 1;
                    }
                }
                if j >= chars.len() {
                    // No closing bracket: a literal `[`.
                    Atom::Char('[')
                } else {
                    i = j;
                    Atom::Class { negated, items }
                }
            }
            '*' if pieces.is_empty() => Atom::Char('*'),
            c => Atom::Char(c),
        };
        i += 1;
        let repeat = match chars.get(i) {
            Some('*') => Repeat::Star,
            Some('+') if extended => Repeat::Plus,
            Some('?') if extended => Repeat::Optional,
            _ => Repeat::One,
        };
        if repeat != Repeat::One {
            i += 1;
        }
        pieces.push(Piece { atom, repeat });
    }
    Branch { anchored_start, anchored_end, pieces }
}

impl Regex {
    pub fn new(pattern: &str, extended: bool, ignore_case: bool) -> Regex {
        let branches =
            if extended { pattern.split('|').map(|b| parse_branch(b, true)).collect() } else { vec![parse_branch(pattern, false)] };
        Regex { branches, ignore_case }
    }

    pub fn is_match(&self, line: &str) -> bool {
        let text: Vec<char> = line.chars().collect();
        self.branches.iter().any(|b| {
            if b.anchored_start {
                self.match_here(&b.pieces, &text, b.anchored_end)
            } else {
                (0..=text.len()).any(|start| self.match_here(&b.pieces, &text[start..], b.anchored_end))
            }
        })
    }

    fn match_here(&self, pieces: &[Piece], text: &[char], anchored_end: bool) -> bool {
        let Some((piece, rest)) = pieces.split_first() else {
            return !anchored_end || text.is_empty();
        };
        let one = |t: &[char]| t.first().is_some_and(|c| piece.atom.matches(*c, self.ignore_case));
        match piece.repeat {
            Repeat::One => one(text) && self.match_here(rest, &text[1..], anchored_end),
            Repeat::Optional => (one(text) && self.match_here(rest, &text[1..], anchored_end)) || self.match_here(rest, text, anchored_end),
            Repeat::Star | Repeat::Plus => {
                let mut n = 0;
                while n < text.len() && piece.atom.matches(text[n], self.ignore_case) {
                    n += 1;
                }
                let min = usize::from(piece.repeat == Repeat::Plus);
                (min..=n).rev().any(|k| self.match_here(rest, &text[k..], anchored_end))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn m(pattern: &str, line: &str) -> bool {
        Regex::new(pattern, false, false).is_match(line)
    }

    #[test]
    fn basic_regular_expressions() {
        assert!(m("REDIS", "X_REDIS_PORT"));
        assert!(m("^REDIS", "REDIS_PORT=1"));
        assert!(!m("^REDIS", "X_REDIS"));
        assert!(m("PORT$", "REDIS_PORT"));
        assert!(!m("PORT$", "REDIS_PORT=1"));
        assert!(m("a.c", "xabcx"));
        assert!(m("^ab*c$", "ac"));
        assert!(m("^ab*c$", "abbbc"));
        assert!(m("[0-9][0-9]*", "port 80"));
        assert!(!m("^[^a-z]", "abc"));
        assert!(m("10\\.244", "10.244.1.2"));
        assert!(!m("10\\.244", "10x244"));
        assert!(m("^$", ""));
        assert!(m("[", "a[b"));
    }

    #[test]
    fn extended_alternatives_and_repeats() {
        let r = Regex::new("^(ok|fine)$", true, false);
        // Groups are not modelled: the parentheses are literal here, so this does not match.
        assert!(!r.is_match("ok"));
        assert!(Regex::new("error|warn", true, false).is_match("a warning"));
        assert!(Regex::new("^a+b?$", true, false).is_match("aaa"));
        assert!(!Regex::new("^a+$", true, false).is_match(""));
        assert!(Regex::new("hello", false, true).is_match("HELLO world"));
    }
}
