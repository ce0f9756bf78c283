//! A resolved kernel `.config`, parsed losslessly.
//!
//! Kconfig writes a resolved configuration as lines of exactly these shapes:
//!
//! ```text
//! #
//! # Automatically generated file; DO NOT EDIT.
//! #
//! CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14+deb12u1) 12.2.0"
//! CONFIG_GCC_VERSION=120200
//! CONFIG_64BIT=y
//! CONFIG_IKCONFIG=m
//! # CONFIG_MODULE_SIG is not set
//! CONFIG_PHYSICAL_START=0x1000000
//!
//! ```
//!
//! [`KernelConfig::parse`] accepts those shapes (plus `CONFIG_X=n` and negative decimals, which
//! hand-written fragments use) and nothing else: a line with leading blanks, a carriage return,
//! an unquoted string, a duplicated symbol or a symbol without the `CONFIG_` prefix is an
//! error naming the origin and line. Everything it accepts is kept, so [`KernelConfig::to_text`]
//! gives back the input byte for byte and [`KernelConfig::sha256`] hashes exactly those bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Why a `.config` could not be read or parsed. The rendering names the file and the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read the kernel config: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A line is not one of the shapes Kconfig writes.
    #[error("{origin}:{line}: {problem}")]
    Syntax {
        /// The file name (or other origin) given to [`KernelConfig::parse`].
        origin: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        problem: String,
    },
    /// A symbol is given twice (Kconfig would silently take the last one; a resolved config
    /// never does this, so it means the file was concatenated or edited).
    #[error("{origin}:{line}: {symbol} is given again (first on line {first_line})")]
    Duplicate {
        /// The file name (or other origin).
        origin: String,
        /// 1-based line number of the second occurrence.
        line: usize,
        /// The symbol, with its `CONFIG_` prefix.
        symbol: String,
        /// 1-based line number of the first occurrence.
        first_line: usize,
    },
}

/// The value of one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// `CONFIG_X=y`
    Yes,
    /// `CONFIG_X=m`
    Module,
    /// `CONFIG_X=n` (fragments; a resolved config writes [`ConfigValue::NotSet`] instead)
    No,
    /// `# CONFIG_X is not set`
    NotSet,
    /// `CONFIG_X="text"`, unescaped (`\"` → `"`, `\\` → `\`).
    Str(String),
    /// `CONFIG_X=123` or `CONFIG_X=-5`.
    Int(i64),
    /// `CONFIG_X=0x1f` (any case of hex digits and of the `0x` prefix).
    Hex(u64),
}

impl ConfigValue {
    /// `y` or `m`.
    pub fn is_enabled(&self) -> bool {
        matches!(self, ConfigValue::Yes | ConfigValue::Module)
    }

    /// Anything except `n` and "is not set" (an empty string counts as set).
    pub fn is_set(&self) -> bool {
        !matches!(self, ConfigValue::No | ConfigValue::NotSet)
    }

    /// The string, for a [`ConfigValue::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ConfigValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for ConfigValue {
    /// The value as Kconfig writes it after the `=` (`is not set` for [`ConfigValue::NotSet`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Yes => f.write_str("y"),
            ConfigValue::Module => f.write_str("m"),
            ConfigValue::No => f.write_str("n"),
            ConfigValue::NotSet => f.write_str("is not set"),
            ConfigValue::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            ConfigValue::Int(n) => write!(f, "{n}"),
            ConfigValue::Hex(n) => write!(f, "{n:#x}"),
        }
    }
}

/// What one line of the file says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Meaning {
    Blank,
    Comment,
    Symbol { name: String, value: ConfigValue },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    raw: String,
    meaning: Meaning,
}

/// A parsed `.config`: every line as written, plus an index from symbol to value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    lines: Vec<Line>,
    final_newline: bool,
    index: BTreeMap<String, usize>,
}

