//! The rule table itself: ids, words, coverage, and (with a kernel tree) symbol existence.

use std::collections::{BTreeMap, BTreeSet};

mod common;
use common::linux_tree;
use harden::rules::{self, Group, Kind};
use harden::{Arch, KconfigTree};

fn count(kind: Kind, arch: Arch) -> usize {
    rules::all()
        .filter(|r| r.kind() == kind && r.applies_to(arch))
        .count()
}

#[test]
fn ids_are_unique_and_every_rule_has_why_and_source() {
    let mut seen = BTreeSet::new();
    for r in rules::all() {
        assert!(seen.insert(r.id()), "duplicate id {}", r.id());
        assert!(r.why.len() >= 10, "{}: why too short", r.id());
        assert!(
            !r.source.is_empty() && !r.by.is_empty(),
            "{}: no source/recommender",
            r.id()
        );
        assert!(!r.why.contains('\n'), "{}: why is one line", r.id());
    }
}

#[test]
fn why_lines_are_not_copied_between_rules() {
    let mut seen = BTreeMap::new();
    for r in rules::all() {
        if let Some(other) = seen.insert(r.why, r.id()) {
            panic!("{} and {} share the same why", other, r.id());
        }
    }
}

#[test]
fn coverage_per_kind_and_arch() {
    for arch in [Arch::X86_64, Arch::Arm64] {
        for kind in [Kind::Kconfig, Kind::Cmdline, Kind::Sysctl] {
            let per_group: Vec<String> = Group::ALL
                .iter()
                .map(|g| {
                    format!(
                        "{}={}",
                        g.name(),
                        rules::all()
                            .filter(|r| r.kind() == kind && r.applies_to(arch) && r.group == *g)
                            .count()
                    )
                })
                .collect();
            eprintln!(
                "{arch:?} {kind:?}: {} ({})",
                count(kind, arch),
                per_group.join(" ")
            );
        }
    }
    assert!(
        count(Kind::Kconfig, Arch::X86_64) >= 250,
        "{}",
        count(Kind::Kconfig, Arch::X86_64)
    );
    assert!(
        count(Kind::Cmdline, Arch::X86_64) >= 60,
        "{}",
        count(Kind::Cmdline, Arch::X86_64)
    );
    assert!(
        count(Kind::Sysctl, Arch::X86_64) >= 35,
        "{}",
        count(Kind::Sysctl, Arch::X86_64)
    );
    assert!(count(Kind::Kconfig, Arch::Arm64) >= 200);
    for g in Group::ALL {
        assert!(rules::all().any(|r| r.group == g), "{g:?} has no rules");
    }
}

#[test]
#[ignore = "network"] // the pinned source tree: SAMEKERNEL_LINUX_SRC, which `cargo xtask test` unpacks from the archive
fn every_kconfig_symbol_exists_in_linux_6_12_for_its_arch() {
    let src = linux_tree();
    for arch in [Arch::X86_64, Arch::Arm64] {
        let tree = KconfigTree::load(&src, arch).unwrap();
        assert!(
            tree.files() > 1000,
            "read only {} Kconfig files",
            tree.files()
        );
        let mut missing = Vec::new();
        for r in rules::all().filter(|r| r.applies_to(arch)) {
            for t in r.check.terms().iter().filter(|t| t.kind == Kind::Kconfig) {
                if !tree.defines(t.name) {
                    missing.push(format!("{} ({})", t.name, r.id()));
                }
            }
            for s in r.only_if {
                if !tree.defines(s) {
                    missing.push(format!("{s} (only_if of {})", r.id()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{arch:?}: not in Linux 6.12: {missing:?}"
        );
    }
}
