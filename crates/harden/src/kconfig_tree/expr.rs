//! Kconfig expressions (`depends on`, `if`, `select … if`) and their value under a `.config`.

use kbuild_env::{ConfigValue, KernelConfig};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A symbol, without `CONFIG_`.
    Sym(String),
    /// A constant: `y`/`m`/`n`, a number, a quoted string, or a `$(macro)` (unknown: `y`).
    Const(String),
    /// `!e`
    Not(Box<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `a OP b` with OP one of `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Cmp(&'static str, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(&'static str),
}

/// Most tokens in one expression (6.12's longest has about 70). Parsing and evaluating
/// recurse once per nesting level, so a longer line is refused rather than allowed to
/// exhaust the stack.
pub const MAX_TOKENS: usize = 512;

/// Parses an expression; `None` if it is not one (or has more than [`MAX_TOKENS`] tokens).
pub fn parse(text: &str) -> Option<Expr> {
    let toks = tokenize(text)?;
    if toks.len() > MAX_TOKENS {
        return None;
    }
    let mut pos = 0;
    let e = parse_or(&toks, &mut pos)?;
    (pos == toks.len()).then_some(e)
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'$' && b.get(i + 1) == Some(&b'(') {
            let start = i;
            let mut depth = 0;
            while i < b.len() {
                depth += match b[i] {
                    b'(' => 1,
                    b')' => -1,
                    _ => 0,
                };
                i += 1;
                if depth == 0 && b[i - 1] == b')' {
                    break;
                }
            }
            out.push(Tok::Str(text[start..i].to_owned()));
        } else if c == b'"' || c == b'\'' {
            let end = text[i + 1..].find(c as char)? + i + 1;
            out.push(Tok::Str(text[i + 1..end].to_owned()));
            i = end + 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            out.push(Tok::Word(text[start..i].to_owned()));
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let op = ["&&", "||", "!=", "<=", ">="]
                .into_iter()
                .find(|o| *o == two);
            let (op, len) = match op {
                Some(o) => (o, 2),
                None => (
                    ["!", "(", ")", "=", "<", ">"]
                        .into_iter()
                        .find(|o| o.as_bytes()[0] == c)?,
                    1,
                ),
            };
            out.push(Tok::Op(op));
            i += len;
        }
    }
    Some(out)
}

fn parse_or(t: &[Tok], p: &mut usize) -> Option<Expr> {
    let mut l = parse_and(t, p)?;
    while t.get(*p) == Some(&Tok::Op("||")) {
        *p += 1;
        l = Expr::Or(Box::new(l), Box::new(parse_and(t, p)?));
    }
    Some(l)
}

fn parse_and(t: &[Tok], p: &mut usize) -> Option<Expr> {
    let mut l = parse_unary(t, p)?;
    while t.get(*p) == Some(&Tok::Op("&&")) {
        *p += 1;
        l = Expr::And(Box::new(l), Box::new(parse_unary(t, p)?));
    }
    Some(l)
}

fn parse_unary(t: &[Tok], p: &mut usize) -> Option<Expr> {
    match t.get(*p)? {
        Tok::Op("!") => {
            *p += 1;
            Some(Expr::Not(Box::new(parse_unary(t, p)?)))
        }
        Tok::Op("(") => {
            *p += 1;
            let e = parse_or(t, p)?;
            (t.get(*p) == Some(&Tok::Op(")"))).then_some(())?;
            *p += 1;
            Some(e)
        }
        _ => {
            let l = parse_atom(t, p)?;
            if let Some(Tok::Op(op @ ("=" | "!=" | "<" | "<=" | ">" | ">="))) = t.get(*p) {
                *p += 1;
                let r = parse_atom(t, p)?;
                return Some(Expr::Cmp(op, Box::new(l), Box::new(r)));
            }
            Some(l)
        }
    }
}

fn parse_atom(t: &[Tok], p: &mut usize) -> Option<Expr> {
    let e = match t.get(*p)? {
        Tok::Word(w) if is_symbol(w) => Expr::Sym(w.clone()),
        Tok::Word(w) | Tok::Str(w) => Expr::Const(w.clone()),
        Tok::Op(_) => return None,
    };
    *p += 1;
    Some(e)
}

/// Symbols are upper-case identifiers (and digits); `y`, `m`, `n`, numbers are constants.
fn is_symbol(w: &str) -> bool {
    w.bytes().any(|c| c.is_ascii_uppercase())
        && w.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// Tristate value: 0 (n), 1 (m), 2 (y).
pub fn eval(e: &Expr, config: &KernelConfig) -> u8 {
    match e {
        Expr::Sym(s) => match config.get(&format!("CONFIG_{s}")) {
            Some(ConfigValue::Yes) => 2,
            Some(ConfigValue::Module) => 1,
            _ => 0,
        },
        Expr::Const(c) => match c.as_str() {
            "y" => 2,
            "m" => 1,
            c if c.starts_with("$(") => 2,
            _ => 0,
        },
        Expr::Not(a) => 2 - eval(a, config),
        Expr::And(a, b) => eval(a, config).min(eval(b, config)),
        Expr::Or(a, b) => eval(a, config).max(eval(b, config)),
        Expr::Cmp(op, a, b) => u8::from(compare(op, &text(a, config), &text(b, config))) * 2,
    }
}

fn compare(op: &str, a: &str, b: &str) -> bool {
    let ord = match (parse_num(a), parse_num(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    };
    match op {
        "=" => ord.is_eq(),
        "!=" => ord.is_ne(),
        "<" => ord.is_lt(),
        "<=" => ord.is_le(),
        ">" => ord.is_gt(),
        _ => ord.is_ge(),
    }
}

fn parse_num(s: &str) -> Option<i128> {
    match s.strip_prefix("0x") {
        Some(h) => i128::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The value as text, for comparisons and messages.
pub fn text(e: &Expr, config: &KernelConfig) -> String {
    match e {
        Expr::Sym(s) => match config.get(&format!("CONFIG_{s}")) {
            None | Some(ConfigValue::NotSet | ConfigValue::No) => "n".into(),
            Some(ConfigValue::Str(v)) => v.clone(),
            Some(v) => v.to_string(),
        },
        Expr::Const(c) => c.clone(),
        other => ["n", "m", "y"][eval(other, config) as usize].into(),
    }
}

/// Every symbol named in `e`, in order, without repeats.
pub fn symbols(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Sym(s) if !out.contains(s) => out.push(s.clone()),
        Expr::Sym(_) | Expr::Const(_) => {}
        Expr::Not(a) => symbols(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
            symbols(a, out);
            symbols(b, out);
        }
    }
}

/// Splits top-level `&&` into its conjuncts.
pub fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::And(a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

/// Renders an expression back to Kconfig syntax.
pub fn render(e: &Expr) -> String {
    match e {
        Expr::Sym(s) | Expr::Const(s) => s.clone(),
        Expr::Not(a) => format!("!{}", render_inner(a)),
        Expr::And(a, b) => format!("{} && {}", render_inner(a), render_inner(b)),
        Expr::Or(a, b) => format!("{} || {}", render_inner(a), render_inner(b)),
        Expr::Cmp(op, a, b) => format!("{} {op} {}", render(a), render(b)),
    }
}

fn render_inner(e: &Expr) -> String {
    match e {
        Expr::Or(..) | Expr::And(..) => format!("({})", render(e)),
        other => render(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_expression_over_the_token_limit_is_refused_so_eval_cannot_exhaust_the_stack() {
        let c = KernelConfig::parse("CONFIG_A=y\n", "t").unwrap();
        let at_limit = format!("{}A{}", "(".repeat(127), ")".repeat(127));
        assert_eq!(eval(&parse(&at_limit).unwrap(), &c), 2);
        let chain = vec!["A"; MAX_TOKENS / 2 + 1].join(" && ");
        assert!(parse(&chain).is_none());
        let deep = format!("{}A", "!".repeat(100_000));
        assert!(parse(&deep).is_none());
    }

    #[test]
    fn parses_and_evaluates() {
        let c = KernelConfig::parse("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_N=140000\n", "t")
            .unwrap();
        let e = parse("A && !B && (N >= 120000 || $(cc-option,-x))").unwrap();
        assert_eq!(eval(&e, &c), 2);
        assert_eq!(eval(&parse("!A").unwrap(), &c), 0);
        assert_eq!(eval(&parse("B || m").unwrap(), &c), 1);
        assert_eq!(render(&parse("!SLUB_TINY").unwrap()), "!SLUB_TINY");
        assert_eq!(parse("A &&"), None);
    }

    proptest! {
        #[test]
        fn any_text_parses_or_not_without_panicking(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn rendered_expressions_parse_back(names in proptest::collection::vec("[A-Z][A-Z0-9_]{0,5}", 1..6), ops in proptest::collection::vec(0u8..3, 5)) {
            let mut e = Expr::Sym(names[0].clone());
            for (i, n) in names.iter().enumerate().skip(1) {
                let r = Box::new(Expr::Sym(n.clone()));
                e = match ops[i - 1] { 0 => Expr::And(Box::new(e), r), 1 => Expr::Or(Box::new(e), r), _ => Expr::And(Box::new(e), Box::new(Expr::Not(r))) };
            }
            prop_assert_eq!(parse(&render(&e)), Some(e));
        }
    }
}
