//! The Kconfig reader on a small hand-made tree (runs everywhere, no kernel tree needed):
//! Mempo's bug7 in miniature — XEN=y silently removing UDEREF.

use std::path::Path;

use harden::{Arch, KconfigTree, KernelConfig};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn mini_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Kconfig",
        "mainmenu \"t\"\nsource \"arch/$(SRCARCH)/Kconfig\"\nsource \"mm/Kconfig\"\nosource \"absent/Kconfig\"\n",
    );
    write(
        d.path(),
        "arch/x86/Kconfig",
        "config X86_64\n\tdef_bool y\n\nconfig XEN\n\tbool \"Xen guest\"\n\thelp\n\t  config FAKE inside help is text\n\n\t  depends on NOTHING\n\nconfig EXPERT\n\tbool \"expert\"\n",
    );
    write(
        d.path(),
        "mm/Kconfig",
        "menu \"Memory\"\n\tdepends on X86_64\n\nconfig UDEREF\n\tbool \"user deref protection\"\n\tdepends on !XEN && \\\n\t\t   X86_64\n\thelp\n\t  text # not a comment\n\nif X86_64\nconfig KERNEXEC\n\tbool \"kernexec\" if EXPERT\n\tselect STRICT if X86_64\nendif\n\nchoice\n\tprompt \"init\"\nconfig INIT_ZERO\n\tbool \"zero\"\nconfig INIT_NONE\n\tbool \"none\"\nendchoice\n\nconfig STRICT\n\tbool\n\tdefault y if XEN\nendmenu\n",
    );
    d
}

fn config(text: &str) -> KernelConfig {
    KernelConfig::parse(text, "t.config").unwrap()
}

#[test]
fn follows_sources_and_skips_help_text() {
    let d = mini_tree();
    let tree = KconfigTree::load(d.path(), Arch::X86_64).unwrap();
    assert_eq!(tree.files(), 3);
    for s in ["X86_64", "XEN", "UDEREF", "KERNEXEC", "INIT_ZERO", "STRICT"] {
        assert!(tree.defines(s), "{s}");
    }
    assert!(!tree.defines("FAKE"), "help text is not parsed");
    let uderef = &tree.entries("UDEREF")[0];
    assert_eq!(uderef.at, "mm/Kconfig:4");
    assert_eq!(uderef.deps.len(), 2, "menu condition + own depends on");
}

#[test]
fn names_the_option_that_turned_a_protection_off() {
    let d = mini_tree();
    let tree = KconfigTree::load(d.path(), Arch::X86_64).unwrap();
    let c = config("CONFIG_X86_64=y\nCONFIG_XEN=y\n# CONFIG_UDEREF is not set\n");
    assert_eq!(
        tree.explain_off("UDEREF", &c),
        "CONFIG_UDEREF is off because it depends on !XEN (mm/Kconfig:6), and CONFIG_XEN=y"
    );
    let c = config("# CONFIG_X86_64 is not set\n");
    assert!(
        tree.explain_off("UDEREF", &c)
            .contains("sits inside `menu X86_64` (mm/Kconfig:2)"),
        "{}",
        tree.explain_off("UDEREF", &c)
    );
}

#[test]
fn explains_choices_prompts_selects_and_defaults() {
    let d = mini_tree();
    let tree = KconfigTree::load(d.path(), Arch::X86_64).unwrap();
    let c = config("CONFIG_X86_64=y\nCONFIG_INIT_NONE=y\nCONFIG_KERNEXEC=y\nCONFIG_STRICT=y\n");
    assert!(
        tree.explain_off("INIT_ZERO", &c)
            .ends_with("and CONFIG_INIT_NONE=y is chosen")
    );
    assert!(
        tree.explain_off("KERNEXEC", &config("CONFIG_X86_64=y\n"))
            .contains("prompt is only visible if EXPERT")
    );
    assert_eq!(
        tree.explain_on("STRICT", &c),
        "CONFIG_STRICT=y because CONFIG_KERNEXEC=y selects it (mm/Kconfig:14)"
    );
    let c = config("CONFIG_X86_64=y\nCONFIG_XEN=y\nCONFIG_STRICT=y\n");
    assert!(
        tree.explain_on("STRICT", &c).contains("defaults to y"),
        "{}",
        tree.explain_on("STRICT", &c)
    );
    assert!(tree.explain_off("NOPE", &c).contains("does not exist"));
}

