//! The toolchain fingerprint: which exact tools this machine would build the kernel with.
//!
//! Mempo's SameKernel "bug2" was a linux-headers package whose `fixdep` differed between two
//! builders only because their gcc and libc6 *Debian package builds* differed. A
//! [`ToolchainFingerprint`] records what decides that: the Debian package versions of the
//! kernel-relevant packages (like `.buildinfo`'s Installed-Build-Depends), the version banners
//! of gcc/ld/as/make, and the SHA-256 of the compiler binaries that actually run (the
//! realpaths of `gcc`, of `gcc -print-prog-name=cc1`, `ld.bfd` and `as`).
//!
//! Its text form is stable and strict: three sections in this order, each sorted by name
//! (bytewise), LF line ends, no trailing blanks:
//!
//! ```text
//! package binutils=2.40-2
//! package flex=2.6.4-8.2
//! package rsync=(none)
//! banner gcc=gcc (Debian 12.2.0-14+deb12u1) 12.2.0
//! banner ld=GNU ld (GNU Binutils for Debian) 2.40
//! sha256 /usr/lib/gcc/x86_64-linux-gnu/12/cc1=5d1f…(64 hex digits)
//! ```
//!
//! `(none)` marks a package that is not installed (for the native architecture or `all`).
//! [`ToolchainFingerprint::diff`] compares two fingerprints and classifies every difference
//! with [`EFFECT_RULES`]: known to change the output, or not known to.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::FIXED_PATH;

/// The Debian packages recorded by default (whichever are installed; the rest as `(none)`).
pub static DEFAULT_PACKAGES: &[&str] = &[
    "gcc",
    "gcc-12",
    "cpp-12",
    "libgcc-12-dev",
    "binutils",
    "binutils-x86-64-linux-gnu",
    "libc6",
    "libc6-dev",
    "libc-bin",
    "linux-libc-dev",
    "make",
    "flex",
    "bison",
    "bc",
    "libssl-dev",
    "libssl3",
    "openssl",
    "libelf-dev",
    "libelf1",
    "dwarves",
    "kmod",
    "cpio",
    "dpkg",
    "dpkg-dev",
    "perl",
    "python3",
    "coreutils",
    "sed",
    "gawk",
    "mawk",
    "grep",
    "findutils",
    "bash",
    "dash",
    "tar",
    "gzip",
    "xz-utils",
    "zstd",
    "libzstd1",
    "liblzma5",
    "zlib1g",
    "rsync",
];

/// Programs a kernel build runs, each with the Debian package that provides it. [`collect`]
/// fails with [`ToolchainError::MissingTools`] if any is not on [`FIXED_PATH`].
pub static REQUIRED_TOOLS: &[(&str, &str)] = &[
    ("as", "binutils"),
    ("bc", "bc"),
    ("bison", "bison"),
    ("cpio", "cpio"),
    ("depmod", "kmod"),
    ("dpkg-query", "dpkg"),
    ("flex", "flex"),
    ("gcc", "gcc"),
    ("gzip", "gzip"),
    ("ld.bfd", "binutils"),
    ("make", "make"),
    ("openssl", "openssl"),
    ("perl", "perl"),
    ("rsync", "rsync"),
    ("tar", "tar"),
    ("xz", "xz-utils"),
];

/// Development packages a kernel build needs (headers, not programs), and what needs them.
pub static REQUIRED_PACKAGES: &[(&str, &str)] = &[
    ("libc6-dev", "crt files and headers for every host program"),
    ("libelf-dev", "libelf.h for objtool and resolve_btfids"),
    (
        "libssl-dev",
        "openssl headers for sign-file and extract-cert",
    ),
];

/// What [`collect`] asks the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolchainQuery {
    /// Debian packages to record.
    pub packages: Vec<String>,
    /// `(program, Debian package)` that must be on `path`.
    pub required_tools: Vec<(String, String)>,
    /// Debian packages that must be installed.
    pub required_packages: Vec<String>,
    /// The PATH the commands run with (and the build will run with).
    pub path: String,
    /// `CROSS_COMPILE` of a cross build (`aarch64-linux-gnu-`), empty for a native one.
    /// When set, the cross gcc, as and ld are fingerprinted too (banners, sha256 of the
    /// binaries and of the cross `cc1`, the versioned cross compiler packages).
    pub cross_prefix: String,
}

impl ToolchainQuery {
    /// The default query plus the cross toolchain `prefix` (`aarch64-linux-gnu-`),
    /// provided by the Debian packages `gcc_package` (`gcc-aarch64-linux-gnu`) and
    /// `binutils_package` (`binutils-aarch64-linux-gnu`), which are required.
    pub fn cross(prefix: &str, gcc_package: &str, binutils_package: &str) -> ToolchainQuery {
        let mut q = ToolchainQuery {
            cross_prefix: prefix.to_owned(),
            ..ToolchainQuery::default()
        };
        for (tool, package) in [
            ("gcc", gcc_package),
            ("as", binutils_package),
            ("ld.bfd", binutils_package),
        ] {
            q.required_tools
                .push((format!("{prefix}{tool}"), package.to_owned()));
        }
        for package in [gcc_package, binutils_package] {
            if !q.packages.iter().any(|p| p == package) {
                q.packages.push(package.to_owned());
            }
        }
        q
    }
}

