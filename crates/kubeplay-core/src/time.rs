//! Virtual time. The simulation never reads a wall clock: `SimTime` is an integer count of
//! milliseconds since a fixed epoch, and it only moves when the event queue says so.

use std::fmt;

/// Milliseconds since [`EPOCH_UNIX_SECONDS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A virtual duration in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// Wall-clock instant that `SimTime(0)` stands for: 2026-01-01T00:00:00Z. Fixed so that
/// `creationTimestamp`s are the same on every run and every machine.
pub const EPOCH_UNIX_SECONDS: i64 = 1_767_225_600;

/// The API timestamp (`metav1.Time`, whole seconds) of a virtual instant.
pub fn to_time(t: SimTime) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    let unix_ms = EPOCH_UNIX_SECONDS * 1000 + t.ms() as i64;
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_millisecond(unix_ms - unix_ms % 1000).unwrap_or_default(),
    )
}

/// Virtual time of an API timestamp (the inverse of `to_time`, to the second).
pub fn from_time(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> SimTime {
    let unix_ms = t.0.as_millisecond();
    SimTime((unix_ms - EPOCH_UNIX_SECONDS * 1000).max(0) as u64)
}

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn ms(self) -> u64 {
        self.0
    }

    pub fn plus(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// RFC 3339 in UTC with second precision, as the API server writes `metav1.Time`.
    pub fn rfc3339(self) -> String {
        let (date, secs_of_day) = self.civil();
        format!("{date}T{:02}:{:02}:{:02}Z", secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60)
    }

    /// RFC 3339 with microseconds, as `metav1.MicroTime` (Event `eventTime`) is written.
    pub fn rfc3339_micro(self) -> String {
        let (date, secs_of_day) = self.civil();
        format!("{date}T{:02}:{:02}:{:02}.{:06}Z", secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60, (self.0 % 1000) * 1000)
    }

    /// Go's `time.RFC1123Z` in UTC, as `kubectl describe` prints times:
    /// `Thu, 01 Jan 2026 00:00:00 +0000`.
    pub fn rfc1123z(self) -> String {
        const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let secs = EPOCH_UNIX_SECONDS + (self.0 / 1000) as i64;
        let days = secs.div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let s = secs.rem_euclid(86_400);
        format!(
            "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} +0000",
            WEEKDAYS[days.rem_euclid(7) as usize],
            MONTHS[(m as usize).saturating_sub(1).min(11)],
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    /// The wall-clock fields of this instant, in UTC.
    pub fn calendar(self) -> Calendar {
        let secs = EPOCH_UNIX_SECONDS + (self.0 / 1000) as i64;
        let days = secs.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let s = secs.rem_euclid(86_400);
        Calendar {
            year,
            month,
            day,
            hour: (s / 3600) as u32,
            minute: (s / 60 % 60) as u32,
            second: (s % 60) as u32,
            weekday: (days + 4).rem_euclid(7) as u32,
            unix_seconds: secs,
        }
    }

    /// Nanoseconds since the Unix epoch (used where Kubernetes derives names from `UnixNano`).
    pub fn unix_nanos(self) -> u64 {
        (EPOCH_UNIX_SECONDS as u64) * 1_000_000_000 + self.0 * 1_000_000
    }

    fn civil(self) -> (String, i64) {
        let secs = EPOCH_UNIX_SECONDS + (self.0 / 1000) as i64;
        let days = secs.div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (format!("{y:04}-{m:02}-{d:02}"), secs.rem_euclid(86_400))
    }
}

/// A UTC date and time; `weekday` 0 is Sunday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub weekday: u32,
    pub unix_seconds: i64,
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * 1000)
    }

    pub fn ms(self) -> u64 {
        self.0
    }

    /// Parses a Go-style duration as `sleep` takes it: `500ms`, `30s`, `5m`, `1h`, `1m30s`, `1.5s`.
    pub fn parse(text: &str) -> Option<SimDuration> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if text == "0" {
            return Some(SimDuration::ZERO);
        }
        let mut total_ms: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
            if num_len == 0 {
                return None;
            }
            let (num, tail) = rest.split_at(num_len);
            let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let unit_ms: u64 = match unit {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => return None,
            };
            total_ms = total_ms.checked_add(scaled(num, unit_ms)?)?;
            rest = tail;
        }
        Some(SimDuration(total_ms))
    }

    /// kubectl's `HumanDuration` (apimachinery `duration.go`): truncating, two units at most.
    pub fn human(self) -> String {
        let seconds = self.0 / 1000;
        let minutes = seconds / 60;
        let hours = minutes / 60;
        let days = hours / 24;
        let years = days / 365;
        if seconds < 120 {
            format!("{seconds}s")
        } else if minutes < 10 {
            match seconds % 60 {
                0 => format!("{minutes}m"),
                s => format!("{minutes}m{s}s"),
            }
        } else if minutes < 180 {
            format!("{minutes}m")
        } else if hours < 8 {
            match minutes % 60 {
                0 => format!("{hours}h"),
                m => format!("{hours}h{m}m"),
            }
        } else if hours < 48 {
            format!("{hours}h")
        } else if hours < 24 * 8 {
            match hours % 24 {
                0 => format!("{days}d"),
                h => format!("{days}d{h}h"),
            }
        } else if days < 365 * 2 {
            format!("{days}d")
        } else if days < 365 * 8 {
            match days % 365 {
                0 => format!("{years}y"),
                d => format!("{years}y{d}d"),
            }
        } else {
            format!("{years}y")
        }
    }

    /// Go's `time.Duration.String()` for a millisecond-precision duration: `812ms`, `1.2s`,
    /// `2m3.5s` (kubelet prints pull times this way after `Truncate(time.Millisecond)`).
    pub fn go_string(self) -> String {
        let ms = self.0;
        if ms == 0 {
            return "0s".to_string();
        }
        if ms < 1000 {
            return format!("{ms}ms");
        }
        let h = ms / 3_600_000;
        let m = ms / 60_000 % 60;
        let s = ms / 1000 % 60;
        let frac = ms % 1000;
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&s.to_string());
        if frac > 0 {
            let digits = format!("{frac:03}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        out.push('s');
        out
    }
}