#[test]
fn malformed_trees_are_errors_naming_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Kconfig", "config A\n\tbool \"a\"\nendif\n");
    let e = KconfigTree::load(d.path(), Arch::X86_64)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("Kconfig:3: Kconfig: endif without an opening block"),
        "{e}"
    );
    write(d.path(), "Kconfig", "source \"../etc/Kconfig\"\n");
    assert!(KconfigTree::load(d.path(), Arch::X86_64).is_err());
    assert!(KconfigTree::load(&d.path().join("missing"), Arch::X86_64).is_err());
}

fn load_error(d: &Path) -> String {
    KconfigTree::load(d, Arch::X86_64).unwrap_err().to_string()
}

/// The error of loading a tree made of `files` (path, text).
fn tree_error(files: &[(&str, &str)]) -> String {
    let d = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(d.path(), rel, text);
    }
    load_error(d.path())
}

#[test]
fn a_kconfig_that_sources_itself_is_an_error_not_a_stack_overflow() {
    let e = tree_error(&[("Kconfig", "config A\n\tbool \"a\"\nsource \"Kconfig\"\n")]);
    let loop_named = "Kconfig:3: Kconfig: source \"Kconfig\" is a loop: \
                      that file is already being read (through Kconfig)";
    assert!(e.ends_with(loop_named), "{e}");
}

#[test]
fn a_source_loop_through_other_files_names_the_chain() {
    let e = tree_error(&[
        ("Kconfig", "source \"a/Kconfig\"\n"),
        ("a/Kconfig", "source \"b/Kconfig\"\n"),
        ("b/Kconfig", "config B\n\tbool\nsource \"a/Kconfig\"\n"),
    ]);
    assert!(
        e.contains("(through Kconfig -> a/Kconfig -> b/Kconfig)"),
        "{e}"
    );
}

#[test]
fn source_nesting_beyond_the_limit_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let depth = harden::kconfig_tree::MAX_SOURCE_DEPTH;
    write(d.path(), "Kconfig", "source \"k1\"\n");
    for i in 1..=depth {
        write(
            d.path(),
            &format!("k{i}"),
            &format!("source \"k{}\"\n", i + 1),
        );
    }
    write(
        d.path(),
        &format!("k{}", depth + 1),
        "config LAST\n\tbool\n",
    );
    let e = load_error(d.path());
    assert!(
        e.contains(&format!("source nested deeper than {depth} files")),
        "{e}"
    );
    // `Kconfig` and k1..k(depth-1): depth files open at once, the most allowed.
    write(
        d.path(),
        &format!("k{}", depth - 1),
        "config LAST\n\tbool\n",
    );
    let tree = KconfigTree::load(d.path(), Arch::X86_64).unwrap();
    assert!(tree.defines("LAST"));
}

#[test]
fn blocks_nested_beyond_the_limit_are_an_error() {
    let d = tempfile::tempdir().unwrap();
    let max = harden::kconfig_tree::MAX_BLOCK_DEPTH;
    let deep = |n: usize| {
        format!(
            "{}config A\n\tbool\n{}",
            "if B\n".repeat(n),
            "endif\n".repeat(n)
        )
    };
    write(d.path(), "Kconfig", &deep(max));
    let tree = KconfigTree::load(d.path(), Arch::X86_64).unwrap();
    assert_eq!(tree.entries("A")[0].deps.len(), max);
    write(d.path(), "Kconfig", &deep(max + 1));
    let e = load_error(d.path());
    assert!(
        e.ends_with(&format!(
            "Kconfig:{}: Kconfig: if/menu/choice blocks nested deeper than {max}",
            max + 1
        )),
        "{e}"
    );
}

#[test]
fn a_menu_header_with_too_many_depends_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let max = harden::kconfig_tree::MAX_HEADER_DEPENDS;
    let menu = |n: usize| {
        format!(
            "menu \"m\"\n{}config A\n\tbool \"a\"\nendmenu\n",
            "\tdepends on B\n".repeat(n)
        )
    };
    write(d.path(), "Kconfig", &menu(max));
    assert!(KconfigTree::load(d.path(), Arch::X86_64).is_ok());
    write(d.path(), "Kconfig", &menu(max + 1));
    let e = load_error(d.path());
    assert!(
        e.contains(&format!("more than {max} `depends on` lines")),
        "{e}"
    );
}

/// Every input `cargo xtask fuzz` found (fuzz/regressions/harden_kconfig/) loads to a
/// tree or an error, as the fuzz target does.
#[test]
fn fuzz_found_kconfig_inputs_load_or_fail_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/harden_kconfig");
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let d = tempfile::tempdir().unwrap();
        std::fs::copy(f.unwrap().path(), d.path().join("Kconfig")).unwrap();
        let _ = KconfigTree::load(d.path(), Arch::X86_64);
        n += 1;
    }
    assert!(n >= 1, "no inputs in {}", dir.display());
}
