//! A real PKCS#11 token: SoftHSM2, private to each test (its token directory is inside
//! a temporary directory, named by `SOFTHSM2_CONF`), reached through openssl's `pkcs11`
//! engine (libp11) exactly as `Key::Pkcs11` is in production.
//!
//! Needs the Debian packages `softhsm2` and `libengine-pkcs11-openssl` (both in
//! `.ci/apt-packages`); without them each test fails saying which one is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{keypair, run};
use modsign::{Digest, Key, Openssl, OpensslError, Pkcs11Problem};

const LABEL: &str = "modsign-test";
const OBJECT: &str = "module-key";
const PIN: &str = "271828";

/// A SoftHSM2 token holding one RSA key (also kept as PEM, with its certificate).
struct Token {
    dir: tempfile::TempDir,
    conf: PathBuf,
    key: PathBuf,
    cert: PathBuf,
}

impl Token {
    fn new() -> Token {
        if let Err(e) = Command::new("softhsm2-util").arg("--version").output() {
            panic!("cannot run softhsm2-util ({e}): install the Debian package softhsm2");
        }
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let (key, cert) = keypair(dir.path(), "token");
        let token = Token {
            dir,
            conf,
            key,
            cert,
        };
        let softhsm = || {
            let mut cmd = Command::new("softhsm2-util");
            cmd.env("SOFTHSM2_CONF", &token.conf);
            cmd
        };
        run(softhsm()
            .args(["--init-token", "--free", "--label", LABEL])
            .args(["--pin", PIN, "--so-pin", "314159"]));
        // `openssl req -nodes` writes PKCS#8 PEM, which is what SoftHSM imports.
        run(softhsm().arg("--import").arg(&token.key).args([
            "--token", LABEL, "--label", OBJECT, "--id", "4d53", "--pin", PIN,
        ]));
        token
    }

    /// openssl with the pkcs11 engine seeing this token.
    fn openssl(&self) -> Openssl {
        Openssl::default().env("SOFTHSM2_CONF", &self.conf)
    }

    fn uri(&self, object: &str, pin: &str) -> Key {
        Key::Pkcs11(format!(
            "pkcs11:token={LABEL};object={object};type=private;pin-value={pin}"
        ))
    }

    fn scratch(&self) -> &Path {
        self.dir.path()
    }
}

/// The module input of the openssl tests: bytes no two offsets of which repeat soon.
fn module() -> Vec<u8> {
    (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn a_module_signed_on_the_token_verifies_and_equals_the_pem_signed_one() {
    let t = Token::new();
    let o = t.openssl();
    let module = module();
    let on_token = modsign::sign_module(&o, &module, &t.cert, &t.uri(OBJECT, PIN), Digest::Sha512)
        .unwrap_or_else(|e| panic!("signing through the token: {e}"));
    let parts = modsign::verify_module(&o, &on_token, &t.cert).unwrap();
    assert_eq!(parts.body, &module[..]);

    // RSA PKCS#1 v1.5 is deterministic: the key inside the token and the same key as a
    // PEM file give the same signed module, byte for byte.
    let from_pem = modsign::sign_module(
        &o,
        &module,
        &t.cert,
        &Key::File(t.key.clone()),
        Digest::Sha512,
    )
    .unwrap();
    assert_eq!(on_token, from_pem);

    // The same with sha256, on the detached signature alone.
    let sig = o
        .sign(b"tiny", &t.cert, &t.uri(OBJECT, PIN), Digest::Sha256)
        .unwrap();
    o.verify(b"tiny", &sig, &t.cert).unwrap();
    let pem_sig = o
        .sign(b"tiny", &t.cert, &Key::File(t.key.clone()), Digest::Sha256)
        .unwrap();
    assert_eq!(sig, pem_sig);

    // A certificate of another key: the token's signature is not by it.
    let (_, other_cert) = keypair(t.scratch(), "other");
    assert!(modsign::verify_module(&o, &on_token, &other_cert).is_err());
}

/// Signs `b"x"` with `key`, expecting a PKCS#11 failure; returns its problem and its
/// text (Display and Debug), after checking the URI is named without `pin`.
fn refused(t: &Token, key: &Key, pin: &str) -> (Pkcs11Problem, String) {
    let e = t
        .openssl()
        .sign(b"x", &t.cert, key, Digest::Sha512)
        .unwrap_err();
    let text = format!("{e}\n{e:?}");
    assert!(!text.contains(pin), "the PIN leaked: {text}");
    match e {
        OpensslError::Pkcs11 { uri, problem, .. } => {
            assert!(
                uri.starts_with(&format!("pkcs11:token={LABEL};object=")),
                "{uri}"
            );
            assert!(uri.ends_with("pin-value=<redacted>"), "{uri}");
            (problem, text)
        }
        e => panic!("not a PKCS#11 error: {e}"),
    }
}

#[test]
fn a_wrong_pin_or_an_absent_key_is_named_without_the_pin() {
    let t = Token::new();
    let wrong = "999331";
    let (problem, text) = refused(&t, &t.uri(OBJECT, wrong), wrong);
    assert_eq!(problem, Pkcs11Problem::Login, "{text}");
    assert!(text.contains(&format!("object={OBJECT}")), "{text}");

    let (problem, text) = refused(&t, &t.uri("no-such-key", PIN), PIN);
    assert_eq!(problem, Pkcs11Problem::KeyNotFound, "{text}");
    assert!(text.contains("object=no-such-key"), "{text}");

    let absent_token = Key::Pkcs11(format!(
        "pkcs11:token=no-such-token;object={OBJECT};type=private;pin-value={PIN}"
    ));
    let e = t
        .openssl()
        .sign(b"x", &t.cert, &absent_token, Digest::Sha512)
        .unwrap_err();
    let text = format!("{e}\n{e:?}");
    assert!(!text.contains(PIN), "the PIN leaked: {text}");
    assert!(
        matches!(
            e,
            OpensslError::Pkcs11 {
                problem: Pkcs11Problem::KeyNotFound,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("token=no-such-token"), "{text}");
}
