//! `$((…))`: the shell's integer arithmetic (64-bit, wrapping), with variables by name, the
//! usual precedence, comparisons giving 1 or 0, and BusyBox's wording for its errors.

use std::collections::BTreeMap;

/// Evaluates `src`; names are read from `vars` (unset or non-numeric is 0).
pub fn eval(src: &str, vars: &BTreeMap<String, String>) -> Result<i64, String> {
    let tokens = tokenize(src)?;
    let mut p = Arith { tokens, pos: 0, vars, depth: 0 };
    if p.tokens.is_empty() {
        return Ok(0);
    }
    let value = p.binary(0)?;
    if p.pos < p.tokens.len() {
        return Err("sh: arithmetic syntax error".into());
    }
    Ok(value)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: [&str; 20] = ["<=", ">=", "==", "!=", "&&", "||", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "(", ")", "!", "&", "|"];

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let value = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16),
                None if text.len() > 1 && text.starts_with('0') => i64::from_str_radix(&text[1..], 8),
                None => text.parse(),
            };
            out.push(Tok::Num(value.map_err(|_| "sh: arithmetic syntax error".to_string())?));
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let start = if c == '$' { i + 1 } else { i };
            i = start;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err("sh: arithmetic syntax error".into());
            };
            i += op.len();
            out.push(Tok::Op(op));
        }
    }
    Ok(out)
}

struct Arith<'a> {
    tokens: Vec<Tok>,
    pos: usize,
    vars: &'a BTreeMap<String, String>,
    depth: usize,
}

fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "&" => 4,
        "==" | "!=" => 5,
        "<" | ">" | "<=" | ">=" => 6,
        "<<" | ">>" => 7,
        "+" | "-" => 8,
        "*" | "/" | "%" => 9,
        _ => return None,
    })
}

impl Arith<'_> {
    fn binary(&mut self, min: u8) -> Result<i64, String> {
        let mut left = self.unary()?;
        while let Some(Tok::Op(op)) = self.tokens.get(self.pos).cloned() {
            let Some(prec) = precedence(op).filter(|p| *p > min) else { break };
            self.pos += 1;
            let right = self.binary(prec)?;
            left = match op {
                "+" => left.wrapping_add(right),
                "-" => left.wrapping_sub(right),
                "*" => left.wrapping_mul(right),
                "/" | "%" if right == 0 => return Err("sh: divide by zero".into()),
                "/" => left.wrapping_div(right),
                "%" => left.wrapping_rem(right),
                "<<" => left.wrapping_shl(right as u32),
                ">>" => left.wrapping_shr(right as u32),
                "<" => i64::from(left < right),
                ">" => i64::from(left > right),
                "<=" => i64::from(left <= right),
                ">=" => i64::from(left >= right),
                "==" => i64::from(left == right),
                "!=" => i64::from(left != right),
                "&&" => i64::from(left != 0 && right != 0),
                "||" => i64::from(left != 0 || right != 0),
                "&" => left & right,
                _ => left | right,
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > 200 {
            return Err("sh: arithmetic syntax error".into());
        }
        let tok = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        let value = match tok {
            Some(Tok::Num(n)) => n,
            Some(Tok::Name(name)) => self.vars.get(&name).and_then(|v| v.trim().parse().ok()).unwrap_or(0),
            Some(Tok::Op("-")) => self.unary()?.wrapping_neg(),
            Some(Tok::Op("+")) => self.unary()?,
            Some(Tok::Op("!")) => i64::from(self.unary()? == 0),
            Some(Tok::Op("(")) => {
                let v = self.binary(0)?;
                if self.tokens.get(self.pos) != Some(&Tok::Op(")")) {
                    return Err("sh: arithmetic syntax error".into());
                }
                self.pos += 1;
                v
            }
            _ => return Err("sh: arithmetic syntax error".into()),
        };
        self.depth -= 1;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_the_logging_example() {
        let vars: BTreeMap<String, String> = [("i".to_string(), "41".to_string())].into();
        assert_eq!(eval("i+1", &vars), Ok(42));
        assert_eq!(eval("$i * 2 - (1 + 1)", &vars), Ok(80));
        assert_eq!(eval("7 % 3 == 1 && 2 > 1", &vars), Ok(1));
        assert_eq!(eval("-3 + 010 + 0x10", &vars), Ok(21));
        assert_eq!(eval("1 / 0", &vars), Err("sh: divide by zero".into()));
        assert_eq!(eval("1 +", &vars), Err("sh: arithmetic syntax error".into()));
        assert_eq!(eval("", &vars), Ok(0));
        assert!(eval(&"-".repeat(10_000), &vars).is_err(), "no stack overflow");
    }
}