impl Default for ToolchainQuery {
    /// [`DEFAULT_PACKAGES`], [`REQUIRED_TOOLS`], [`REQUIRED_PACKAGES`], [`FIXED_PATH`].
    fn default() -> Self {
        ToolchainQuery {
            packages: DEFAULT_PACKAGES.iter().map(|s| s.to_string()).collect(),
            required_tools: REQUIRED_TOOLS
                .iter()
                .map(|(t, p)| (t.to_string(), p.to_string()))
                .collect(),
            required_packages: REQUIRED_PACKAGES
                .iter()
                .map(|(p, _)| p.to_string())
                .collect(),
            path: FIXED_PATH.to_owned(),
            cross_prefix: String::new(),
        }
    }
}

/// A program or package that is needed but absent, and the Debian package that provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTool {
    /// The program (`flex`) or package (`libelf-dev`) that is missing.
    pub what: String,
    /// The Debian package to install.
    pub package: String,
}

impl fmt::Display for MissingTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (install the Debian package {})",
            self.what, self.package
        )
    }
}

fn join_missing(m: &[MissingTool]) -> String {
    m.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a fingerprint could not be collected or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// Programs or packages the build needs are not installed.
    #[error("missing build tools: {}", join_missing(.missing))]
    MissingTools {
        /// Every missing program/package, in the order checked.
        missing: Vec<MissingTool>,
    },
    /// A command could not be started.
    #[error("`{command}`: cannot run: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A command exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// The exit status as text.
        status: String,
        /// The first line of its stderr.
        stderr: String,
    },
    /// A command printed something this crate does not understand.
    #[error("`{command}`: unexpected output: {problem}")]
    UnexpectedOutput {
        /// The command line.
        command: String,
        /// What is wrong.
        problem: String,
    },
    /// A compiler binary could not be resolved or hashed.
    #[error("{path}: cannot hash: {source}")]
    Hash {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The text form is malformed.
    #[error("toolchain fingerprint, line {line}: {problem}")]
    Parse {
        /// 1-based line number (0 for the text as a whole).
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// The output of one command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutput {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Everything [`collect_with`] needs from the machine, so tests can feed canned answers.
pub trait Host {
    /// Runs `program args…` with a clean environment. `Err` with kind `NotFound` if the
    /// program does not exist.
    fn run(&self, program: &str, args: &[&str]) -> io::Result<CommandOutput>;
    /// The canonical path of `program` found on the query's PATH, if any.
    fn which(&self, program: &str) -> Option<PathBuf>;
    /// The canonical path of a file (symlinks resolved).
    fn realpath(&self, path: &Path) -> io::Result<PathBuf>;
    /// Lowercase hex SHA-256 of a file's contents.
    fn sha256_file(&self, path: &Path) -> io::Result<String>;
}

/// The real machine: commands run with `env_clear`, `PATH` = the given path, `LC_ALL=C`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemHost {
    /// The PATH for commands and lookups.
    pub path: String,
}

impl Host for SystemHost {
    fn run(&self, program: &str, args: &[&str]) -> io::Result<CommandOutput> {
        let out = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", &self.path)
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null())
            .output()?;
        Ok(CommandOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    fn which(&self, program: &str) -> Option<PathBuf> {
        self.path
            .split(':')
            .filter(|d| d.starts_with('/'))
            .find_map(|dir| {
                let candidate = Path::new(dir).join(program);
                let meta = std::fs::metadata(&candidate).ok()?;
                (meta.is_file() && meta.permissions().mode() & 0o111 != 0)
                    .then(|| std::fs::canonicalize(&candidate).ok())
                    .flatten()
            })
    }

    fn realpath(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn sha256_file(&self, path: &Path) -> io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        io::copy(&mut file, &mut hasher)?;
        Ok(crate::hex(&hasher.finalize()))
    }
}

/// Collects this machine's fingerprint with [`SystemHost`] on `query.path`.
pub fn collect(query: &ToolchainQuery) -> Result<ToolchainFingerprint, ToolchainError> {
    collect_with(
        query,
        &SystemHost {
            path: query.path.clone(),
        },
    )
}

const DPKG_FORMAT: &str = "${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Version}\n";

/// Collects a fingerprint through `host`. First checks that every required tool and package
/// is present (one error listing all that are missing), then asks dpkg for the versions of
/// `query.packages` plus `gcc-N`, `cpp-N`, `libgcc-N-dev`, `gcc-N-plugin-dev` for the major version `gcc
/// -dumpversion` reports (only `ii` packages of the native architecture or `all` count as installed),
/// runs `--version` for the banners and hashes the resolved compiler binaries.
pub fn collect_with(
    query: &ToolchainQuery,
    host: &dyn Host,
) -> Result<ToolchainFingerprint, ToolchainError> {
    let mut missing = missing_tools(query, host);
    if missing.iter().any(|m| m.what == "dpkg-query") {
        return Err(ToolchainError::MissingTools { missing });
    }
    let recorded = recorded_packages(query, host, &missing)?;
    let installed = installed_packages(query, host, &recorded)?;
    missing.extend(
        query
            .required_packages
            .iter()
            .filter(|p| !installed.contains_key(*p))
            .map(|p| MissingTool {
                what: p.clone(),
                package: p.clone(),
            }),
    );
    if !missing.is_empty() {
        return Err(ToolchainError::MissingTools { missing });
    }
    let packages = recorded
        .iter()
        .map(|p| (p.clone(), installed.get(p).cloned()))
        .collect();
    let fp = ToolchainFingerprint {
        packages,
        banners: banners(query, host)?,
        binaries: binary_digests(query, host)?,
    };
    // Whatever the machine printed must survive the strict text form.
    ToolchainFingerprint::parse(&fp.to_text())?;
    Ok(fp)
}

/// The required tools not on the PATH, each with its Debian package.
fn missing_tools(query: &ToolchainQuery, host: &dyn Host) -> Vec<MissingTool> {
    query
        .required_tools
        .iter()
        .filter(|(tool, _)| host.which(tool).is_none())
        .map(|(tool, package)| MissingTool {
            what: tool.clone(),
            package: package.clone(),
        })
        .collect()
}

/// The packages the fingerprint names: the fixed list plus the versioned compiler
/// packages of whatever gcc this machine has (gcc-12 on Debian 12, gcc-14 on Debian 13),
/// and for a cross build also the cross compiler's (gcc-12-aarch64-linux-gnu, …).
fn recorded_packages(
    query: &ToolchainQuery,
    host: &dyn Host,
    missing: &[MissingTool],
) -> Result<Vec<String>, ToolchainError> {
    let mut recorded: Vec<String> = query.packages.clone();
    let cross_gcc = format!("{}gcc", query.cross_prefix);
    let compilers: &[&str] = if query.cross_prefix.is_empty() {
        &["gcc"]
    } else {
        &["gcc", &cross_gcc]
    };
    for gcc in compilers {
        if missing.iter().any(|m| m.what == *gcc) {
            continue;
        }
        for p in versioned_packages(host, gcc, &query.cross_prefix)? {
            if !recorded.contains(&p) {
                recorded.push(p);
            }
        }
    }
    Ok(recorded)
}

/// name → version of the recorded and required packages that dpkg says are installed
/// (`ii`, of the native architecture or `all`).
fn installed_packages(
    query: &ToolchainQuery,
    host: &dyn Host,
    recorded: &[String],
) -> Result<BTreeMap<String, String>, ToolchainError> {
    let mut wanted: Vec<&str> = recorded.iter().map(String::as_str).collect();
    wanted.extend(query.required_packages.iter().map(String::as_str));
    wanted.sort_unstable();
    wanted.dedup();
    let native = run_ok(host, "dpkg", &["--print-architecture"], &[0])?;
    let native = native.trim();
    let mut args = vec!["-W", "-f", DPKG_FORMAT];
    args.extend(wanted.iter().copied());
    // dpkg-query exits 1 when some names match no package at all; that is "(none)".
    let listing = run_ok(host, "dpkg-query", &args, &[0, 1])?;
    let mut installed = BTreeMap::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, arch, status, version] = fields[..] else {
            return Err(ToolchainError::UnexpectedOutput {
                command: "dpkg-query -W".into(),
                problem: format!("line `{line}` does not have 4 tab-separated fields"),
            });
        };
        if status.starts_with("ii") && (arch == native || arch == "all") && !version.is_empty() {
            installed.insert(name.to_owned(), version.to_owned());
        }
    }
    Ok(installed)
}

