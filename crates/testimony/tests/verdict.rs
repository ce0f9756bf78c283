//! Attack and policy tests: every one ends in the verdict a careful user needs.

mod common;

use common::*;
use testimony::Error;
use testimony::build_record::BuildRecord;
use testimony::canonical::sha256_hex;
use testimony::collect::Collection;
use testimony::policy::Policy;
use testimony::sign::sign_cleartext;
use testimony::v1::{V1Info, V1Testimony};
use testimony::verdict::{Cell, Decision, Evidence, Subject, Verdict, evaluate};

fn subject() -> Subject {
    Subject {
        file_name: DEB_NAME.into(),
        package: "linux-image-6.12.38-sk".into(),
        version: "6.12.38-1".into(),
        architecture: "amd64".into(),
        size: DEB_BYTES.len() as u64,
        sha256: sha256_hex(DEB_BYTES),
    }
}

/// alice+carol share org-a; bob org-b; dave org-c; erin org-d; frank org-e.
fn policy(extra: &str) -> Policy {
    let mut s = format!("threshold = 2\n{extra}\n");
    for (n, g) in [
        ("alice", "org-a"),
        ("carol", "org-a"),
        ("bob", "org-b"),
        ("dave", "org-c"),
        ("erin", "org-d"),
        ("frank", "org-e"),
    ] {
        s.push_str(&format!(
            "[[witness]]\nname = \"{n}\"\nfingerprint = \"{}\"\ngroup = \"{g}\"\n",
            fpr(n)
        ));
    }
    Policy::parse(&s).unwrap()
}

fn run(policy: &Policy, files: &[(&str, Vec<u8>)]) -> Verdict {
    let ev: Vec<Evidence> = files
        .iter()
        .map(|(o, b)| Evidence::from_cleartext(b, &all_keys(), at(), o))
        .collect();
    evaluate(policy, &[subject()], &ev, at())
}

fn cell<'a>(v: &'a Verdict, who: &str) -> &'a Cell {
    let i = v.witnesses.iter().position(|w| w.name == who).unwrap();
    &v.debs[0].cells[i]
}

fn other_build() -> BuildRecord {
    let mut r = record();
    r.debs[0].sha256 = sha256_hex(b"a different build");
    r
}

#[test]
fn two_independent_witnesses_pass() {
    let v = run(
        &policy(""),
        &[
            ("a.asc", signed_v2("alice", &record())),
            ("b.asc", signed_v2("bob", &record())),
        ],
    );
    assert_eq!(v.decision, Decision::ThresholdMet, "{}", v.to_table());
    assert_eq!(v.exit_code(), 0);
    assert!(matches!(cell(&v, "alice"), Cell::Agree { .. }));
    assert_eq!(cell(&v, "dave"), &Cell::Silent);
    assert!(v.to_table().contains("PASS"));
}

#[test]
fn two_keys_of_one_group_count_once() {
    let v = run(
        &policy(""),
        &[
            ("a.asc", signed_v2("alice", &record())),
            ("c.asc", signed_v2("carol", &record())),
        ],
    );
    assert!(matches!(cell(&v, "carol"), Cell::Agree { .. }));
    assert_eq!(
        v.decision,
        Decision::NotEnough {
            deb: DEB_NAME.into(),
            votes: 1,
            needed: 2
        }
    );
    assert_eq!(v.exit_code(), 3);
}

#[test]
fn duplicate_key_is_refused_and_duplicate_file_counts_once() {
    // bob listed twice, in two groups, would be two votes for one key: refused.
    let e = Policy::parse(&format!(
        "threshold = 2\n[[witness]]\nname = \"bob\"\nfingerprint = \"{b}\"\ngroup = \"g1\"\n[[witness]]\nname = \"bob2\"\nfingerprint = \"{b}\"\ngroup = \"g2\"\n[[witness]]\nname = \"dave\"\nfingerprint = \"{d}\"\n",
        b = fpr("bob"),
        d = fpr("dave")
    ))
    .unwrap_err();
    assert!(e.to_string().contains("bob2"), "{e}");
    let t = signed_v2("bob", &record());
    let v = run(&policy(""), &[("b.asc", t.clone()), ("b-copy.asc", t)]);
    assert_eq!(v.debs[0].agreeing_groups, vec!["org-b".to_string()]);
    assert_eq!(v.exit_code(), 3, "{}", v.to_table());
}

