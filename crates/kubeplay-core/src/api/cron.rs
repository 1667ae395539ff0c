//! CronJob schedules as Kubernetes reads them (robfig/cron's `ParseStandard`): five fields
//! `minute hour day-of-month month day-of-week` with `*`, lists, ranges, steps, month and day
//! names, `?` for `*`, and the macros `@yearly`/`@annually`, `@monthly`, `@weekly`,
//! `@daily`/`@midnight`, `@hourly`. When both day-of-month and day-of-week are restricted a day
//! matching **either** runs (cron's rule). The `cron` crate does the matching: it takes a
//! seconds field first and numbers weekdays 1–7 from Sunday, so the expression is translated,
//! and the either-day rule is two schedules whose earlier time wins.
//!
//! Time zones: UTC, `Etc/GMT±N` and zones without daylight saving are exact offsets; other
//! IANA names are not modelled (no time-zone database): `offset_of` returns None for them.

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, TimeZone};

use crate::time::SimTime;

/// A parsed schedule.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// One schedule, or two (day-of-month only, day-of-week only) for the either-day rule.
    parts: Vec<cron::Schedule>,
}

/// Zones without daylight saving time, by their standard offset in seconds.
const FIXED_ZONES: [(&str, i32); 24] = [
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("GMT", 0),
    ("Etc/GMT", 0),
    ("Asia/Tokyo", 9 * 3600),
    ("Asia/Seoul", 9 * 3600),
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("Asia/Singapore", 8 * 3600),
    ("Asia/Manila", 8 * 3600),
    ("Asia/Kuala_Lumpur", 8 * 3600),
    ("Asia/Jakarta", 7 * 3600),
    ("Asia/Bangkok", 7 * 3600),
    ("Asia/Ho_Chi_Minh", 7 * 3600),
    ("Asia/Kolkata", 5 * 3600 + 1800),
    ("Asia/Dubai", 4 * 3600),
    ("Asia/Karachi", 5 * 3600),
    ("Europe/Moscow", 3 * 3600),
    ("Africa/Johannesburg", 2 * 3600),
    ("Africa/Nairobi", 3 * 3600),
    ("Australia/Brisbane", 10 * 3600),
    ("America/Phoenix", -7 * 3600),
    ("Pacific/Honolulu", -10 * 3600),
];

/// The zone's offset from UTC in seconds, if kubeplay models it (no daylight saving).
pub fn offset_of(zone: &str) -> Option<i32> {
    if let Some(n) = zone.strip_prefix("Etc/GMT") {
        // POSIX style: Etc/GMT+9 is nine hours *behind* UTC.
        let hours: i32 = n.parse().ok()?;
        return (-14..=12).contains(&hours).then_some(-hours * 3600);
    }
    FIXED_ZONES.iter().find(|(name, _)| *name == zone).map(|(_, offset)| *offset)
}

/// Whether `zone` looks like an IANA zone name (`Area/Location`), for validation.
pub fn looks_like_zone(zone: &str) -> bool {
    offset_of(zone).is_some()
        || (zone.contains('/')
            && zone.split('/').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))))
}

