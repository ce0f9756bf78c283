//! Stage 5, compile: `make all`, with progress against the previous build's step
//! count when one was remembered.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Target;
use crate::kbuild::{Kbuild, KbuildError};
use crate::report::CompileProgress;

/// What compiling produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// `make -s kernelrelease`.
    pub kernel_release: String,
    /// kbuild steps `make all` took (see [`CompileProgress`]).
    pub steps: u64,
}

/// Why compiling failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// kbuild failed (the error carries the log's tail).
    #[error(transparent)]
    Kbuild(#[from] KbuildError),
    /// The config makes kbuild build another boot image than the target's.
    #[error("the config builds {kbuild_says}, but {target} expects {expected}")]
    ImageName {
        /// The target's Debian architecture.
        target: &'static str,
        /// [`Target::kbuild_image_name`].
        expected: &'static str,
        /// `make -s image_name`.
        kbuild_says: String,
    },
    /// `make all` succeeded without leaving the boot image.
    #[error("{}: missing after make all", path.display())]
    NoImage {
        /// The expected image.
        path: PathBuf,
    },
}

/// The kernel release and a check that the config's boot image is the target's,
/// before the long part.
///
/// `make syncconfig` first (what `make all` starts with anyway): kbuild's
/// `setlocalversion` reads `CONFIG_LOCALVERSION` from `include/config/auto.conf`, which
/// only syncconfig writes, so without it a fresh tree reports `6.12.117` for a kernel
/// whose `uname -r` and `/lib/modules` directory are `6.12.117-samekernel`, and the
/// packages' `/boot` names and maintainer scripts would not match their modules.
pub fn kernel_release(kbuild: &mut dyn Kbuild, target: &Target) -> Result<String, CompileError> {
    kbuild.make(&["syncconfig"], &mut |_| {})?;
    let release = kbuild.query(&["kernelrelease"])?;
    let image = kbuild.query(&["image_name"])?;
    if image != target.kbuild_image_name {
        return Err(CompileError::ImageName {
            target: target.debian_arch,
            expected: target.kbuild_image_name,
            kbuild_says: image,
        });
    }
    Ok(release)
}

/// `make all` in `obj`, reporting progress about every 25 steps.
pub fn compile(
    kbuild: &mut dyn Kbuild,
    target: &Target,
    obj: &Path,
    kernel_release: String,
    expected: Option<u64>,
    on_progress: &mut dyn FnMut(CompileProgress),
) -> Result<Compiled, CompileError> {
    let mut last = 0;
    let started = std::time::Instant::now();
    kbuild.make(&["all"], &mut |steps| {
        last = steps;
        if steps.is_multiple_of(25) {
            let elapsed = started.elapsed();
            on_progress(CompileProgress {
                steps,
                expected,
                elapsed,
            });
        }
    })?;
    let image = obj.join(target.image_in_tree);
    if !image.is_file() {
        return Err(CompileError::NoImage { path: image });
    }
    Ok(Compiled {
        kernel_release,
        steps: last,
    })
}

/// Remembered step counts: `<dir>/compile-steps-<config sha256>` holds the steps the
/// last build of that exact config took, so the next one can show a fraction. A
/// hint only: a missing or unreadable file means "unknown", or `typical` when given
/// (a flavour's usual count, so even a first build shows a fraction and an estimate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepMemo {
    /// The directory (e.g. the source cache).
    pub dir: PathBuf,
    /// The count to assume when nothing was remembered for this config.
    pub typical: Option<u64>,
}

impl StepMemo {
    fn file(&self, config_sha256: &str) -> PathBuf {
        self.dir.join(format!("compile-steps-{config_sha256}"))
    }

    /// The remembered count for this config, else the typical one, if any.
    pub fn recall(&self, config_sha256: &str) -> Option<u64> {
        let remembered = fs::read_to_string(self.file(config_sha256))
            .ok()
            .and_then(|t| t.trim().parse().ok());
        remembered.or(self.typical)
    }

    /// Remembers `steps` (temp file and rename, so a reader never sees half a number).
    pub fn remember(&self, config_sha256: &str, steps: u64) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        fs::write(tmp.path(), format!("{steps}\n"))?;
        tmp.persist(self.file(config_sha256))
            .map(drop)
            .map_err(|e| e.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kbuild::fake::FakeKbuild;

    fn fake(obj: &Path, image: &'static str, steps: u64) -> FakeKbuild {
        let obj = obj.to_path_buf();
        let mut kb = FakeKbuild::new(move |args| {
            if args == ["syncconfig"] {
                return Ok(0);
            }
            assert_eq!(args, ["all"]);
            let image = obj.join(Target::AMD64.image_in_tree);
            fs::create_dir_all(image.parent().unwrap())?;
            fs::write(image, b"bzImage")?;
            Ok(steps)
        });
        kb.answers = vec![
            ("kernelrelease", "6.12.117-samekernel".into()),
            ("image_name", image.into()),
        ];
        kb
    }

    #[test]
    fn compile_reports_steps_against_the_remembered_count() {
        let t = tempfile::tempdir().unwrap();
        let mut kb = fake(t.path(), "arch/x86/boot/bzImage", 60);
        let release = kernel_release(&mut kb, &Target::AMD64).unwrap();
        // setlocalversion reads CONFIG_LOCALVERSION from auto.conf: syncconfig first.
        assert_eq!(
            kb.calls[..2],
            ["make syncconfig", "make -s kernelrelease"],
            "{:?}",
            kb.calls
        );
        let mut seen = Vec::new();
        let c = compile(
            &mut kb,
            &Target::AMD64,
            t.path(),
            release,
            Some(100),
            &mut |p| seen.push(p),
        )
        .unwrap();
        assert_eq!(
            (c.kernel_release.as_str(), c.steps),
            ("6.12.117-samekernel", 60)
        );
        let steps: Vec<u64> = seen.iter().map(|p| p.steps).collect();
        assert_eq!(steps, [25, 50]);
        assert!(seen.iter().all(|p| p.expected == Some(100)));

        let mut memo = StepMemo {
            dir: t.path().join("memo"),
            typical: None,
        };
        assert_eq!(memo.recall("abc"), None);
        memo.remember("abc", c.steps).unwrap();
        assert_eq!(memo.recall("abc"), Some(60));
        assert_eq!(memo.recall("abd"), None);
        // A flavour's typical count fills in only what was never measured.
        memo.typical = Some(1000);
        assert_eq!(memo.recall("abc"), Some(60));
        assert_eq!(memo.recall("abd"), Some(1000));
    }

    #[test]
    fn another_image_than_the_targets_is_refused_before_compiling() {
        let t = tempfile::tempdir().unwrap();
        let mut kb = fake(t.path(), "arch/x86/boot/Image.gz", 0);
        let err = kernel_release(&mut kb, &Target::AMD64)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the config builds arch/x86/boot/Image.gz, but amd64 expects arch/x86/boot/bzImage"
        );
        assert!(!kb.calls.iter().any(|c| c == "make all"));
    }

    #[test]
    fn a_build_without_its_image_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let mut kb = FakeKbuild::new(|_| Ok(3));
        let err = compile(
            &mut kb,
            &Target::AMD64,
            t.path(),
            "r".into(),
            None,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}/arch/x86/boot/bzImage: missing after make all",
                t.path().display()
            )
        );
    }
}
