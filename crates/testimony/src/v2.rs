//! The v2 testimony: a strict, canonical, machine-first superset of v1.
//!
//! One text per value: [`TestimonyV2::to_text`] writes it, [`TestimonyV2::parse`]
//! accepts only that form (`parse(to_text(x)) == x`, and `to_text(parse(t)) == t`
//! for every accepted `t`). The rules of [`crate::canonical`] apply, keys come in
//! exactly this order, unknown keys are errors:
//!
//! ```text
//! samekernel-testimony=2
//! witness-name=<name or pseudonym>
//! witness-fingerprint=<40 uppercase hex: the key that signs this text>
//! witness-jurisdiction=<law jurisdiction>          (optional)
//! witness-computer-system=<e.g. Debian 12.11>      (optional)
//! witness-code-review=<0..10>
//! witness-computer-trust=<0..300>
//! canary=<the no-gag-order statement, one line>    (optional)
//! statement=<human text line>                      (zero or more, order kept)
//! build-date=<YYYY-MM-DDTHH:MM:SSZ>
//! build-record-sha256=<sha256 of the canonical build record>
//! source-manifest-sha256=<sha256>
//! source-tarball=<sha256> <file name>
//! source-date-epoch=<seconds>
//! toolchain-sha256=<sha256>
//! kernel-config-sha256=<sha256>
//! hardening-mode=...                               (optional: the build record's hardening block, verbatim)
//! deb=...                                          (the build record's deb blocks, verbatim)
//! ```
//!
//! The v1 fields map as: `my-name-or-pseudonym` → `witness-name`, `my-code-review`
//! → `witness-code-review`, `my-computer-trust` → `witness-computer-trust`,
//! `my-computer-system` → `witness-computer-system`, `my-checksum` → the `deb`
//! blocks (now with package, version, architecture, size and per-file hashes),
//! `<j>` → `witness-jurisdiction`, `<cannary>` → `canary`, the human paragraph →
//! `statement`, `my-tools-sha1-*` → `toolchain-sha256`, `sources-sha1` →
//! `source-manifest-sha256`/`source-tarball`.

use crate::build_record::{self, BuildRecord, DebRecord, SourcePin};
use crate::canonical::{self, Cursor, Fingerprint};
use crate::error::{Format, ParseError};

const F: Format = Format::V2;

/// The format tag line of a v2 testimony.
pub const V2_TAG: &str = "samekernel-testimony=2";

/// Highest `witness-code-review` (the seed's scale: 0 none … 10 deep review).
pub const MAX_CODE_REVIEW: u8 = 10;
/// Highest `witness-computer-trust` (0-50 regular … 200-300 open hardware).
pub const MAX_COMPUTER_TRUST: u16 = 300;

/// Who testifies, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessInfo {
    /// Name or pseudonym.
    pub name: String,
    /// Primary fingerprint of the key that signs the testimony.
    pub fingerprint: Fingerprint,
    /// Law jurisdiction the witness is under.
    pub jurisdiction: Option<String>,
    /// The computer system used (e.g. `Debian 12.11`).
    pub computer_system: Option<String>,
    /// 0..=10.
    pub code_review: u8,
    /// 0..=300.
    pub computer_trust: u16,
    /// The canary statement, one line.
    pub canary: Option<String>,
    /// The human statement, line by line.
    pub statement: Vec<String>,
}

/// A v2 testimony. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestimonyV2 {
    /// The witness and their scores.
    pub witness: WitnessInfo,
    /// When the witness built, Unix seconds (UTC).
    pub build_date: u64,
    /// sha256 of the canonical build record this testimony was made from.
    pub build_record_sha256: String,
    /// The source pin.
    pub source: SourcePin,
    /// The toolchain fingerprint (sha256 of the record's toolchain lines).
    pub toolchain_sha256: String,
    /// sha256 of the kernel `.config`.
    pub kernel_config_sha256: String,
    /// The build's hardening results (absent in testimonies older than the gate).
    pub hardening: Option<build_record::Hardening>,
    /// The .debs the witness built, sorted by file name.
    pub debs: Vec<DebRecord>,
}

impl TestimonyV2 {
    /// Makes the testimony for a build record.
    pub fn from_build_record(record: &BuildRecord, witness: WitnessInfo, build_date: u64) -> Self {
        let mut r = record.clone();
        r.normalize();
        TestimonyV2 {
            witness,
            build_date,
            build_record_sha256: record.sha256(),
            source: r.source,
            toolchain_sha256: r.toolchain.sha256(),
            kernel_config_sha256: r.kernel_config_sha256,
            hardening: r.hardening,
            debs: r.debs,
        }
    }

