//! samekernel::verify end to end: real .debs, real signatures, local
//! directories and 127.0.0.1 mirrors, hostile ones included.

mod common;

use std::time::Duration;

use common::*;
use samekernel::verify::{HttpTimeouts, VerifyError, verify};
use testimony::collect::{Limits, Skipped};
use testimony::verdict::Decision;

#[test]
fn local_dir_pass_dissent_and_not_enough() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (_, other) = make_deb(dir.path(), "evil");
    let t = testimonies(dir.path(), &[("alice", &rec)]);
    std::fs::write(t.join("notes.txt"), "ignored").unwrap();
    let inp = inputs(dir.path(), vec![t.display().to_string()]);
    let debs = std::slice::from_ref(&deb);
    assert_eq!(verify(debs, &inp).unwrap().verdict.exit_code(), 3);
    std::fs::write(t.join("bob.asc"), testify("bob", &rec)).unwrap();
    let r = verify(debs, &inp).unwrap();
    assert_eq!(r.verdict.exit_code(), 0, "{}", r.to_table());
    assert!(r.missing_certificates.is_empty());
    // A witness whose certificate was not given is named, with what to do.
    let mut no_dave = inp.clone();
    no_dave.keyrings.pop();
    let r = verify(debs, &no_dave).unwrap();
    assert_eq!(r.missing_certificates.len(), 1);
    assert!(
        r.to_table().contains("witness \"dave\"") && r.to_table().contains("add it with --keyring")
    );
    std::fs::write(t.join("dave.asc"), testify("dave", &other)).unwrap();
    let r = verify(debs, &inp).unwrap();
    assert_eq!(r.verdict.exit_code(), 4, "{}", r.to_table());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["decision"]["rule"], "dissent");
    assert!(json["skipped"].as_array().unwrap().is_empty());
    // dave's testimony lists no file hashes: nothing is said about files.
    assert!(r.file_disagreements.is_empty());
}

#[test]
fn a_dissent_with_file_hashes_names_the_files_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, mut rec) = make_deb(dir.path(), "good");
    let (other_deb, mut other) = make_deb(dir.path(), "evil");
    // Real per-file hashes, as `kernel-deb build` records them.
    rec.debs[0].files = samekernel::record::deb_record(&deb).unwrap().files;
    other.debs[0].files = samekernel::record::deb_record(&other_deb).unwrap().files;
    let t = testimonies(
        dir.path(),
        &[("alice", &rec), ("bob", &rec), ("dave", &other)],
    );
    let inp = inputs(dir.path(), vec![t.display().to_string()]);
    let r = verify(std::slice::from_ref(&deb), &inp).unwrap();
    assert_eq!(r.verdict.exit_code(), 4, "{}", r.to_table());
    assert_eq!(r.file_disagreements.len(), 1, "{:?}", r.file_disagreements);
    let d = &r.file_disagreements[0];
    assert_eq!((d.witness.as_str(), d.count), ("dave", 1));
    assert_eq!(d.files[0].path, "usr/share/sk-test/file");
    assert_eq!(d.files[0].kind(), "content");
    assert_eq!(
        d.files[0].witness.as_deref(),
        Some(other.debs[0].files[0].sha256.as_str())
    );
    let table = r.to_table();
    assert!(
        table.contains("sk-test_1.0-1_all.deb: dave disagrees on 1 file(s) inside")
            && table.contains("content                usr/share/sk-test/file"),
        "{table}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["file_disagreements"][0]["files"][0]["path"],
        "usr/share/sk-test/file"
    );
    assert_eq!(json["file_disagreements"][0]["count"], 1);
}

