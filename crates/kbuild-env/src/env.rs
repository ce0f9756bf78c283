//! The sanitized environment and make command line for kbuild.
//!
//! [`KbuildEnv`] starts from an **empty** environment and adds only what a reproducible
//! kernel build needs; nothing of the caller's environment (PATH, LANG, TZ, MAKEFLAGS,
//! jobserver fds, XZ_OPT, ZSTD_CLEVEL, KBUILD_VERBOSE, …) reaches make. What would differ
//! between builders is either pinned from the [`EnvSpec`] or mapped away:
//!
//! * time: `SOURCE_DATE_EPOCH` and `KBUILD_BUILD_TIMESTAMP` from the pin, never the clock;
//!   the timestamp is written as `LC_ALL=C date -u -d @N` prints it, which `date -d` (used
//!   by the initramfs and kheaders scripts) parses back;
//! * identity: `KBUILD_BUILD_USER`, `KBUILD_BUILD_HOST`, `KBUILD_BUILD_VERSION` (no
//!   `.version` counter), `HOME` = a scratch directory;
//! * locale and zone: `LC_ALL=C.UTF-8`, `TZ=UTC`;
//! * tools: `PATH` = [`crate::FIXED_PATH`] always, and the Kconfig probes `RUSTC`, `BINDGEN`,
//!   `PAHOLE` pinned on the command line to names that do not exist (so a stray rustc or
//!   pahole can never flip `CONFIG_RUSTC_VERSION` or `CONFIG_PAHOLE_VERSION`) unless the spec
//!   names pinned tools;
//! * paths: `-ffile-prefix-map` for the source and object directories in `KCFLAGS`,
//!   `KAFLAGS` **and** `HOSTCFLAGS`/`HOSTCXXFLAGS`/`HOSTLDFLAGS` (fixdep, modpost, objtool
//!   and the GCC plugins are shipped in linux-headers), `--remap-path-prefix` in `KRUSTFLAGS`
//!   when Rust is enabled;
//! * randomness: an optional fixed `-frandom-seed=` ([`EnvSpec::random_seed`]) in `KCFLAGS`
//!   for the latent-entropy plugin.
//!
//! # Prefix maps
//!
//! Both directories are mapped so that the result looks like an in-tree build:
//! `<dir>/` → `` (so `/src/kernel/fork.c` becomes `kernel/fork.c`, the same spelling kbuild's
//! own `-fmacro-prefix-map=$(srctree)/=` gives `__FILE__`) and `<dir>` → `.` (so
//! `DW_AT_comp_dir` becomes `.`). GCC and rustc try the *last* given map first and match
//! plain string prefixes, so the maps are emitted shortest prefix first: a more specific
//! prefix (an object dir inside the source dir, or `/w/linux-obj` next to `/w/linux`) always
//! wins. Source-relative names were preferred over a fixed `/usr/src/linux` because they
//! keep `__FILE__` strings (WARN() messages) identical to what kbuild itself produces.
//!
//! # umask
//!
//! The umask is a process attribute that `std::process::Command` cannot set per child
//! without `unsafe`. The binary must call `umask(UMASK)` once, before spawning make;
//! [`UMASK`] is the value.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::FIXED_PATH;
use crate::hazards::LintContext;

/// The umask the build must run with (`0o022`).
pub const UMASK: u32 = 0o022;

/// The `RUSTC` value when no rustc is pinned: a name no PATH contains.
pub const NO_RUSTC: &str = "samekernel-no-rustc";
/// The `BINDGEN` value when no bindgen is pinned.
pub const NO_BINDGEN: &str = "samekernel-no-bindgen";
/// The `PAHOLE` value when no pahole is pinned.
pub const NO_PAHOLE: &str = "samekernel-no-pahole";

/// The largest SOURCE_DATE_EPOCH accepted (9999-12-31 23:59:59 UTC).
pub const MAX_SOURCE_DATE_EPOCH: i64 = 253_402_300_799;