/// The first `--version` line of gcc, ld, as, make (and the cross gcc, ld, as), and of
/// pahole where it is installed: it encodes BTF (CONFIG_DEBUG_INFO_BTF) and is optional
/// for kbuild, while its package (dwarves) is recorded either way.
fn banners(
    query: &ToolchainQuery,
    host: &dyn Host,
) -> Result<BTreeMap<String, String>, ToolchainError> {
    let banner_tools = ["gcc", "ld", "as", "make"]
        .into_iter()
        .map(String::from)
        .chain(
            ["gcc", "ld", "as"]
                .iter()
                .filter(|_| !query.cross_prefix.is_empty())
                .map(|t| format!("{}{t}", query.cross_prefix)),
        );
    let mut banners = BTreeMap::new();
    for tool in banner_tools {
        let tool = tool.as_str();
        let out = run_ok(host, tool, &["--version"], &[0])?;
        let first = out.lines().next().unwrap_or("").trim().to_owned();
        if first.is_empty() {
            return Err(ToolchainError::UnexpectedOutput {
                command: format!("{tool} --version"),
                problem: "empty output".into(),
            });
        }
        banners.insert(tool.to_owned(), first);
    }
    if host.which("pahole").is_some() {
        let out = run_ok(host, "pahole", &["--version"], &[0])?;
        let first = out.lines().next().unwrap_or("").trim();
        if !first.is_empty() {
            banners.insert("pahole".to_owned(), first.to_owned());
        }
    }
    Ok(banners)
}

/// path → sha256 of the binaries that turn C into objects, native and cross.
fn binary_digests(
    query: &ToolchainQuery,
    host: &dyn Host,
) -> Result<BTreeMap<String, String>, ToolchainError> {
    let mut binaries = BTreeMap::new();
    let mut prefixes = vec![""];
    if !query.cross_prefix.is_empty() {
        prefixes.push(&query.cross_prefix);
    }
    for prefix in prefixes {
        for p in compiler_binaries(host, prefix)? {
            let shown = p.display().to_string();
            let digest = host
                .sha256_file(&p)
                .map_err(|source| ToolchainError::Hash {
                    path: shown.clone(),
                    source,
                })?;
            binaries.insert(shown, digest);
        }
    }
    Ok(binaries)
}