#[test]
fn http_mirrors_index_and_disagreement() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (_, other) = make_deb(dir.path(), "evil");
    let debs = std::slice::from_ref(&deb);
    let a = testify("alice", &rec).into_bytes();
    let b = testify("bob", &rec).into_bytes();
    let index = b"# testimonies\nalice.asc\n\nbob.asc\n".to_vec();
    let files = body(&[
        ("testimonies.txt", index),
        ("alice.asc", a),
        ("bob.asc", b.clone()),
    ]);
    let (m1, h1) = serve(files.clone(), 3);
    let (m2, h2) = serve(files, 3);
    let inp = inputs(
        dir.path(),
        vec![
            format!("{m1}testimonies.txt"),
            format!("{m2}testimonies.txt"),
        ],
    );
    let r = verify(debs, &inp).unwrap();
    assert_eq!(r.verdict.exit_code(), 0, "{}", r.to_table());
    h1.join().unwrap();
    h2.join().unwrap();
    // A mirror that serves a different bob.asc: refused, naming both sources.
    let evil_b = testify("bob", &other).into_bytes();
    let (m1, h1) = serve(body(&[("bob.asc", b)]), 1);
    let (m2, h2) = serve(body(&[("bob.asc", evil_b)]), 1);
    let inp = inputs(
        dir.path(),
        vec![format!("{m1}bob.asc"), format!("{m2}bob.asc")],
    );
    let msg = verify(debs, &inp).unwrap_err().to_string();
    assert!(
        msg.contains("mirrors disagree about bob.asc") && msg.contains(&m1) && msg.contains(&m2),
        "{msg}"
    );
    h1.join().unwrap();
    h2.join().unwrap();
}

/// Issue 12.6: a mirror's `user:password@` never reaches an error, the table
/// or the JSON; the request still carries it.
#[test]
fn mirror_credentials_are_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (_, other) = make_deb(dir.path(), "evil");
    let debs = std::slice::from_ref(&deb);
    let with_password = |m: &str| m.replace("http://", "http://user:s3cret@");
    let files = body(&[
        ("testimonies.txt", b"alice.asc\ndave.asc\n".to_vec()),
        ("alice.asc", testify("alice", &rec).into_bytes()),
        ("dave.asc", testify("dave", &other).into_bytes()),
    ]);
    let (m, h) = serve(files, 3);
    let inp = inputs(
        dir.path(),
        vec![with_password(&format!("{m}testimonies.txt"))],
    );
    let r = verify(debs, &inp).unwrap();
    let shown = format!("{}{}", r.to_table(), serde_json::to_string(&r).unwrap());
    assert_eq!(r.verdict.exit_code(), 4, "{shown}");
    assert!(shown.contains("http://***@127.0.0.1"), "{shown}");
    assert!(!format!("{inp:?}").contains("s3cret"), "{inp:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    h.join().unwrap();
    // An error (404) names the URL without the password.
    let (m, h) = serve(Vec::new(), 1);
    let inp = inputs(dir.path(), vec![with_password(&format!("{m}missing.asc"))]);
    let msg = verify(debs, &inp).unwrap_err().to_string();
    assert!(
        msg.contains("***@127.0.0.1") && !msg.contains("s3cret"),
        "{msg}"
    );
    h.join().unwrap();
    // An upper-case scheme is still a URL, not a local path printed whole.
    let (m, h) = serve(Vec::new(), 1);
    let upper = with_password(&format!("{m}missing.asc")).replace("http://", "HTTP://");
    let msg = verify(debs, &inputs(dir.path(), vec![upper]))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("***@127.0.0.1") && !msg.contains("s3cret"),
        "{msg}"
    );
    h.join().unwrap();
}

#[test]
fn an_index_naming_a_path_outside_the_mirror_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, _) = make_deb(dir.path(), "good");
    let (m, h) = serve(
        body(&[("testimonies.txt", b"ok.asc\n../../etc/passwd\n".to_vec())]),
        1,
    );
    let inp = inputs(dir.path(), vec![format!("{m}testimonies.txt")]);
    let msg = verify(std::slice::from_ref(&deb), &inp)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 2") && msg.contains("../../etc/passwd"),
        "{msg}"
    );
    h.join().unwrap();
}

/// Issue 12.4: a 127.0.0.1 server that sends one byte and then goes silent
/// must not hold verify: the idle timeout cuts it off, and the error names the URL.
#[test]
fn a_mirror_trickling_bytes_is_cut_off_by_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, _) = make_deb(dir.path(), "good");
    let trickle = Serve::Trickle {
        len: 1000,
        pause: Duration::from_secs(15),
    };
    let (m, h) = serve(vec![("slow.asc".into(), trickle)], 1);
    let mut inp = inputs(dir.path(), vec![format!("{m}slow.asc")]);
    inp.http = HttpTimeouts {
        idle: Duration::from_millis(500),
        ..HttpTimeouts::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(verify(std::slice::from_ref(&deb), &inp).map(|_| ()));
    });
    let e = rx
        .recv_timeout(Duration::from_secs(12))
        .expect("verify waited on a silent mirror longer than its idle timeout allows");
    match e {
        Err(VerifyError::Http { url, problem }) => {
            assert!(
                url.ends_with("slow.asc") && problem.contains("timeout"),
                "{url}: {problem}"
            )
        }
        other => panic!("expected a timeout error, got {other:?}"),
    }
    drop(h); // the server's own silence ends by itself
}

