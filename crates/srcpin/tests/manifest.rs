//! Manifest parsing, validation, and a parse → write → parse round trip (proptest).

use proptest::prelude::*;
use srcpin::*;

#[test]
fn builtin_default_pins_debian_linux_source_6_12() {
    let m = Manifest::builtin_default();
    let Source::DebianPackage(d) = &m.source else {
        panic!("{m:?}")
    };
    assert_eq!(d.package, "linux-source-6.12");
    assert_eq!(d.version, "6.12.117-1~deb12u1");
    assert_eq!(d.deb.size, 153_476_148);
    assert_eq!(d.member.path, "/usr/src/linux-source-6.12.tar.xz");
    assert!(d.urls.is_empty(), "fetched with apt-get download");
    // 2026-11-14T12:56:01Z, the changelog date of 6.12.117-1~deb12u1.
    assert_eq!(m.source_date_epoch, 1_794_660_961);
    assert_eq!(
        srcpin::pin::rfc2822_epoch("Sat, 14 Nov 2026 13:56:01 +0100"),
        Some(1_794_660_961)
    );
    assert!(m.changes_from(&m).is_empty());
}

fn err(text: &str) -> String {
    Manifest::from_toml_str(text, "t.toml")
        .unwrap_err()
        .to_string()
}

const TARBALL: &str = r#"
schema = 1
source-date-epoch = 1700000000
[source]
kind = "tarball"
file-name = "hello-1.0.tar.xz"
urls = ["https://example.org/hello-1.0.tar.xz"]
size = 268
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
top-dir = "hello-1.0"
"#;

