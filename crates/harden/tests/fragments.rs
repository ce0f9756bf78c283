//! The fragment files shipped under `fragments/` are exactly what the generator writes, so a
//! rule-table change cannot leave them stale. `HARDEN_BLESS=1 cargo test -p harden --test
//! fragments` rewrites them.

use std::path::PathBuf;

use harden::{Arch, Compiler, FragmentOptions, Policy, Toolchain, fragment};

fn shipped() -> Vec<(&'static str, Toolchain)> {
    vec![
        (
            "x86_64-gcc12.config",
            Toolchain::debian12_gcc(Arch::X86_64, false),
        ),
        (
            "x86_64-gcc12-plugins.config",
            Toolchain::debian12_gcc(Arch::X86_64, true),
        ),
        (
            "arm64-gcc12.config",
            Toolchain::debian12_gcc(Arch::Arm64, false),
        ),
        (
            "arm64-gcc12-plugins.config",
            Toolchain::debian12_gcc(Arch::Arm64, true),
        ),
        (
            "x86_64-clang16.config",
            Toolchain {
                arch: Arch::X86_64,
                compiler: Compiler::Clang,
                major: 16,
                gcc_plugins: false,
            },
        ),
    ]
}

#[test]
fn shipped_fragments_match_the_generator() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fragments");
    for (name, tc) in shipped() {
        let want = fragment(&tc, &Policy::default(), FragmentOptions::default());
        let path = dir.join(name);
        if std::env::var_os("HARDEN_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale: run HARDEN_BLESS=1 cargo test -p harden --test fragments",
            path.display()
        );
    }
}
