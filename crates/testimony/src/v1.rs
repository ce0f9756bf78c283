//! The v1 testimony: the seed's format, read and written exactly.
//!
//! A v1 text is a sequence of lines. A line that starts with `key=` (key:
//! `[A-Za-z0-9][A-Za-z0-9_.-]*`) is a field; every other line (the
//! `<cannary>…<j>…</j></cannary>` statement, the human paragraph, comments, empty
//! lines) is kept as text. [`V1Testimony::parse`] never fails and
//! [`V1Testimony::to_text`] gives back the exact input, byte for byte: unknown keys,
//! field order, line endings (LF or CRLF) and a missing final newline included.
//!
//! Typed access and validation are separate: [`V1Testimony::fields`] checks the
//! known fields and returns them typed, or a [`ParseError`] with the line:
//!
//! | key | rule |
//! |---|---|
//! | `sources-sign-by-fpr` | 40 hex digits, spaces allowed (`21A5 9D31 …`) |
//! | `my-name-or-pseudonym` | non-empty |
//! | `my-code-review` | `N` or `N (comment)`, N in 0..=10 |
//! | `my-computer-trust` | `N` or `N (comment)`, N in 0..=300 |
//! | `my-checksum` | `<file> <sha256>`, repeatable, hex in either case |
//! | `my-computer-system`, `my-grsecurity-sigchecked` | free text |
//! | `my-tools-sha1-*` | free text, repeatable keys |
//!
//! Single-valued keys given twice are an error (which one would count?). Keys are
//! compared byte for byte, so a look-alike (`my-code-reviеw` with a Cyrillic `е`)
//! is just an unknown key, kept but never read as the review score.

use crate::build_record::BuildRecord;
use crate::canonical::Fingerprint;
use crate::error::{Format, ParseError};

const F: Format = Format::V1;

/// One line of a v1 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1Line {
    /// `key=value`.
    Field {
        /// The key, before the first `=`.
        key: String,
        /// Everything after the first `=`, without the line ending.
        value: String,
        /// The line ending: `"\n"`, `"\r\n"` or `""` (last line without one).
        eol: String,
    },
    /// Any other line, kept as is.
    Text {
        /// The line without its ending.
        text: String,
        /// The line ending.
        eol: String,
    },
}

/// A v1 testimony, kept losslessly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V1Testimony {
    /// The lines in order.
    pub lines: Vec<V1Line>,
}

/// One `my-checksum=<file> <sha256>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Checksum {
    /// The file name.
    pub file: String,
    /// The sha256, lowercase.
    pub sha256: String,
}

/// The known fields of a v1 testimony, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V1Fields {
    /// `sources-sign-by-fpr`.
    pub sources_sign_by_fpr: Option<Fingerprint>,
    /// `my-name-or-pseudonym`.
    pub name: Option<String>,
    /// `my-code-review`, 0..=10.
    pub code_review: Option<u8>,
    /// `my-computer-trust`, 0..=300.
    pub computer_trust: Option<u16>,
    /// `my-computer-system`.
    pub computer_system: Option<String>,
    /// `my-grsecurity-sigchecked`.
    pub grsecurity_sigchecked: Option<String>,
    /// `my-checksum` lines in order.
    pub checksums: Vec<V1Checksum>,
    /// `my-tools-sha1-*` fields, key and value, in order.
    pub tools: Vec<(String, String)>,
    /// Text between `<cannary>` and `</cannary>` (or `<canary>`), if any.
    pub canary: Option<String>,
    /// Text between `<j>` and `</j>` inside the canary, if any.
    pub jurisdiction: Option<String>,
}

