//! The canonical text rules shared by [`crate::v2`] and [`crate::build_record`],
//! and the small value types both use (sha256 hex, fingerprints, dates).
//!
//! A canonical text is:
//! - UTF-8 (guaranteed by `&str`), lines separated by LF only, ending with exactly
//!   one LF, no empty lines, no CR anywhere;
//! - every line `key=value`; keys are lowercase ASCII `[a-z0-9-]` (so a Cyrillic
//!   `а` in `witness-nаme` is an unknown key, never a look-alike of a known one);
//! - values contain no control characters and no Unicode bidirectional controls,
//!   do not start or end with a space, and hold no tab;
//! - no trailing spaces (implied by the above).
//!
//! [`signed_text_form`] turns the text a cleartext signature covers into the form
//! the parsers see: OpenPGP ignores trailing whitespace and line-ending style when
//! it checks a cleartext signature, so both are normalised away before parsing.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::error::{Format, ParseError};

/// One `key=value` line of a canonical text, with its 1-based line number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) no: usize,
    pub(crate) key: &'a str,
    pub(crate) value: &'a str,
}

/// Splits a canonical text into `key=value` lines, enforcing every rule above.
pub(crate) fn split_lines(text: &str, format: Format) -> Result<Vec<Line<'_>>, ParseError> {
    if text.is_empty() {
        return Err(ParseError::new(format, 0, "empty text"));
    }
    if !text.ends_with('\n') {
        return Err(ParseError::new(
            format,
            0,
            "text does not end with a line feed (LF)",
        ));
    }
    let mut out = Vec::new();
    for (i, line) in text[..text.len() - 1].split('\n').enumerate() {
        let no = i + 1;
        let err = |p: String| ParseError::new(format, no, p);
        if line.is_empty() {
            return Err(err("empty line (canonical text has none)".into()));
        }
        if line.contains('\r') {
            return Err(err(
                "carriage return (CR): canonical text uses LF only".into()
            ));
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(err(format!("expected key=value, found {line:?}")));
        };
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err(format!(
                "key {key:?} is not lowercase ASCII [a-z0-9-] (look-alike characters are rejected)"
            )));
        }
        check_value(value).map_err(|p| err(format!("{key}: {p}")))?;
        out.push(Line { no, key, value });
    }
    Ok(out)
}

/// Checks a value for the canonical rules; returns the problem in words.
pub(crate) fn check_value(value: &str) -> Result<(), String> {
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err("value starts or ends with a space".into());
    }
    // Fast path: plain printable ASCII (the bulk of every record).
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(());
    }
    if let Some(c) = value.chars().find(|&c| forbidden_char(c)) {
        return Err(format!(
            "value contains the control or bidirectional character U+{:04X}",
            c as u32
        ));
    }
    Ok(())
}

/// A local name for reports: as it is, or, when it holds a control or
/// bidirectional character (a file name may hold a line feed, and a report
/// quoting it raw could forge a line), escaped and quoted.
pub fn shown_name(name: &str) -> String {
    if name.chars().any(forbidden_char) {
        let escaped: String = name.chars().flat_map(char::escape_default).collect();
        format!("\"{escaped}\"")
    } else {
        name.to_string()
    }
}

fn forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0xFEFF)
}

/// Checks that `value` has no characters that would break a line-oriented text
/// (no line breaks, no control or bidi characters, no leading/trailing space).
pub fn is_canonical_value(value: &str) -> bool {
    check_value(value).is_ok()
}

