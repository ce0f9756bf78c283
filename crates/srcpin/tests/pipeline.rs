//! End to end: manifest → fetch + verify → safe unpack → patch, for both source kinds.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::*;
use srcpin::*;

const ALICE: &str = "D4DBE61C7DFB9F3A39F273A4617A467BB109A053";
const BOB: &str = "CF0B01248F28DC08E4B150C56830872EDABD2207";

const README_PATCH: &str = "--- a/README\n+++ b/README\n@@ -1 +1,2 @@\n hello, srcpin\n+patched\n";

/// Copies the fixtures next to a manifest that refers to them with relative `file:` URLs.
fn tarball_manifest(dir: &Path, signer: &str, sig: &str) -> PathBuf {
    for f in ["hello-1.0.tar.xz", "pinned-keyring.pgp", sig] {
        fs::copy(fixtures().join(f), dir.join(f)).unwrap();
    }
    fs::write(dir.join("0001-readme.patch"), README_PATCH).unwrap();
    let xz = fs::read(dir.join("hello-1.0.tar.xz")).unwrap();
    let tar = fs::read(fixtures().join("hello-1.0.tar")).unwrap();
    let kr = fs::read(dir.join("pinned-keyring.pgp")).unwrap();
    let text = format!(
        r#"schema = 1
source-date-epoch = 1700000000

[source]
kind = "tarball"
file-name = "hello-1.0.tar.xz"
urls = ["http://127.0.0.1:9/unreachable/hello-1.0.tar.xz", "file:hello-1.0.tar.xz"]
size = {}
sha256 = "{}"
top-dir = "hello-1.0"
uncompressed = {{ size = {}, sha256 = "{}" }}

[source.signature]
urls = ["file:{sig}"]
signed-over = "uncompressed"
signers = ["{signer}"]
min-signers = 1
keyring = {{ urls = ["file:pinned-keyring.pgp"], size = {}, sha256 = "{}" }}

[[patches]]
name = "0001-readme.patch"
urls = ["file:0001-readme.patch"]
size = {}
sha256 = "{}"
"#,
        xz.len(),
        sha256_hex(&xz),
        tar.len(),
        sha256_hex(&tar),
        kr.len(),
        sha256_hex(&kr),
        README_PATCH.len(),
        sha256_hex(README_PATCH.as_bytes()),
    );
    let path = dir.join("pin.toml");
    fs::write(&path, text).unwrap();
    path
}

fn fetcher(dir: &Path) -> Fetcher {
    Fetcher::new(Cache::new(dir.join("cache")), FetchOptions::default())
}

#[test]
fn signed_tarball_with_patch_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let m = Manifest::from_path(&tarball_manifest(dir.path(), ALICE, "alice.tar.sign")).unwrap();
    let f = fetcher(dir.path());
    let mut failed = 0;
    let mut progress = |e: &FetchEvent<'_>| {
        if matches!(e, FetchEvent::MirrorFailed { .. }) {
            failed += 1
        }
    };
    let fetched = fetch_sources(&m, &f, &mut progress).unwrap();
    assert_eq!(
        failed, 1,
        "the unreachable first mirror fails, the file: mirror works"
    );
    assert_eq!(fetched.signers, vec![ALICE.parse().unwrap()]);
    assert!(
        fetched
            .tarball
            .starts_with(dir.path().join("cache/blobs/sha256"))
    );
    let out = dir.path().join("work/linux");
    prepare_source(&fetched, &out, &UnpackLimits::default(), &mut NoProgress).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("README")).unwrap(),
        "hello, srcpin\npatched\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("src/main.c")).unwrap(),
        "int main(void) { return 0; }\n"
    );
    for p in ["", "README", "src", "src/main.c"] {
        assert_eq!(
            fs::metadata(out.join(p)).unwrap().mtime(),
            1_700_000_000,
            "{p}"
        );
    }
    assert_eq!(
        tree(&dir.path().join("work")).len(),
        4,
        "no temp dirs left: {:?}",
        tree(&dir.path().join("work"))
    );
    // Never over an existing tree.
    let err =
        prepare_source(&fetched, &out, &UnpackLimits::default(), &mut NoProgress).unwrap_err();
    assert!(matches!(err, Error::OutputExists { .. }), "{err}");
    assert!(matches!(
        check_output_free(&out),
        Err(Error::OutputExists { .. })
    ));
    check_output_free(&dir.path().join("work/absent")).unwrap();
    let lines = fetched.verified_lines();
    assert_eq!(lines[0], format!("good signature by pinned signer {ALICE}"));
    assert!(lines[1].starts_with("verified patch "), "{lines:?}");
    assert_eq!(lines.len(), 1 + fetched.patches.len());
}