impl KernelConfig {
    /// Parses `text`; `origin` (usually the file name) is only used in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<KernelConfig, ConfigError> {
        let (body, final_newline) = match text.strip_suffix('\n') {
            Some(body) => (body, true),
            None => (text, false),
        };
        let mut lines = Vec::new();
        let mut index = BTreeMap::new();
        if text.is_empty() {
            return Ok(KernelConfig {
                lines,
                final_newline,
                index,
            });
        }
        for (i, raw) in body.split('\n').enumerate() {
            let number = i + 1;
            let syntax = |problem: String| ConfigError::Syntax {
                origin: origin.to_owned(),
                line: number,
                problem,
            };
            let meaning = parse_line(raw).map_err(syntax)?;
            if let Meaning::Symbol { name, .. } = &meaning {
                if let Some(&first) = index.get(name) {
                    return Err(ConfigError::Duplicate {
                        origin: origin.to_owned(),
                        line: number,
                        symbol: name.clone(),
                        first_line: first + 1,
                    });
                }
                index.insert(name.clone(), lines.len());
            }
            lines.push(Line {
                raw: raw.to_owned(),
                meaning,
            });
        }
        Ok(KernelConfig {
            lines,
            final_newline,
            index,
        })
    }

    /// Reads and parses a file; errors name the file.
    pub fn read(path: &Path) -> Result<KernelConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        KernelConfig::parse(&text, &path.display().to_string())
    }

    /// The value of `symbol` (with its `CONFIG_` prefix), if the file mentions it.
    pub fn get(&self, symbol: &str) -> Option<&ConfigValue> {
        let &at = self.index.get(symbol)?;
        match &self.lines[at].meaning {
            Meaning::Symbol { value, .. } => Some(value),
            _ => None,
        }
    }

    /// `true` if `symbol` is `y` or `m`.
    pub fn is_enabled(&self, symbol: &str) -> bool {
        self.get(symbol).is_some_and(ConfigValue::is_enabled)
    }

    /// Every symbol the file mentions, in file order.
    pub fn symbols(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.lines.iter().filter_map(|l| match &l.meaning {
            Meaning::Symbol { name, value } => Some((name.as_str(), value)),
            _ => None,
        })
    }

    /// The text exactly as parsed.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&line.raw);
        }
        if self.final_newline {
            out.push('\n');
        }
        out
    }

    /// Lowercase hex SHA-256 of [`KernelConfig::to_text`] (= of the parsed file).
    pub fn sha256(&self) -> String {
        crate::hex(&Sha256::digest(self.to_text().as_bytes()))
    }
}

fn parse_line(raw: &str) -> Result<Meaning, String> {
    if raw.contains('\r') {
        return Err("carriage return in line (CRLF line ends are not a Kconfig file)".into());
    }
    if raw.is_empty() {
        return Ok(Meaning::Blank);
    }
    if raw.starts_with(char::is_whitespace) {
        return Err("line starts with a blank".into());
    }
    if let Some(rest) = raw.strip_prefix("# ")
        && let Some(name) = rest.strip_suffix(" is not set")
        && name.starts_with("CONFIG_")
    {
        check_name(name)?;
        return Ok(Meaning::Symbol {
            name: name.to_owned(),
            value: ConfigValue::NotSet,
        });
    }
    if raw.starts_with('#') {
        return Ok(Meaning::Comment);
    }
    let Some((name, value)) = raw.split_once('=') else {
        return Err(format!(
            "`{raw}` is neither `CONFIG_X=value`, `# CONFIG_X is not set`, a comment nor blank"
        ));
    };
    check_name(name)?;
    let value = parse_value(value).map_err(|p| format!("{name}: {p}"))?;
    Ok(Meaning::Symbol {
        name: name.to_owned(),
        value,
    })
}

fn check_name(name: &str) -> Result<(), String> {
    let Some(rest) = name.strip_prefix("CONFIG_") else {
        return Err(format!("symbol `{name}` does not start with CONFIG_"));
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "`{name}` is not a Kconfig symbol name (CONFIG_ then A-Z, a-z, 0-9, _)"
        ));
    }
    Ok(())
}