/// `num` (decimal, up to millisecond precision after scaling) × `unit_ms`.
fn scaled(num: &str, unit_ms: u64) -> Option<u64> {
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let whole: u64 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
    let mut total = whole.checked_mul(unit_ms)?;
    let mut scale = unit_ms;
    for digit in frac_part.chars() {
        let d = u64::from(digit.to_digit(10)?);
        scale /= 10;
        total = total.checked_add(d * scale)?;
    }
    Some(total)
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn human(secs: u64, expect: &str) {
        assert_eq!(SimDuration::from_secs(secs).human(), expect, "{secs}s");
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        human(0, "0s");
        human(5, "5s");
        human(90, "90s");
        human(119, "119s");
        human(120, "2m");
        human(302, "5m2s");
        human(599, "9m59s");
        human(600, "10m");
        human(179 * 60 + 59, "179m");
        human(3 * 3600, "3h");
        human(5 * 3600 + 30 * 60, "5h30m");
        human(47 * 3600 + 3599, "47h");
        human(48 * 3600, "2d");
        human(3 * 86_400 + 4 * 3600, "3d4h");
        human(45 * 86_400, "45d");
        human(729 * 86_400, "729d");
        human(2 * 365 * 86_400 + 5 * 86_400, "2y5d");
        human(9 * 365 * 86_400, "9y");
    }

    #[test]
    fn parses_sleep_durations() {
        assert_eq!(SimDuration::parse("500ms"), Some(SimDuration(500)));
        assert_eq!(SimDuration::parse("30s"), Some(SimDuration(30_000)));
        assert_eq!(SimDuration::parse("5m"), Some(SimDuration(300_000)));
        assert_eq!(SimDuration::parse("1h"), Some(SimDuration(3_600_000)));
        assert_eq!(SimDuration::parse("1m30s"), Some(SimDuration(90_000)));
        assert_eq!(SimDuration::parse("1.5s"), Some(SimDuration(1500)));
        assert_eq!(SimDuration::parse("10"), None);
        assert_eq!(SimDuration::parse("5x"), None);
        assert_eq!(SimDuration::parse(""), None);
        assert_eq!(SimDuration::parse("s"), None);
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(SimDuration(812).go_string(), "812ms");
        assert_eq!(SimDuration(1200).go_string(), "1.2s");
        assert_eq!(SimDuration(2034).go_string(), "2.034s");
        assert_eq!(SimDuration(123_500).go_string(), "2m3.5s");
        assert_eq!(SimDuration(3_600_000).go_string(), "1h0m0s");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(SimTime(0).rfc3339(), "2026-01-01T00:00:00Z");
        assert_eq!(SimTime(61_500).rfc3339(), "2026-01-01T00:01:01Z");
        assert_eq!(SimTime(86_400_000 * 59).rfc3339(), "2026-03-01T00:00:00Z");
        assert_eq!(SimTime(1_234).rfc3339_micro(), "2026-01-01T00:00:01.234000Z");
        assert_eq!(SimTime(0).rfc1123z(), "Thu, 01 Jan 2026 00:00:00 +0000");
        assert_eq!(SimTime(86_400_000 * 45 + 3_723_000).rfc1123z(), "Sun, 15 Feb 2026 01:02:03 +0000");
    }
}