    /// Writes the one canonical text. Values must satisfy the canonical rules (no
    /// line breaks etc.); [`TestimonyV2::validate`] checks a hand-made value.
    pub fn to_text(&self) -> String {
        let w = &self.witness;
        let mut s = String::new();
        s.push_str(V2_TAG);
        s.push('\n');
        s.push_str(&format!("witness-name={}\n", w.name));
        s.push_str(&format!("witness-fingerprint={}\n", w.fingerprint));
        if let Some(j) = &w.jurisdiction {
            s.push_str(&format!("witness-jurisdiction={j}\n"));
        }
        if let Some(c) = &w.computer_system {
            s.push_str(&format!("witness-computer-system={c}\n"));
        }
        s.push_str(&format!("witness-code-review={}\n", w.code_review));
        s.push_str(&format!("witness-computer-trust={}\n", w.computer_trust));
        if let Some(c) = &w.canary {
            s.push_str(&format!("canary={c}\n"));
        }
        for l in &w.statement {
            s.push_str(&format!("statement={l}\n"));
        }
        s.push_str(&format!(
            "build-date={}\n",
            canonical::format_utc(self.build_date)
        ));
        s.push_str(&format!(
            "build-record-sha256={}\n",
            self.build_record_sha256
        ));
        build_record::write_source(&mut s, &self.source);
        s.push_str(&format!("toolchain-sha256={}\n", self.toolchain_sha256));
        s.push_str(&format!(
            "kernel-config-sha256={}\n",
            self.kernel_config_sha256
        ));
        build_record::write_hardening(&mut s, &self.hardening);
        let mut debs = self.debs.clone();
        debs.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        for d in &mut debs {
            d.files.sort();
        }
        build_record::write_debs(&mut s, &debs);
        s
    }

    /// Checks that [`TestimonyV2::to_text`] of this value parses back to it.
    pub fn validate(&self) -> Result<(), ParseError> {
        let back = TestimonyV2::parse(&self.to_text())?;
        if &back == self {
            Ok(())
        } else {
            Err(ParseError::new(
                F,
                0,
                "value is not in canonical order (debs by file name, files by path)",
            ))
        }
    }

    /// Parses the canonical text; anything else is an error saying what and where.
    pub fn parse(text: &str) -> Result<TestimonyV2, ParseError> {
        let mut c = Cursor::new(canonical::split_lines(text, F)?, F);
        parse_tag(&mut c)?;
        let witness = parse_witness(&mut c)?;
        let dl = c.expect("build-date")?;
        let build_date = canonical::parse_utc(dl.value).ok_or_else(|| {
            ParseError::new(
                F,
                dl.no,
                format!(
                    "build-date: expected YYYY-MM-DDTHH:MM:SSZ, found {:?}",
                    dl.value
                ),
            )
        })?;
        let build_record_sha256 = canonical::sha256_field(&c.expect("build-record-sha256")?, F)?;
        let source = build_record::parse_source(&mut c, F)?;
        let toolchain_sha256 = canonical::sha256_field(&c.expect("toolchain-sha256")?, F)?;
        let kernel_config_sha256 = canonical::sha256_field(&c.expect("kernel-config-sha256")?, F)?;
        let hardening = build_record::parse_hardening(&mut c, F)?;
        let debs = build_record::parse_debs(&mut c, F)?;
        c.finish()?;
        Ok(TestimonyV2 {
            witness,
            build_date,
            build_record_sha256,
            source,
            toolchain_sha256,
            kernel_config_sha256,
            hardening,
            debs,
        })
    }
}

/// `samekernel-testimony=2`, the only version this reader knows.
fn parse_tag(c: &mut Cursor<'_>) -> Result<(), ParseError> {
    let tag = c.expect("samekernel-testimony")?;
    if tag.value != "2" {
        return Err(ParseError::new(
            F,
            tag.no,
            format!(
                "unsupported testimony version {:?} (this reader knows 2)",
                tag.value
            ),
        ));
    }
    Ok(())
}