/// `gcc-N`, `cpp-N`, `libgcc-N-dev` for the major version `<gcc> -dumpversion` reports;
/// for a cross compiler (`prefix` = `aarch64-linux-gnu-`) Debian's cross names
/// `gcc-N-aarch64-linux-gnu`, `cpp-N-aarch64-linux-gnu`, `gcc-N-plugin-dev-aarch64-linux-gnu`.
fn versioned_packages(
    host: &dyn Host,
    gcc: &str,
    prefix: &str,
) -> Result<Vec<String>, ToolchainError> {
    let version = run_ok(host, gcc, &["-dumpversion"], &[0])?;
    let major = version.trim().split('.').next().unwrap_or("");
    if major.is_empty() || !major.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ToolchainError::UnexpectedOutput {
            command: format!("{gcc} -dumpversion"),
            problem: format!("`{}` is not a version", version.trim()),
        });
    }
    if gcc == "gcc" {
        return Ok(vec![
            format!("gcc-{major}"),
            format!("cpp-{major}"),
            format!("libgcc-{major}-dev"),
            // GCC plugins (STACKLEAK) are built against these headers: whether they are
            // installed decides the hardening fragment, so witnesses must see it.
            format!("gcc-{major}-plugin-dev"),
        ]);
    }
    let triplet = prefix.trim_end_matches('-').replace('_', "-");
    Ok(vec![
        format!("gcc-{major}-{triplet}"),
        format!("cpp-{major}-{triplet}"),
        // The cross compiler's plugin headers: the native ones do not serve it.
        format!("gcc-{major}-plugin-dev-{triplet}"),
    ])
}

/// The binaries that turn C into objects for `prefix` (empty: the native toolchain):
/// `cc1` (resolved), `gcc`, `ld.bfd` and `as` as found on the PATH.
fn compiler_binaries(host: &dyn Host, prefix: &str) -> Result<Vec<PathBuf>, ToolchainError> {
    let gcc = format!("{prefix}gcc");
    let cc1 = run_ok(host, &gcc, &["-print-prog-name=cc1"], &[0])?;
    let cc1 = cc1.trim();
    if !cc1.starts_with('/') {
        return Err(ToolchainError::MissingTools {
            missing: vec![MissingTool {
                what: format!("cc1 of {gcc} (the C compiler proper)"),
                package: if prefix.is_empty() { "cpp" } else { "gcc" }.into(),
            }],
        });
    }
    let cc1 = host
        .realpath(Path::new(cc1))
        .map_err(|source| ToolchainError::Hash {
            path: cc1.to_owned(),
            source,
        })?;
    let mut paths = vec![cc1];
    for tool in ["gcc", "ld.bfd", "as"] {
        let name = format!("{prefix}{tool}");
        let Some(p) = host.which(&name) else {
            let package = if tool == "gcc" { "gcc" } else { "binutils" };
            return Err(ToolchainError::MissingTools {
                missing: vec![MissingTool {
                    what: name,
                    package: package.into(),
                }],
            });
        };
        paths.push(p);
    }
    Ok(paths)
}

fn run_ok(
    host: &dyn Host,
    program: &str,
    args: &[&str],
    ok: &[i32],
) -> Result<String, ToolchainError> {
    let command = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let out = host.run(program, args).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            let package = REQUIRED_TOOLS
                .iter()
                .find(|(t, _)| *t == program)
                .map_or(program, |(_, p)| *p);
            ToolchainError::MissingTools {
                missing: vec![MissingTool {
                    what: program.into(),
                    package: package.into(),
                }],
            }
        } else {
            ToolchainError::Spawn {
                command: command.clone(),
                source,
            }
        }
    })?;
    match out.code {
        Some(c) if ok.contains(&c) => Ok(out.stdout),
        code => Err(ToolchainError::CommandFailed {
            command,
            status: code.map_or("killed by a signal".into(), |c| format!("exit status {c}")),
            stderr: out.stderr.lines().next().unwrap_or("").to_owned(),
        }),
    }
}

/// Which tools this machine builds with. See the module docs for the text form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolchainFingerprint {
    /// Debian package → installed version (`None` = not installed).
    pub packages: BTreeMap<String, Option<String>>,
    /// Tool (`gcc`, `ld`, `as`, `make`) → first line of `--version`.
    pub banners: BTreeMap<String, String>,
    /// Realpath of a compiler binary → lowercase hex SHA-256.
    pub binaries: BTreeMap<String, String>,
}

const NONE: &str = "(none)";
const SECTIONS: [&str; 3] = ["package", "banner", "sha256"];

impl ToolchainFingerprint {
    /// Every entry as `(item, value)` where item is `"<section> <name>"`, in text order.
    fn items(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, version) in &self.packages {
            out.push((
                format!("package {name}"),
                version.clone().unwrap_or_else(|| NONE.into()),
            ));
        }
        for (tool, banner) in &self.banners {
            out.push((format!("banner {tool}"), banner.clone()));
        }
        for (path, digest) in &self.binaries {
            out.push((format!("sha256 {path}"), digest.clone()));
        }
        out
    }

    /// The stable text form (`<section> <name>=<value>` lines, LF-terminated).
    pub fn to_text(&self) -> String {
        self.items()
            .into_iter()
            .map(|(item, value)| format!("{item}={value}\n"))
            .collect()
    }

    /// Lowercase hex SHA-256 of [`ToolchainFingerprint::to_text`].
    pub fn sha256(&self) -> String {
        crate::hex(&Sha256::digest(self.to_text().as_bytes()))
    }

    /// Parses the text form strictly: known sections in order, names sorted and unique,
    /// values well-formed, every line LF-terminated, nothing else.
    pub fn parse(text: &str) -> Result<ToolchainFingerprint, ToolchainError> {
        if text.is_empty() {
            return Err(parse_error(0, "empty".into()));
        }
        let Some(body) = text.strip_suffix('\n') else {
            return Err(parse_error(
                text.lines().count(),
                "the last line does not end in LF".into(),
            ));
        };
        let mut fp = ToolchainFingerprint::default();
        let mut last: Option<(usize, &str)> = None;
        for (i, line) in body.split('\n').enumerate() {
            let n = i + 1;
            let item = FingerprintLine::split(line).map_err(|p| parse_error(n, p))?;
            if let Some(last) = last
                && (item.rank, item.name) <= last
            {
                return Err(parse_error(
                    n,
                    format!(
                        "`{} {}` is out of order or repeated",
                        item.section, item.name
                    ),
                ));
            }
            last = Some((item.rank, item.name));
            item.add_to(&mut fp).map_err(|p| parse_error(n, p))?;
        }
        Ok(fp)
    }

    /// Every item whose value differs (or that only one side has), sorted by item, each
    /// classified by [`classify`].
    pub fn diff(&self, other: &ToolchainFingerprint) -> Vec<FingerprintDiff> {
        let ours: BTreeMap<String, String> = self.items().into_iter().collect();
        let theirs: BTreeMap<String, String> = other.items().into_iter().collect();
        let mut keys: Vec<&String> = ours.keys().chain(theirs.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| ours.get(*k) != theirs.get(*k))
            .map(|k| {
                let rule = classify(k);
                FingerprintDiff {
                    item: k.clone(),
                    ours: ours.get(k).cloned(),
                    theirs: theirs.get(k).cloned(),
                    effect: rule.effect,
                    reason: rule.reason,
                }
            })
            .collect()
    }
}