fn is_key(k: &str) -> bool {
    let b = k.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

impl V1Testimony {
    /// Splits a text into lines; never fails.
    pub fn parse(text: &str) -> V1Testimony {
        let mut lines = Vec::new();
        for raw in text.split_inclusive('\n') {
            let (body, eol) = if let Some(b) = raw.strip_suffix("\r\n") {
                (b, "\r\n")
            } else if let Some(b) = raw.strip_suffix('\n') {
                (b, "\n")
            } else {
                (raw, "")
            };
            let eol = eol.to_string();
            match body.split_once('=') {
                Some((k, v)) if is_key(k) => lines.push(V1Line::Field {
                    key: k.into(),
                    value: v.into(),
                    eol,
                }),
                _ => lines.push(V1Line::Text {
                    text: body.into(),
                    eol,
                }),
            }
        }
        V1Testimony { lines }
    }

    /// The exact text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            match l {
                V1Line::Field { key, value, eol } => {
                    s.push_str(key);
                    s.push('=');
                    s.push_str(value);
                    s.push_str(eol);
                }
                V1Line::Text { text, eol } => {
                    s.push_str(text);
                    s.push_str(eol);
                }
            }
        }
        s
    }

    /// All values of `key`, with 1-based line numbers, in order.
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        self.lines
            .iter()
            .enumerate()
            .filter_map(move |(i, l)| match l {
                V1Line::Field { key: k, value, .. } if k == key => Some((i + 1, value.as_str())),
                _ => None,
            })
    }

    fn single<'a>(&'a self, key: &'a str) -> Result<Option<(usize, &'a str)>, ParseError> {
        let mut it = self.values(key);
        let first = it.next();
        if let Some((no, _)) = it.next() {
            return Err(ParseError::new(
                F,
                no,
                format!("{key} given more than once"),
            ));
        }
        Ok(first)
    }

    /// Validates the known fields and returns them typed.
    pub fn fields(&self) -> Result<V1Fields, ParseError> {
        let mut f = V1Fields::default();
        if let Some((no, v)) = self.single("sources-sign-by-fpr")? {
            f.sources_sign_by_fpr = Some(Fingerprint::parse(v.trim()).ok_or_else(|| {
                ParseError::new(
                    F,
                    no,
                    format!(
                        "sources-sign-by-fpr: expected 40 hex digits (spaces allowed), found {v:?}"
                    ),
                )
            })?);
        }
        if let Some((no, v)) = self.single("my-name-or-pseudonym")? {
            if v.trim().is_empty() {
                return Err(ParseError::new(F, no, "my-name-or-pseudonym: empty"));
            }
            f.name = Some(v.trim().to_string());
        }
        if let Some((no, v)) = self.single("my-code-review")? {
            f.code_review = Some(score(no, "my-code-review", v, 10)? as u8);
        }
        if let Some((no, v)) = self.single("my-computer-trust")? {
            f.computer_trust = Some(score(no, "my-computer-trust", v, 300)?);
        }
        f.computer_system = self
            .single("my-computer-system")?
            .map(|(_, v)| v.trim().to_string());
        f.grsecurity_sigchecked = self
            .single("my-grsecurity-sigchecked")?
            .map(|(_, v)| v.trim().to_string());
        for (no, v) in self.values("my-checksum") {
            let mut parts = v.split_whitespace();
            let (Some(file), Some(hash), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(ParseError::new(
                    F,
                    no,
                    format!("my-checksum: expected \"<file> <sha256>\", found {v:?}"),
                ));
            };
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ParseError::new(
                    F,
                    no,
                    format!("my-checksum: {hash:?} is not a sha256 (64 hex digits)"),
                ));
            }
            f.checksums.push(V1Checksum {
                file: file.into(),
                sha256: hash.to_ascii_lowercase(),
            });
        }
        for l in &self.lines {
            if let V1Line::Field { key, value, .. } = l
                && key.starts_with("my-tools-sha1-")
            {
                f.tools.push((key.clone(), value.clone()));
            }
        }
        let text = self.to_text();
        let canary = between(&text, "<cannary>", "</cannary>")
            .or_else(|| between(&text, "<canary>", "</canary>"));
        if let Some(c) = canary {
            f.jurisdiction = between(c, "<j>", "</j>").map(|j| j.trim().to_string());
            f.canary = Some(c.to_string());
        }
        Ok(f)
    }

    /// Writes a v1 testimony in the seed's layout for a build record: the fields,
    /// one `my-checksum` per .deb, the canary with the jurisdiction, and the human
    /// paragraph.
    pub fn from_build_record(record: &BuildRecord, w: &V1Info) -> V1Testimony {
        let mut s = String::new();
        if let Some(fpr) = &w.sources_sign_by_fpr {
            s.push_str(&format!("sources-sign-by-fpr={fpr}\n"));
        }
        s.push_str(&format!("my-name-or-pseudonym={}\n", w.name));
        s.push_str(&format!("my-code-review={}\n", w.code_review));
        let mut debs: Vec<_> = record.debs.iter().collect();
        debs.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        for d in debs {
            s.push_str(&format!("my-checksum={} {}\n", d.file_name, d.sha256));
        }
        if let Some(sys) = &w.computer_system {
            s.push_str(&format!("my-computer-system={sys}\n"));
        }
        s.push_str(&format!("my-computer-trust={}\n", w.computer_trust));
        s.push_str(&format!(
            "<cannary>I hereby freely say that I am not, and I never was, and I do not suspect to be in foreseeable future, under ANY form of NDA or gag order\n(nor ANY influence) that could in any way affect this verification testimony. (I am in law jurisdiction: <j>{}</j>).</cannary>\n",
            w.jurisdiction
        ));
        s.push('\n');
        s.push_str(&format!(
            "I, {}, can confirm that I downloaded the source code pinned by sha256 {},\nbuilt it on my system as described above, and that these sources did in fact produce\nthe files with checksums as listed above in my-checksum= lines.\n",
            w.name, record.source.manifest_sha256
        ));
        V1Testimony::parse(&s)
    }
}

/// What a witness fills in for [`V1Testimony::from_build_record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Info {
    /// Name or pseudonym.
    pub name: String,
    /// 0..=10.
    pub code_review: u8,
    /// 0..=300.
    pub computer_trust: u16,
    /// e.g. `Debian 12.11`.
    pub computer_system: Option<String>,
    /// Law jurisdiction.
    pub jurisdiction: String,
    /// Fingerprint of the key that signed the sources, if any.
    pub sources_sign_by_fpr: Option<Fingerprint>,
}

