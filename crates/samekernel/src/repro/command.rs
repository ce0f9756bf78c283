//! How each variation is applied: the two `kernel-deb build` child processes as
//! argv, environment and working directory, wrapped (innermost first) in
//! `faketime`, `setarch`, `taskset`, a umask shell, `setpriv` and `unshare --uts`.
//!
//! Shell wrappers are fixed scripts that take every path as an argument
//! (`sh -c 'umask 077 && exec "$@"' sh …`): no path is ever pasted into a script.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::variation::{Variation, VariationSet};

/// The name of the throwaway user the experiment builds as (user_group).
pub const OTHER_USER: &str = "skrepro";
/// The experiment's hostname (domain_host).
pub const OTHER_HOST: &str = "repro-other-host";
/// Tools the exec_path variation fakes (each prints a fake version and succeeds).
pub const FAKE_TOOLS: [&str; 10] = [
    "rustc", "pahole", "clang", "gcc", "cc", "ld", "bindgen", "hostname", "date", "whoami",
];

/// One side of the check: control (`a`) or experiment (`b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The plain build.
    Control,
    /// The build with every applied variation.
    Experiment,
}

impl Side {
    /// `a` or `b`: the side's directory names.
    pub fn letter(self) -> &'static str {
        match self {
            Side::Control => "a",
            Side::Experiment => "b",
        }
    }
}

/// Where one side builds, under the check's base directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidePaths {
    /// Everything of this side (chowned to the other user for user_group).
    pub root: PathBuf,
    /// The directory disorderfs shows shuffled (fileordering), or the plain parent
    /// of the work directory.
    pub view: PathBuf,
    /// `--work-dir`.
    pub work_dir: PathBuf,
    /// `--out`.
    pub out: PathBuf,
    /// `HOME`.
    pub home: PathBuf,
    /// Fake tools (exec_path).
    pub fake_bin: PathBuf,
    /// `--cache`.
    pub cache: PathBuf,
}

impl SidePaths {
    /// The layout of `side` under `base`; build_path moves the experiment's work
    /// directory deeper, and otherwise both sides build at the same path.
    pub fn new(base: &Path, side: Side, applied: &VariationSet) -> SidePaths {
        let root = base.join(side.letter());
        let deeper = side == Side::Experiment && applied.contains(Variation::BuildPath);
        let view = if deeper {
            root.join("some/much/deeper/build-directory")
        } else {
            base.join("w")
        };
        let home_name = match side {
            Side::Experiment if applied.contains(Variation::Home) => "other-home",
            _ => "home",
        };
        SidePaths {
            work_dir: view.join("work"),
            view,
            out: root.join("out"),
            home: root.join(home_name),
            fake_bin: root.join("fake-bin"),
            cache: root.join("cache"),
            root,
        }
    }
}

/// What both sides share: the binary, the build flags passed through, the jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInvocation {
    /// The `kernel-deb` binary.
    pub kernel_deb: PathBuf,
    /// Build flags after `--` (`--config`, `-Z`, `--arch`…), the same on both sides.
    pub build_args: Vec<OsString>,
    /// `-j` of the control build (and of the experiment without num_cpus).
    pub jobs: u32,
    /// `uname -m`, for `setarch`.
    pub machine: String,
}

/// A child process as data: argv, a cleared environment with these variables,
/// a working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    /// Program and arguments.
    pub argv: Vec<OsString>,
    /// The whole environment.
    pub env: BTreeMap<String, OsString>,
    /// Working directory.
    pub cwd: PathBuf,
}

impl ChildCommand {
    /// A [`Command`] with exactly this argv, environment and directory.
    pub fn to_command(&self) -> Command {
        let mut c = Command::new(&self.argv[0]);
        c.args(&self.argv[1..])
            .env_clear()
            .envs(&self.env)
            .current_dir(&self.cwd);
        c
    }

    /// Puts `prefix` in front of the argv (an outer wrapper).
    fn wrap<S: Into<OsString>>(&mut self, prefix: impl IntoIterator<Item = S>) {
        let mut argv: Vec<OsString> = prefix.into_iter().map(Into::into).collect();
        argv.append(&mut self.argv);
        self.argv = argv;
    }