/// Cursor over canonical lines that expects keys in a fixed order.
pub(crate) struct Cursor<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    format: Format,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(lines: Vec<Line<'a>>, format: Format) -> Self {
        Cursor {
            lines,
            pos: 0,
            format,
        }
    }

    pub(crate) fn peek_key(&self) -> Option<&'a str> {
        self.lines.get(self.pos).map(|l| l.key)
    }

    pub(crate) fn line_no(&self) -> usize {
        self.lines
            .get(self.pos)
            .map_or_else(|| self.lines.last().map_or(0, |l| l.no + 1), |l| l.no)
    }

    pub(crate) fn err(&self, problem: impl Into<String>) -> ParseError {
        ParseError::new(self.format, self.line_no(), problem)
    }

    /// Takes the next line, which must have key `key`.
    pub(crate) fn expect(&mut self, key: &str) -> Result<Line<'a>, ParseError> {
        match self.lines.get(self.pos) {
            Some(l) if l.key == key => {
                self.pos += 1;
                Ok(*l)
            }
            Some(l) => Err(self.err(format!(
                "expected key {key:?}, found {:?} (unknown key, or keys out of canonical order)",
                l.key
            ))),
            None => Err(self.err(format!("text ends where key {key:?} was expected"))),
        }
    }

    /// Takes the next line if its key is `key`.
    pub(crate) fn optional(&mut self, key: &str) -> Option<Line<'a>> {
        match self.lines.get(self.pos) {
            Some(l) if l.key == key => {
                self.pos += 1;
                Some(*l)
            }
            _ => None,
        }
    }

    pub(crate) fn finish(&self) -> Result<(), ParseError> {
        match self.lines.get(self.pos) {
            None => Ok(()),
            Some(l) => Err(self.err(format!(
                "unexpected key {:?} (unknown key, or keys out of canonical order)",
                l.key
            ))),
        }
    }
}

/// Is `s` a sha256 in canonical form: 64 lowercase hex digits?
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) fn sha256_field(line: &Line<'_>, format: Format) -> Result<String, ParseError> {
    if is_sha256_hex(line.value) {
        Ok(line.value.to_string())
    } else {
        Err(ParseError::new(
            format,
            line.no,
            format!(
                "{}: expected a sha256 as 64 lowercase hex digits, found {:?}",
                line.key, line.value
            ),
        ))
    }
}

/// Parses a decimal number in canonical form (no sign, no leading zero).
pub(crate) fn number_field(line: &Line<'_>, format: Format) -> Result<u64, ParseError> {
    let v = line.value;
    let ok =
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && (v == "0" || !v.starts_with('0'));
    match (ok, v.parse::<u64>()) {
        (true, Ok(n)) => Ok(n),
        _ => Err(ParseError::new(
            format,
            line.no,
            format!(
                "{}: expected a decimal number without leading zeros, found {v:?}",
                line.key
            ),
        )),
    }
}

/// Splits `<sha256> <rest>` (the `sha256sum` order) of a line.
pub(crate) fn hash_and_name<'a>(
    line: &Line<'a>,
    format: Format,
) -> Result<(String, &'a str), ParseError> {
    let e = |p: &str| ParseError::new(format, line.no, format!("{}: {p}", line.key));
    let (h, name) = line
        .value
        .split_once(' ')
        .ok_or_else(|| e("expected \"<sha256> <name>\""))?;
    if !is_sha256_hex(h) {
        return Err(e("the sha256 must be 64 lowercase hex digits"));
    }
    if name.is_empty() || name.starts_with(' ') {
        return Err(e("expected exactly one space between sha256 and name"));
    }
    Ok((h.to_string(), name))
}