#[test]
fn unpinned_signer_fails_the_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let m = Manifest::from_path(&tarball_manifest(dir.path(), BOB, "alice.tar.sign")).unwrap();
    let err = fetch_sources(&m, &fetcher(dir.path()), &mut NoProgress).unwrap_err();
    assert!(matches!(err, Error::Signature { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("source hello-1.0.tar.xz: signature check failed"),
        "{err}"
    );
}

#[test]
fn failing_patch_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let m = Manifest::from_path(&tarball_manifest(dir.path(), ALICE, "alice.tar.sign")).unwrap();
    let mut fetched = fetch_sources(&m, &fetcher(dir.path()), &mut NoProgress).unwrap();
    let bad = dir.path().join("bad.patch");
    fs::write(
        &bad,
        "--- a/README\n+++ b/README\n@@ -1 +1 @@\n-goodbye\n+x\n",
    )
    .unwrap();
    fetched.patches.push(FetchedPatch {
        name: "bad.patch".into(),
        path: bad,
        strip: 1,
    });
    let out = dir.path().join("work/linux");
    let err =
        prepare_source(&fetched, &out, &UnpackLimits::default(), &mut NoProgress).unwrap_err();
    assert!(
        err.to_string().contains("patch bad.patch: README: hunk #1"),
        "{err}"
    );
    assert!(
        tree(&dir.path().join("work")).is_empty(),
        "{:?}",
        tree(&dir.path().join("work"))
    );
}

#[test]
fn uncompressed_digest_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = tarball_manifest(dir.path(), ALICE, "alice.tar.sign");
    let tar = fs::read(fixtures().join("hello-1.0.tar")).unwrap();
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace(&sha256_hex(&tar), &"1".repeat(64));
    let m = Manifest::from_toml_str(&text, "t").map(|mut m| {
        m.base_dir = Some(dir.path().to_path_buf());
        m
    });
    let err = fetch_sources(&m.unwrap(), &fetcher(dir.path()), &mut NoProgress).unwrap_err();
    assert!(
        err.to_string()
            .contains("decompressed source hello-1.0.tar.xz: sha256 mismatch"),
        "{err}"
    );
}

/// A minimal .deb: debian-binary, control.tar.xz, data.tar.xz with the fixture tarball at
/// ./usr/src/hello-src.tar.xz.
fn build_deb() -> Vec<u8> {
    let inner = fs::read(fixtures().join("hello-1.0.tar.xz")).unwrap();
    let mut data = tar::Builder::new(Vec::new());
    for d in ["./", "./usr/", "./usr/src/"] {
        data.append(
            &raw_header(d.as_bytes(), tar::EntryType::Directory, b"", 0, 0o755),
            &b""[..],
        )
        .unwrap();
    }
    let h = raw_header(
        b"./usr/src/hello-src.tar.xz",
        tar::EntryType::Regular,
        b"",
        inner.len() as u64,
        0o644,
    );
    data.append(&h, &inner[..]).unwrap();
    let data = xz(&data.into_inner().unwrap());
    let control = xz(&tar::Builder::new(Vec::new()).into_inner().unwrap());
    let mut ar = ar::Builder::new(Vec::new());
    for (name, body) in [
        ("debian-binary", &b"2.0\n"[..]),
        ("control.tar.xz", &control[..]),
        ("data.tar.xz", &data[..]),
    ] {
        ar.append(
            &ar::Header::new(name.as_bytes().to_vec(), body.len() as u64),
            body,
        )
        .unwrap();
    }
    ar.into_inner().unwrap()
}

/// Stands in for `apt-get download`: serves one version, like apt would.
struct FakeApt {
    deb: Vec<u8>,
    version: &'static str,
}

impl DebDownloader for FakeApt {
    fn download(&self, package: &str, version: &str, dir: &Path) -> Result<PathBuf> {
        if version != self.version {
            return Err(Error::DebianVersionNotServed {
                package: package.into(),
                version: version.into(),
                detail: format!("E: Version '{version}' for '{package}' was not found"),
            });
        }
        let p = dir.join(format!("{package}_{version}_all.deb"));
        fs::write(&p, &self.deb).unwrap();
        Ok(p)
    }
}

