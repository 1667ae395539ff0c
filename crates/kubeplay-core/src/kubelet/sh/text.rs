//! Text the utilities format: `echo -e`/`printf` escapes and formats, `date +FORMAT`, `tr`
//! ranges and awk one-liners.

/// The awk programs one-liners use: `[/RE/]{print $N, …}` or `/RE/` (a literal pattern,
/// `^` anchoring it); None for anything else.
pub(super) fn awk(program: &str, separator: Option<&str>, text: &str) -> Option<String> {
    let program = program.trim();
    let (pattern, action) = match program.strip_prefix('/') {
        Some(rest) => {
            let end = rest.find('/')?;
            (Some(&rest[..end]), rest[end + 1..].trim())
        }
        None => (None, program),
    };
    let fields: Vec<String> = if action.is_empty() {
        vec!["$0".into()]
    } else {
        let inner = action.strip_prefix('{')?.strip_suffix('}')?.trim();
        let list = inner.strip_prefix("print")?.trim();
        if list.is_empty() {
            vec!["$0".into()]
        } else {
            list.split(',').map(|f| f.trim().to_string()).collect()
        }
    };
    let matches = |line: &str| match pattern {
        None => true,
        Some(p) => match p.strip_prefix('^') {
            Some(anchored) => line.starts_with(anchored),
            None => line.contains(p),
        },
    };
    let mut out = String::new();
    for line in text.lines().filter(|l| matches(l)) {
        let split: Vec<&str> = match separator {
            Some(sep) if !sep.is_empty() && sep != " " => line.split(sep).collect(),
            _ => line.split_whitespace().collect(),
        };
        let values: Vec<String> = fields
            .iter()
            .map(|f| match f.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                Some(0) => line.to_string(),
                Some(n) => split.get(n - 1).map_or(String::new(), |v| v.to_string()),
                None if f == "NF" => split.len().to_string(),
                None => f.trim_matches('"').to_string(),
            })
            .collect();
        out.push_str(&values.join(" "));
        out.push('\n');
    }
    Some(out)
}

/// `a-z` style ranges for `tr`.
pub(super) fn char_set(spec: &str) -> Vec<char> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i] <= chars[i + 2] && (chars[i + 2] as u32 - chars[i] as u32) < 256 {
            out.extend(chars[i]..=chars[i + 2]);
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// `echo -e` and `printf`'s backslash escapes.
pub(super) fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('a') => out.push('\u{7}'),
            Some('c') => break,
            Some('0') => {}
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `printf FORMAT ARGS…`: `%s %d %i %x %o %c %b %%` with flags and width; the format is
/// reused while arguments remain.
pub(super) fn printf(format: &str, args: &[String]) -> String {
    let format = unescape(format);
    let mut out = String::new();
    let mut next = 0;
    for _round in 0..1000 {
        let chars: Vec<char> = format.chars().collect();
        let mut i = 0;
        let mut consumed = false;
        while i < chars.len() {
            if chars[i] != '%' {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            i += 1;
            let start = i;
            while i < chars.len() && "-+ 0#".contains(chars[i]) {
                i += 1;
            }
            let flags: String = chars[start..i].iter().collect();
            let wstart = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let width: String = chars[wstart..i].iter().collect();
            let Some(&conv) = chars.get(i) else { break };
            i += 1;
            if conv == '%' {
                out.push('%');
                continue;
            }
            let arg = args.get(next).cloned().unwrap_or_default();
            if next < args.len() {
                next += 1;
                consumed = true;
            }
            let text = match conv {
                'd' | 'i' => arg.trim().parse::<i64>().unwrap_or(0).to_string(),
                'x' => format!("{:x}", arg.trim().parse::<i64>().unwrap_or(0)),
                'o' => format!("{:o}", arg.trim().parse::<i64>().unwrap_or(0)),
                'c' => arg.chars().next().map(String::from).unwrap_or_default(),
                'b' => unescape(&arg),
                'f' => {
                    let precision = width.split_once('.').and_then(|(_, p)| p.parse().ok()).unwrap_or(6);
                    format!("{:.*}", precision, arg.trim().parse::<f64>().unwrap_or(0.0))
                }
                _ => arg,
            };
            let w: usize = width.split('.').next().and_then(|w| w.parse().ok()).unwrap_or(0).min(1000);
            let pad = w.saturating_sub(text.chars().count());
            if flags.contains('-') {
                out.push_str(&text);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && matches!(conv, 'd' | 'i' | 'x' | 'o' | 'f') {
                out.push_str(&"0".repeat(pad));
                out.push_str(&text);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&text);
            }
        }
        if !consumed || next >= args.len() {
            break;
        }
    }
    out
}

/// `date +FORMAT`.
pub(super) fn strftime(format: &str, c: &crate::time::Calendar) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{:04}", c.year)),
            Some('m') => out.push_str(&format!("{:02}", c.month)),
            Some('d') => out.push_str(&format!("{:02}", c.day)),
            Some('e') => out.push_str(&format!("{:>2}", c.day)),
            Some('H') => out.push_str(&format!("{:02}", c.hour)),
            Some('M') => out.push_str(&format!("{:02}", c.minute)),
            Some('S') => out.push_str(&format!("{:02}", c.second)),
            Some('s') => out.push_str(&c.unix_seconds.to_string()),
            Some('a') => out.push_str(DAYS[c.weekday as usize % 7]),
            Some('b') => out.push_str(MONTHS[(c.month as usize).saturating_sub(1) % 12]),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('T') => out.push_str(&format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)),
            Some('F') => out.push_str(&format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}
