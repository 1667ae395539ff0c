//! Resource quantities (`250m`, `1.5`, `64Mi`, `1G`, `1e30`) as integers: CPU in millicores,
//! everything else in bytes (or plain units). Rounded up, as the API server rounds to milli
//! scale; values past int64 saturate, as `Quantity.MilliValue()` does, so a huge request is a
//! huge request and never wraps round to a small one.

/// Millicores for a CPU quantity, bytes (or count) × 1000 for others: one fixed-point scale.
pub fn parse_milli(text: &str) -> Option<i128> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (mantissa, exponent_suffix) = match suffix.strip_prefix(['e', 'E']) {
        Some(exp) if !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+') => {
            (number, Some(exp.parse::<i32>().ok()?))
        }
        _ => (number, None),
    };
    let (num, den) = decimal(mantissa)?;
    let (mul, div): (i128, i128) = match (exponent_suffix, suffix) {
        (Some(e), _) if e >= 0 => (10i128.checked_pow(e as u32).unwrap_or(i128::MAX), 1),
        (Some(e), _) => (1, 10i128.checked_pow(e.unsigned_abs()).unwrap_or(i128::MAX)),
        (None, "") => (1, 1),
        (None, "m") => (1, 1000),
        (None, "k") => (1_000, 1),
        (None, "M") => (1_000_000, 1),
        (None, "G") => (1_000_000_000, 1),
        (None, "T") => (1_000_000_000_000, 1),
        (None, "P") => (1_000_000_000_000_000, 1),
        (None, "E") => (1_000_000_000_000_000_000, 1),
        (None, "Ki") => (1 << 10, 1),
        (None, "Mi") => (1 << 20, 1),
        (None, "Gi") => (1 << 30, 1),
        (None, "Ti") => (1 << 40, 1),
        (None, "Pi") => (1 << 50, 1),
        (None, "Ei") => (1 << 60, 1),
        _ => return None,
    };
    // value × 1000, rounded up.
    let numer = num.saturating_mul(mul).saturating_mul(1000);
    let denom = den.saturating_mul(div);
    Some(div_ceil(numer, denom))
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a > 0) == (b > 0)) {
        q + 1
    } else {
        q
    }
}

/// A decimal string as a fraction `num / den`.
fn decimal(text: &str) -> Option<(i128, i128)> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.chars().chain(frac_part.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    // The digits as one integer, without building a string (quantities are parsed often).
    let num = int_part.bytes().chain(frac_part.bytes()).try_fold(0i128, |n, d| n.checked_mul(10)?.checked_add(i128::from(d - b'0')))?;
    let den = 10i128.checked_pow(frac_part.len() as u32)?;
    Some((sign * num, den))
}

/// CPU quantity in millicores.
pub fn cpu_millis(text: &str) -> Option<i64> {
    parse_milli(text).map(saturate)
}

fn saturate(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Memory (or other byte) quantity in bytes, rounded up.
pub fn bytes(text: &str) -> Option<i64> {
    parse_milli(text).map(|m| saturate(div_ceil(m, 1000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_and_memory() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("1"), Some(1000));
        assert_eq!(cpu_millis("0.5"), Some(500));
        assert_eq!(cpu_millis("1.0001"), Some(1001));
        assert_eq!(bytes("64Mi"), Some(64 * 1024 * 1024));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("128974848"), Some(128_974_848));
        assert_eq!(bytes("129e6"), Some(129_000_000));
        assert_eq!(bytes("8Gi"), Some(8 << 30));
        assert_eq!(cpu_millis("abc"), None);
        assert_eq!(cpu_millis("1Zi"), None);
        assert_eq!(cpu_millis("1e30"), Some(i64::MAX), "saturates");
        assert_eq!(cpu_millis("1e400"), Some(i64::MAX), "saturates past i128 too");
        assert_eq!(bytes("1e30"), Some(i64::MAX));
        assert_eq!(cpu_millis("1e-400"), Some(1), "rounds up to the smallest unit");
    }
}