/// Why an [`EnvSpec`] cannot be turned into an environment.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// A field has a value kbuild could not carry safely.
    #[error("build environment: {field}: {problem}")]
    InvalidSpec {
        /// The [`EnvSpec`] field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// What the build environment is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSpec {
    /// Seconds since the epoch, from the source pin.
    pub source_date_epoch: i64,
    /// `KBUILD_BUILD_USER` (shown in `/proc/version`).
    pub build_user: String,
    /// `KBUILD_BUILD_HOST` (shown in `/proc/version`).
    pub build_host: String,
    /// `KBUILD_BUILD_VERSION` (the `#N` in `uname -v`).
    pub build_version: String,
    /// The unpacked kernel source tree (absolute). make runs here.
    pub src_dir: PathBuf,
    /// The object directory, `O=` (absolute; may equal `src_dir`).
    pub obj_dir: PathBuf,
    /// An empty directory used as `HOME`.
    pub scratch_home: PathBuf,
    /// `make -j`.
    pub jobs: u32,
    /// A pinned rustc for configs with `CONFIG_RUST`; `None` = Rust is unavailable to Kconfig.
    pub rustc: Option<PathBuf>,
    /// A pinned bindgen, needed together with `rustc` for `CONFIG_RUST`.
    pub bindgen: Option<PathBuf>,
    /// A pinned pahole for `CONFIG_DEBUG_INFO_BTF`; `None` = no BTF. Reproducible with
    /// any pahole because `KBUILD_BUILD_TIMESTAMP` is always set: 6.12's
    /// `scripts/Makefile.btf` then runs pahole < 1.27 without `-j`, and pahole >= 1.27
    /// with `--btf_features=+reproducible_build`.
    pub pahole: Option<PathBuf>,
    /// A fixed `-frandom-seed=` for KCFLAGS (makes `CONFIG_GCC_PLUGIN_LATENT_ENTROPY`
    /// reproducible); `None` = not passed.
    pub random_seed: Option<String>,
}

impl EnvSpec {
    /// A spec with user/host `samekernel`, build version `1` and no Rust/pahole.
    pub fn new(
        source_date_epoch: i64,
        src_dir: PathBuf,
        obj_dir: PathBuf,
        scratch_home: PathBuf,
        jobs: u32,
    ) -> EnvSpec {
        EnvSpec {
            source_date_epoch,
            build_user: "samekernel".into(),
            build_host: "samekernel".into(),
            build_version: "1".into(),
            src_dir,
            obj_dir,
            scratch_home,
            jobs,
            rustc: None,
            bindgen: None,
            pahole: None,
            random_seed: None,
        }
    }
}

/// The spec's paths, each checked (absolute, UTF-8, no spaces or shell specials).
struct CheckedSpec {
    src: String,
    obj: String,
    home: String,
    rustc: Option<String>,
    bindgen: Option<String>,
    pahole: Option<String>,
}

