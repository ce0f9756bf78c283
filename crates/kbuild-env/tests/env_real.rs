//! `KbuildEnv::apply` on real processes: the child sees exactly `vars()`, whatever the
//! parent had, and a rustc planted on the caller's PATH is not found.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use kbuild_env::{EnvSpec, KbuildEnv};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kbuild-env-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn env_for(dir: &std::path::Path) -> KbuildEnv {
    let spec = EnvSpec::new(
        1_794_660_961,
        dir.to_owned(),
        dir.join("obj"),
        dir.join("home"),
        3,
    );
    KbuildEnv::new(&spec).unwrap()
}

#[test]
fn child_sees_exactly_the_sanitized_environment() {
    let dir = scratch("env");
    let env = env_for(&dir);
    let mut cmd = Command::new("/usr/bin/env");
    // Junk a caller might have: set on the Command (the test process itself also has
    // CARGO_*, RUST_*, its own PATH, … which must not leak either).
    cmd.env("FOO", "bar")
        .env("PATH", "/tmp/evil:/usr/bin")
        .env("LANG", "et_EE.UTF-8")
        .env("TZ", "GMT-14")
        .env("MAKEFLAGS", "-j64 --jobserver-auth=3,4")
        .env("MAKELEVEL", "1")
        .env("MFLAGS", "-j64")
        .env("KBUILD_VERBOSE", "1")
        .env("XZ_OPT", "-T0")
        .env("ZSTD_CLEVEL", "19");
    env.apply(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    let home = dir.join("home");
    let expected = vec![
        format!("HOME={}", home.display()),
        "KBUILD_BUILD_HOST=samekernel".to_owned(),
        "KBUILD_BUILD_TIMESTAMP=Sat Nov 14 12:56:01 UTC 2026".into(),
        "KBUILD_BUILD_USER=samekernel".into(),
        "KBUILD_BUILD_VERSION=1".into(),
        "KCONFIG_NOTIMESTAMP=1".into(),
        "LC_ALL=C.UTF-8".into(),
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin".into(),
        "SOURCE_DATE_EPOCH=1794660961".into(),
        "TZ=UTC".into(),
    ];
    assert_eq!(lines, expected);
    assert_eq!(
        env.describe(),
        expected
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );

    // The working directory is the source dir.
    let mut pwd = Command::new("/bin/pwd");
    env.apply(&mut pwd);
    let out = pwd.output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        dir.display().to_string()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_rustc_on_the_callers_path_is_not_found() {
    let dir = scratch("rustc");
    let evil = dir.join("evil-bin");
    std::fs::create_dir_all(&evil).unwrap();
    let fake = evil.join("rustc");
    std::fs::write(&fake, "#!/bin/sh\necho 'rustc 1.95.0'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

    let probe = "command -v rustc || echo none";
    // Control: with the planted directory first on PATH, a plain shell does find it.
    let out = Command::new("/bin/sh")
        .args(["-c", probe])
        .env("PATH", format!("{}:/usr/bin:/bin", evil.display()))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        fake.display().to_string()
    );

    // Under KbuildEnv it is not.
    let env = env_for(&dir);
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", probe])
        .env("PATH", format!("{}:/usr/bin:/bin", evil.display()));
    env.apply(&mut cmd);
    let found = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    assert!(!found.contains("evil-bin"), "{found}");
    // And the Kconfig probe variable points at a name that does not exist anywhere.
    assert!(
        env.make_args()
            .contains(&"RUSTC=samekernel-no-rustc".to_owned())
    );
    let mut which = Command::new("/bin/sh");
    which.args(["-c", "command -v samekernel-no-rustc || echo none"]);
    env.apply(&mut which);
    assert_eq!(
        String::from_utf8(which.output().unwrap().stdout).unwrap(),
        "none\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn make_command_runs_make_from_the_fixed_path() {
    let dir = scratch("make");
    std::fs::write(
        dir.join("Makefile"),
        "show:\n\t@echo \"$$KBUILD_BUILD_TIMESTAMP|$(KCFLAGS)|$(O)|$(MAKEFLAGS)\"\n",
    )
    .unwrap();
    let env = env_for(&dir);
    let out = env.make_command(&["show"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let d = dir.display();
    assert!(
        text.starts_with(&format!(
            "Sat Nov 14 12:56:01 UTC 2026|-ffile-prefix-map={d}=. -ffile-prefix-map={d}/= -ffile-prefix-map={d}/obj=. -ffile-prefix-map={d}/obj/=|{d}/obj|"
        )),
        "{text}"
    );
    // make's MAKEFLAGS holds only what make_args gave it (no flags inherited from the test
    // process, which cargo may run under a jobserver).
    let makeflags = text.trim_end().rsplit('|').next().unwrap();
    assert!(makeflags.starts_with(" -j3 "), "{makeflags}");
    std::fs::remove_dir_all(&dir).unwrap();
}