/// The lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Streams `reader` through sha256 (1 MiB buffer, constant memory); returns the
/// lowercase hex digest and the number of bytes read. `sha2` picks the CPU's SHA
/// extensions at run time when present.
pub fn sha256_reader(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// An OpenPGP v4 primary key fingerprint: 40 uppercase hex digits.
///
/// [`Fingerprint::parse`] accepts the forms people paste (lowercase, groups
/// separated by ASCII spaces as gpg prints them); [`Fingerprint::parse_canonical`]
/// accepts only the canonical form. Non-ASCII characters (look-alike digits) are
/// always rejected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Parses a fingerprint, allowing spaces and lowercase.
    pub fn parse(s: &str) -> Option<Fingerprint> {
        let compact: String = s.chars().filter(|&c| c != ' ').collect();
        Self::parse_canonical(&compact.to_ascii_uppercase())
    }

    /// Parses exactly 40 uppercase hex digits.
    pub fn parse_canonical(s: &str) -> Option<Fingerprint> {
        (s.len() == 40
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
        .then(|| Fingerprint(s.to_string()))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A time as a user gives it (`--at`, `--build-date`): Unix seconds, or
/// `YYYY-MM-DDTHH:MM:SSZ` as [`parse_utc`] reads it.
pub fn parse_time_arg(s: &str) -> Option<u64> {
    s.parse::<u64>().ok().or_else(|| parse_utc(s))
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC, exactly this form) into Unix seconds.
pub fn parse_utc(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || d == 0
        || h > 23
        || mi > 59
        || se > 59
    {
        return None;
    }
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    // Reject dates such as 02-30 by converting back.
    if civil_from_days(days) != (y as i64, mo as u32, d as u32) {
        return None;
    }
    Some(days as u64 * 86400 + h * 3600 + mi * 60 + se)
}

// Howard Hinnant's civil calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The form of a cleartext-signed text that parsers see: CRLF and lone CR line
/// endings become LF, trailing spaces and tabs of every line are removed (OpenPGP
/// does not sign them), and the text ends with exactly one LF. Returns the text
/// and whether anything had to change.
pub fn signed_text_form(raw: &str) -> (String, bool) {
    // Fast path: LF-only text without trailing whitespace (every text we write).
    let b = raw.as_bytes();
    if !b.contains(&b'\r')
        && !raw.contains(" \n")
        && !raw.contains("\t\n")
        && !raw.ends_with([' ', '\t'])
    {
        return if raw.ends_with('\n') {
            (raw.to_string(), false)
        } else {
            (format!("{raw}\n"), true)
        };
    }
    let mut out = String::with_capacity(raw.len() + 1);
    let body = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .or_else(|| raw.strip_suffix('\r'))
        .unwrap_or(raw);
    // Lines end at LF, CRLF or a lone CR.
    let mut rest = body;
    loop {
        let (line, next) = match rest.find(['\n', '\r']) {
            Some(i) => {
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..i], Some(&rest[i + skip..]))
            }
            None => (rest, None),
        };
        out.push_str(line.trim_end_matches([' ', '\t']));
        out.push('\n');
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    let changed = out != raw;
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_argument_is_unix_seconds_or_the_utc_form() {
        assert_eq!(parse_time_arg("0"), Some(0));
        assert_eq!(parse_time_arg("1970-01-02T00:00:00Z"), Some(86400));
        assert_eq!(parse_time_arg("yesterday"), None);
        assert_eq!(parse_time_arg("-1"), None);
    }

    #[test]
    fn dates_round_trip() {
        for s in [0u64, 86399, 951_782_400, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_utc(&format_utc(s)), Some(s));
        }
        assert_eq!(format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_utc("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_utc("2023-11-14 22:13:20Z"), None);
    }

    #[test]
    fn fingerprints() {
        let spaced = "21A5 9D31 7421 F02E C3C3  81F3 4623 E8F7 4595 3F23";
        let fp = Fingerprint::parse(spaced).unwrap();
        assert_eq!(fp.as_str(), "21A59D317421F02EC3C381F34623E8F745953F23");
        assert!(Fingerprint::parse_canonical(spaced).is_none());
        assert!(Fingerprint::parse_canonical(&fp.as_str().to_lowercase()).is_none());
        // Fullwidth digit one (U+FF11) looks like "1".
        assert!(Fingerprint::parse("21A59D317421F02EC3C381F34623E8F745953F2\u{ff11}").is_none());
    }

    #[test]
    fn signed_form_normalises() {
        assert_eq!(signed_text_form("a \r\nb\t\n"), ("a\nb\n".into(), true));
        assert_eq!(signed_text_form("a\nb"), ("a\nb\n".into(), true));
        assert_eq!(signed_text_form("a\nb\n"), ("a\nb\n".into(), false));
        assert_eq!(
            signed_text_form("a\rb\r\n\r\nc"),
            ("a\nb\n\nc\n".into(), true)
        );
        assert_eq!(signed_text_form("\u{e9} \n"), ("\u{e9}\n".into(), true));
    }

    #[test]
    fn canonical_rules() {
        let f = Format::V2;
        assert!(split_lines("a=b\n", f).is_ok());
        for bad in [
            "",
            "a=b",
            "a=b \n",
            "a=b\r\n",
            "a=b\n\n",
            "A=b\n",
            "a=\u{202e}b\n",
            "x\n",
            "a\u{430}=b\n",
        ] {
            assert!(split_lines(bad, f).is_err(), "{bad:?} accepted");
        }
    }
}