fn deb_manifest(deb: &[u8], version: &str) -> Manifest {
    let inner = fs::read(fixtures().join("hello-1.0.tar.xz")).unwrap();
    let text = format!(
        r#"schema = 1
source-date-epoch = 1794660961
[source]
kind = "debian-package"
package = "hello-src"
version = "{version}"
top-dir = "hello-1.0"
deb = {{ size = {}, sha256 = "{}" }}
member = {{ path = "/usr/src/hello-src.tar.xz", size = {}, sha256 = "{}" }}
"#,
        deb.len(),
        sha256_hex(deb),
        inner.len(),
        sha256_hex(&inner)
    );
    Manifest::from_toml_str(&text, "deb pin").unwrap()
}

#[test]
fn debian_package_source_via_downloader() {
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb();
    let m = deb_manifest(&deb, "1.0-1");
    let f = fetcher(dir.path()).with_deb_downloader(Box::new(FakeApt {
        deb: deb.clone(),
        version: "1.0-1",
    }));
    let fetched = fetch_sources(&m, &f, &mut NoProgress).unwrap();
    assert_eq!(
        fs::read(&fetched.tarball).unwrap(),
        fs::read(fixtures().join("hello-1.0.tar.xz")).unwrap()
    );
    assert!(
        f.cache().blob_path(&Sha256Digest::of(&deb)).exists(),
        "the .deb is cached too"
    );
    let out = dir.path().join("src");
    prepare_source(&fetched, &out, &UnpackLimits::default(), &mut NoProgress).unwrap();
    assert_eq!(
        fs::metadata(out.join("README")).unwrap().mtime(),
        1_794_660_961
    );
    // Second fetch: the member is a verified cache hit; the downloader is not needed.
    let f2 = fetcher(dir.path()).with_deb_downloader(Box::new(FakeApt {
        deb: Vec::new(),
        version: "none",
    }));
    assert_eq!(
        fetch_sources(&m, &f2, &mut NoProgress).unwrap().tarball,
        fetched.tarball
    );
}

#[test]
fn debian_version_no_longer_served_says_how_to_repin() {
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb();
    let m = deb_manifest(&deb, "0.9-1");
    let f = fetcher(dir.path()).with_deb_downloader(Box::new(FakeApt {
        deb,
        version: "1.0-1",
    }));
    let err = fetch_sources(&m, &f, &mut NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("apt does not serve hello-src=0.9-1"), "{err}");
    assert!(
        err.contains("kernel-deb pin --debian-package hello-src"),
        "{err}"
    );
}

#[test]
fn debian_package_with_wrong_digest_is_refused_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb();
    let m = deb_manifest(&deb, "1.0-1");
    let mut evil = deb.clone();
    let n = evil.len();
    evil[n - 100] ^= 1;
    let f = fetcher(dir.path()).with_deb_downloader(Box::new(FakeApt {
        deb: evil,
        version: "1.0-1",
    }));
    let err = fetch_sources(&m, &f, &mut NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hello-src=1.0-1 .deb from apt-get: sha256 mismatch"),
        "{err}"
    );
}

#[test]
fn debian_package_from_plain_urls_does_not_use_apt() {
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb();
    let served = deb.clone();
    let srv = serve(move |req| {
        if req.path == "/pool/hello-src_1.0-1_all.deb" {
            ok(&served)
        } else {
            status(404, "Not Found")
        }
    });
    let mut m = deb_manifest(&deb, "1.0-1");
    if let Source::DebianPackage(d) = &mut m.source {
        d.urls = vec![
            srv.url("/old/hello-src_1.0-1_all.deb"),
            srv.url("/pool/hello-src_1.0-1_all.deb"),
        ];
    }
    // A downloader that serves nothing: apt must not be consulted when URLs are pinned.
    let f = fetcher(dir.path()).with_deb_downloader(Box::new(FakeApt {
        deb: Vec::new(),
        version: "never",
    }));
    let fetched = fetch_sources(&m, &f, &mut NoProgress).unwrap();
    assert_eq!(
        fs::read(&fetched.tarball).unwrap(),
        fs::read(fixtures().join("hello-1.0.tar.xz")).unwrap()
    );
    assert_eq!(srv.hits(), 2);
}
