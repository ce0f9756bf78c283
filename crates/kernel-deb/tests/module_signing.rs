//! `sign-modules`, `attach-signatures`, `verify-signed` and `build --module-cert` through
//! the binary, on a small detdeb-built linux-image with fake modules and keys made by
//! openssl at test time (the real-kernel proof is tests/reproducible_build.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use detdeb::{CompressionParams, Compressor, DebBuilder, Entry};

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

fn kernel_deb(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pem")),
    );
    samekernel::signing::Openssl::default()
        .new_signing_key(&key, &cert, name, 2048)
        .unwrap();
    (key, cert)
}

/// A linux-image-like package: vmlinuz and two modules; `module_byte` changes one
/// module's first byte after the ELF magic.
fn image(dir: &Path, module_byte: u8) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let data = vec![
        Entry::file(&b"boot/vmlinuz-6.12.0-sk"[..], 0o644, &b"MZ kernel"[..]),
        Entry::file(
            &b"lib/modules/6.12.0-sk/kernel/lib/test_module.ko"[..],
            0o644,
            vec![0x7f, b'E', b'L', b'F', module_byte, 1, 2, 3],
        ),
        Entry::file(
            &b"lib/modules/6.12.0-sk/kernel/fs/x.ko"[..],
            0o644,
            &b"\x7fELF x module"[..],
        ),
        Entry::file(
            &b"lib/modules/6.12.0-sk/modules.dep"[..],
            0o644,
            &b"kernel/lib/test_module.ko:\n"[..],
        ),
    ];
    let control = "Package: linux-image-6.12.0-sk\nVersion: 6.12.0-1+sk.0123456789ab\nArchitecture: amd64\nMaintainer: samekernel <samekernel@example.org>\nInstalled-Size: 1\nDescription: test image\n";
    let out = dir.join("linux-image-6.12.0-sk_6.12.0-1+sk.0123456789ab_amd64.deb");
    DebBuilder::from_entries(
        vec![Entry::file(
            &b"control"[..],
            0o644,
            control.as_bytes().to_vec(),
        )],
        data,
        1_700_000_000,
    )
    .unwrap()
    .compression(CompressionParams::new(Compressor::Zstd))
    .with_md5sums()
    .unwrap()
    .write_to_path(&out)
    .unwrap();
    out
}

#[test]
fn sign_attach_verify_through_the_binary() {
    let t = tempfile::tempdir().unwrap();
    let keys = t.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let (key, cert) = keypair(&keys, "pinned");
    let unsigned = image(&t.path().join("build"), 0);

    let sigs = t.path().join("sigs");
    let o = kernel_deb(&[
        "sign-modules".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
        "--cert".as_ref(),
        cert.as_os_str(),
        unsigned.as_os_str(),
        "--out".as_ref(),
        sigs.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let line = String::from_utf8_lossy(&o.stdout).into_owned();
    let (sha, artefact) = line.trim().split_once("  ").unwrap();
    assert_eq!(sha.len(), 64);
    assert!(
        artefact.ends_with(
            "linux-image-6.12.0-sk_6.12.0-1+sk.0123456789ab_amd64.module-signatures.tar"
        ),
        "{artefact}"
    );
    assert!(text(&o).contains("signed 2 modules"), "{}", text(&o));

    let signed_dir = t.path().join("signed");
    let o = kernel_deb(&[
        "attach-signatures".as_ref(),
        unsigned.as_os_str(),
        artefact.as_ref(),
        "--cert".as_ref(),
        cert.as_os_str(),
        "--out".as_ref(),
        signed_dir.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let signed = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    assert!(signed.ends_with("linux-image-6.12.0-sk_6.12.0-1+sk.0123456789ab+signed_amd64.deb"));
    // dpkg agrees it is a well-formed package with the +signed version.
    let o = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&signed)
        .arg("Version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "6.12.0-1+sk.0123456789ab+signed"
    );

    let verify = |unsigned: &Path, cert: &Path, json: bool| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "verify-signed".as_ref(),
            "--unsigned".as_ref(),
            unsigned.as_os_str(),
            "--signed".as_ref(),
            signed.as_os_str(),
            "--module-cert".as_ref(),
            cert.as_os_str(),
        ];
        if json {
            args.push("--json".as_ref());
        }
        kernel_deb(&args)
    };
    let o = verify(&unsigned, &cert, false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("2 signed module(s); only appended module signatures, each valid for the pinned certificate"), "{}", text(&o));

    // Another unsigned build (one module byte differs): the signed package is not its.
    let other = image(&t.path().join("other"), 9);
    let o = verify(&other, &cert, true);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["differences"][0]["kind"], "module-changed", "{json}");

    // Another pinned certificate: every signature is by an unknown signer.
    let (_, cert2) = keypair(&keys, "other");
    let o = verify(&unsigned, &cert2, true);
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        json["differences"][0]["problem"], "unknown-signer",
        "{json}"
    );
}