fn score(no: usize, key: &str, v: &str, max: u16) -> Result<u16, ParseError> {
    let v = v.trim();
    let (num, rest) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let ok_rest = rest.is_empty() || rest.starts_with(' ');
    match num.parse::<u16>() {
        Ok(n) if ok_rest && n <= max => Ok(n),
        Ok(n) if ok_rest => Err(ParseError::new(F, no, format!("{key}: {n} is above {max}"))),
        _ => Err(ParseError::new(
            F,
            no,
            format!(
                "{key}: expected a number 0..={max}, optionally followed by \" (comment)\", found {v:?}"
            ),
        )),
    }
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let a = s.find(open)? + open.len();
    let b = s[a..].find(close)? + a;
    Some(&s[a..b])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's example, verbatim (including its trailing spaces).
    pub(crate) const SEED_EXAMPLE: &str = "sources-sign-by-fpr=21A5 9D31 7421 F02E C3C3  81F3 4623 E8F7 4595 3F23\nmy-name-or-pseudonym=John Doe\nmy-code-review=4 (see below)\nmy-checksum=linux-image-3.2.55-grsec-mempo.good.0.1.28_02_amd64.deb 19a34375ff5ed5f8ef4577b8679fd9ac278b6fd13876e0d2f5990d14d89d74d9\nmy-checksum=linux-headers-3.2.55-grsec-mempo.good.0.1.28_02_amd64.deb 9ab993f142a1fb37d762c0969d73f18e4f6a813b0332d4ba2c18e745fa855f6b\nmy-computer-system=Debian 7.4\n<cannary>I can say that during writing, signing, publishing this testimony I am NOT under ANY form of gag order (nor ANY pressure nor ANY influence) that could in any way \naffect this code verification testimony. (I am in law jurisdiction: <j>Poland, dependency of EU</j>).</cannary>\n\nI, John Doe (e.g. related to John Doe Inc.) can confirm, \n[... snip ...]\n";

    #[test]
    fn seed_example_round_trips_and_reads() {
        let t = V1Testimony::parse(SEED_EXAMPLE);
        assert_eq!(t.to_text(), SEED_EXAMPLE);
        let f = t.fields().unwrap();
        assert_eq!(
            f.sources_sign_by_fpr.unwrap().as_str(),
            "21A59D317421F02EC3C381F34623E8F745953F23"
        );
        assert_eq!(f.name.as_deref(), Some("John Doe"));
        assert_eq!(f.code_review, Some(4));
        assert_eq!(f.checksums.len(), 2);
        assert_eq!(f.jurisdiction.as_deref(), Some("Poland, dependency of EU"));
        assert_eq!(f.computer_system.as_deref(), Some("Debian 7.4"));
    }

    #[test]
    fn unknown_keys_crlf_and_no_final_newline_are_kept() {
        let s = "x-future=1\r\nmy-code-review=10\r\nfree text\r\nmy-tools-sha1-dpkg=abc";
        let t = V1Testimony::parse(s);
        assert_eq!(t.to_text(), s);
        let f = t.fields().unwrap();
        assert_eq!(f.code_review, Some(10));
        assert_eq!(
            f.tools,
            vec![("my-tools-sha1-dpkg".to_string(), "abc".to_string())]
        );
    }

    #[test]
    fn validation_errors_name_the_line() {
        for (bad, line) in [
            ("a\nmy-code-review=11\n", 2),
            ("my-computer-trust=301\n", 1),
            ("my-computer-trust=-1\n", 1),
            ("my-code-review=4x\n", 1),
            ("my-checksum=file.deb 1234\n", 1),
            ("my-code-review=1\nmy-code-review=9\n", 2),
            ("sources-sign-by-fpr=21A5\n", 1),
        ] {
            let e = V1Testimony::parse(bad).fields().unwrap_err();
            assert_eq!(e.line, line, "{bad:?}: {e}");
        }
        // A look-alike key (Cyrillic "е") is kept but never read as the review.
        let t = V1Testimony::parse("my-code-revi\u{435}w=10\n");
        assert_eq!(t.fields().unwrap().code_review, None);
        assert_eq!(t.to_text(), "my-code-revi\u{435}w=10\n");
    }

    #[test]
    fn written_v1_reads_back() {
        let r = crate::build_record::tests::example();
        let info = V1Info {
            name: "Alice".into(),
            code_review: 8,
            computer_trust: 120,
            computer_system: Some("Debian 12.11".into()),
            jurisdiction: "Iceland".into(),
            sources_sign_by_fpr: None,
        };
        let t = V1Testimony::from_build_record(&r, &info);
        let f = t.fields().unwrap();
        assert_eq!(f.code_review, Some(8));
        assert_eq!(f.computer_trust, Some(120));
        assert_eq!(f.jurisdiction.as_deref(), Some("Iceland"));
        assert_eq!(f.checksums[0].sha256, r.debs[0].sha256);
        assert_eq!(V1Testimony::parse(&t.to_text()), t);
    }
}