#[test]
fn wrong_key_does_not_count() {
    // mallory signs a testimony that claims to be alice's.
    let forged = sign_cleartext(
        &v2_for("alice", &record()).to_text(),
        &secret("mallory"),
        day_before(),
    )
    .unwrap();
    let v = run(
        &policy(""),
        &[
            ("m.asc", forged.into_bytes()),
            ("b.asc", signed_v2("bob", &record())),
        ],
    );
    assert_eq!(v.exit_code(), 3);
    assert_eq!(cell(&v, "alice"), &Cell::Silent);
    assert!(
        v.ignored
            .iter()
            .any(|i| i.reason.to_string().contains("not a witness")),
        "{:?}",
        v.ignored
    );
    // bob signs a testimony naming alice's key: invalid for bob, nothing for alice.
    let mut t = v2_for("bob", &record());
    t.witness.fingerprint = fpr("alice");
    let s = sign_cleartext(&t.to_text(), &secret("bob"), day_before()).unwrap();
    let v = run(&policy(""), &[("x.asc", s.into_bytes())]);
    assert!(
        matches!(cell(&v, "bob"), Cell::Invalid { reason, .. } if reason.to_string().contains("names witness key"))
    );
    assert_eq!(cell(&v, "alice"), &Cell::Silent);
}

#[test]
fn expired_and_revoked_witness_keys_are_invalid_not_votes() {
    let long_ago =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_704_200_000);
    let erin = sign_cleartext(
        &v2_for("erin", &record()).to_text(),
        &secret("erin"),
        long_ago,
    )
    .unwrap();
    let frank = signed_v2("frank", &record());
    let v = run(
        &policy(""),
        &[
            ("e.asc", erin.into_bytes()),
            ("f.asc", frank),
            ("a.asc", signed_v2("alice", &record())),
        ],
    );
    assert!(
        matches!(cell(&v, "erin"), Cell::Invalid { reason, .. } if reason.to_string().contains("expired")),
        "{}",
        v.to_table()
    );
    assert!(
        matches!(cell(&v, "frank"), Cell::Invalid { reason, .. } if reason.to_string().contains("revoked"))
    );
    assert_eq!(v.exit_code(), 3);
}

#[test]
fn replayed_testimony_for_another_version_is_silent() {
    let mut old = record();
    old.debs[0].version = "6.12.37-1".into();
    old.debs[0].file_name = "linux-image-6.12.38-sk_6.12.37-1_amd64.deb".into();
    let mut other_pkg = record();
    other_pkg.debs[0].package = "linux-headers-6.12.38-sk".into();
    let mut other_arch = record();
    other_arch.debs[0].architecture = "arm64".into();
    let v = run(
        &policy(""),
        &[
            ("a.asc", signed_v2("alice", &old)),
            ("b.asc", signed_v2("bob", &other_pkg)),
            ("d.asc", signed_v2("dave", &other_arch)),
        ],
    );
    for w in ["alice", "bob", "dave"] {
        assert_eq!(cell(&v, w), &Cell::Silent, "{}", v.to_table());
    }
    assert_eq!(v.exit_code(), 3);
}

#[test]
fn a_dissenting_witness_refuses_by_default_and_is_shown() {
    let files = [
        ("a.asc", signed_v2("alice", &record())),
        ("b.asc", signed_v2("bob", &record())),
        ("d.asc", signed_v2("dave", &other_build())),
    ];
    let v = run(&policy(""), &files);
    assert_eq!(
        v.decision,
        Decision::Dissent {
            deb: DEB_NAME.into(),
            witnesses: vec!["dave".into()]
        }
    );
    assert_eq!(v.exit_code(), 4);
    assert!(v.to_table().contains("DISSENT"));
    // Quality minimums do not silence a dissent.
    let v = run(&policy("min_review = 9"), &files);
    assert_eq!(v.exit_code(), 4);
    // With dissent = "report", the threshold decides and the dissent is reported.
    let v = run(&policy("dissent = \"report\""), &files);
    assert_eq!(v.exit_code(), 0);
    assert!(v.warnings.iter().any(|w| w.to_string().contains("dave")));
    // A dissent with a size mismatch only (same hash can't have another size, but a
    // v2 testimony may claim it) is still a dissent.
    let mut r = record();
    r.debs[0].size += 1;
    let v = run(&policy(""), &[("d.asc", signed_v2("dave", &r))]);
    assert!(matches!(cell(&v, "dave"), Cell::Dissent { .. }));
}