fn macro_fields(m: &str) -> Option<&'static str> {
    Some(match m {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

/// Day-of-week numbers 0–7 (0 and 7 Sunday) as the crate's 1–7 from Sunday.
fn weekdays(field: &str) -> String {
    let mut out = String::new();
    let mut number = String::new();
    let mut after_slash = false;
    let flush = |out: &mut String, number: &mut String, after_slash: bool| {
        if !number.is_empty() {
            let n: u32 = number.parse().unwrap_or(0);
            // A step stays a step; a day moves up one (7, Sunday again, is 1).
            let mapped = if after_slash {
                n
            } else if n == 7 {
                1
            } else {
                n + 1
            };
            out.push_str(&mapped.to_string());
            number.clear();
        }
    };
    for c in field.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else {
            flush(&mut out, &mut number, after_slash);
            after_slash = c == '/';
            out.push(c);
        }
    }
    flush(&mut out, &mut number, after_slash);
    out
}

impl Schedule {
    /// Parses a CronJob schedule; the error is worded as robfig/cron words it where it can.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        let expanded = if expr.starts_with('@') {
            macro_fields(expr).ok_or_else(|| format!("unrecognized descriptor: {expr}"))?.to_string()
        } else {
            expr.to_string()
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
        }
        let field = |f: &str| if f == "?" { "*".to_string() } else { f.to_string() };
        let (minute, hour, dom, month, dow) = (field(fields[0]), field(fields[1]), field(fields[2]), field(fields[3]), field(fields[4]));
        let dow = weekdays(&dow);
        let build = |dom: &str, dow: &str| {
            cron::Schedule::from_str(&format!("0 {minute} {hour} {dom} {month} {dow}"))
                .map_err(|e| format!("{e}").replace("Invalid expression: ", ""))
        };
        let restricted = |f: &str| !f.starts_with('*');
        let parts =
            if restricted(&dom) && restricted(&dow) { vec![build(&dom, "*")?, build("*", &dow)?] } else { vec![build(&dom, &dow)?] };
        Ok(Schedule { parts })
    }

    /// The first scheduled time strictly after `t`, in a zone `offset` seconds from UTC.
    pub fn next_after(&self, t: SimTime, offset: i32) -> Option<SimTime> {
        let zone = FixedOffset::east_opt(offset)?;
        let secs = crate::time::EPOCH_UNIX_SECONDS + (t.ms() / 1000) as i64;
        let at: DateTime<FixedOffset> = zone.timestamp_opt(secs, 0).single()?;
        let next = self.parts.iter().filter_map(|s| s.after(&at).next()).min()?;
        let delta = next.timestamp() - crate::time::EPOCH_UNIX_SECONDS;
        (delta >= 0).then(|| SimTime(delta as u64 * 1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u64, m: u64) -> SimTime {
        SimTime((h * 3600 + m * 60) * 1000)
    }

    #[test]
    fn five_fields_steps_and_macros() {
        let s = Schedule::parse("*/5 * * * *").expect("parses");
        assert_eq!(s.next_after(at(0, 0), 0), Some(at(0, 5)));
        assert_eq!(s.next_after(at(0, 7), 0), Some(at(0, 10)));
        let hourly = Schedule::parse("@hourly").expect("parses");
        assert_eq!(hourly.next_after(at(0, 30), 0), Some(at(1, 0)));
        assert!(Schedule::parse("* * * *").err().is_some_and(|e| e.starts_with("expected exactly 5 fields, found 4")));
        assert!(Schedule::parse("61 * * * *").is_err());
    }

    #[test]
    fn weekdays_count_from_sunday_zero() {
        // 2026-01-01 is a Thursday; the next Monday (1) is 2026-01-05.
        let monday = Schedule::parse("0 9 * * 1").expect("parses");
        assert_eq!(monday.next_after(SimTime::ZERO, 0), Some(SimTime((4 * 86_400 + 9 * 3600) * 1000)));
        let sunday = Schedule::parse("0 0 * * 0").expect("parses");
        assert_eq!(sunday.next_after(SimTime::ZERO, 0), Some(SimTime(3 * 86_400 * 1000)));
        assert_eq!(weekdays("1-5"), "2-6");
        assert_eq!(weekdays("*/2"), "*/2");
        assert_eq!(weekdays("0,6"), "1,7");
    }

    #[test]
    fn either_day_rule_and_time_zones() {
        // The 10th of the month or a Friday (2026-01-02): the Friday comes first.
        let either = Schedule::parse("0 0 10 * 5").expect("parses");
        assert_eq!(either.next_after(SimTime::ZERO, 0), Some(SimTime(86_400 * 1000)));
        // 09:00 in Tokyo is 00:00 UTC.
        let tokyo = Schedule::parse("0 9 * * *").expect("parses");
        assert_eq!(tokyo.next_after(SimTime(1000), offset_of("Asia/Tokyo").expect("known")), Some(SimTime(86_400 * 1000)));
        assert_eq!(offset_of("Etc/GMT+5"), Some(-5 * 3600));
        assert_eq!(offset_of("Europe/London"), None);
        assert!(looks_like_zone("Europe/London"));
        assert!(!looks_like_zone("Not A Zone"));
    }
}
