//! Unified diffs from a manifest's patch list, applied to a small real tree: never a
//! panic, and nothing is created, changed or removed outside the tree (the outside file
//! and the tree's own symlink target stay as they were).
#![no_main]

use std::fs;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("src")).expect("tree");
    fs::write(tree.join("Makefile"), "all:\n\techo hello\n").expect("Makefile");
    fs::write(
        tree.join("src/hello.c"),
        "int main(void)\n{\n\treturn 0;\n}\n",
    )
    .expect("hello.c");
    fs::write(dir.path().join("outside"), "outside\n").expect("outside");
    std::os::unix::fs::symlink("../outside", tree.join("link")).expect("symlink");
    let _ = srcpin::patch::apply_patch("fuzz.patch", data, &tree, 1);
    let mut beside: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        ["outside", "tree"],
        "an entry appeared beside the tree"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("outside")).expect("outside"),
        "outside\n"
    );
});