#[test]
fn minimums_age_and_source_pin() {
    let files = [
        ("a.asc", signed_v2("alice", &record())),
        ("b.asc", signed_v2("bob", &record())),
    ];
    for extra in [
        "min_review = 5".to_string(),
        "min_trust = 61".to_string(),
        "max_age_days = 0".to_string(),
        format!(
            "require_source_manifest_sha256 = \"{}\"",
            sha256_hex(b"another source")
        ),
    ] {
        let v = run(&policy(&extra), &files);
        assert_eq!(v.exit_code(), 3, "{extra}: {}", v.to_table());
        assert!(matches!(cell(&v, "alice"), Cell::Invalid { .. }), "{extra}");
    }
    let ok = format!(
        "min_review = 4\nmin_trust = 60\nmax_age_days = 2\nrequire_source_manifest_sha256 = \"{}\"",
        sha256_hex(b"manifest")
    );
    assert_eq!(run(&policy(&ok), &files).exit_code(), 0);
    // A dissent from a build of another source pin is not a dissent about this build.
    let mut r = other_build();
    r.source.manifest_sha256 = sha256_hex(b"another source");
    let v = run(&policy(&ok), &[("d.asc", signed_v2("dave", &r))]);
    assert!(matches!(cell(&v, "dave"), Cell::Invalid { .. }));
}

#[test]
fn text_after_the_signed_part_changed_is_ignored() {
    let mut a = signed_v2("alice", &record());
    // An attacker appends a "dissent" for alice and a fake review after the signature.
    a.extend_from_slice(
        format!("deb-sha256={}\nwitness-code-review=10\n", sha256_hex(b"x")).as_bytes(),
    );
    let v = run(
        &policy(""),
        &[("a.asc", a), ("b.asc", signed_v2("bob", &record()))],
    );
    assert_eq!(v.exit_code(), 0, "{}", v.to_table());
    assert!(
        v.warnings
            .iter()
            .any(|w| w.to_string().contains("not signed"))
    );
    // Changing the signed part instead breaks the signature: invalid, not a vote.
    let b = String::from_utf8(signed_v2("bob", &record()))
        .unwrap()
        .replace("witness-computer-trust=60", "witness-computer-trust=61");
    let v = run(
        &policy(""),
        &[
            ("a.asc", signed_v2("alice", &record())),
            ("b.asc", b.into_bytes()),
        ],
    );
    assert!(
        matches!(cell(&v, "bob"), Cell::Invalid { reason, .. } if reason.to_string().contains("bad signature")),
        "{}",
        v.to_table()
    );
    assert_eq!(v.exit_code(), 3);
}

#[test]
fn non_canonical_signed_v2_is_invalid() {
    // The signature is good, but the signed text is not canonical v2.
    let text = v2_for("alice", &record())
        .to_text()
        .replace("witness-code-review=4", "witness-code-review=04");
    let s = sign_cleartext(&text, &secret("alice"), day_before()).unwrap();
    let v = run(&policy(""), &[("a.asc", s.into_bytes())]);
    assert!(
        matches!(cell(&v, "alice"), Cell::Invalid { reason, .. } if reason.to_string().contains("leading zeros")),
        "{}",
        v.to_table()
    );
}

fn signed_v1(who: &str, r: &BuildRecord) -> Vec<u8> {
    let info = V1Info {
        name: who.into(),
        code_review: 4,
        computer_trust: 60,
        computer_system: None,
        jurisdiction: "Iceland".into(),
        sources_sign_by_fpr: None,
    };
    let v1 = V1Testimony::from_build_record(r, &info).to_text();
    sign_cleartext(&v1, &secret(who), day_before())
        .unwrap()
        .into_bytes()
}

