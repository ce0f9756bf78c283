//! Applying unified diffs with -p1 semantics.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use srcpin::patch::apply_patch;

fn tree_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, c) in files {
        let path = d.path().join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, c).unwrap();
    }
    d
}

const GOOD: &str = "From: someone
Subject: [PATCH] demo

---
diff --git a/Makefile b/Makefile
--- a/Makefile
+++ b/Makefile
@@ -1,3 +1,3 @@
 VERSION = 6
-PATCHLEVEL = 12
+PATCHLEVEL = 13
 SUBLEVEL = 0
@@ -8,2 +8,3 @@
 h
 i
+j
--- /dev/null
+++ b/new/file.txt
@@ -0,0 +1,2 @@
+hello
+world
\\ No newline at end of file
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
-- 
2.45
";

#[test]
fn multi_file_patch_modifies_creates_and_deletes() {
    // Two extra lines at the top: the hunks apply at an offset, like GNU patch.
    let t = tree_with(&[
        (
            "Makefile",
            "# x\n# y\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nd\ne\nf\ng\nh\ni\n",
        ),
        ("gone.txt", "bye\n"),
    ]);
    fs::set_permissions(t.path().join("Makefile"), fs::Permissions::from_mode(0o755)).unwrap();
    apply_patch("demo.patch", GOOD.as_bytes(), t.path(), 1).unwrap();
    assert_eq!(
        fs::read_to_string(t.path().join("Makefile")).unwrap(),
        "# x\n# y\nVERSION = 6\nPATCHLEVEL = 13\nSUBLEVEL = 0\nd\ne\nf\ng\nh\ni\nj\n"
    );
    assert_eq!(
        fs::metadata(t.path().join("Makefile"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    assert_eq!(
        fs::read_to_string(t.path().join("new/file.txt")).unwrap(),
        "hello\nworld"
    );
    assert!(!t.path().join("gone.txt").exists());
}

#[test]
fn mismatching_hunk_is_named() {
    let t = tree_with(&[
        (
            "Makefile",
            "VERSION = 6\nPATCHLEVEL = 11\nSUBLEVEL = 0\nd\ne\nf\ng\nh\ni\n",
        ),
        ("gone.txt", "bye\n"),
    ]);
    let err = apply_patch("demo.patch", GOOD.as_bytes(), t.path(), 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("patch demo.patch") && err.contains("Makefile: hunk #1 (@@ -1,3 +1,3 @@)"),
        "{err}"
    );
}

#[test]
fn second_hunk_failure_is_named() {
    let t = tree_with(&[
        (
            "Makefile",
            "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nd\ne\nf\ng\nh\nX\n",
        ),
        ("gone.txt", "bye\n"),
    ]);
    let err = apply_patch("demo.patch", GOOD.as_bytes(), t.path(), 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hunk #2"), "{err}");
}

#[test]
fn paths_must_stay_inside_the_tree() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("tree");
    fs::create_dir(&root).unwrap();
    fs::write(outer.path().join("victim"), "a\n").unwrap();
    let p = "--- a/../victim\n+++ b/../victim\n@@ -1 +1 @@\n-a\n+pwned\n";
    let err = apply_patch("evil.patch", p.as_bytes(), &root, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("leaves the tree"), "{err}");
    // Through a symlink that points out of the tree.
    std::os::unix::fs::symlink(outer.path(), root.join("link")).unwrap();
    let p = "--- a/link/victim\n+++ b/link/victim\n@@ -1 +1 @@\n-a\n+pwned\n";
    let err = apply_patch("evil.patch", p.as_bytes(), &root, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("symlink"), "{err}");
    assert_eq!(
        fs::read_to_string(outer.path().join("victim")).unwrap(),
        "a\n"
    );
}

#[test]
fn creating_an_existing_file_and_patching_a_missing_one_fail() {
    let t = tree_with(&[("a", "x\n")]);
    let p = "--- /dev/null\n+++ b/a\n@@ -0,0 +1 @@\n+y\n";
    assert!(
        apply_patch("c.patch", p.as_bytes(), t.path(), 1)
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
    let p = "--- a/missing\n+++ b/missing\n@@ -1 +1 @@\n-x\n+y\n";
    assert!(
        apply_patch("m.patch", p.as_bytes(), t.path(), 1)
            .unwrap_err()
            .to_string()
            .contains("does not exist")
    );
    assert!(
        apply_patch("e.patch", b"just text\n", t.path(), 1)
            .unwrap_err()
            .to_string()
            .contains("no unified diff")
    );
}
