//! Toolchain facts a rule may depend on: target arch, compiler and version, GCC plugins.

use kbuild_env::{ConfigValue, KernelConfig};
use serde::Serialize;

use crate::error::{Error, Result};

/// A target architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// `ARCH=x86_64`
    X86_64,
    /// `ARCH=arm64`
    Arm64,
}

impl Arch {
    /// Name as kbuild's `ARCH=` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The directory under `arch/` (SRCARCH).
    pub fn srcarch(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86",
            Arch::Arm64 => "arm64",
        }
    }

    /// Parses `x86_64`/`amd64` or `arm64`/`aarch64`.
    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "x86_64" | "amd64" | "x86" => Some(Arch::X86_64),
            "arm64" | "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }
}

/// Which compiler builds the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compiler {
    /// GCC.
    Gcc,
    /// Clang/LLVM.
    Clang,
}

/// The facts about the toolchain that decide whether a rule can be met at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Toolchain {
    /// Target architecture.
    pub arch: Arch,
    /// Compiler family.
    pub compiler: Compiler,
    /// Major version (12 for gcc 12.2.0).
    pub major: u32,
    /// GCC plugin headers are installed (gcc-N-plugin-dev); always false for Clang.
    pub gcc_plugins: bool,
}

impl Toolchain {
    /// Debian 12's default: x86_64, gcc 12, with or without gcc-12-plugin-dev.
    pub fn debian12_gcc(arch: Arch, gcc_plugins: bool) -> Toolchain {
        Toolchain {
            arch,
            compiler: Compiler::Gcc,
            major: 12,
            gcc_plugins,
        }
    }

    /// What a resolved `.config` records: `CONFIG_X86_64`/`CONFIG_ARM64`, `CONFIG_CC_IS_GCC` +
    /// `CONFIG_GCC_VERSION` or `CONFIG_CC_IS_CLANG` + `CONFIG_CLANG_VERSION`. Plugins count as
    /// available when `CONFIG_GCC_PLUGINS` appears at all: Kconfig only writes that symbol
    /// (as `=y` or "is not set") when its plugin-header test succeeded.
    pub fn from_config(config: &KernelConfig, origin: &str) -> Result<Toolchain> {
        let arch = if config.is_enabled("CONFIG_X86_64") {
            Arch::X86_64
        } else if config.is_enabled("CONFIG_ARM64") {
            Arch::Arm64
        } else {
            return Err(Error::Toolchain {
                origin: origin.into(),
                what: "architecture (x86_64 or arm64)",
            });
        };
        let (compiler, version) = if config.is_enabled("CONFIG_CC_IS_GCC") {
            (Compiler::Gcc, config.get("CONFIG_GCC_VERSION"))
        } else if config.is_enabled("CONFIG_CC_IS_CLANG") {
            (Compiler::Clang, config.get("CONFIG_CLANG_VERSION"))
        } else {
            return Err(Error::Toolchain {
                origin: origin.into(),
                what: "compiler",
            });
        };
        let major = match version {
            Some(ConfigValue::Int(v)) if *v > 0 => (*v / 10000) as u32,
            _ => {
                return Err(Error::Toolchain {
                    origin: origin.into(),
                    what: "compiler version",
                });
            }
        };
        let gcc_plugins = compiler == Compiler::Gcc && config.get("CONFIG_GCC_PLUGINS").is_some();
        Ok(Toolchain {
            arch,
            compiler,
            major,
            gcc_plugins,
        })
    }

    /// "gcc 12" / "clang 16".
    pub fn describe(&self) -> String {
        let cc = match self.compiler {
            Compiler::Gcc => "gcc",
            Compiler::Clang => "clang",
        };
        format!("{cc} {}", self.major)
    }
}