#[test]
fn v1_testimonies_count_only_when_the_policy_opts_in() {
    let files = [
        ("a.asc", signed_v2("alice", &record())),
        ("b1.asc", signed_v1("bob", &record())),
    ];
    assert_eq!(run(&policy("accept_v1 = true"), &files).exit_code(), 0);
    for p in [policy(""), policy("accept_v1 = false")] {
        let v = run(&p, &files);
        assert_eq!(v.exit_code(), 3);
        assert!(
            matches!(cell(&v, "bob"), Cell::Invalid { reason, .. } if reason.to_string().contains("accept_v1 = true")),
            "{}",
            v.to_table()
        );
    }
    // A v1 dissent refuses even when v1 votes are not counted.
    let v = run(&policy(""), &[("b1.asc", signed_v1("bob", &other_build()))]);
    assert_eq!(v.exit_code(), 4, "{}", v.to_table());
}

/// Issue 12.2: a different .deb with the same Package and Version, saved under
/// another local name, used to dodge the honest witness's v1 dissent.
#[test]
fn a_v1_dissent_cannot_be_dodged_by_renaming_the_deb() {
    let mut p = policy("accept_v1 = true");
    p.threshold = 1;
    let honest = signed_v1("bob", &record());
    let mut evil = record();
    evil.debs[0].sha256 = sha256_hex(b"evil bytes");
    evil.debs[0].size = 10;
    let colluding = signed_v1("dave", &evil);
    for local_name in [
        DEB_NAME,
        "kernel.deb",
        "linux-image-6.12.38-sk_6.12.38-1_amd64 (1).deb",
    ] {
        let s = Subject {
            file_name: local_name.into(),
            size: 10,
            sha256: sha256_hex(b"evil bytes"),
            ..subject()
        };
        let ev: Vec<Evidence> = [("honest.asc", &honest), ("colluding.asc", &colluding)]
            .iter()
            .map(|(o, b)| Evidence::from_cleartext(b, &all_keys(), at(), o))
            .collect();
        let v = evaluate(&p, &[s], &ev, at());
        assert_eq!(v.exit_code(), 4, "{local_name}: {}", v.to_table());
        assert!(matches!(cell(&v, "bob"), Cell::Dissent { .. }));
        assert!(matches!(cell(&v, "dave"), Cell::Agree { .. }));
    }
}

/// A v1 vote with the .deb's hash counts whatever either side calls the file.
#[test]
fn a_v1_vote_matches_by_hash_not_by_name() {
    let mut r = record();
    r.debs[0].file_name = "renamed-by-the-witness.deb".into();
    let mut p = policy("accept_v1 = true");
    p.threshold = 1;
    let s = Subject {
        file_name: "local.deb".into(),
        ..subject()
    };
    let ev = [Evidence::from_cleartext(
        &signed_v1("bob", &r),
        &all_keys(),
        at(),
        "b",
    )];
    let v = evaluate(&p, std::slice::from_ref(&s), &ev, at());
    assert_eq!(v.exit_code(), 0, "{}", v.to_table());
    // Another package's v1 line (other name, other hash) is silent.
    r.debs[0].sha256 = sha256_hex(b"other package");
    let ev = [Evidence::from_cleartext(
        &signed_v1("bob", &r),
        &all_keys(),
        at(),
        "b",
    )];
    assert_eq!(cell(&evaluate(&p, &[s], &ev, at()), "bob"), &Cell::Silent);
}

#[test]
fn mirrors_that_disagree_are_refused() {
    let mut c = Collection::default();
    let a = signed_v2("alice", &record());
    c.add("alice.asc", "https://m1/alice.asc", a.clone())
        .unwrap();
    c.add("alice.asc", "https://m2/alice.asc", a).unwrap();
    let other = signed_v2("alice", &other_build());
    let e = c
        .add("alice.asc", "https://m3/alice.asc", other)
        .unwrap_err();
    assert!(matches!(e, Error::MirrorConflict { .. }));
    assert!(e.to_string().contains("m1") && e.to_string().contains("m3"));
}

#[test]
fn directories_read_asc_files_only_and_detached_pairs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alice.asc"), signed_v2("alice", &record())).unwrap();
    std::fs::write(dir.path().join("README"), "not a testimony").unwrap();
    std::fs::write(dir.path().join("bob.txt.gpg"), signed_v2("bob", &record())).unwrap();
    let text = v2_for("dave", &record()).to_text();
    std::fs::write(dir.path().join("dave.txt"), &text).unwrap();
    let sig =
        testimony::sign::sign_detached(text.as_bytes(), &secret("dave"), day_before()).unwrap();
    std::fs::write(dir.path().join("dave.txt.asc"), sig).unwrap();
    let mut c = Collection::default();
    assert_eq!(c.add_dir(dir.path()).unwrap(), 2);
    let ev = c.evidence(&all_keys(), at());
    assert_eq!(ev.len(), 2);
    let v = evaluate(&policy(""), &[subject()], &ev, at());
    assert_eq!(v.exit_code(), 0, "{}", v.to_table());
    assert_eq!(cell(&v, "bob"), &Cell::Silent);
}

