//! The check itself, step by step: refuse build flags the check sets on each side,
//! probe the machine, lay out the check's directory, run each side's build, compare
//! the two outputs per package, and clean up what nobody asked to keep.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::ReproError;
use super::command::{BuildInvocation, ChildCommand, Side, SidePaths, build_command};
use super::setup::{Mount, prepare_side};
use super::variation::{Capabilities, VariationSet};

/// Build flags the check sets itself on each side, so they may not follow `--`.
pub const OWN_FLAGS: [&str; 8] = [
    "--out",
    "--work-dir",
    "--cache",
    "--jobs",
    "-j",
    "--keep-work",
    "--json",
    "--quiet",
];

/// Refuses a build flag the check sets itself (naming the check's own option to
/// use instead) and a zero job count.
pub fn check_build_args(build_args: &[OsString], jobs: u32) -> Result<(), ReproError> {
    for a in build_args {
        let a = a.to_string_lossy();
        let own = OWN_FLAGS.iter().find(|f| {
            a == **f || a.starts_with(&format!("{f}=")) || (**f == "-j" && a.starts_with("-j"))
        });
        if let Some(f) = own {
            let instead = if f.starts_with("-j") || *f == "--jobs" {
                "--jobs N"
            } else {
                "--cache/--base"
            };
            return Err(ReproError::OwnFlag {
                given: a.into_owned(),
                flag: f,
                instead,
            });
        }
    }
    if jobs == 0 {
        return Err(ReproError::ZeroJobs);
    }
    Ok(())
}

/// What this machine can apply: root (checked with `id -u`), FUSE (loading the
/// module when root and `/dev/fuse` is missing), the programs in `PATH`.
pub fn probe_capabilities() -> Capabilities {
    let root = effective_uid() == 0;
    if root && !Path::new("/dev/fuse").exists() {
        let _ = std::process::Command::new("modprobe").arg("fuse").status();
    }
    Capabilities::probe(root)
}

fn effective_uid() -> u32 {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

/// `uname -m`, for the experiment's `setarch`.
pub fn uname_machine() -> Result<String, ReproError> {
    let out = std::process::Command::new("uname")
        .arg("-m")
        .output()
        .map_err(|e| ReproError::Program {
            command: "uname -m".into(),
            problem: e.to_string(),
        })?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The check's directory: `given` (which must not exist yet), else a fresh one in
/// TMPDIR; mode 0755 (the throwaway user must reach its side), canonical.
pub fn make_base(given: Option<&Path>) -> Result<PathBuf, ReproError> {
    let base = match given {
        Some(b) => {
            std::fs::create_dir(b).map_err(|e| ReproError::Setup {
                path: b.to_owned(),
                problem: format!("must not exist: {e}"),
            })?;
            b.to_owned()
        }
        None => tempfile::Builder::new()
            .prefix("kernel-deb-repro-")
            .tempdir()
            .map_err(|e| ReproError::io(&std::env::temp_dir(), e))?
            .keep(),
    };
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| ReproError::io(&base, e))?;
    std::fs::canonicalize(&base).map_err(|e| ReproError::io(&base, e))
}

/// One side laid out on disk with its build command, ready to run.
pub struct PreparedSide {
    /// The side's directories.
    pub paths: SidePaths,
    /// The child `kernel-deb build` with its wrappers and environment.
    pub child: ChildCommand,
    mount: Option<Mount>,
}

impl PreparedSide {
    /// Lays out `side` under `base` (the control varies nothing, the experiment
    /// `applied`) and builds its command line.
    pub fn new(
        inv: &BuildInvocation,
        base: &Path,
        side: Side,
        applied: &VariationSet,
        user_cache: &Path,
    ) -> Result<PreparedSide, ReproError> {
        let paths = SidePaths::new(base, side, applied);
        let none = VariationSet::default();
        let vary = if side == Side::Experiment {
            applied
        } else {
            &none
        };
        let mount = prepare_side(&paths, user_cache, vary)?;
        let child = build_command(inv, &paths, side, applied);
        Ok(PreparedSide {
            paths,
            child,
            mount,
        })
    }

    /// Runs the build (its stdout goes to stderr: stdout is the check's report);
    /// `None` when it failed, leaving its work directory for inspection. After a
    /// success the work directory, view and private cache are removed (both sides
    /// may use the same path).
    pub fn run(self) -> Result<Option<Duration>, ReproError> {
        let t0 = Instant::now();
        let status = self
            .child
            .to_command()
            .stdout(std::io::stderr())
            .status()
            .map_err(|e| ReproError::Program {
                command: self.child.display(),
                problem: format!("cannot start: {e}"),
            })?;
        let took = t0.elapsed();
        if !status.success() {
            return Ok(None);
        }
        let _ = std::fs::remove_dir_all(&self.paths.work_dir);
        drop(self.mount);
        let _ = std::fs::remove_dir_all(&self.paths.view);
        let _ = std::fs::remove_dir_all(&self.paths.cache);
        Ok(Some(took))
    }
}

/// What [`run_sides`] ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sides {
    /// Both output directories (side A's is the control directory when given).
    Built(PathBuf, PathBuf),
    /// A build failed; its work directory is kept.
    Failed {
        /// Which side.
        side: Side,
        /// Its work directory.
        work_dir: PathBuf,
    },
}

