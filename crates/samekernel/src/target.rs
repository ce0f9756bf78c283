//! Target architectures as data: what Debian, kbuild and the packages call them.

use std::fmt;

/// One architecture the pipeline knows, with every name the build needs for it.
///
/// ```
/// use samekernel::Target;
/// let t = Target::from_debian_arch("amd64")?;
/// assert_eq!((t.kbuild_arch, t.src_arch), ("x86_64", "x86"));
/// assert_eq!(t.image_in_tree, "arch/x86/boot/bzImage");
/// assert_eq!(t.image_in_package("6.12.117-samekernel"), "boot/vmlinuz-6.12.117-samekernel");
/// assert!(Target::from_debian_arch("sparc").is_err());
/// # Ok::<(), samekernel::TargetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// Debian architecture (`amd64`), the packages' `Architecture` and file names.
    pub debian_arch: &'static str,
    /// kbuild's `ARCH` (`x86_64`; `uname -m` spelling where kbuild accepts it).
    pub kbuild_arch: &'static str,
    /// kbuild's `SRCARCH`, the directory under `arch/` (`x86`).
    pub src_arch: &'static str,
    /// `uname -m` of a machine that runs this architecture natively.
    pub machine: &'static str,
    /// `CROSS_COMPILE` when building on another machine (Debian's cross gcc prefix).
    pub cross_compile: &'static str,
    /// The boot image in the object tree that goes into `linux-image` as
    /// `/boot/vmlinuz-R`.
    pub image_in_tree: &'static str,
    /// What `make -s image_name` prints for the target's defconfig-style build: the
    /// image `make all` builds. For arm64 it is `Image.gz`, built from `Image`; the
    /// package carries `Image` (as Debian's arm64 kernels do: an uncompressed image
    /// with its EFI stub is what firmware and bootloaders load directly).
    pub kbuild_image_name: &'static str,
    /// Multiarch triplet: `linux-libc-dev` puts `asm/` under `/usr/include/<triplet>`.
    pub multiarch: &'static str,
}

/// Why a [`Target`] cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The Debian architecture name is not one of [`Target::ALL`].
    #[error("unknown architecture `{0}` (known: amd64, arm64)")]
    Unknown(String),
    /// Known, but this pipeline cannot build it yet.
    #[error("{arch}: {why}")]
    NotBuildable {
        /// Debian architecture.
        arch: &'static str,
        /// Why not, and what is missing.
        why: &'static str,
    },
}

impl Target {
    /// x86-64 (Debian `amd64`): `bzImage`, installed as `/boot/vmlinuz-R`.
    pub const AMD64: Target = Target {
        debian_arch: "amd64",
        kbuild_arch: "x86_64",
        src_arch: "x86",
        machine: "x86_64",
        cross_compile: "x86_64-linux-gnu-",
        image_in_tree: "arch/x86/boot/bzImage",
        kbuild_image_name: "arch/x86/boot/bzImage",
        multiarch: "x86_64-linux-gnu",
    };

    /// 64-bit Arm (Debian `arm64`): the uncompressed `Image`, installed as
    /// `/boot/vmlinuz-R` as Debian's own arm64 kernels are.
    pub const ARM64: Target = Target {
        debian_arch: "arm64",
        kbuild_arch: "arm64",
        src_arch: "arm64",
        machine: "aarch64",
        cross_compile: "aarch64-linux-gnu-",
        image_in_tree: "arch/arm64/boot/Image",
        kbuild_image_name: "arch/arm64/boot/Image.gz",
        multiarch: "aarch64-linux-gnu",
    };

    /// Every known target.
    pub const ALL: [Target; 2] = [Target::AMD64, Target::ARM64];

    /// The target Debian calls `arch`.
    pub fn from_debian_arch(arch: &str) -> Result<Target, TargetError> {
        Target::ALL
            .into_iter()
            .find(|t| t.debian_arch == arch)
            .ok_or_else(|| TargetError::Unknown(arch.to_owned()))
    }

    /// Whether a machine whose `uname -m` is `machine` builds this target without a
    /// cross compiler.
    pub fn is_native_on(&self, machine: &str) -> bool {
        self.machine == machine
    }

    /// Where the boot image goes in `linux-image-R` (relative to `/`).
    pub fn image_in_package(&self, kernel_release: &str) -> String {
        format!("boot/vmlinuz-{kernel_release}")
    }

    /// Refuses targets the pipeline cannot build. amd64 (native on x86_64) and arm64
    /// (cross-built with Debian's `gcc-aarch64-linux-gnu`, or native on aarch64) both
    /// have a built-in configuration and a reproducibility proof
    /// (`tests/reproducible_build.rs`, `tests/arm64.rs`).
    pub fn check_buildable(&self) -> Result<(), TargetError> {
        if Target::ALL.contains(self) {
            Ok(())
        } else {
            Err(TargetError::NotBuildable {
                arch: self.debian_arch,
                why: "not buildable: no built-in configuration and no reproducibility proof",
            })
        }
    }

    /// The Debian packages of the cross toolchain for this target when built on a
    /// machine that does not run it natively: gcc, binutils, and the libc the
    /// headers' host programs are linked against (all recorded in the fingerprint).
    pub fn cross_packages(&self) -> [&'static str; 3] {
        match self.debian_arch {
            "arm64" => [
                "gcc-aarch64-linux-gnu",
                "binutils-aarch64-linux-gnu",
                "libc6-dev-arm64-cross",
            ],
            _ => [
                "gcc-x86-64-linux-gnu",
                "binutils-x86-64-linux-gnu",
                "libc6-dev-amd64-cross",
            ],
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.debian_arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_is_found_by_its_debian_name_and_builds() {
        for t in Target::ALL {
            assert_eq!(Target::from_debian_arch(t.debian_arch), Ok(t));
            assert!(t.multiarch.starts_with(t.machine));
            assert!(
                t.image_in_tree
                    .starts_with(&format!("arch/{}/", t.src_arch))
            );
            assert!(t.check_buildable().is_ok(), "{t}");
            // Debian spells the triplet with dashes in package names.
            let suffix = t.multiarch.replace('_', "-");
            let [gcc, binutils, libc] = t.cross_packages();
            assert!(gcc.ends_with(&suffix) && binutils.ends_with(&suffix));
            assert_eq!(libc, format!("libc6-dev-{}-cross", t.debian_arch));
        }
        let unproven = Target {
            debian_arch: "riscv64",
            ..Target::ARM64
        };
        assert_eq!(
            unproven.check_buildable().unwrap_err().to_string(),
            "riscv64: not buildable: no built-in configuration and no reproducibility proof"
        );
        assert_eq!(
            Target::from_debian_arch("i386").unwrap_err().to_string(),
            "unknown architecture `i386` (known: amd64, arm64)"
        );
    }
}