/// Issue 12.3: over HTTP, each file and all files together are bounded, and what
/// was left out is in the report. Enough votes do not pass while a file went
/// unread: it might have been a dissent.
#[test]
fn http_testimonies_over_the_limits_are_skipped_and_refuse_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let a = testify("alice", &rec).into_bytes();
    let b = testify("bob", &rec).into_bytes();
    let mut big = b.clone();
    big.extend(vec![b'\n'; 4096]);
    let index = b"alice.asc\nbig.asc\nbob.asc\n".to_vec();
    let (m, h) = serve(
        body(&[
            ("testimonies.txt", index),
            ("alice.asc", a.clone()),
            ("big.asc", big),
            ("bob.asc", b),
        ]),
        4,
    );
    let mut inp = inputs(dir.path(), vec![format!("{m}testimonies.txt")]);
    inp.limits = Limits {
        max_file_bytes: a.len() as u64 + 100,
        max_files: 100,
        max_total_bytes: 1 << 20,
    };
    let r = verify(std::slice::from_ref(&deb), &inp).unwrap();
    assert_eq!(r.verdict.decision, Decision::Incomplete { unread: 1 });
    assert_eq!(r.verdict.exit_code(), 3, "{}", r.to_table());
    assert!(
        matches!(&r.skipped[..], [Skipped::TooLarge { origin, .. }] if origin.ends_with("big.asc")),
        "{:?}",
        r.skipped
    );
    assert!(r.to_table().contains("big.asc: skipped: larger than"));
    h.join().unwrap();
}

/// The limits are shared by every source: a first source that fills the file
/// limit must not keep a later source's dissent unread and let the .deb pass.
#[test]
fn a_source_filling_the_file_limit_cannot_hide_a_later_dissent() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (_, other) = make_deb(dir.path(), "evil");
    let votes = testimonies(dir.path(), &[("alice", &rec), ("bob", &rec)]);
    let padding = dir.path().join("padding");
    std::fs::create_dir(&padding).unwrap();
    for i in 0..8 {
        std::fs::write(padding.join(format!("p{i}.asc")), "x\n").unwrap();
    }
    let dissent = dir.path().join("dissent");
    std::fs::create_dir(&dissent).unwrap();
    std::fs::write(dissent.join("dave.asc"), testify("dave", &other)).unwrap();
    let sources = |with_padding: bool| {
        let mut v = vec![votes.display().to_string()];
        if with_padding {
            v.push(padding.display().to_string());
        }
        v.push(dissent.display().to_string());
        v
    };
    let limits = Limits {
        max_files: 10,
        ..Limits::default()
    };
    let mut inp = inputs(dir.path(), sources(false));
    inp.limits = limits;
    let r = verify(std::slice::from_ref(&deb), &inp).unwrap();
    assert_eq!(r.verdict.exit_code(), 4, "{}", r.to_table());
    inp.sources = sources(true);
    let r = verify(std::slice::from_ref(&deb), &inp).unwrap();
    let table = r.to_table();
    assert_eq!(
        r.verdict.decision,
        Decision::Incomplete { unread: 1 },
        "{table}"
    );
    assert_eq!(r.verdict.exit_code(), 3);
    assert!(table.contains("FAIL (incomplete)"), "{table}");
    assert!(table.contains("1 more listed file(s) skipped"), "{table}");
    // The dissent's directory was left out, not empty: no "no *.asc" warning.
    assert!(r.empty_sources.is_empty(), "{table}");
}

