//! The prefix maps from `make_args` really remove both build directories from gcc output:
//! the same source compiled out-of-tree under two different roots gives identical objects
//! with debug info, and `__FILE__` has the spelling kbuild's own macro map gives it.

use std::path::{Path, PathBuf};
use std::process::Command;

use kbuild_env::{EnvSpec, KbuildEnv};

fn compile(root: &Path) -> (Vec<u8>, String) {
    let src = root.join("linux");
    let obj = root.join("linux-obj");
    std::fs::create_dir_all(src.join("include")).unwrap();
    std::fs::create_dir_all(&obj).unwrap();
    std::fs::write(
        src.join("include/hello.h"),
        "static inline int twice(int x) { return 2 * x; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("hello.c"),
        "#include \"hello.h\"\nconst char *where(void) { return __FILE__; }\nint f(int x) { return twice(x); }\n",
    )
    .unwrap();
    let spec = EnvSpec::new(0, src.clone(), obj.clone(), root.join("home"), 1);
    let env = KbuildEnv::new(&spec).unwrap();
    let kcflags = env
        .make_args()
        .into_iter()
        .find_map(|a| a.strip_prefix("KCFLAGS=").map(String::from))
        .unwrap();
    let mut cmd = Command::new("gcc");
    env.apply(&mut cmd);
    // Like kbuild out of tree: run in the object dir, name the source by its absolute path.
    cmd.current_dir(&obj)
        .args(["-g", "-O1", "-c", "-I"])
        .arg(src.join("include"))
        .args(kcflags.split_whitespace())
        .arg(src.join("hello.c"))
        .args(["-o", "hello.o"]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let object = std::fs::read(obj.join("hello.o")).unwrap();
    let strings = Command::new("strings")
        .args(["-a"])
        .arg(obj.join("hello.o"))
        .output()
        .unwrap();
    (
        object,
        String::from_utf8_lossy(&strings.stdout).into_owned(),
    )
}

fn root(name: &str) -> PathBuf {
    let r = std::env::temp_dir().join(format!("kbuild-env-pm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&r);
    r
}

#[test]
fn two_build_roots_give_identical_objects() {
    let a = root("a");
    let b_top = root("bbbbbb");
    let b = b_top.join("deeper/path");
    let (obj_a, strings_a) = compile(&a);
    let (obj_b, _) = compile(&b);
    let tmp = std::env::temp_dir().display().to_string();
    assert!(
        !strings_a.contains(&tmp),
        "a build path leaked:\n{strings_a}"
    );
    assert!(
        strings_a.lines().any(|l| l == "hello.c"),
        "__FILE__ is not `hello.c`:\n{strings_a}"
    );
    assert!(obj_a == obj_b, "objects differ between build roots");
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b_top).unwrap();
}