    /// The argv as one line, for the report.
    pub fn display(&self) -> String {
        (self.argv.iter().map(|a| a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The system PATH both sides start from (never the caller's).
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The junk the environment variation adds: variables a careless build would read.
pub const JUNK_ENV: [(&str, &str); 9] = [
    ("CFLAGS", "-O0 -g -fno-omit-frame-pointer"),
    ("MAKEFLAGS", "-k"),
    ("KBUILD_BUILD_USER", "someone-else"),
    ("KBUILD_BUILD_HOST", "elsewhere.example"),
    ("KBUILD_BUILD_TIMESTAMP", "Thu Jan  1 00:00:00 UTC 1970"),
    ("SOURCE_DATE_EPOCH", "1"),
    ("ARCH", "arm"),
    ("CROSS_COMPILE", "nonsense-"),
    ("REPRO_CHECK_JUNK", "lorem ipsum dolor"),
];

/// The child process for `side`, with the `applied` variations when it is the
/// experiment.
pub fn build_command(
    inv: &BuildInvocation,
    paths: &SidePaths,
    side: Side,
    applied: &VariationSet,
) -> ChildCommand {
    let none = VariationSet::default();
    let vary = if side == Side::Experiment {
        applied
    } else {
        &none
    };
    let one_cpu = vary.contains(Variation::NumCpus);
    let mut argv: Vec<OsString> = vec![inv.kernel_deb.clone().into(), "build".into()];
    argv.extend(["--quiet".into(), "--out".into(), paths.out.clone().into()]);
    argv.extend(["--work-dir".into(), paths.work_dir.clone().into()]);
    argv.extend(["--cache".into(), paths.cache.clone().into()]);
    argv.push(format!("-j{}", if one_cpu { 1 } else { inv.jobs }).into());
    argv.extend(inv.build_args.iter().cloned());
    let mut cmd = ChildCommand {
        argv,
        env: environment(paths, vary),
        cwd: paths.root.clone(),
    };
    wrap_process_context(&mut cmd, inv, vary);
    cmd
}

fn environment(paths: &SidePaths, vary: &VariationSet) -> BTreeMap<String, OsString> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: OsString| _ = env.insert(k.to_owned(), v);
    let path = if vary.contains(Variation::ExecPath) {
        format!("{}:{SYSTEM_PATH}", paths.fake_bin.display())
    } else {
        SYSTEM_PATH.to_owned()
    };
    set("PATH", path.into());
    set("HOME", paths.home.clone().into());
    let tz = if vary.contains(Variation::Timezone) {
        "GMT-14"
    } else {
        "GMT+12"
    };
    let lang = if vary.contains(Variation::Locales) {
        "fr_CH.UTF-8"
    } else {
        "C.UTF-8"
    };
    set("TZ", tz.into());
    set("LANG", lang.into());
    if vary.contains(Variation::Locales) {
        set("LC_ALL", lang.into());
        set("LANGUAGE", "fr_CH:fr".into());
    }
    if vary.contains(Variation::UserGroup) {
        set("USER", OTHER_USER.into());
        set("LOGNAME", OTHER_USER.into());
    }
    if vary.contains(Variation::Environment) {
        for (k, v) in JUNK_ENV {
            set(k, v.into());
        }
    }
    env
}

/// Wraps the build in the process-context variations, innermost first, so that
/// `unshare` (needs root) is outermost and `setpriv` drops root inside it.
fn wrap_process_context(cmd: &mut ChildCommand, inv: &BuildInvocation, vary: &VariationSet) {
    if vary.contains(Variation::Time) {
        cmd.wrap(["faketime", "-f", "+730d"]);
    }
    let personality: Vec<&str> = [(Variation::Kernel, "--uname-2.6"), (Variation::Aslr, "-R")]
        .into_iter()
        .filter(|(v, _)| vary.contains(*v))
        .map(|(_, flag)| flag)
        .collect();
    if !personality.is_empty() {
        let mut w = vec!["setarch", inv.machine.as_str()];
        w.extend(personality);
        cmd.wrap(w);
    }
    if vary.contains(Variation::NumCpus) {
        cmd.wrap(["taskset", "-c", "0"]);
    }
    if vary.contains(Variation::Umask) {
        cmd.wrap(["sh", "-c", "umask 077 && exec \"$@\"", "sh"]);
    }
    if vary.contains(Variation::UserGroup) {
        let (u, g) = (
            format!("--reuid={OTHER_USER}"),
            format!("--regid={OTHER_USER}"),
        );
        cmd.wrap(["setpriv".to_owned(), u, g, "--init-groups".to_owned()]);
    }
    if vary.contains(Variation::DomainHost) {
        // Absolute paths: exec_path puts a fake `hostname` first in PATH.
        let script =
            "/bin/hostname \"$1\" && /bin/domainname \"$1.example\" && shift && exec \"$@\"";
        cmd.wrap([
            "unshare", "--uts", "--", "sh", "-c", script, "sh", OTHER_HOST,
        ]);
    }
}

/// What the experiment changes, one line per applied variation.
pub fn describe(v: Variation) -> &'static str {
    match v {
        Variation::Environment => {
            "junk CFLAGS, MAKEFLAGS, KBUILD_BUILD_*, SOURCE_DATE_EPOCH=1, ARCH, CROSS_COMPILE"
        }
        Variation::BuildPath => {
            "work directory …/b/some/much/deeper/build-directory/work instead of …/w/work"
        }
        Variation::Kernel => "setarch --uname-2.6 (uname reports 2.6.x)",
        Variation::Aslr => "setarch -R (address-space randomisation off)",
        Variation::NumCpus => "taskset -c 0 and -j1 (control: all CPUs, -jN)",
        Variation::Time => "faketime +730d (clock two years ahead)",
        Variation::UserGroup => "uid/gid of the throwaway user skrepro (setpriv)",
        Variation::FileOrdering => "disorderfs --shuffle-dirents=yes under the work directory",
        Variation::DomainHost => {
            "hostname repro-other-host, domainname repro-other-host.example (unshare --uts)"
        }
        Variation::Home => "HOME …/b/other-home",
        Variation::Locales => "LANG=LC_ALL=fr_CH.UTF-8, LANGUAGE=fr_CH:fr (control: LANG=C.UTF-8)",
        Variation::ExecPath => {
            "fake gcc/cc/ld/clang/rustc/bindgen/pahole/hostname/date/whoami first in PATH"
        }
        Variation::Timezone => "TZ=GMT-14 (control: TZ=GMT+12)",
        Variation::Umask => "umask 077 (control: 022)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv() -> BuildInvocation {
        BuildInvocation {
            kernel_deb: "/bin/kernel-deb".into(),
            build_args: vec!["-Z".into(), "xz".into()],
            jobs: 2,
            machine: "x86_64".into(),
        }
    }

    fn argv(c: &ChildCommand) -> Vec<String> {
        c.argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn experiment(list: &str) -> ChildCommand {
        let set = VariationSet::parse_list(list).unwrap();
        let paths = SidePaths::new(Path::new("/base"), Side::Experiment, &set);
        build_command(&inv(), &paths, Side::Experiment, &set)
    }

    #[test]
    fn the_control_is_a_plain_build_whatever_the_set() {
        let all = VariationSet::all();
        let paths = SidePaths::new(Path::new("/base"), Side::Control, &all);
        let c = build_command(&inv(), &paths, Side::Control, &all);
        assert_eq!(
            argv(&c).join(" "),
            "/bin/kernel-deb build --quiet --out /base/a/out --work-dir /base/w/work --cache /base/a/cache -j2 -Z xz"
        );
        let keys: Vec<_> = c.env.keys().map(String::as_str).collect();
        assert_eq!(keys, ["HOME", "LANG", "PATH", "TZ"]);
        assert_eq!(c.env["TZ"], "GMT+12");
        assert_eq!(c.env["PATH"], SYSTEM_PATH);
    }

    #[test]
    fn each_variation_changes_what_it_names_and_nothing_else() {
        let plain = experiment("none");
        // (variation, argv must start with, env key that must differ from the plain one)
        let table: &[(&str, &[&str], Option<&str>)] = &[
            ("environment", &["/bin/kernel-deb"], Some("CFLAGS")),
            ("build_path", &["/bin/kernel-deb"], None),
            (
                "kernel",
                &["setarch", "x86_64", "--uname-2.6", "/bin/kernel-deb"],
                None,
            ),
            (
                "aslr",
                &["setarch", "x86_64", "-R", "/bin/kernel-deb"],
                None,
            ),
            ("num_cpus", &["taskset", "-c", "0", "/bin/kernel-deb"], None),
            (
                "time",
                &["faketime", "-f", "+730d", "/bin/kernel-deb"],
                None,
            ),
            (
                "user_group",
                &[
                    "setpriv",
                    "--reuid=skrepro",
                    "--regid=skrepro",
                    "--init-groups",
                    "/bin/kernel-deb",
                ],
                Some("USER"),
            ),
            ("fileordering", &["/bin/kernel-deb"], None),
            ("domain_host", &["unshare", "--uts", "--", "sh", "-c"], None),
            ("home", &["/bin/kernel-deb"], Some("HOME")),
            ("locales", &["/bin/kernel-deb"], Some("LANG")),
            ("exec_path", &["/bin/kernel-deb"], Some("PATH")),
            ("timezone", &["/bin/kernel-deb"], Some("TZ")),
            (
                "umask",
                &[
                    "sh",
                    "-c",
                    "umask 077 && exec \"$@\"",
                    "sh",
                    "/bin/kernel-deb",
                ],
                None,
            ),
        ];
        assert_eq!(table.len(), Variation::ALL.len());
        for (name, prefix, env_key) in table {
            let c = experiment(name);
            let got = argv(&c);
            assert_eq!(&got[..prefix.len()], *prefix, "{name}: {got:?}");
            match env_key {
                Some(k) => assert_ne!(c.env.get(*k), plain.env.get(*k), "{name} leaves {k} alone"),
                None => assert_eq!(c.env, plain.env, "{name} changed the environment"),
            }
        }
        assert!(argv(&experiment("num_cpus")).contains(&"-j1".to_owned()));
        assert!(argv(&experiment("time")).contains(&"-j2".to_owned()));
        assert!(
            argv(&experiment("build_path"))
                .join(" ")
                .contains("/base/b/some/much/deeper/build-directory/work")
        );
        assert!(
            argv(&experiment("home"))
                .join(" ")
                .contains("--work-dir /base/w/work")
        );
        assert!(
            experiment("exec_path").env["PATH"]
                .to_string_lossy()
                .starts_with("/base/b/fake-bin:")
        );
    }

    #[test]
    fn wrappers_nest_so_unshare_keeps_root_and_setpriv_drops_it_inside() {
        let got = argv(&experiment("all"));
        let at = |w: &str| {
            got.iter()
                .position(|a| a == w)
                .unwrap_or_else(|| panic!("{w} in {got:?}"))
        };
        assert_eq!(got[0], "unshare");
        assert!(at("unshare") < at("setpriv"));
        assert!(at("setpriv") < at("taskset"));
        assert!(at("taskset") < at("setarch"));
        assert!(at("setarch") < at("faketime"));
        assert!(at("faketime") < at("/bin/kernel-deb"));
        // kernel and aslr share one setarch.
        assert_eq!(got.iter().filter(|a| *a == "setarch").count(), 1);
        assert_eq!(
            &got[at("setarch")..at("setarch") + 4],
            ["setarch", "x86_64", "--uname-2.6", "-R"]
        );
        // The build flags passed through stay last, unchanged.
        assert_eq!(&got[got.len() - 2..], ["-Z", "xz"]);
        // The hostname script must not run exec_path's fake `hostname`.
        assert!(got[5].starts_with("/bin/hostname "), "{}", got[5]);
    }

    #[test]
    fn the_wrapper_scripts_run_with_a_real_shell() {
        // The umask script really sets the umask and keeps every argument intact.
        let mut c = ChildCommand {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "umask; echo \"$0\"".into(),
                "a b'c".into(),
            ],
            env: BTreeMap::from([("PATH".to_owned(), SYSTEM_PATH.into())]),
            cwd: "/".into(),
        };
        c.wrap(["sh", "-c", "umask 077 && exec \"$@\"", "sh"]);
        let out = c.to_command().output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0077\na b'c\n");
    }
}