/// Issue 12.7: a subkey fingerprint in the policy is named as such, with the
/// primary to write instead.
#[test]
fn a_subkey_fingerprint_in_the_policy_is_named() {
    use sequoia_openpgp::parse::Parse;
    let dir = tempfile::tempdir().unwrap();
    let (deb, _) = make_deb(dir.path(), "good");
    let c = sequoia_openpgp::Cert::from_bytes(&std::fs::read(keys().join("bob.cert")).unwrap())
        .unwrap();
    let sub = c
        .keys()
        .subkeys()
        .next()
        .unwrap()
        .key()
        .fingerprint()
        .to_hex();
    let inp = inputs(dir.path(), vec![dir.path().display().to_string()]);
    let text = std::fs::read_to_string(&inp.policy)
        .unwrap()
        .replace(&fpr("bob"), &sub);
    std::fs::write(&inp.policy, text).unwrap();
    let msg = verify(std::slice::from_ref(&deb), &inp)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("policy.toml")
            && msg.contains("\"bob\"")
            && msg.contains("subkey")
            && msg.contains(&fpr("bob")),
        "{msg}"
    );
}

/// Issue 12.7: a garbage keyring and a secret key say what to do; paths once.
#[test]
fn keyring_errors_name_the_file_once_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, _) = make_deb(dir.path(), "good");
    let junk = dir.path().join("junk.gpg");
    std::fs::write(&junk, b"\x99\x01garbage").unwrap();
    for (k, want) in [
        (junk.clone(), "expected OpenPGP certificates"),
        (keys().join("alice.key"), "secret key material"),
    ] {
        let mut inp = inputs(dir.path(), vec![dir.path().display().to_string()]);
        inp.keyrings = vec![k.clone()];
        let msg = verify(std::slice::from_ref(&deb), &inp)
            .unwrap_err()
            .to_string();
        let path = k.display().to_string();
        assert!(
            msg.contains(want) && msg.matches(&path).count() == 1,
            "{msg}"
        );
    }
}

/// Issue 12.1 end to end: with the revoked certificate and a stale copy of it
/// as two `--keyring`s (either order) or one file, frank's testimony does not
/// count, as with the revoked certificate alone.
#[test]
fn a_stale_keyring_copy_does_not_give_a_revoked_witness_a_vote() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let t = testimonies(dir.path(), &[("alice", &rec), ("frank", &rec)]);
    let out = std::process::Command::new("sq")
        .args(["key", "extract-cert"])
        .arg(keys().join("frank.key"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stale = dir.path().join("frank-old.cert");
    std::fs::write(&stale, &out.stdout).unwrap();
    let both = dir.path().join("both.cert");
    let mut b = std::fs::read(keys().join("frank.cert")).unwrap();
    b.extend(&out.stdout);
    std::fs::write(&both, b).unwrap();
    let mut inp = inputs(dir.path(), vec![t.display().to_string()]);
    let policy = format!(
        "threshold = 2\n[[witness]]\nname = \"alice\"\nfingerprint = \"{}\"\n[[witness]]\nname = \"frank\"\nfingerprint = \"{}\"\n",
        fpr("alice"),
        fpr("frank")
    );
    std::fs::write(&inp.policy, policy).unwrap();
    let alice = keys().join("alice.cert");
    let frank = keys().join("frank.cert");
    // Sanity: the stale copy alone would give frank a vote.
    inp.keyrings = vec![alice.clone(), stale.clone()];
    assert_eq!(
        verify(std::slice::from_ref(&deb), &inp)
            .unwrap()
            .verdict
            .exit_code(),
        0
    );
    for rings in [
        vec![alice.clone(), frank.clone()],
        vec![alice.clone(), frank.clone(), stale.clone()],
        vec![alice.clone(), stale.clone(), frank.clone()],
        vec![alice.clone(), both.clone()],
    ] {
        inp.keyrings = rings.clone();
        let r = verify(std::slice::from_ref(&deb), &inp).unwrap();
        assert_eq!(r.verdict.exit_code(), 3, "{rings:?}: {}", r.to_table());
        assert!(r.to_table().contains("is revoked"), "{}", r.to_table());
    }
}

/// The whole of network collection is bounded too, not only each file.
#[test]
fn network_collection_has_a_total_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let files = body(&[
        ("testimonies.txt", b"alice.asc\n".to_vec()),
        ("alice.asc", testify("alice", &rec).into_bytes()),
    ]);
    let (m, h) = serve(files, 1);
    let mut inp = inputs(dir.path(), vec![format!("{m}testimonies.txt")]);
    inp.http.total = Duration::ZERO;
    let msg = verify(std::slice::from_ref(&deb), &inp)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("alice.asc") && msg.contains("took longer than 0 s in all"),
        "{msg}"
    );
    h.join().unwrap();
}