/// Builds each side in turn (only the experiment when `control` names packages
/// already built), telling `progress` a line per step: the command, then its time.
pub fn run_sides(
    inv: &BuildInvocation,
    base: &Path,
    applied: &VariationSet,
    user_cache: &Path,
    control: Option<&Path>,
    progress: &mut dyn FnMut(String),
) -> Result<Sides, ReproError> {
    let mut outs = Vec::new();
    if let Some(c) = control {
        progress(format!(
            "build a: not built; comparing with {}",
            c.display()
        ));
        outs.push(c.to_owned());
    }
    let sides = [Side::Control, Side::Experiment];
    for side in &sides[outs.len()..] {
        let prepared = PreparedSide::new(inv, base, *side, applied, user_cache)?;
        let (out, work_dir) = (prepared.paths.out.clone(), prepared.paths.work_dir.clone());
        let letter = side.letter();
        progress(format!("build {letter}: {}", prepared.child.display()));
        let Some(took) = prepared.run()? else {
            let side = *side;
            return Ok(Sides::Failed { side, work_dir });
        };
        progress(format!(
            "build {letter}: {} s ({})",
            took.as_secs(),
            out.display()
        ));
        outs.push(out);
    }
    let b = outs.pop().expect("two sides");
    Ok(Sides::Built(outs.pop().expect("two sides"), b))
}

/// The verdict for one package file of side A.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVerdict {
    /// The `.deb` file name.
    pub file: String,
    /// `identical`, or `DIFFERS: N item(s); causes: …`.
    pub verdict: String,
}

impl std::fmt::Display for PackageVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.verdict)
    }
}

/// One verdict per `.deb` in `a` (sorted by name): `identical`, or how many items
/// of that package differ and their primary causes.
pub fn per_package(
    a: &Path,
    report: &debdiff::DiffReport,
) -> Result<Vec<PackageVerdict>, ReproError> {
    let mut names: Vec<String> = std::fs::read_dir(a)
        .map_err(|e| ReproError::io(a, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".deb"))
        .collect();
    names.sort();
    let verdicts = names
        .into_iter()
        .map(|file| {
            let package = file.split('_').next().unwrap_or_default();
            let verdict = package_verdict(report, package);
            PackageVerdict { file, verdict }
        })
        .collect();
    Ok(verdicts)
}

fn package_verdict(report: &debdiff::DiffReport, package: &str) -> String {
    let items: Vec<&debdiff::ItemDiff> = report
        .items
        .iter()
        .filter(|i| i.package == package)
        .collect();
    if items.is_empty() {
        return "identical".to_owned();
    }
    let mut causes: Vec<&str> = items
        .iter()
        .filter_map(|i| i.primary().map(|f| f.kind.phrase()))
        .collect();
    causes.sort_unstable();
    causes.dedup();
    format!(
        "DIFFERS: {} item(s); causes: {}",
        items.len(),
        causes.join("; ")
    )
}

/// What [`clean_up`] left on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Identical and not asked to keep: the whole check directory is gone.
    Nothing,
    /// `BASE/{a,b}/out` stay (they differ, or `--keep-out`); the rest is gone.
    Outputs,
}

