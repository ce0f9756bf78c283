//! Helpers shared by the integration tests: keys made by openssl at test time.

use std::path::{Path, PathBuf};
use std::process::Command;

use modsign::Openssl;

/// A self-signed RSA certificate + key with the extensions of the kernel's
/// `certs/default_x509.genkey`, in `dir` as `<name>.key.pem` / `<name>.cert.pem`.
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (
        dir.join(format!("{name}.key.pem")),
        dir.join(format!("{name}.cert.pem")),
    );
    Openssl::default()
        .new_signing_key(&key, &cert, &format!("{name} module signing"), 2048)
        .unwrap();
    (key, cert)
}

/// Runs `cmd`, failing the test with its stderr unless it succeeds.
pub fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?}: {stderr}");
}