impl CheckedSpec {
    /// Every field of `spec` checked; the first bad one named.
    fn validate(spec: &EnvSpec) -> Result<CheckedSpec, EnvError> {
        let invalid =
            |field: &'static str, problem: String| EnvError::InvalidSpec { field, problem };
        if !(0..=MAX_SOURCE_DATE_EPOCH).contains(&spec.source_date_epoch) {
            return Err(invalid(
                "source_date_epoch",
                format!(
                    "{} is outside 0..={MAX_SOURCE_DATE_EPOCH}",
                    spec.source_date_epoch
                ),
            ));
        }
        if spec.jobs == 0 {
            return Err(invalid("jobs", "must be at least 1".into()));
        }
        for (field, value) in [
            ("build_user", &spec.build_user),
            ("build_host", &spec.build_host),
            ("build_version", &spec.build_version),
        ] {
            check_word(value).map_err(|p| invalid(field, p))?;
        }
        if let Some(seed) = &spec.random_seed {
            check_word(seed).map_err(|p| invalid("random_seed", p))?;
        }
        let src = checked_path(&spec.src_dir).map_err(|p| invalid("src_dir", p))?;
        let obj = checked_path(&spec.obj_dir).map_err(|p| invalid("obj_dir", p))?;
        let home = checked_path(&spec.scratch_home).map_err(|p| invalid("scratch_home", p))?;
        let pinned = |path: &Option<PathBuf>, field: &'static str| {
            path.as_deref()
                .map(checked_path)
                .transpose()
                .map_err(|p| invalid(field, p))
        };
        let rustc = pinned(&spec.rustc, "rustc")?;
        let bindgen = pinned(&spec.bindgen, "bindgen")?;
        let pahole = pinned(&spec.pahole, "pahole")?;
        if rustc.is_some() != bindgen.is_some() {
            return Err(invalid(
                "rustc",
                "rustc and bindgen must be pinned together (CONFIG_RUST needs both)".into(),
            ));
        }
        Ok(CheckedSpec {
            src,
            obj,
            home,
            rustc,
            bindgen,
            pahole,
        })
    }
}

/// The whole environment of the build: nothing else is inherited.
fn environment(spec: &EnvSpec, paths: &CheckedSpec, timestamp: &str) -> BTreeMap<String, String> {
    let sde = spec.source_date_epoch.to_string();
    let mut vars = BTreeMap::new();
    for (k, v) in [
        ("HOME", paths.home.as_str()),
        ("KBUILD_BUILD_HOST", &spec.build_host),
        ("KBUILD_BUILD_TIMESTAMP", timestamp),
        ("KBUILD_BUILD_USER", &spec.build_user),
        ("KBUILD_BUILD_VERSION", &spec.build_version),
        ("KCONFIG_NOTIMESTAMP", "1"),
        ("LC_ALL", "C.UTF-8"),
        ("PATH", FIXED_PATH),
        ("SOURCE_DATE_EPOCH", &sde),
        ("TZ", "UTC"),
    ] {
        vars.insert(k.to_owned(), v.to_owned());
    }
    vars
}

/// make's command line: jobs, `O=`, the pinned KBUILD_* values, the prefix maps in
/// every flags variable, and Kconfig's probes (RUSTC, BINDGEN, PAHOLE) pinned.
fn make_arguments(spec: &EnvSpec, paths: &CheckedSpec, timestamp: &str) -> Vec<String> {
    let maps = prefix_maps(&paths.src, &paths.obj);
    let c_maps: Vec<String> = maps
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={from}={to}"))
        .collect();
    let c_maps = c_maps.join(" ");
    let kcflags = match &spec.random_seed {
        Some(seed) => format!("{c_maps} -frandom-seed={seed}"),
        None => c_maps.clone(),
    };
    let mut make_args = vec![
        format!("-j{}", spec.jobs),
        format!("O={}", paths.obj),
        format!("KBUILD_BUILD_TIMESTAMP={timestamp}"),
        format!("KBUILD_BUILD_USER={}", spec.build_user),
        format!("KBUILD_BUILD_HOST={}", spec.build_host),
        format!("KBUILD_BUILD_VERSION={}", spec.build_version),
        format!("KCFLAGS={kcflags}"),
        format!("KAFLAGS={c_maps}"),
        format!("HOSTCFLAGS={c_maps}"),
        format!("HOSTCXXFLAGS={c_maps}"),
        format!("HOSTLDFLAGS={c_maps} -Wl,--build-id=sha1"),
        format!("RUSTC={}", paths.rustc.as_deref().unwrap_or(NO_RUSTC)),
        format!("BINDGEN={}", paths.bindgen.as_deref().unwrap_or(NO_BINDGEN)),
        format!("PAHOLE={}", paths.pahole.as_deref().unwrap_or(NO_PAHOLE)),
    ];
    if paths.rustc.is_some() {
        let rust_maps: Vec<String> = maps
            .iter()
            .map(|(from, to)| format!("--remap-path-prefix={from}={to}"))
            .collect();
        make_args.push(format!("KRUSTFLAGS={}", rust_maps.join(" ")));
    }
    make_args
}