#[test]
fn keys_are_refused_where_they_could_leak() {
    let t = tempfile::tempdir().unwrap();
    let (key, cert) = keypair(t.path(), "pinned");
    let unsigned = image(&t.path().join("build"), 0);
    // The key beside the unsigned package (in the build's output directory).
    let beside = unsigned.with_file_name("key.pem");
    std::fs::copy(&key, &beside).unwrap();
    let out = t.path().join("sigs");
    let o = kernel_deb(&[
        "sign-modules".as_ref(),
        "--key".as_ref(),
        beside.as_os_str(),
        "--cert".as_ref(),
        cert.as_os_str(),
        unsigned.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("the signing key is inside"),
        "{}",
        text(&o)
    );
    // A certificate file that holds the key never reaches a build tree.
    let both = t.path().join("both.pem");
    std::fs::write(
        &both,
        std::fs::read_to_string(&cert).unwrap() + &std::fs::read_to_string(&key).unwrap(),
    )
    .unwrap();
    let o = kernel_deb(&[
        "build".as_ref(),
        "--flavour".as_ref(),
        "tiny".as_ref(),
        "--module-cert".as_ref(),
        both.as_os_str(),
        "--out".as_ref(),
        t.path().join("out").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("holds a private key"), "{}", text(&o));
    assert!(!t.path().join("out").exists());
}

/// `sign-modules --pkcs11 URI` with the key on a private SoftHSM2 token (Debian packages
/// softhsm2 and libengine-pkcs11-openssl) writes the very artefact `--key` writes with
/// the same key as a PEM file; a wrong PIN fails naming the URI but not the PIN.
#[test]
fn sign_modules_through_a_pkcs11_token_equals_the_pem_key() {
    let t = tempfile::tempdir().unwrap();
    let (key, cert) = keypair(t.path(), "pinned");
    let unsigned = image(&t.path().join("build"), 0);
    let conf = t.path().join("softhsm2.conf");
    let tokens = t.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    std::fs::write(
        &conf,
        format!("directories.tokendir = {}\n", tokens.display()),
    )
    .unwrap();
    let softhsm = |cmd: &mut Command| {
        let o = cmd.env("SOFTHSM2_CONF", &conf).output();
        let o = o.unwrap_or_else(|e| panic!("softhsm2-util ({e}): install softhsm2"));
        assert!(o.status.success(), "softhsm2-util: {}", text(&o));
    };
    softhsm(Command::new("softhsm2-util").args([
        "--init-token",
        "--free",
        "--label",
        "kd",
        "--pin",
        "271828",
        "--so-pin",
        "314159",
    ]));
    softhsm(
        Command::new("softhsm2-util")
            .arg("--import")
            .arg(&key)
            .args([
                "--token", "kd", "--label", "mk", "--id", "01", "--pin", "271828",
            ]),
    );

    let sign = |key_args: [&std::ffi::OsStr; 2], out: &Path| {
        let mut args = vec!["sign-modules".as_ref()];
        args.extend(key_args);
        args.extend(["--cert".as_ref(), cert.as_os_str(), unsigned.as_os_str()]);
        args.extend(["--out".as_ref(), out.as_os_str()]);
        Command::new(BIN)
            .env("SOFTHSM2_CONF", &conf)
            .args(args)
            .output()
            .unwrap()
    };
    let artefact = |o: &Output| {
        assert!(o.status.success(), "{}", text(o));
        let line = String::from_utf8_lossy(&o.stdout).into_owned();
        std::fs::read(line.trim().split_once("  ").unwrap().1).unwrap()
    };
    let uri = |pin: &str| format!("pkcs11:token=kd;object=mk;type=private;pin-value={pin}");
    let (by_pem, by_token) = (t.path().join("pem"), t.path().join("token"));
    let from_pem = artefact(&sign(["--key".as_ref(), key.as_os_str()], &by_pem));
    let by_value = sign(["--pkcs11".as_ref(), uri("271828").as_ref()], &by_token);
    assert!(
        text(&by_value).contains("use pin-source=file:PATH"),
        "{}",
        text(&by_value)
    );
    assert_eq!(artefact(&by_value), from_pem);

    // The PIN from a file: nothing secret on any command line, no warning, same bytes.
    let pin_file = t.path().join("pin");
    std::fs::write(&pin_file, "271828").unwrap();
    let from_file = format!(
        "pkcs11:token=kd;object=mk;type=private;pin-source=file:{}",
        pin_file.display()
    );
    let o = sign(
        ["--pkcs11".as_ref(), from_file.as_ref()],
        &t.path().join("file"),
    );
    assert!(!text(&o).contains("warning"), "{}", text(&o));
    assert_eq!(artefact(&o), from_pem);

    let o = sign(
        ["--pkcs11".as_ref(), uri("999331").as_ref()],
        &t.path().join("wrong"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("object=mk;type=private;pin-value=<redacted>"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("wrong or missing PIN"), "{}", text(&o));
    assert!(!text(&o).contains("999331"), "the PIN leaked: {}", text(&o));
}
