//! Real differing pairs built with gcc: each test changes one thing between two
//! builds and checks that debdiff names that thing as the cause.

mod common;

use common::{HELLO, gcc, run};
use debdiff::{CauseKind, ItemDiff, Limits, diff_file_contents};
use std::process::Command;

fn kinds(item: &ItemDiff) -> Vec<CauseKind> {
    item.causes.iter().map(|f| f.kind).collect()
}

fn assert_primary(item: &ItemDiff, kind: CauseKind) {
    assert_eq!(item.primary().unwrap().kind, kind, "{item:#?}");
}

fn evidence_of(item: &ItemDiff, kind: CauseKind) -> String {
    item.causes
        .iter()
        .filter(|f| f.kind == kind)
        .flat_map(|f| {
            f.evidence
                .iter()
                .map(|e| format!("{} | {} | {}", e.location, e.a, e.b))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn build_path_in_dwarf() {
    let t = tempfile::tempdir().unwrap();
    let a = gcc(&t.path().join("first/build"), HELLO, &["-g", "-O2"], &[]);
    let b = gcc(
        &t.path().join("second-place/build"),
        HELLO,
        &["-g", "-O2"],
        &[],
    );
    let item = diff_file_contents("usr/bin/hello", &a, &b, &Limits::default());
    assert_primary(&item, CauseKind::BuildPath);
    let ev = evidence_of(&item, CauseKind::BuildPath);
    assert!(ev.contains("DW_AT_comp_dir"), "{ev}");
    assert!(
        ev.contains("first/build") && ev.contains("second-place/build"),
        "{ev}"
    );
    assert!(item.primary().unwrap().detail.contains("DWARF"));
    // The build-id follows from it, and is reported as a consequence.
    assert!(kinds(&item).contains(&CauseKind::BuildId), "{item:#?}");
    assert!(
        item.sections
            .iter()
            .any(|s| s.name == ".debug_str" || s.name == ".debug_line_str")
    );
}

#[test]
fn compiler_flag_in_dw_at_producer() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    let a = gcc(&dir, HELLO, &["-g", "-O1"], &[]);
    let b = gcc(&dir, HELLO, &["-g", "-O2"], &[]);
    let item = diff_file_contents("usr/bin/hello", &a, &b, &Limits::default());
    assert_primary(&item, CauseKind::CompilerFlags);
    let ev = evidence_of(&item, CauseKind::CompilerFlags);
    assert!(ev.contains("-O1") && ev.contains("-O2"), "{ev}");
}

#[test]
fn compiler_flag_without_debug_info_is_code() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    let src = "int f(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * 3; return s; }\nint main(void) { int v[4] = {1,2,3,4}; return f(v, 4); }\n";
    let a = gcc(&dir, src, &["-O0"], &[]);
    let b = gcc(&dir, src, &["-O2"], &[]);
    let item = diff_file_contents("usr/bin/hello", &a, &b, &Limits::default());
    assert_primary(&item, CauseKind::Code);
    assert!(
        item.sections
            .iter()
            .any(|s| s.name == ".text" && s.content_differs)
    );
}

#[test]
fn source_date_epoch_in_date_macros() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    let src = "#include <stdio.h>\nint main(void) { puts(\"built \" __DATE__ \" \" __TIME__); return 0; }\n";
    let a = gcc(
        &dir,
        src,
        &["-O2", "-Wno-date-time"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    let b = gcc(
        &dir,
        src,
        &["-O2", "-Wno-date-time"],
        &[("SOURCE_DATE_EPOCH", "1700090000")],
    );
    let item = diff_file_contents("usr/bin/hello", &a, &b, &Limits::default());
    assert_primary(&item, CauseKind::Timestamp);
    let ev = evidence_of(&item, CauseKind::Timestamp);
    assert!(
        ev.contains("Nov 14 2023") && ev.contains("Nov 15 2023"),
        "{ev}"
    );
    assert!(ev.contains(".rodata"), "{ev}");
}

#[test]
fn compiler_banner_in_comment() {
    // Seed bug2: the same program with another GCC banner in .comment.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    let a = gcc(&dir, HELLO, &["-O2"], &[]);
    let banner = t.path().join("banner");
    std::fs::write(&banner, b"GCC: (Debian 13.2.0-25) 13.2.0\0").unwrap();
    let out = t.path().join("hello-b");
    run(Command::new("objcopy")
        .arg("--update-section")
        .arg(format!(".comment={}", banner.display()))
        .arg(dir.join("hello"))
        .arg(&out));
    let b = std::fs::read(&out).unwrap();
    let item = diff_file_contents(
        "usr/src/linux-headers-6.12/scripts/basic/fixdep",
        &a,
        &b,
        &Limits::default(),
    );
    assert_primary(&item, CauseKind::CompilerBanner);
    let ev = evidence_of(&item, CauseKind::CompilerBanner);
    assert!(
        ev.contains("GCC: (Debian 12") && ev.contains("13.2.0-25"),
        "{ev}"
    );
}

#[test]
fn recorded_gcc_switches() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    // No globals, so -fcommon changes no code: only the recorded switches.
    let a = gcc(
        &dir,
        HELLO,
        &["-O2", "-frecord-gcc-switches", "-fcommon"],
        &[],
    );
    let b = gcc(
        &dir,
        HELLO,
        &["-O2", "-frecord-gcc-switches", "-fno-common"],
        &[],
    );
    let item = diff_file_contents("usr/bin/hello", &a, &b, &Limits::default());
    assert_primary(&item, CauseKind::CompilerFlags);
    let ev = evidence_of(&item, CauseKind::CompilerFlags);
    assert!(
        ev.contains(" -fcommon") && ev.contains("-fno-common"),
        "{ev}"
    );
}

fn ikconfig_source(config: &str) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, config.as_bytes()).unwrap();
    let mut blob = b"IKCFG_ST".to_vec();
    blob.extend(gz.finish().unwrap());
    blob.extend(b"IKCFG_ED");
    let bytes: Vec<String> = blob.iter().map(|b| b.to_string()).collect();
    format!(
        "const unsigned char kernel_config_data[] __attribute__((used)) = {{{}}};\nint main(void) {{ return kernel_config_data[0]; }}\n",
        bytes.join(",")
    )
}

