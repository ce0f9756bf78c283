//! Stage 2 and the signed-package check on small hand-made packages (detdeb-built fake
//! images, keys made by openssl at test time).

use std::path::{Path, PathBuf};

use super::deb::{DebContents, is_module, read_deb, tests::fake_image};
use super::*;

const MODULES: [(&str, &[u8]); 2] = [
    (
        "lib/modules/6.12.0-sk/kernel/lib/test_module.ko",
        b"\x7fELF test module body",
    ),
    (
        "lib/modules/6.12.0-sk/kernel/fs/other.ko",
        b"\x7fELF another module",
    ),
];

/// A self-signed RSA certificate + key (the kernel's default_x509.genkey extensions).
pub(crate) fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pem")),
    );
    modsign::Openssl::default()
        .new_signing_key(&key, &cert, name, 2048)
        .unwrap();
    (key, cert)
}

struct Setup {
    _t: tempfile::TempDir,
    dir: PathBuf,
    unsigned: PathBuf,
    key: PathBuf,
    cert: PathBuf,
    signed: PathBuf,
    artefact: PathBuf,
}

fn setup() -> Setup {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().to_path_buf();
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    let (key, cert) = keypair(&keys, "pinned");
    let build = dir.join("build");
    std::fs::create_dir(&build).unwrap();
    let unsigned = fake_image(&build, &MODULES);
    let published = sign_modules(
        &unsigned,
        &cert,
        &modsign::Key::File(key.clone()),
        &dir.join("sigs"),
    )
    .unwrap();
    let signed = attach_signatures(&unsigned, &published.path, &cert, &dir.join("signed")).unwrap();
    Setup {
        _t: t,
        dir,
        unsigned,
        key,
        cert,
        signed,
        artefact: published.path,
    }
}

/// A copy of `deb` changed by `f`, packed as stage 2 packs (md5sums recomputed).
fn variant(s: &Setup, name: &str, f: impl FnOnce(&mut DebContents)) -> PathBuf {
    let mut d = read_deb(&s.signed).unwrap();
    f(&mut d);
    // As a careful forger would: Installed-Size matches the changed tree.
    let size = detdeb::installed_size_kib(&super::deb::data_entries(&d.data));
    d.control.set("Installed-Size", size.to_string());
    let out = s.dir.join(format!("{name}.deb"));
    d.write(&out).unwrap();
    out
}

fn module_mut(d: &mut DebContents, nth: usize) -> &mut Vec<u8> {
    d.data
        .iter_mut()
        .filter(|i| is_module(&i.path()))
        .nth(nth)
        .unwrap()
        .contents
        .as_mut()
        .unwrap()
}

#[test]
fn signed_package_differs_only_by_valid_signatures_and_is_deterministic() {
    let s = setup();
    let check = check_signed(&s.unsigned, &s.signed, &s.cert).unwrap();
    assert!(check.passes(), "{:?}", check.differences);
    assert_eq!(check.signed_modules, 2);
    assert_eq!(check.signed_version, "6.12.0-1+sk.abc+signed");
    assert_eq!(
        s.signed.file_name().unwrap(),
        "linux-image-6.12.0-sk_6.12.0-1+sk.abc+signed_amd64.deb"
    );
    // The kernel's view: each packaged module verifies on its own.
    let d = read_deb(&s.signed).unwrap();
    for m in d.data.iter().filter(|i| is_module(&i.path())) {
        modsign::verify_module(
            &modsign::Openssl::default(),
            m.contents.as_deref().unwrap(),
            &s.cert,
        )
        .unwrap();
    }
    // Signing (RSA) and attaching again give the same bytes.
    let again = sign_modules(
        &s.unsigned,
        &s.cert,
        &modsign::Key::File(s.key.clone()),
        &s.dir.join("sigs2"),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&again.path).unwrap(),
        std::fs::read(&s.artefact).unwrap()
    );
    let signed2 =
        attach_signatures(&s.unsigned, &again.path, &s.cert, &s.dir.join("signed2")).unwrap();
    assert_eq!(
        std::fs::read(&signed2).unwrap(),
        std::fs::read(&s.signed).unwrap()
    );
    // The index names each module's unsigned sha256 and its signature's sha256.
    assert_eq!(
        again
            .set
            .index()
            .lines()
            .filter(|l| l.starts_with("module="))
            .count(),
        2
    );
    // The key's bytes are in no output (artefact, signed package data and control).
    let key_line = std::fs::read_to_string(&s.key)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    let artefact = String::from_utf8_lossy(&std::fs::read(&s.artefact).unwrap()).into_owned();
    assert!(!artefact.contains(&key_line));
    for item in d.data.iter().filter_map(|i| i.contents.as_ref()) {
        assert!(!String::from_utf8_lossy(item).contains(&key_line));
    }
}

