//! Two-stage module signing (`samekernel::signing`): `sign-modules`,
//! `attach-signatures`, `verify-signed` (exit 0 only valid signatures differ, else 1).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use samekernel::signing::{self, Key};

/// Two-stage module signing: sign every module of an unsigned linux-image .deb
/// (detached signatures, one artefact).
#[derive(Debug, clap::Args)]
pub struct SignModulesArgs {
    /// The signing key (PEM file; never inside --out or beside the package).
    #[arg(long, value_name = "KEY", conflicts_with = "pkcs11")]
    #[arg(required_unless_present = "pkcs11")]
    pub key: Option<PathBuf>,
    /// The signing key as a PKCS#11 URI (openssl's pkcs11 engine). Give the PIN as
    /// `pin-source=file:PATH` (a file only you can read): a `pin-value=` PIN is on
    /// openssl's command line, which other users can see with `ps`.
    #[arg(long, value_name = "URI")]
    pub pkcs11: Option<String>,
    /// The key's certificate (PEM), the one stage 1 built in (--module-cert).
    #[arg(long, value_name = "CERT")]
    pub cert: PathBuf,
    /// The unsigned linux-image .deb from `kernel-deb build --module-cert`.
    pub unsigned: PathBuf,
    /// Where the signature artefact goes (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Two-stage module signing, stage 2: pack the signed linux-image .deb.
#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// The unsigned linux-image .deb.
    pub unsigned: PathBuf,
    /// The artefact from `sign-modules`.
    pub signatures: PathBuf,
    /// The pinned certificate (each signature is checked against it).
    #[arg(long, value_name = "CERT")]
    pub cert: PathBuf,
    /// Where the signed .deb goes (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Check that a signed linux-image .deb differs from the unsigned one only by valid
/// module signatures.
#[derive(Debug, clap::Args)]
pub struct VerifySignedArgs {
    /// The unsigned linux-image .deb (check it with `kernel-deb verify` and testimonies).
    #[arg(long, value_name = "DEB")]
    pub unsigned: PathBuf,
    /// The signed linux-image .deb from `attach-signatures`.
    #[arg(long, value_name = "DEB")]
    pub signed: PathBuf,
    /// The pinned module-signing certificate (the build record's module-cert-sha256).
    #[arg(long, value_name = "CERT")]
    pub module_cert: PathBuf,
    /// The result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn sign_modules(a: SignModulesArgs) -> Result<ExitCode> {
    let key = match (a.key, a.pkcs11) {
        (Some(k), _) => Key::File(k),
        (_, Some(uri)) if uri.starts_with("pkcs11:") => {
            if signing::pin_value_in(&uri) {
                eprintln!(
                    "warning: the PIN given as pin-value= is visible to other users in process listings while openssl signs; put it in a file only you can read and use pin-source=file:PATH"
                );
            }
            Key::Pkcs11(uri)
        }
        _ => bail!("--pkcs11 takes a pkcs11: URI"),
    };
    let p = signing::sign_modules(&a.unsigned, &a.cert, &key, &a.out)?;
    let (set, n) = (&p.set, p.set.modules.len());
    let what = format!("signed {n} modules of {} {}", set.package, set.version);
    eprintln!("{}", super::shown(&what));
    println!("{}  {}", p.sha256, p.path.display());
    Ok(ExitCode::SUCCESS)
}

pub fn attach(a: AttachArgs) -> Result<ExitCode> {
    let signed = signing::attach_signatures(&a.unsigned, &a.signatures, &a.cert, &a.out)?;
    println!("{}", signed.display());
    Ok(ExitCode::SUCCESS)
}

pub fn verify_signed(a: VerifySignedArgs) -> Result<ExitCode> {
    let check = signing::check_signed(&a.unsigned, &a.signed, &a.module_cert)?;
    match a.json {
        true => println!("{}", serde_json::to_string_pretty(&check)?),
        false => print!("{}", super::shown(&check.render_text(&a.signed))),
    }
    Ok(ExitCode::from(if check.passes() { 0 } else { 1 }))
}