/// Whether a difference is known to change the built bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// Evidence (or the mechanism) says the output changes: refuse or warn loudly.
    KnownToChangeOutput,
    /// No known way for it to reach the output.
    NotKnownToChangeOutput,
}

fn parse_error(line: usize, problem: String) -> ToolchainError {
    ToolchainError::Parse { line, problem }
}

/// One line of the text form, split and checked for shape (not yet for its
/// section's value syntax).
struct FingerprintLine<'a> {
    section: &'a str,
    rank: usize,
    name: &'a str,
    value: &'a str,
}

impl<'a> FingerprintLine<'a> {
    /// `<section> <name>=<value>` with a known section, a name without blanks or
    /// control characters, and a value that is non-empty, trimmed and printable.
    fn split(line: &'a str) -> Result<FingerprintLine<'a>, String> {
        let Some((section, rest)) = line.split_once(' ') else {
            return Err(format!("`{line}` is not `<section> <name>=<value>`"));
        };
        let Some(rank) = SECTIONS.iter().position(|s| *s == section) else {
            return Err(format!(
                "unknown section `{section}` (package, banner, sha256)"
            ));
        };
        let Some((name, value)) = rest.split_once('=') else {
            return Err(format!("`{line}` has no `=`"));
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("bad name `{name}`"));
        }
        if value.is_empty() || value.trim() != value || value.chars().any(char::is_control) {
            return Err(format!(
                "{name}: empty value, surrounding blanks or control characters"
            ));
        }
        Ok(FingerprintLine {
            section,
            rank,
            name,
            value,
        })
    }

    /// Checks the value for its section (a Debian version or `(none)`; a banner; an
    /// absolute path's sha256) and records it.
    fn add_to(&self, fp: &mut ToolchainFingerprint) -> Result<(), String> {
        let (name, value) = (self.name, self.value);
        match self.section {
            "package" => {
                let version = if value == NONE {
                    None
                } else if value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c))
                {
                    Some(value.to_owned())
                } else {
                    return Err(format!(
                        "{name}: `{value}` is not a Debian version or (none)"
                    ));
                };
                fp.packages.insert(name.to_owned(), version);
            }
            "banner" => {
                fp.banners.insert(name.to_owned(), value.to_owned());
            }
            _ => {
                if !name.starts_with('/') {
                    return Err(format!("`{name}` is not an absolute path"));
                }
                if value.len() != 64
                    || !value
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(format!("{name}: `{value}` is not 64 lowercase hex digits"));
                }
                fp.binaries.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(())
    }
}

/// One difference between two fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintDiff {
    /// `"<section> <name>"`, e.g. `package gcc-12`, `banner ld`, `sha256 /usr/bin/x86_64-linux-gnu-as`.
    pub item: String,
    /// Our value (`None` = we do not have the item).
    pub ours: Option<String>,
    /// Their value (`None` = they do not have the item).
    pub theirs: Option<String>,
    /// From [`EFFECT_RULES`].
    pub effect: Effect,
    /// One line: why it has that effect.
    pub reason: &'static str,
}

impl fmt::Display for FingerprintDiff {
    /// `package gcc-12: 12.2.0-14 here, 12.2.0-13 there (known to change output: …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "absent".into());
        let effect = match self.effect {
            Effect::KnownToChangeOutput => "known to change output",
            Effect::NotKnownToChangeOutput => "not known to change output",
        };
        write!(
            f,
            "{}: {} here, {} there ({effect}: {})",
            self.item,
            show(&self.ours),
            show(&self.theirs),
            self.reason
        )
    }
}

/// One row of the effect table. `pattern` matches an item exactly, or as a prefix when it
/// ends in `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectRule {
    /// `package gcc-*`, `banner *`, …
    pub pattern: &'static str,
    /// The classification.
    pub effect: Effect,
    /// Why.
    pub reason: &'static str,
}

const fn known(pattern: &'static str, reason: &'static str) -> EffectRule {
    EffectRule {
        pattern,
        effect: Effect::KnownToChangeOutput,
        reason,
    }
}

const fn not_known(pattern: &'static str, reason: &'static str) -> EffectRule {
    EffectRule {
        pattern,
        effect: Effect::NotKnownToChangeOutput,
        reason,
    }
}