fn parse_value(v: &str) -> Result<ConfigValue, String> {
    match v {
        "y" => return Ok(ConfigValue::Yes),
        "m" => return Ok(ConfigValue::Module),
        "n" => return Ok(ConfigValue::No),
        _ => {}
    }
    if let Some(inner) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.chars();
        loop {
            match chars.next() {
                None => return Err("unterminated string".into()),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some(c) => out.push(c),
                    None => return Err("unterminated string (ends in a backslash)".into()),
                },
                Some(c) => out.push(c),
            }
        }
        if !chars.as_str().is_empty() {
            return Err(format!(
                "text after the closing quote: `{}`",
                chars.as_str()
            ));
        }
        return Ok(ConfigValue::Str(out));
    }
    if let Some(digits) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{v}` is not a hex number"));
        }
        return u64::from_str_radix(digits, 16)
            .map(ConfigValue::Hex)
            .map_err(|_| format!("hex number `{v}` does not fit in 64 bits"));
    }
    let digits = v.strip_prefix('-').unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse::<i64>()
            .map(ConfigValue::Int)
            .map_err(|_| format!("number `{v}` does not fit in 64 bits"));
    }
    Err(format!(
        "value `{v}` is not y, m, n, a quoted string, a decimal or a 0x hex number"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14+deb12u1) 12.2.0\"\nCONFIG_GCC_VERSION=120200\nCONFIG_64BIT=y\nCONFIG_IKCONFIG=m\n# CONFIG_MODULE_SIG is not set\nCONFIG_PHYSICAL_START=0x1000000\nCONFIG_X=n\nCONFIG_NEG=-3\nCONFIG_Q=\"a \\\"b\\\" \\\\c\"\n\n";

    #[test]
    fn parses_each_shape() {
        let c = KernelConfig::parse(SAMPLE, ".config").unwrap();
        assert_eq!(
            c.get("CONFIG_CC_VERSION_TEXT"),
            Some(&ConfigValue::Str(
                "gcc (Debian 12.2.0-14+deb12u1) 12.2.0".into()
            ))
        );
        assert_eq!(c.get("CONFIG_GCC_VERSION"), Some(&ConfigValue::Int(120200)));
        assert_eq!(c.get("CONFIG_64BIT"), Some(&ConfigValue::Yes));
        assert_eq!(c.get("CONFIG_IKCONFIG"), Some(&ConfigValue::Module));
        assert_eq!(c.get("CONFIG_MODULE_SIG"), Some(&ConfigValue::NotSet));
        assert_eq!(
            c.get("CONFIG_PHYSICAL_START"),
            Some(&ConfigValue::Hex(0x100_0000))
        );
        assert_eq!(c.get("CONFIG_X"), Some(&ConfigValue::No));
        assert_eq!(c.get("CONFIG_NEG"), Some(&ConfigValue::Int(-3)));
        assert_eq!(
            c.get("CONFIG_Q"),
            Some(&ConfigValue::Str("a \"b\" \\c".into()))
        );
        assert_eq!(c.get("CONFIG_ABSENT"), None);
        assert!(c.is_enabled("CONFIG_IKCONFIG") && c.is_enabled("CONFIG_64BIT"));
        assert!(!c.is_enabled("CONFIG_MODULE_SIG") && !c.is_enabled("CONFIG_X"));
        assert_eq!(c.symbols().count(), 9);
        assert_eq!(c.to_text(), SAMPLE);
        // sha256 of the exact bytes (value computed with sha256sum).
        let no_nl = KernelConfig::parse("CONFIG_A=y", "x").unwrap();
        assert_eq!(no_nl.to_text(), "CONFIG_A=y");
        assert_eq!(
            no_nl.sha256(),
            "b0b316498c0bc21a632431972ed06b26e3c1e5f3b23c4adf3ba2a03a8672318d"
        );
        assert_ne!(
            no_nl.sha256(),
            KernelConfig::parse("CONFIG_A=y\n", "x").unwrap().sha256()
        );
    }

    #[test]
    fn display_writes_kconfig_syntax() {
        assert_eq!(
            ConfigValue::Str("a\"b\\".into()).to_string(),
            "\"a\\\"b\\\\\""
        );
        assert_eq!(ConfigValue::Hex(31).to_string(), "0x1f");
        assert_eq!(ConfigValue::Int(-4).to_string(), "-4");
    }

    #[test]
    fn rejects_what_kconfig_does_not_write() {
        let cases = [
            ("CONFIG_A=y\r\n", 1, "carriage return"),
            ("\n CONFIG_A=y\n", 2, "starts with a blank"),
            ("CONFIG_A y\n", 1, "neither"),
            ("CONFIG_A=yes\n", 1, "is not y, m, n"),
            ("CONFIG_A=\"x\n", 1, "unterminated"),
            ("CONFIG_A=\"x\"y\n", 1, "after the closing quote"),
            ("A=y\n", 1, "does not start with CONFIG_"),
            ("CONFIG_=y\n", 1, "not a Kconfig symbol"),
            ("CONFIG_A-B=y\n", 1, "not a Kconfig symbol"),
            ("CONFIG_A=0x\n", 1, "not a hex number"),
            ("CONFIG_A=99999999999999999999\n", 1, "does not fit"),
            ("CONFIG_A=\n", 1, "is not y, m, n"),
        ];
        for (text, line, needle) in cases {
            match KernelConfig::parse(text, "cfg") {
                Err(ConfigError::Syntax {
                    origin,
                    line: l,
                    problem,
                }) => {
                    assert_eq!(origin, "cfg");
                    assert_eq!(l, line, "{text:?}");
                    assert!(problem.contains(needle), "{text:?}: {problem}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let err =
            KernelConfig::parse("CONFIG_A=y\n# CONFIG_A is not set\n", "f.config").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.config:2: CONFIG_A is given again (first on line 1)"
        );
    }

    #[test]
    fn read_names_the_missing_file() {
        let err = KernelConfig::read(Path::new("/nonexistent/samekernel/.config")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/samekernel/.config: cannot read the kernel config")
        );
    }
}