/// Removes the check's directory when the outputs are identical and nobody asked
/// to keep them; otherwise everything but the two `out` directories.
pub fn clean_up(base: &Path, identical: bool, keep_out: bool) -> Result<Kept, ReproError> {
    if identical && !keep_out {
        std::fs::remove_dir_all(base).map_err(|e| ReproError::io(base, e))?;
        return Ok(Kept::Nothing);
    }
    for side in ["a", "b"] {
        let side_root = base.join(side);
        if !side_root.exists() {
            continue; // `--control`: build a was never made here.
        }
        let entries = std::fs::read_dir(&side_root).map_err(|e| ReproError::io(&side_root, e))?;
        for e in entries.flatten() {
            if e.file_name() != "out" {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(Kept::Outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn build_flags_pass_and_own_flags_are_refused_naming_the_alternative() {
        check_build_args(&args("--config x.config -Z xz --arch amd64"), 2).unwrap();
        for (bad, instead) in [
            ("--out o", "--cache/--base"),
            ("-j4", "--jobs N"),
            ("--cache=c", "--cache/--base"),
            ("--quiet", "--cache/--base"),
        ] {
            match check_build_args(&args(bad), 2) {
                Err(ReproError::OwnFlag { instead: i, .. }) => assert_eq!(i, instead, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            check_build_args(&[], 0),
            Err(ReproError::ZeroJobs)
        ));
    }

    #[test]
    fn clean_up_keeps_only_the_outputs_unless_identical() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("check");
        for side in ["a", "b"] {
            for sub in ["out", "work", "cache"] {
                std::fs::create_dir_all(base.join(side).join(sub)).unwrap();
            }
        }
        assert_eq!(clean_up(&base, false, false).unwrap(), Kept::Outputs);
        assert!(base.join("a/out").is_dir() && base.join("b/out").is_dir());
        assert!(!base.join("a/work").exists() && !base.join("b/cache").exists());
        assert_eq!(clean_up(&base, true, true).unwrap(), Kept::Outputs);
        assert!(base.join("a/out").is_dir());
        assert_eq!(clean_up(&base, true, false).unwrap(), Kept::Nothing);
        assert!(!base.exists());
    }

    /// A stand-in for `kernel-deb build`: makes its work and out directories,
    /// records its umask and HOME in out, and fails when given `--fail`.
    fn fake_kernel_deb(dir: &Path) -> PathBuf {
        let script = dir.join("fake-kernel-deb");
        std::fs::write(
            &script,
            "#!/bin/sh\nwhile [ $# -gt 0 ]; do case \"$1\" in\n\
             --out) out=\"$2\"; shift;; --work-dir) work=\"$2\"; shift;; --fail) exit 1;;\n\
             esac; shift; done\nmkdir -p \"$work\" \"$out\" && umask > \"$out/umask\" && echo \"$HOME\" > \"$out/home\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    /// A fresh check directory, `vary` applied, and an invocation of the fake build.
    fn check_setup(dir: &Path, vary: &str) -> (PathBuf, VariationSet, BuildInvocation) {
        let base = make_base(Some(&dir.join("check"))).unwrap();
        let applied = VariationSet::from_flags(Some(vary), None).unwrap();
        let inv = BuildInvocation {
            kernel_deb: fake_kernel_deb(dir),
            build_args: Vec::new(),
            jobs: 2,
            machine: "x86_64".into(),
        };
        (base, applied, inv)
    }

    #[test]
    fn each_side_runs_its_build_then_only_a_failure_keeps_its_work_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (base, applied, mut inv) = check_setup(dir.path(), "umask,home");
        let user_cache = dir.path().join("no-cache-yet");
        for side in [Side::Control, Side::Experiment] {
            let prepared = PreparedSide::new(&inv, &base, side, &applied, &user_cache).unwrap();
            let paths = prepared.paths.clone();
            assert!(prepared.run().unwrap().is_some(), "{side:?}");
            assert!(
                !paths.work_dir.exists() && !paths.cache.exists(),
                "{side:?}"
            );
            let home = std::fs::read_to_string(paths.out.join("home")).unwrap();
            assert_eq!(home.trim(), paths.home.to_str().unwrap());
        }
        let umask =
            |side: &str| std::fs::read_to_string(base.join(side).join("out/umask")).unwrap();
        assert_eq!(umask("b").trim(), "0077");
        assert!(
            base.join("b/other-home").is_dir(),
            "home varies in the experiment"
        );

        inv.build_args = vec!["--fail".into()];
        std::fs::remove_dir_all(&base).unwrap();
        let base = make_base(Some(&dir.path().join("check"))).unwrap();
        let prepared =
            PreparedSide::new(&inv, &base, Side::Control, &applied, &user_cache).unwrap();
        let work_dir = prepared.paths.work_dir.clone();
        std::fs::create_dir_all(&work_dir).unwrap();
        assert_eq!(prepared.run().unwrap(), None);
        assert!(work_dir.exists(), "a failed side keeps its work directory");
    }

    #[test]
    fn run_sides_builds_only_the_experiment_beside_a_control_and_names_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let (base, applied, mut inv) = check_setup(dir.path(), "umask");
        let cache = dir.path().join("cache");
        let control = dir.path().join("release");
        let mut lines = Vec::new();
        let sides = run_sides(&inv, &base, &applied, &cache, Some(&control), &mut |l| {
            lines.push(l)
        });
        assert_eq!(
            sides.unwrap(),
            Sides::Built(control.clone(), base.join("b/out"))
        );
        assert!(lines[0].starts_with("build a: not built; comparing with "));
        assert!(lines[1].starts_with("build b: ") && lines[2].ends_with("b/out)"));
        assert!(!base.join("a").exists(), "side a is not built");

        inv.build_args = vec!["--fail".into()];
        let sides = run_sides(&inv, &base, &applied, &cache, None, &mut |_| {}).unwrap();
        assert!(
            matches!(
                sides,
                Sides::Failed {
                    side: Side::Control,
                    ..
                }
            ),
            "{sides:?}"
        );
    }

    #[test]
    fn make_base_refuses_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let made = make_base(Some(&dir.path().join("new"))).unwrap();
        assert!(made.is_absolute() && made.is_dir());
        assert!(matches!(
            make_base(Some(dir.path())),
            Err(ReproError::Setup { .. })
        ));
    }
}