/// The effect table, first match wins; the last row (`*`) catches anything unclassified as
/// known to change output.
pub static EFFECT_RULES: &[EffectRule] = &[
    known("package gcc", "selects the gcc-N that compiles everything"),
    known(
        "package gcc-*",
        "the compiler: code generation and the .comment string in every object",
    ),
    known("package cpp-*", "cc1, the compiler proper, is in cpp-N"),
    known(
        "package libgcc-*",
        "crtbegin.o and libgcc.a are linked into every host program",
    ),
    known(
        "package binutils*",
        "as and ld: encodings, section layout, build-ids",
    ),
    known(
        "package libc6-dev",
        "crt1.o/crti.o and headers go into every host program in linux-headers",
    ),
    known(
        "package libc6",
        "Mempo bug2: a different libc6 build changed fixdep in linux-headers",
    ),
    not_known(
        "package libc-bin",
        "ldconfig, locale tools and friends; nothing the build output contains",
    ),
    known(
        "package linux-libc-dev",
        "kernel uapi headers compiled into host programs",
    ),
    known(
        "package libelf*",
        "objtool and resolve_btfids compile against libelf",
    ),
    known(
        "package libssl*",
        "sign-file and extract-cert compile against libssl",
    ),
    not_known(
        "package openssl",
        "the CLI only generates signing keys, which are random anyway (see the hazard lint)",
    ),
    known(
        "package dwarves",
        "pahole writes BTF into vmlinux and modules",
    ),
    known("package kmod", "depmod writes the modules.*.bin indexes"),
    known(
        "package flex",
        "generates the lexers of genksyms and dtc, host programs shipped in linux-headers",
    ),
    known(
        "package bison",
        "generates the parsers of genksyms and dtc, host programs shipped in linux-headers",
    ),
    known(
        "package xz-utils",
        "compresses bzImage, modules and kheaders; xz >= 5.6 changed its default threading",
    ),
    known("package liblzma5", "the xz codec library"),
    known(
        "package zstd",
        "compresses modules (MODULE_COMPRESS_ZSTD) and kernels (KERNEL_ZSTD)",
    ),
    known(
        "package libzstd1",
        "the zstd codec library, also used by binutils for compressed debug sections",
    ),
    known(
        "package zlib1g",
        "compressed debug sections in gcc/binutils",
    ),
    known(
        "package gzip",
        "compresses the kernel with KERNEL_GZIP and changelogs",
    ),
    known("package tar", "builds the kheaders archive (IKHEADERS)"),
    known("package cpio", "copies the kheaders tree (IKHEADERS)"),
    not_known(
        "package make",
        "schedules the build; no known effect on the bytes",
    ),
    not_known(
        "package bc",
        "computes timeconst.h with exact integer arithmetic",
    ),
    not_known(
        "package perl",
        "runs generator scripts whose output is text determined by their inputs",
    ),
    not_known(
        "package python3",
        "runs generator scripts whose output is text determined by their inputs",
    ),
    not_known(
        "package dpkg",
        "samekernel writes .debs with detdeb, not dpkg-deb",
    ),
    not_known(
        "package dpkg-dev",
        "samekernel writes .debs with detdeb, not dpkg-buildpackage",
    ),
    not_known(
        "package coreutils",
        "basic file utilities; no known effect on the bytes",
    ),
    not_known(
        "package sed",
        "text filters in kbuild; no known effect on the bytes",
    ),
    not_known(
        "package gawk",
        "text filters in kbuild; no known effect on the bytes",
    ),
    not_known(
        "package mawk",
        "text filters in kbuild; no known effect on the bytes",
    ),
    not_known(
        "package grep",
        "text filters in kbuild; no known effect on the bytes",
    ),
    not_known(
        "package findutils",
        "file lists in kbuild are sorted; no known effect on the bytes",
    ),
    not_known(
        "package bash",
        "shell for scripts; samekernel ships no .cmd files that would record it",
    ),
    not_known(
        "package dash",
        "/bin/sh for scripts; samekernel ships no .cmd files that would record it",
    ),
    not_known("package rsync", "copies headers for headers_install"),
    known(
        "banner *",
        "a different version banner means a different tool built the code",
    ),
    known(
        "sha256 *",
        "a different compiler binary, even with the same version string (Mempo bug2)",
    ),
    known("*", "not in samekernel's effect table; assumed to matter"),
];