/// What a tampering case must be reported as.
type Expect = dyn Fn(&Difference) -> bool;

#[test]
fn the_check_names_every_kind_of_tampering() {
    let s = setup();
    let (key2, cert2) = keypair(&s.dir.join("keys"), "other");
    let o = modsign::Openssl::default();
    let cases: Vec<(&str, PathBuf, &Expect)> = vec![
        (
            "flipped byte",
            variant(&s, "flipped", |d| module_mut(d, 0)[3] ^= 1),
            &|x| matches!(x, Difference::ModuleChanged { .. }),
        ),
        (
            "other key",
            variant(&s, "other-key", |d| {
                let m = module_mut(d, 1);
                let body = modsign::trailer::strip(m).unwrap().to_vec();
                *m = modsign::sign_module(
                    &o,
                    &body,
                    &cert2,
                    &modsign::Key::File(key2.clone()),
                    modsign::Digest::Sha512,
                )
                .unwrap();
            }),
            &|x| {
                matches!(
                    x,
                    Difference::Signature {
                        problem: SignatureProblem::UnknownSigner,
                        ..
                    }
                )
            },
        ),
        (
            "extra file",
            variant(&s, "extra", |d| {
                let mut extra = d
                    .data
                    .iter()
                    .find(|i| i.path() == "boot/vmlinuz-6.12.0-sk")
                    .unwrap()
                    .clone();
                extra.entry.name = b"./boot/extra".to_vec();
                d.data.push(extra);
            }),
            &|x| matches!(x, Difference::Extra { path } if path == "boot/extra"),
        ),
        (
            "missing signature",
            variant(&s, "unsigned-module", |d| {
                let m = module_mut(d, 0);
                *m = modsign::trailer::strip(m).unwrap().to_vec();
            }),
            &|x| matches!(x, Difference::Unsigned { .. }),
        ),
        (
            "changed control field",
            variant(&s, "control", |d| {
                d.control.set("Maintainer", "mallory <m@example.org>")
            }),
            &|x| matches!(x, Difference::ControlField { field, .. } if field == "Maintainer"),
        ),
        (
            "flipped signature byte",
            variant(&s, "sigbyte", |d| {
                let m = module_mut(d, 0);
                let at = m.len() - modsign::trailer::MAGIC.len() - modsign::trailer::INFO_LEN - 5;
                m[at] ^= 1;
            }),
            &|x| {
                matches!(
                    x,
                    Difference::Signature {
                        problem: SignatureProblem::BadSignature | SignatureProblem::Malformed,
                        ..
                    }
                )
            },
        ),
    ];
    for (what, deb, expect) in cases {
        let check = check_signed(&s.unsigned, &deb, &s.cert).unwrap();
        assert!(!check.passes(), "{what}: passed");
        assert_eq!(
            check.differences.len(),
            1,
            "{what}: {:?}",
            check.differences
        );
        assert!(
            expect(&check.differences[0]),
            "{what}: {}",
            check.differences[0]
        );
    }
    // The unsigned package itself is not a signed one.
    let check = check_signed(&s.unsigned, &s.unsigned, &s.cert).unwrap();
    assert!(
        check
            .differences
            .iter()
            .any(|d| matches!(d, Difference::Unsigned { .. }))
    );
    // Against another pinned certificate every module fails.
    let check = check_signed(&s.unsigned, &s.signed, &cert2).unwrap();
    assert_eq!(check.differences.len(), 2, "{:?}", check.differences);
}

