//! Property tests: v1, v2, build record and policy parse/write round trips, and
//! "anything v2/build-record accepts is already canonical".

use proptest::prelude::*;
use testimony::build_record::{
    BuildRecord, DebRecord, FileHash, Hardening, HardeningMode, SourcePin, Toolchain,
    ToolchainComponent,
};
use testimony::canonical::Fingerprint;
use testimony::policy::Policy;
use testimony::v1::V1Testimony;
use testimony::v2::{TestimonyV2, WitnessInfo};

fn sha() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}"
}

fn text_value() -> impl Strategy<Value = String> {
    // Printable, Unicode letters included, no leading/trailing space.
    "[\\p{L}\\p{N}!-~]([\\p{L}\\p{N} -~]{0,24}[\\p{L}\\p{N}!-~])?"
}

fn deb() -> impl Strategy<Value = DebRecord> {
    (
        "[a-z0-9][a-z0-9.+-]{0,15}",
        "[0-9][0-9a-z.+~:-]{0,10}",
        "(amd64|arm64|all|i386)",
        any::<u64>(),
        sha(),
        prop::collection::btree_map(
            "[a-z0-9_][a-z0-9_.-]{0,6}(/[a-z0-9_][a-z0-9_.-]{0,6}){0,3}",
            sha(),
            0..6,
        ),
    )
        .prop_map(
            |(package, version, architecture, size, sha256, files)| DebRecord {
                file_name: format!(
                    "{package}_{}_{architecture}.deb",
                    version.replace(':', "%3a")
                ),
                package,
                version,
                architecture,
                size,
                sha256,
                files: files
                    .into_iter()
                    .map(|(path, sha256)| FileHash { path, sha256 })
                    .collect(),
            },
        )
}

fn hardening() -> impl Strategy<Value = Option<Hardening>> {
    prop::option::of(
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            prop::collection::btree_set("(kconfig|sysctl|cmdline):[A-Za-z0-9_.:]{1,12}", 0..4),
            prop::sample::select(vec![
                HardeningMode::Enforced,
                HardeningMode::AllowWeaker,
                HardeningMode::Off,
            ]),
        )
            .prop_map(|(ok, fail, na, failed, mode)| Hardening {
                ok,
                fail,
                not_applicable: na,
                failed_rules: failed.into_iter().collect(),
                mode,
            }),
    )
}

fn record() -> impl Strategy<Value = BuildRecord> {
    (
        sha(),
        "[a-z0-9][a-z0-9._-]{0,20}",
        sha(),
        any::<u64>(),
        prop::collection::btree_map("[A-Za-z0-9._+-]{1,10}", "[0-9A-Za-z.:~+-]{1,10}", 0..5),
        prop::collection::vec(text_value(), 0..3),
        sha(),
        prop::collection::vec(deb(), 1..4),
        (
            hardening(),
            prop::option::of("[a-z0-9-]{1,64}"),
            prop::option::of(sha()),
        ),
    )
        .prop_map(
            |(
                m,
                tn,
                ts,
                sde,
                comps,
                banners,
                cfg,
                debs,
                (hardening, flavour, module_cert_sha256),
            )| {
                let mut debs = debs;
                debs.sort_by(|a, b| a.file_name.cmp(&b.file_name));
                debs.dedup_by(|a, b| a.file_name == b.file_name);
                BuildRecord {
                    source: SourcePin {
                        manifest_sha256: m,
                        tarball_name: tn,
                        tarball_sha256: ts,
                        source_date_epoch: sde,
                    },
                    toolchain: Toolchain {
                        components: comps
                            .into_iter()
                            .map(|(name, version)| ToolchainComponent { name, version })
                            .collect(),
                        banners,
                    },
                    kernel_config_sha256: cfg,
                    flavour,
                    hardening,
                    module_cert_sha256,
                    debs,
                }
            },
        )
}