#[test]
fn verify_deb_streams_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(DEB_NAME);
    std::fs::write(&p, DEB_BYTES).unwrap();
    let ctl = testimony::verdict::DebControl {
        package: "linux-image-6.12.38-sk".into(),
        version: "6.12.38-1".into(),
        architecture: "amd64".into(),
    };
    let t = vec![
        ("a".to_string(), signed_v2("alice", &record())),
        ("b".to_string(), signed_v2("bob", &record())),
    ];
    let v = testimony::verdict::verify_deb(&p, &ctl, &t, &all_keys(), &policy(""), at()).unwrap();
    assert!(v.passed());
    std::fs::write(&p, b"tampered").unwrap();
    let v = testimony::verdict::verify_deb(&p, &ctl, &t, &all_keys(), &policy(""), at()).unwrap();
    assert_eq!(
        v.exit_code(),
        4,
        "a tampered .deb: both witnesses dissent from its hash"
    );
}

/// Issue 12.7: an unusable testimony file is named once, not "X: X: …".
#[test]
fn an_unusable_testimony_names_its_file_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("junk.asc"),
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n",
    )
    .unwrap();
    let mut c = Collection::default();
    c.add_dir(dir.path()).unwrap();
    let v = evaluate(
        &policy(""),
        &[subject()],
        &c.evidence(&all_keys(), at()),
        at(),
    );
    let table = v.to_table();
    let path = dir.path().join("junk.asc").display().to_string();
    let line = table.lines().find(|l| l.starts_with("ignored")).unwrap();
    assert_eq!(line.matches(&path).count(), 1, "{line}");
    assert!(
        line.contains("no -----END PGP SIGNATURE----- line"),
        "{line}"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    /// Signed once: honest v1 (bob), colluding v1 (dave), v2 votes (alice, carol).
    fn evidence() -> &'static Vec<Evidence> {
        static EV: OnceLock<Vec<Evidence>> = OnceLock::new();
        EV.get_or_init(|| {
            let mut evil = record();
            evil.debs[0].sha256 = sha256_hex(DEB_BYTES);
            let mut honest = record();
            honest.debs[0].sha256 = sha256_hex(b"what bob built");
            [
                ("bob.asc", signed_v1("bob", &honest)),
                ("dave.asc", signed_v1("dave", &evil)),
                ("alice.asc", signed_v2("alice", &record())),
                ("carol.asc", signed_v2("carol", &record())),
            ]
            .iter()
            .map(|(o, b)| Evidence::from_cleartext(b, &all_keys(), at(), o))
            .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Issue 12.2: what the .deb is called locally never changes the verdict.
        #[test]
        fn the_local_file_name_never_changes_the_verdict(name in "[ -~]{0,40}") {
            let p = policy("accept_v1 = true");
            let base = evaluate(&p, &[subject()], evidence(), at());
            let renamed = Subject { file_name: name, ..subject() };
            let v = evaluate(&p, &[renamed], evidence(), at());
            prop_assert_eq!(v.exit_code(), base.exit_code());
            prop_assert_eq!(&v.debs[0].cells, &base.debs[0].cells);
            prop_assert_eq!(base.exit_code(), 4);
        }

        /// The order testimonies arrive in never changes any cell.
        #[test]
        fn evidence_order_never_changes_the_verdict(seed in any::<u64>()) {
            let p = policy("accept_v1 = true");
            let mut ev = evidence().clone();
            let mut s = seed;
            for i in (1..ev.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ev.swap(i, (s >> 33) as usize % (i + 1));
            }
            let base = evaluate(&p, &[subject()], evidence(), at());
            let v = evaluate(&p, &[subject()], &ev, at());
            prop_assert_eq!(&v.debs, &base.debs);
        }
    }
}