#[test]
fn a_rejected_url_is_quoted_without_its_password() {
    let msg = err(&TARBALL.replace("https://example.org/", "ftp://bob:hunter2@example.org/"));
    assert!(msg.contains("ftp://***@example.org"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn strict_validation() {
    Manifest::from_toml_str(TARBALL, "t.toml").unwrap();
    assert!(err(&format!("{TARBALL}bogus = 1\n")).contains("unknown field"));
    assert!(err(&TARBALL.replace("schema = 1", "schema = 2")).contains("unsupported schema 2"));
    assert!(err(&TARBALL.replace("sha256 = \"0000", "sha256 = \"ABCD")).contains("not a sha256"));
    assert!(err(&TARBALL.replace("hello-1.0\"\n", "../x\"\n")).contains("top-dir: unsafe name"));
    assert!(
        err(&TARBALL.replace("https://example.org/", "ftp://example.org/"))
            .contains("unsupported URL")
    );
    assert!(err(&TARBALL.replace("size = 268", "size = 0")).contains("out of range"));
    assert!(
        err(&TARBALL.replace("hello-1.0.tar.xz\"\n", "hello.zip\"\n")).contains("cannot infer")
    );
    let sig = format!(
        "{TARBALL}[source.signature]\nurls = [\"file:x.sign\"]\nsigned-over = \"uncompressed\"\n\
         signers = [\"D4DBE61C7DFB9F3A39F273A4617A467BB109A053\", \"d4db e61c 7dfb 9f3a 39f2 73a4 617a 467b b109 a053\"]\n\
         min-signers = 2\nkeyring = {{ urls = [\"file:k.pgp\"], size = 10, sha256 = \"{}\" }}\n",
        "0".repeat(64)
    );
    // The same key listed twice (in two spellings) is one signer: a minimum of 2 is unsatisfiable.
    assert!(
        err(&sig).contains("can never be met by 1 distinct"),
        "{}",
        err(&sig)
    );
    let deb = r#"
schema = 1
source-date-epoch = 1
[source]
kind = "debian-package"
package = "-oAPT::Foo"
version = "1.0"
top-dir = "x"
deb = { size = 1, sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
member = { path = "/usr/src/x.tar.xz", size = 1, sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
"#;
    assert!(err(deb).contains("not a Debian package name"));
    assert!(
        err(&deb
            .replace("-oAPT::Foo", "ok")
            .replace("x.tar.xz", "../x.tar.xz"))
        .contains("member.path")
    );
}

#[test]
fn changes_are_listed_against_the_default() {
    let mut m = Manifest::builtin_default();
    if let Source::DebianPackage(d) = &mut m.source {
        d.version = "6.12.118-1~deb12u1".into();
    }
    m.source_date_epoch += 1;
    let changes = m.changes_from(&Manifest::builtin_default());
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes.contains(
            &"source.version: \"6.12.117-1~deb12u1\" -> \"6.12.118-1~deb12u1\"".to_owned()
        ),
        "{changes:?}"
    );
}

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._+~-]{0,20}"
}
fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        "https://[a-z]{1,8}\\.org/[a-z0-9/._-]{0,20}",
        "http://127\\.0\\.0\\.1:[0-9]{2,5}/[a-z0-9._-]{0,10}",
        "file:[a-z0-9/._-]{1,20}",
    ]
}
fn digest() -> impl Strategy<Value = Sha256Digest> {
    any::<[u8; 32]>().prop_map(Sha256Digest)
}
fn size() -> impl Strategy<Value = u64> {
    1u64..=srcpin::manifest::MAX_SMALL_FILE_SIZE
}
fn fingerprint() -> impl Strategy<Value = Fingerprint> {
    prop_oneof!["[0-9A-F]{40}", "[0-9A-F]{64}"].prop_map(|s| s.parse().unwrap())
}
fn signature() -> impl Strategy<Value = SignaturePin> {
    (
        prop::collection::vec(url(), 1..3),
        prop::option::of(digest()),
        prop_oneof![Just(SignedOver::File), Just(SignedOver::Uncompressed)],
        prop::collection::vec(url(), 1..3),
        size(),
        digest(),
        prop::collection::btree_set(fingerprint(), 1..4),
    )
        .prop_flat_map(|(urls, sha256, signed_over, kurls, ksize, ksha, signers)| {
            let n = signers.len();
            (1..=n).prop_map(move |min_signers| SignaturePin {
                urls: urls.clone(),
                sha256,
                signed_over,
                keyring: KeyringPin {
                    urls: kurls.clone(),
                    size: ksize,
                    sha256: ksha,
                },
                signers: signers.iter().cloned().collect(),
                min_signers,
            })
        })
}
fn source() -> impl Strategy<Value = Source> {
    let tarball = (
        name(),
        prop_oneof![Just(".tar.xz"), Just(".tar.gz"), Just(".tar")],
        prop::collection::vec(url(), 1..4),
        size(),
        digest(),
        prop::option::of(prop_oneof![
            Just(Compression::Xz),
            Just(Compression::Gzip),
            Just(Compression::None)
        ]),
        name(),
        prop::option::of((size(), digest()).prop_map(|(size, sha256)| FileDigest { size, sha256 })),
        prop::option::of(signature()),
    )
        .prop_map(
            |(n, ext, urls, size, sha256, compression, top_dir, uncompressed, signature)| {
                Source::Tarball(TarballSource {
                    file_name: format!("{n}{ext}"),
                    urls,
                    size,
                    sha256,
                    compression,
                    top_dir,
                    uncompressed,
                    signature,
                })
            },
        );
    let deb = (
        "[a-z0-9][a-z0-9.+-]{1,20}",
        "[0-9][A-Za-z0-9.+~:-]{0,20}",
        prop::collection::vec(url(), 0..3),
        size(),
        digest(),
        name(),
        size(),
        digest(),
        name(),
    )
        .prop_map(
            |(package, version, urls, dsize, dsha, mname, msize, msha, top_dir)| {
                Source::DebianPackage(DebianSource {
                    package,
                    version,
                    urls,
                    deb: FileDigest {
                        size: dsize,
                        sha256: dsha,
                    },
                    member: DebMember {
                        path: format!("/usr/src/{mname}.tar.xz"),
                        size: msize,
                        sha256: msha,
                    },
                    top_dir,
                })
            },
        );
    prop_oneof![tarball, deb]
}
fn patches() -> impl Strategy<Value = Vec<PatchPin>> {
    prop::collection::btree_map(
        name(),
        (
            prop::collection::vec(url(), 1..3),
            size(),
            digest(),
            0u32..4,
            prop::option::of(signature()),
        ),
        0..4,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(name, (urls, size, sha256, strip, signature))| PatchPin {
                name,
                urls,
                size,
                sha256,
                strip,
                signature,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_write_parse_round_trips(epoch in any::<u32>(), source in source(), patches in patches()) {
        let m = Manifest { schema: 1, source_date_epoch: u64::from(epoch), source, patches, base_dir: None };
        let text = m.to_toml_string();
        let parsed = Manifest::from_toml_str(&text, "generated").map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &m);
        prop_assert_eq!(parsed.to_toml_string(), text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = Manifest::from_toml_str(&text, "fuzz");
    }
}