#[test]
fn keys_in_the_wrong_place_and_mismatched_artefacts_are_refused() {
    let s = setup();
    // A key inside the output directory, or beside the unsigned package.
    let out = s.dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let inside = out.join("k.key");
    std::fs::copy(&s.key, &inside).unwrap();
    let e = sign_modules(&s.unsigned, &s.cert, &modsign::Key::File(inside), &out).unwrap_err();
    assert!(matches!(e, SigningError::KeyInside { .. }), "{e}");
    let beside = s.unsigned.with_file_name("k.key");
    std::fs::copy(&s.key, &beside).unwrap();
    let e = sign_modules(
        &s.unsigned,
        &s.cert,
        &modsign::Key::File(beside),
        &s.dir.join("o2"),
    )
    .unwrap_err();
    assert!(matches!(e, SigningError::KeyInside { .. }), "{e}");
    // A "certificate" that holds the key is refused before it can be placed anywhere.
    let both = s.dir.join("both.pem");
    let text =
        std::fs::read_to_string(&s.cert).unwrap() + &std::fs::read_to_string(&s.key).unwrap();
    std::fs::write(&both, text).unwrap();
    assert!(matches!(
        ModuleCert::load(&both),
        Err(CertError::HoldsPrivateKey { .. })
    ));
    // A key that is not the certificate's.
    let (key2, _) = keypair(&s.dir.join("keys"), "other");
    let e = sign_modules(
        &s.unsigned,
        &s.cert,
        &modsign::Key::File(key2),
        &s.dir.join("o3"),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            SigningError::KeyNotForCert { .. } | SigningError::Sign { .. }
        ),
        "{e}"
    );
    // The artefact for another package.
    let other_build = s.dir.join("other-build");
    std::fs::create_dir(&other_build).unwrap();
    let other = fake_image(&other_build, &MODULES[..1]);
    let e = attach_signatures(&other, &s.artefact, &s.cert, &s.dir.join("o4")).unwrap_err();
    assert!(matches!(e, SigningError::ArtefactMismatch { .. }), "{e}");
    // Stage 2 refuses to overwrite.
    let e = attach_signatures(
        &s.unsigned,
        &s.artefact,
        &s.cert,
        s.signed.parent().unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, SigningError::Exists { .. }), "{e}");
}

#[test]
fn stage_one_fragment_and_gate() {
    let s = setup();
    let cert = ModuleCert::load(&s.cert).unwrap();
    assert!(
        cert.tree_path()
            .starts_with("certs/samekernel-module-cert-")
    );
    let frag = cert.fragment();
    let text = format!("{frag}CONFIG_MODULE_SIG_FORMAT=y\n")
        .replace("# CONFIG_MODULE_COMPRESS is not set\n", "");
    let good = kbuild_env::KernelConfig::parse(&text, "good").unwrap();
    assert_eq!(crate::gate::ConfigGate::check(&cert.gate(), &good), vec![]);
    let bad = kbuild_env::KernelConfig::parse(
        &text.replace(
            "CONFIG_MODULE_SIG_KEY=\"\"",
            "CONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"",
        ),
        "bad",
    )
    .unwrap();
    let findings = crate::gate::ConfigGate::check(&cert.gate(), &bad);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].item, "CONFIG_MODULE_SIG_KEY");
    let t = tempfile::tempdir().unwrap();
    let placed = cert.place(t.path()).unwrap();
    assert_eq!(std::fs::read_to_string(placed).unwrap(), cert.pem);
    assert!(!cert.pem.contains("PRIVATE"));
}