#[test]
fn embedded_config() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    let a = gcc(
        &dir,
        &ikconfig_source("CONFIG_IKCONFIG=y\nCONFIG_HZ=250\n"),
        &["-O2"],
        &[],
    );
    let b = gcc(
        &dir,
        &ikconfig_source("CONFIG_IKCONFIG=y\nCONFIG_HZ=1000\n"),
        &["-O2"],
        &[],
    );
    let item = diff_file_contents("boot/vmlinux", &a, &b, &Limits::default());
    assert_primary(&item, CauseKind::EmbeddedConfig);
    let diff = item.text_diff.as_deref().unwrap();
    assert!(
        diff.contains("-CONFIG_HZ=250") && diff.contains("+CONFIG_HZ=1000"),
        "{diff}"
    );
}

#[test]
fn xz_module_compression_only() {
    let t = tempfile::tempdir().unwrap();
    let a = gcc(&t.path().join("src"), HELLO, &["-O2"], &[]);
    let xa = common::xz(&a);
    let mut enc = xz2::write::XzEncoder::new(Vec::new(), 9);
    std::io::Write::write_all(&mut enc, &a).unwrap();
    let xb = enc.finish().unwrap();
    assert_ne!(xa, xb);
    let item = diff_file_contents("lib/modules/x/hello.ko.xz", &xa, &xb, &Limits::default());
    assert_primary(&item, CauseKind::Compression);
}

#[test]
fn decompression_bomb_is_a_note_not_a_crash() {
    let zeros = vec![0u8; 8 << 20];
    let mut enc = xz2::write::XzEncoder::new(Vec::new(), 6);
    std::io::Write::write_all(&mut enc, &zeros).unwrap();
    let a = enc.finish().unwrap();
    let mut b = a.clone();
    let n = b.len();
    b[n / 2] ^= 1;
    let limits = Limits {
        max_decompressed: 1 << 20,
        ..Limits::default()
    };
    let item = diff_file_contents("lib/modules/x/bomb.ko.xz", &a, &b, &limits);
    assert!(item.notes.iter().any(|n| n.contains("limit")), "{item:#?}");
    assert_eq!(item.primary().unwrap().kind, CauseKind::Bytes);
}

#[test]
fn btf_from_pahole() {
    // Another field type: pahole -J (dwarves, as kbuild's BTF step) encodes other BTF.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("src");
    let src = |ty: &str| {
        format!("struct s {{ {ty} a; }};\nstruct s g;\nint main(void) {{ return (int)g.a; }}\n")
    };
    let mut sides = Vec::new();
    for ty in ["int", "long"] {
        gcc(&dir, &src(ty), &["-g", "-O2"], &[]);
        run(Command::new("pahole").arg("-J").arg(dir.join("hello")));
        sides.push(std::fs::read(dir.join("hello")).unwrap());
    }
    let item = diff_file_contents("usr/lib/x/prog", &sides[0], &sides[1], &Limits::default());
    assert_primary(&item, CauseKind::Btf);
    assert!(
        item.sections
            .iter()
            .any(|s| s.name == ".BTF" && s.content_differs)
    );
    assert!(!kinds(&item).contains(&CauseKind::BuildPath), "{item:#?}");
}

#[test]
fn build_path_in_relocatable_object_dwarf() {
    // A .o (as a .ko before modpost): DWARF string offsets live in relocations.
    let t = tempfile::tempdir().unwrap();
    let objects: Vec<Vec<u8>> = ["one/obj", "two-longer/obj"]
        .iter()
        .map(|d| {
            let dir = t.path().join(d);
            gcc(&dir, HELLO, &["-g", "-O2", "-c"], &[]);
            std::fs::read(dir.join("hello")).unwrap()
        })
        .collect();
    let item = diff_file_contents("hello.ko", &objects[0], &objects[1], &Limits::default());
    assert_primary(&item, CauseKind::BuildPath);
    let ev = evidence_of(&item, CauseKind::BuildPath);
    assert!(
        ev.contains("DW_AT_comp_dir") && ev.contains("two-longer/obj"),
        "{ev}"
    );
}