/// The sanitized environment, ready to apply to a [`Command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbuildEnv {
    spec: EnvSpec,
    vars: BTreeMap<String, String>,
    make_args: Vec<String>,
}

impl KbuildEnv {
    /// Validates `spec` and computes the variables and make arguments.
    pub fn new(spec: &EnvSpec) -> Result<KbuildEnv, EnvError> {
        let paths = CheckedSpec::validate(spec)?;
        let timestamp = date_c_locale(spec.source_date_epoch);
        Ok(KbuildEnv {
            spec: spec.clone(),
            vars: environment(spec, &paths, &timestamp),
            make_args: make_arguments(spec, &paths, &timestamp),
        })
    }
    /// The complete environment of the build (nothing else is inherited).
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// Command-line arguments for make (before the targets): `-jN`, `O=`, the identity and
    /// timestamp variables again (command-line variables beat anything a Makefile sets),
    /// the flag variables with prefix maps, and the pinned Kconfig probes.
    pub fn make_args(&self) -> Vec<String> {
        self.make_args.clone()
    }

    /// The spec this environment was made from.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Makes `cmd` run in this environment: clears the inherited environment (including
    /// anything set on `cmd` before), sets [`KbuildEnv::vars`], runs in the source dir.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env_clear()
            .envs(&self.vars)
            .current_dir(&self.spec.src_dir);
    }

    /// `make <make_args> <targets>` with [`KbuildEnv::apply`] done; `make` is looked up on
    /// the fixed PATH. Variables set on the returned `Command` afterwards are added on top.
    pub fn make_command(&self, targets: &[&str]) -> Command {
        let mut cmd = Command::new("make");
        self.apply(&mut cmd);
        cmd.args(&self.make_args).args(targets);
        cmd
    }

    /// The environment as sorted `KEY=VALUE` lines, each ending in LF, for the build record.
    pub fn describe(&self) -> String {
        self.vars
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect()
    }

    /// The mitigations this environment guarantees (prefix maps, sanitized environment, and
    /// rustc/pahole pinning when the spec names them). The caller adds what it knows about
    /// seeds, keys, the tree and the toolchain comparison.
    pub fn lint_context(&self) -> LintContext {
        LintContext {
            prefix_maps: true,
            sanitized_env: true,
            rustc_pinned: self.spec.rustc.is_some(),
            pahole_pinned: self.spec.pahole.is_some(),
            latent_entropy_seed_pinned: self.spec.random_seed.is_some(),
            ..LintContext::default()
        }
    }
}