/// The first [`EFFECT_RULES`] row that matches `item`.
pub fn classify(item: &str) -> &'static EffectRule {
    EFFECT_RULES
        .iter()
        .find(|r| match r.pattern.strip_suffix('*') {
            Some(prefix) => item.starts_with(prefix),
            None => item == r.pattern,
        })
        .expect("the table ends with a catch-all")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A machine with canned answers.
    struct Canned {
        tools: BTreeSet<&'static str>,
        dpkg: &'static str,
    }

    impl Host for Canned {
        fn run(&self, program: &str, args: &[&str]) -> io::Result<CommandOutput> {
            let ok = |s: &str| {
                Ok(CommandOutput {
                    code: Some(0),
                    stdout: s.into(),
                    stderr: String::new(),
                })
            };
            match (program, args) {
                ("dpkg", ["--print-architecture"]) => ok("amd64\n"),
                ("dpkg-query", [..]) => {
                    assert_eq!(&args[..3], ["-W", "-f", DPKG_FORMAT]);
                    Ok(CommandOutput {
                        code: Some(1),
                        stdout: self.dpkg.into(),
                        stderr: "dpkg-query: no packages found matching rsync\n".into(),
                    })
                }
                ("gcc", ["--version"]) => {
                    ok("gcc (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022\n")
                }
                ("ld", ["--version"]) => ok("GNU ld (GNU Binutils for Debian) 2.40\n"),
                ("as", ["--version"]) => ok("GNU assembler (GNU Binutils for Debian) 2.40\n"),
                ("make", ["--version"]) => ok("GNU Make 4.3\n"),
                ("pahole", ["--version"]) => ok("v1.24\n"),
                ("gcc", ["-print-prog-name=cc1"]) => ok("/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n"),
                ("gcc", ["-dumpversion"]) => ok("12\n"),
                ("aarch64-linux-gnu-gcc", ["--version"]) => {
                    ok("aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0\n")
                }
                ("aarch64-linux-gnu-ld", ["--version"]) => {
                    ok("GNU ld (GNU Binutils for Debian) 2.40\n")
                }
                ("aarch64-linux-gnu-as", ["--version"]) => {
                    ok("GNU assembler (GNU Binutils for Debian) 2.40\n")
                }
                ("aarch64-linux-gnu-gcc", ["-print-prog-name=cc1"]) => {
                    ok("/usr/lib/gcc-cross/aarch64-linux-gnu/12/cc1\n")
                }
                ("aarch64-linux-gnu-gcc", ["-dumpversion"]) => ok("12\n"),
                _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such program")),
            }
        }
        fn which(&self, program: &str) -> Option<PathBuf> {
            self.tools
                .contains(program)
                .then(|| PathBuf::from(format!("/usr/bin/x86_64-linux-gnu-{program}")))
        }
        fn realpath(&self, path: &Path) -> io::Result<PathBuf> {
            Ok(path.to_owned())
        }
        fn sha256_file(&self, path: &Path) -> io::Result<String> {
            Ok(crate::hex(&Sha256::digest(
                path.as_os_str().as_encoded_bytes(),
            )))
        }
    }

    const DPKG: &str = "gcc-12\tamd64\tii \t12.2.0-14+deb12u1\ncpp-12\tamd64\tii \t12.2.0-14+deb12u1\nlibc6\tamd64\tii \t2.36-9+deb12u10\nlibc6\ti386\tii \t2.36-9+deb12u9\nmake\tamd64\trc \t4.3-4.1\ncoreutils\tamd64\tii \t9.1-1\nlibelf-dev\tamd64\tii \t0.188-2.1\nlibssl-dev\tamd64\tii \t3.0.17-1~deb12u2\nlibc6-dev\tamd64\tii \t2.36-9+deb12u10\n";

    fn all_tools() -> BTreeSet<&'static str> {
        REQUIRED_TOOLS.iter().map(|(t, _)| *t).collect()
    }

    fn query() -> ToolchainQuery {
        ToolchainQuery {
            packages: ["coreutils", "gcc-12", "libc6", "make", "rsync"]
                .map(String::from)
                .to_vec(),
            ..ToolchainQuery::default()
        }
    }

    #[test]
    fn collects_from_canned_outputs() {
        let fp = collect_with(
            &query(),
            &Canned {
                tools: all_tools(),
                dpkg: DPKG,
            },
        )
        .unwrap();
        let text = fp.to_text();
        let expected_head = "package coreutils=9.1-1\npackage cpp-12=12.2.0-14+deb12u1\npackage gcc-12=12.2.0-14+deb12u1\npackage gcc-12-plugin-dev=(none)\npackage libc6=2.36-9+deb12u10\npackage libgcc-12-dev=(none)\npackage make=(none)\npackage rsync=(none)\nbanner as=GNU assembler (GNU Binutils for Debian) 2.40\nbanner gcc=gcc (Debian 12.2.0-14+deb12u1) 12.2.0\nbanner ld=GNU ld (GNU Binutils for Debian) 2.40\nbanner make=GNU Make 4.3\nsha256 /usr/bin/x86_64-linux-gnu-as=";
        assert!(text.starts_with(expected_head), "{text}");
        let sha_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("sha256 ")).collect();
        assert_eq!(sha_lines.len(), 4);
        assert!(
            sha_lines
                .iter()
                .any(|l| l.starts_with("sha256 /usr/lib/gcc/x86_64-linux-gnu/12/cc1="))
        );
        assert_eq!(ToolchainFingerprint::parse(&text).unwrap(), fp);
        assert_eq!(fp.sha256(), crate::hex(&Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn an_installed_pahole_has_its_banner_recorded() {
        let mut tools = all_tools();
        tools.insert("pahole");
        let fp = collect_with(&query(), &Canned { tools, dpkg: DPKG }).unwrap();
        assert_eq!(fp.banners.get("pahole").map(String::as_str), Some("v1.24"));
        assert!(fp.to_text().contains("\nbanner pahole=v1.24\n"));
    }

    #[test]
    fn a_cross_build_fingerprints_the_cross_toolchain_too() {
        const CROSS_DPKG: &str = "gcc-aarch64-linux-gnu\tamd64\tii \t4:12.2.0-3\nbinutils-aarch64-linux-gnu\tamd64\tii \t2.40-2\ngcc-12-aarch64-linux-gnu\tamd64\tii \t12.2.0-14cross1\nlibelf-dev\tamd64\tii \t0.188-2.1\nlibssl-dev\tamd64\tii \t3.0.17-1~deb12u2\nlibc6-dev\tamd64\tii \t2.36-9+deb12u10\n";
        let query = ToolchainQuery::cross(
            "aarch64-linux-gnu-",
            "gcc-aarch64-linux-gnu",
            "binutils-aarch64-linux-gnu",
        );
        let mut tools = all_tools();
        let cross_tools: BTreeSet<&'static str> = [
            "aarch64-linux-gnu-gcc",
            "aarch64-linux-gnu-as",
            "aarch64-linux-gnu-ld.bfd",
        ]
        .into();
        tools.extend(&cross_tools);
        let fp = collect_with(
            &query,
            &Canned {
                tools: tools.clone(),
                dpkg: CROSS_DPKG,
            },
        )
        .unwrap();
        let text = fp.to_text();
        for line in [
            "package binutils-aarch64-linux-gnu=2.40-2\n",
            "package gcc-12-aarch64-linux-gnu=12.2.0-14cross1\n",
            "package cpp-12-aarch64-linux-gnu=(none)\n",
            "package gcc-12-plugin-dev-aarch64-linux-gnu=(none)\n",
            "package gcc-aarch64-linux-gnu=4:12.2.0-3\n",
            "banner aarch64-linux-gnu-gcc=aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0\n",
            "banner aarch64-linux-gnu-as=GNU assembler (GNU Binutils for Debian) 2.40\n",
            "sha256 /usr/lib/gcc-cross/aarch64-linux-gnu/12/cc1=",
            "sha256 /usr/bin/x86_64-linux-gnu-aarch64-linux-gnu-ld.bfd=",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        // Native and cross: cc1, gcc, ld.bfd, as each.
        assert_eq!(text.lines().filter(|l| l.starts_with("sha256 ")).count(), 8);
        assert_eq!(ToolchainFingerprint::parse(&text).unwrap(), fp);
        // Without the cross compiler, the error names its Debian package.
        let err = collect_with(
            &query,
            &Canned {
                tools: tools.difference(&cross_tools).copied().collect(),
                dpkg: CROSS_DPKG,
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing build tools: aarch64-linux-gnu-gcc (install the Debian package gcc-aarch64-linux-gnu), aarch64-linux-gnu-as (install the Debian package binutils-aarch64-linux-gnu), aarch64-linux-gnu-ld.bfd (install the Debian package binutils-aarch64-linux-gnu)"
        );
    }

    #[test]
    fn missing_tools_name_the_debian_package() {
        let mut tools = all_tools();
        tools.remove("flex");
        tools.remove("depmod");
        let err = collect_with(&query(), &Canned { tools, dpkg: DPKG }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing build tools: depmod (install the Debian package kmod), flex (install the Debian package flex)"
        );
        // A missing -dev package is reported the same way.
        let dpkg = "libc6-dev\tamd64\tii \t2.36\nlibssl-dev\tamd64\tii \t3.0\n";
        let err = collect_with(
            &query(),
            &Canned {
                tools: all_tools(),
                dpkg,
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing build tools: libelf-dev (install the Debian package libelf-dev)"
        );
    }

    #[test]
    fn parse_is_strict() {
        let good = "package a=1.0\nbanner gcc=gcc 12\nsha256 /usr/bin/as=".to_owned()
            + &"ab".repeat(32)
            + "\n";
        assert!(ToolchainFingerprint::parse(&good).is_ok());
        let bad = [
            ("", "empty"),
            ("package a=1.0", "LF"),
            ("package a=1.0\n\n", "not `<section>"),
            ("banner gcc=x\npackage a=1\n", "out of order"),
            ("package b=1\npackage a=1\n", "out of order"),
            ("package a=1\npackage a=1\n", "out of order"),
            ("pkg a=1\n", "unknown section"),
            ("package a 1\n", "no `=`"),
            ("package a=1 \n", "surrounding blanks"),
            ("package a=\n", "empty value"),
            ("package a=1 2\n", "not a Debian version"),
            ("sha256 usr/bin/as=00\n", "absolute path"),
            ("sha256 /usr/bin/as=00\n", "64 lowercase hex"),
            ("banner gcc=a\tb\n", "control"),
        ];
        for (text, needle) in bad {
            let e = ToolchainFingerprint::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn diff_classifies_each_difference() {
        let ours = ToolchainFingerprint::parse(
            "package coreutils=9.1-1\npackage gcc-12=12.2.0-14\npackage libc6=2.36-9\nbanner gcc=gcc 12.2.0\n",
        )
        .unwrap();
        let theirs = ToolchainFingerprint::parse(
            "package coreutils=9.2-1\npackage gcc-12=12.2.0-14\npackage libc6=2.36-8\npackage zstd=(none)\nbanner gcc=gcc 12.2.0\n",
        )
        .unwrap();
        let d = ours.diff(&theirs);
        let summary: Vec<(&str, Option<&str>, Option<&str>, Effect)> = d
            .iter()
            .map(|d| {
                (
                    d.item.as_str(),
                    d.ours.as_deref(),
                    d.theirs.as_deref(),
                    d.effect,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "package coreutils",
                    Some("9.1-1"),
                    Some("9.2-1"),
                    Effect::NotKnownToChangeOutput
                ),
                (
                    "package libc6",
                    Some("2.36-9"),
                    Some("2.36-8"),
                    Effect::KnownToChangeOutput
                ),
                (
                    "package zstd",
                    None,
                    Some("(none)"),
                    Effect::KnownToChangeOutput
                ),
            ]
        );
        assert!(d[1].to_string().starts_with(
            "package libc6: 2.36-9 here, 2.36-8 there (known to change output: Mempo bug2"
        ));
        assert!(ours.diff(&ours).is_empty());
    }

    #[test]
    fn every_default_package_has_its_own_effect_row() {
        for p in DEFAULT_PACKAGES {
            let rule = classify(&format!("package {p}"));
            assert_ne!(rule.pattern, "*", "{p} falls through to the catch-all");
        }
        assert_eq!(classify("package gcc-13").pattern, "package gcc-*");
        assert_eq!(classify("package libc6").pattern, "package libc6");
        assert_eq!(
            classify("sha256 /usr/bin/x").effect,
            Effect::KnownToChangeOutput
        );
        assert_eq!(classify("package something-new").pattern, "*");
    }
}