fn testimony() -> impl Strategy<Value = TestimonyV2> {
    (
        record(),
        text_value(),
        "[0-9A-F]{40}",
        prop::option::of(text_value()),
        prop::option::of(text_value()),
        0u8..=10,
        0u16..=300,
        prop::option::of(text_value()),
        prop::collection::vec(
            prop::option::of(text_value()).prop_map(Option::unwrap_or_default),
            0..4,
        ),
        0u64..253_402_300_799,
    )
        .prop_map(
            |(r, name, fpr, j, sys, review, trust, canary, statement, date)| {
                TestimonyV2::from_build_record(
                    &r,
                    WitnessInfo {
                        name,
                        fingerprint: Fingerprint::parse_canonical(&fpr).unwrap(),
                        jurisdiction: j,
                        computer_system: sys,
                        code_review: review,
                        computer_trust: trust,
                        canary,
                        statement,
                    },
                    date,
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn v1_any_text_round_trips(t in "(\\PC|\n|\r|=|<cannary>|my-code-review=){0,200}") {
        let p = V1Testimony::parse(&t);
        prop_assert_eq!(p.to_text(), t.clone());
        prop_assert_eq!(V1Testimony::parse(&p.to_text()), p.clone());
        let _ = p.fields(); // validation never panics
    }

    #[test]
    fn v1_fields_read_what_was_written(review in 0u8..=10, trust in 0u16..=300, file in "[a-z0-9._+-]{1,20}\\.deb", h in sha(), extra in "x-[a-z-]{0,10}=[ -~]{0,20}") {
        let t = format!("{extra}\nmy-code-review={review} (see below)\nmy-checksum={file} {}\nmy-computer-trust={trust}\n", h.to_uppercase());
        let f = V1Testimony::parse(&t).fields().unwrap();
        prop_assert_eq!(f.code_review, Some(review));
        prop_assert_eq!(f.computer_trust, Some(trust));
        prop_assert_eq!(&f.checksums[0].sha256, &h);
        prop_assert_eq!(&f.checksums[0].file, &file);
    }

    #[test]
    fn build_record_round_trips(r in record()) {
        let t = r.to_text();
        let back = BuildRecord::parse(&t).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(back.to_text(), t);
    }

    #[test]
    fn v2_round_trips(x in testimony()) {
        let t = x.to_text();
        let back = TestimonyV2::parse(&t).unwrap();
        prop_assert_eq!(&back, &x);
        prop_assert_eq!(back.to_text(), t);
    }

    /// Any single-character change either is rejected or yields a text that is
    /// its own canonical form: one value, one text.
    #[test]
    fn v2_accepts_only_canonical(x in testimony(), pos in any::<prop::sample::Index>(), c in prop::sample::select(vec![' ', '\r', '\n', '0', 'A', 'a', '=', '-', '\u{430}', '\t'])) {
        let t = x.to_text();
        let mut chars: Vec<char> = t.chars().collect();
        let i = pos.index(chars.len() + 1);
        chars.insert(i, c);
        let m: String = chars.into_iter().collect();
        if let Ok(p) = TestimonyV2::parse(&m) {
            prop_assert_eq!(p.to_text(), m.clone());
        }
        if let Ok(p) = BuildRecord::parse(&m) {
            prop_assert_eq!(p.to_text(), m.clone());
        }
    }

    #[test]
    fn policy_parses_what_it_says(threshold in 1usize..4, n in 4usize..7, review in 0u8..=10, trust in 0u16..=300, age in prop::option::of(0u64..10_000), fprs in prop::collection::vec("[0-9a-fA-F]{40}", 7)) {
        let mut s = format!("threshold = {threshold}\nmin_review = {review}\nmin_trust = {trust}\n");
        if let Some(a) = age { s.push_str(&format!("max_age_days = {a}\n")); }
        for (i, f) in fprs.iter().take(n).enumerate() {
            s.push_str(&format!("[[witness]]\nname = \"w{i}\"\nfingerprint = \"{f}\"\ngroup = \"g{i}\"\n"));
        }
        let p = Policy::parse(&s).unwrap();
        prop_assert_eq!(p.threshold, threshold);
        prop_assert_eq!(p.min_review, review);
        prop_assert_eq!(p.min_trust, trust);
        prop_assert_eq!(p.max_age_days, age);
        let distinct: std::collections::BTreeSet<String> = fprs.iter().take(n).map(|f| f.to_uppercase()).collect();
        prop_assert_eq!(p.witnesses.len(), distinct.len());
    }

    #[test]
    fn policy_parser_never_panics(s in "(\\PC|\n|\\[\\[witness\\]\\]|threshold = |fingerprint = ){0,80}") {
        let _ = Policy::parse(&s);
    }
}