/// `(from, to)` pairs, shortest `from` first (compilers try the last one first).
fn prefix_maps(src: &str, obj: &str) -> Vec<(String, &'static str)> {
    let mut maps: Vec<(String, &'static str)> = Vec::new();
    for dir in [src, obj] {
        for pair in [(dir.to_owned(), "."), (format!("{dir}/"), "")] {
            if !maps.contains(&pair) {
                maps.push(pair);
            }
        }
    }
    maps.sort_by_key(|(from, _)| from.len());
    maps
}

fn check_word(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._+-@".contains(*c)))
    {
        return Err(format!(
            "`{v}` contains {c:?}; use A-Z a-z 0-9 . _ + - @ (it is pasted into C strings and shell lines)"
        ));
    }
    Ok(())
}

/// An absolute, normalized path of characters that survive make, the shell and GCC's
/// `old=new` syntax.
fn checked_path(p: &Path) -> Result<String, String> {
    let Some(s) = p.to_str() else {
        return Err(format!("{} is not UTF-8", p.display()));
    };
    if !p.is_absolute() || s == "/" {
        return Err(format!("`{s}` must be an absolute path below /"));
    }
    let normal: PathBuf = p.components().collect();
    if normal.as_os_str() != p.as_os_str()
        || p.components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(format!(
            "`{s}` is not normalized (no //, /./, /../ or trailing /)"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/._+-@,".contains(*c)))
    {
        return Err(format!(
            "`{s}` contains {c:?}; make and GCC's -ffile-prefix-map=old=new cannot carry it"
        ));
    }
    Ok(s.to_owned())
}

/// `LC_ALL=C date -u -d @secs` output: `%a %b %e %H:%M:%S UTC %Y`, e.g.
/// `Sat Nov 14 12:56:01 UTC 2026`, `Thu Jan  1 00:00:00 UTC 1970` (day padded with a space).
pub fn date_c_locale(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize];
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{weekday} {} {day:>2} {:02}:{:02}:{:02} UTC {year}",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> EnvSpec {
        EnvSpec::new(
            1_794_660_961,
            "/w/linux".into(),
            "/w/linux-obj".into(),
            "/w/home".into(),
            2,
        )
    }

    #[test]
    fn timestamp_matches_gnu_date() {
        for secs in [
            0,
            59,
            951_782_400,
            1_794_660_961,
            1_700_000_000,
            4_107_542_399,
            68_169_600,
            MAX_SOURCE_DATE_EPOCH,
        ] {
            let out = Command::new("date")
                .env_clear()
                .env("LC_ALL", "C")
                .env("TZ", "UTC")
                .args(["-u", "-d", &format!("@{secs}")])
                .output()
                .unwrap();
            assert!(out.status.success());
            let ours = date_c_locale(secs);
            assert_eq!(
                ours,
                String::from_utf8(out.stdout).unwrap().trim_end(),
                "{secs}"
            );
            // gen_initramfs.sh and gen_kheaders.sh parse it back with `date -d`.
            let back = Command::new("date")
                .env_clear()
                .env("LC_ALL", "C")
                .args(["-d", &ours, "+%s"])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8(back.stdout).unwrap().trim_end(),
                secs.to_string(),
                "{ours}"
            );
        }
        assert_eq!(date_c_locale(0), "Thu Jan  1 00:00:00 UTC 1970");
    }

    #[test]
    fn make_args_for_out_of_tree_build() {
        let env = KbuildEnv::new(&spec()).unwrap();
        let maps = "-ffile-prefix-map=/w/linux=. -ffile-prefix-map=/w/linux/= -ffile-prefix-map=/w/linux-obj=. -ffile-prefix-map=/w/linux-obj/=";
        assert_eq!(
            env.make_args(),
            [
                "-j2".to_owned(),
                "O=/w/linux-obj".into(),
                "KBUILD_BUILD_TIMESTAMP=Sat Nov 14 12:56:01 UTC 2026".into(),
                "KBUILD_BUILD_USER=samekernel".into(),
                "KBUILD_BUILD_HOST=samekernel".into(),
                "KBUILD_BUILD_VERSION=1".into(),
                format!("KCFLAGS={maps}"),
                format!("KAFLAGS={maps}"),
                format!("HOSTCFLAGS={maps}"),
                format!("HOSTCXXFLAGS={maps}"),
                format!("HOSTLDFLAGS={maps} -Wl,--build-id=sha1"),
                "RUSTC=samekernel-no-rustc".into(),
                "BINDGEN=samekernel-no-bindgen".into(),
                "PAHOLE=samekernel-no-pahole".into(),
            ]
        );
        let ctx = env.lint_context();
        assert!(ctx.prefix_maps && ctx.sanitized_env);
        assert!(!ctx.rustc_pinned && !ctx.pahole_pinned && !ctx.latent_entropy_seed_pinned);
    }

    #[test]
    fn object_dir_inside_source_dir_is_mapped_first() {
        let mut s = spec();
        s.obj_dir = "/w/linux/build".into();
        s.rustc = Some("/opt/rust/bin/rustc".into());
        s.bindgen = Some("/opt/rust/bin/bindgen".into());
        s.pahole = Some("/opt/dwarves/bin/pahole".into());
        s.random_seed = Some("samekernel".into());
        let env = KbuildEnv::new(&s).unwrap();
        let args = env.make_args();
        assert!(args.contains(&"KCFLAGS=-ffile-prefix-map=/w/linux=. -ffile-prefix-map=/w/linux/= -ffile-prefix-map=/w/linux/build=. -ffile-prefix-map=/w/linux/build/= -frandom-seed=samekernel".to_owned()));
        assert!(args.contains(&"KAFLAGS=-ffile-prefix-map=/w/linux=. -ffile-prefix-map=/w/linux/= -ffile-prefix-map=/w/linux/build=. -ffile-prefix-map=/w/linux/build/=".to_owned()));
        assert!(args.contains(&"KRUSTFLAGS=--remap-path-prefix=/w/linux=. --remap-path-prefix=/w/linux/= --remap-path-prefix=/w/linux/build=. --remap-path-prefix=/w/linux/build/=".to_owned()));
        assert!(args.contains(&"RUSTC=/opt/rust/bin/rustc".to_owned()));
        assert!(args.contains(&"PAHOLE=/opt/dwarves/bin/pahole".to_owned()));
        // scripts/Makefile.btf adds a bare `-j` (unreproducible BTF type order) only when
        // KBUILD_BUILD_TIMESTAMP is empty: with pahole pinned it must be set on the command
        // line (overriding any environment) and in the environment.
        let stamp = args
            .iter()
            .find_map(|a| a.strip_prefix("KBUILD_BUILD_TIMESTAMP="))
            .expect("KBUILD_BUILD_TIMESTAMP on make's command line");
        assert!(!stamp.trim().is_empty());
        assert_eq!(
            env.vars().get("KBUILD_BUILD_TIMESTAMP").map(String::as_str),
            Some(stamp)
        );
        let ctx = env.lint_context();
        assert!(ctx.rustc_pinned && ctx.pahole_pinned && ctx.latent_entropy_seed_pinned);
        // In-tree: the two maps are not repeated.
        let mut s = spec();
        s.obj_dir = s.src_dir.clone();
        let args = KbuildEnv::new(&s).unwrap().make_args();
        assert!(args.contains(
            &"KCFLAGS=-ffile-prefix-map=/w/linux=. -ffile-prefix-map=/w/linux/=".to_owned()
        ));
    }

    #[test]
    fn rejects_unsafe_specs() {
        type Mutate = fn(&mut EnvSpec);
        let cases: &[(Mutate, &str)] = &[
            (|s| s.source_date_epoch = -1, "source_date_epoch"),
            (|s| s.jobs = 0, "jobs"),
            (|s| s.build_user = "a b".into(), "build_user"),
            (|s| s.build_host = String::new(), "build_host"),
            (|s| s.build_version = "1\"".into(), "build_version"),
            (|s| s.src_dir = "linux".into(), "src_dir"),
            (|s| s.src_dir = "/w/my linux".into(), "src_dir"),
            (|s| s.obj_dir = "/w/a=b".into(), "obj_dir"),
            (|s| s.obj_dir = "/w/../x".into(), "obj_dir"),
            (|s| s.scratch_home = "/".into(), "scratch_home"),
            (|s| s.rustc = Some("/usr/bin/rustc".into()), "rustc"),
            (|s| s.pahole = Some("pahole".into()), "pahole"),
            (|s| s.random_seed = Some("a b".into()), "random_seed"),
        ];
        for &(mutate, field) in cases {
            let mut s = spec();
            mutate(&mut s);
            match KbuildEnv::new(&s) {
                Err(EnvError::InvalidSpec { field: f, problem }) => {
                    assert_eq!(f, field, "{problem}")
                }
                Ok(_) => panic!("{field}: accepted {s:?}"),
            }
        }
    }
}
