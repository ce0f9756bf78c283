//! Testifying: a build record and what the witness says about themself become a
//! canonical v2 testimony (and, on request, the seed's v1 form), each clearsigned by
//! the witness's [`Signer`]. The v2 `witness-fingerprint` is always the signing key's
//! primary fingerprint, and a value that cannot be written canonically is refused
//! before anything is signed.
//!
//! ```no_run
//! use testimony::signer::Signer;
//! use testimony::testify::{Testify, DEFAULT_CANARY};
//!
//! let record = testimony::BuildRecord::parse(&std::fs::read_to_string("BUILD-RECORD")?)?;
//! let request = Testify {
//!     name: "alice".into(),
//!     code_review: 4,
//!     computer_trust: 50,
//!     jurisdiction: Some("Iceland".into()),
//!     computer_system: None,
//!     canary: Some(DEFAULT_CANARY.into()),
//!     statement: vec![],
//!     build_date: 1_780_185_600,
//!     with_v1: false,
//! };
//! let signer = Signer::Gpg("alice@example.org".into(), None);
//! let signed = request.sign(&record, &signer)?;
//! std::fs::write("alice.asc", signed.v2)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use crate::build_record::BuildRecord;
use crate::error::ParseError;
use crate::signer::{Signer, SignerError};
use crate::v1::{V1Info, V1Testimony};
use crate::v2::{TestimonyV2, WitnessInfo};

/// The seed's canary statement, on one line.
pub const DEFAULT_CANARY: &str = "I hereby freely say that I am not, and I never was, and I do not suspect to be in foreseeable future, under ANY form of NDA or gag order (nor ANY influence) that could in any way affect this verification testimony.";

/// The v1 form's `jurisdiction` when the witness states none.
pub const V1_NO_JURISDICTION: &str = "not stated";

/// What a witness says when testifying (everything but the record and the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Testify {
    /// Name or pseudonym.
    pub name: String,
    /// 0..=10 ([`crate::v2::MAX_CODE_REVIEW`]).
    pub code_review: u8,
    /// 0..=300 ([`crate::v2::MAX_COMPUTER_TRUST`]).
    pub computer_trust: u16,
    /// Law jurisdiction the witness is under.
    pub jurisdiction: Option<String>,
    /// The computer system used (e.g. `Debian 12.11`).
    pub computer_system: Option<String>,
    /// The canary statement, one line (see [`DEFAULT_CANARY`]).
    pub canary: Option<String>,
    /// The human statement, line by line.
    pub statement: Vec<String>,
    /// When the witness built, Unix seconds.
    pub build_date: u64,
    /// Also make the seed's v1 form.
    pub with_v1: bool,
}

/// The clearsigned texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTestimonies {
    /// The v2 testimony.
    pub v2: String,
    /// The v1 form, when asked for.
    pub v1: Option<String>,
}

/// Why testifying failed.
#[derive(Debug, thiserror::Error)]
pub enum TestifyError {
    /// The signer could not name its key or sign.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// A witness value does not survive the canonical round trip.
    #[error(
        "a witness value cannot be written canonically (line break, control character, or leading/trailing space?): {0}"
    )]
    NotCanonical(ParseError),
}

impl Testify {
    /// The v2 testimony for `record`, its witness fingerprint `signer`'s.
    fn v2(&self, record: &BuildRecord, signer: &Signer) -> Result<TestimonyV2, TestifyError> {
        let witness = WitnessInfo {
            name: self.name.clone(),
            fingerprint: signer.fingerprint()?,
            jurisdiction: self.jurisdiction.clone(),
            computer_system: self.computer_system.clone(),
            code_review: self.code_review,
            computer_trust: self.computer_trust,
            canary: self.canary.clone(),
            statement: self.statement.clone(),
        };
        let v2 = TestimonyV2::from_build_record(record, witness, self.build_date);
        v2.validate().map_err(TestifyError::NotCanonical)?;
        Ok(v2)
    }

    /// The seed's v1 form for `record`.
    fn v1(&self, record: &BuildRecord) -> V1Testimony {
        let info = V1Info {
            name: self.name.clone(),
            code_review: self.code_review,
            computer_trust: self.computer_trust,
            computer_system: self.computer_system.clone(),
            jurisdiction: self
                .jurisdiction
                .clone()
                .unwrap_or_else(|| V1_NO_JURISDICTION.into()),
            sources_sign_by_fpr: None,
        };
        V1Testimony::from_build_record(record, &info)
    }

    /// Makes the testimonies for `record` and clearsigns them with `signer`; nothing
    /// is signed unless the v2 text is canonical.
    pub fn sign(
        &self,
        record: &BuildRecord,
        signer: &Signer,
    ) -> Result<SignedTestimonies, TestifyError> {
        let v2 = signer.clearsign(&self.v2(record, signer)?.to_text())?;
        let v1 = match self.with_v1 {
            true => Some(signer.clearsign(&self.v1(record).to_text())?),
            false => None,
        };
        Ok(SignedTestimonies { v2, v1 })
    }
}

/// Where the v1 form goes beside the v2 file: `.v1` before `.asc` (`x.asc` →
/// `x.v1.asc`), else `.v1.asc` appended.
pub fn v1_path(v2_path: &Path) -> PathBuf {
    let s = v2_path.to_string_lossy();
    PathBuf::from(match s.strip_suffix(".asc") {
        Some(stem) => format!("{stem}.v1.asc"),
        None => format!("{s}.v1.asc"),
    })
}