/// The `witness-*` lines, the canary and the statement, in their order.
fn parse_witness(c: &mut Cursor<'_>) -> Result<WitnessInfo, ParseError> {
    let name = c.expect("witness-name")?;
    if name.value.is_empty() {
        return Err(ParseError::new(F, name.no, "witness-name: empty"));
    }
    let fl = c.expect("witness-fingerprint")?;
    let fingerprint = Fingerprint::parse_canonical(fl.value).ok_or_else(|| {
        ParseError::new(
            F,
            fl.no,
            format!(
                "witness-fingerprint: expected 40 uppercase hex digits, found {:?}",
                fl.value
            ),
        )
    })?;
    let jurisdiction = nonempty(c.optional("witness-jurisdiction"))?;
    let computer_system = nonempty(c.optional("witness-computer-system"))?;
    let code_review = score(c, "witness-code-review", MAX_CODE_REVIEW.into())? as u8;
    let computer_trust = score(c, "witness-computer-trust", MAX_COMPUTER_TRUST.into())? as u16;
    let canary = nonempty(c.optional("canary"))?;
    let mut statement = Vec::new();
    while let Some(l) = c.optional("statement") {
        statement.push(l.value.to_string());
    }
    Ok(WitnessInfo {
        name: name.value.into(),
        fingerprint,
        jurisdiction,
        computer_system,
        code_review,
        computer_trust,
        canary,
        statement,
    })
}

/// An optional line's value; present but empty is an error (omit the line instead).
fn nonempty(l: Option<canonical::Line<'_>>) -> Result<Option<String>, ParseError> {
    match l {
        Some(l) if l.value.is_empty() => Err(ParseError::new(
            F,
            l.no,
            format!("{}: empty (omit the line instead)", l.key),
        )),
        Some(l) => Ok(Some(l.value.to_string())),
        None => Ok(None),
    }
}

/// A required score line `key=<n>` with `n <= max`.
fn score(c: &mut Cursor<'_>, key: &str, max: u64) -> Result<u64, ParseError> {
    let l = c.expect(key)?;
    let n = canonical::number_field(&l, F)?;
    if n > max {
        return Err(ParseError::new(
            F,
            l.no,
            format!("{key} {n} is above {max}"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn witness(fpr: &str) -> WitnessInfo {
        WitnessInfo {
            name: "Alice Example".into(),
            fingerprint: Fingerprint::parse(fpr).unwrap(),
            jurisdiction: Some("Poland, dependency of EU".into()),
            computer_system: Some("Debian 12.11".into()),
            code_review: 4,
            computer_trust: 50,
            canary: Some("I am not under any gag order that could affect this testimony.".into()),
            statement: vec!["I built this on my own machine.".into(), String::new()],
        }
    }

    #[test]
    fn canonical_round_trip_and_rejections() {
        let r = build_record::tests::example();
        let t = TestimonyV2::from_build_record(&r, witness(&"AB".repeat(20)), 1_763_900_000);
        let text = t.to_text();
        assert_eq!(TestimonyV2::parse(&text).unwrap(), t);
        assert_eq!(TestimonyV2::parse(&text).unwrap().to_text(), text);
        t.validate().unwrap();
        for (what, bad) in [
            (
                "trailing space",
                text.replace("witness-code-review=4\n", "witness-code-review=4 \n"),
            ),
            ("CRLF", text.replace('\n', "\r\n")),
            (
                "leading zero",
                text.replace("witness-code-review=4\n", "witness-code-review=04\n"),
            ),
            (
                "review > 10",
                text.replace("witness-code-review=4\n", "witness-code-review=11\n"),
            ),
            (
                "trust > 300",
                text.replace(
                    "witness-computer-trust=50\n",
                    "witness-computer-trust=301\n",
                ),
            ),
            (
                "look-alike key",
                text.replace("witness-name=", "witness-n\u{430}me="),
            ),
            (
                "unknown key",
                text.replace("build-date=", "x-extra=1\nbuild-date="),
            ),
            (
                "reordered",
                text.replace(
                    "witness-code-review=4\nwitness-computer-trust=50\n",
                    "witness-computer-trust=50\nwitness-code-review=4\n",
                ),
            ),
            (
                "lowercase fingerprint",
                text.replace(&"AB".repeat(20), &"ab".repeat(20)),
            ),
            (
                "dash escape",
                text.replace("statement=I built", "- statement=I built"),
            ),
            ("bidi", text.replace("Alice", "Al\u{202e}ice")),
            ("no final LF", text.trim_end().to_string()),
            (
                "v3",
                text.replace("samekernel-testimony=2", "samekernel-testimony=3"),
            ),
        ] {
            assert!(TestimonyV2::parse(&bad).is_err(), "{what} accepted");
        }
    }
}
