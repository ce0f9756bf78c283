//! `kernel-deb inspect`: what a linux-image package's kernel says about itself — the
//! `Linux version …` banner (with the compiler and linker that built it) and the
//! embedded `.config` (IKCONFIG) — checked against the build record and the toolchain
//! fingerprint written beside it.
//!
//! The bzImage payload is found through the setup header and decompressed by its magic
//! with debdiff's bounded helpers (`debdiff::kernel`, `debdiff::content`); nothing here
//! parses the kernel a second way.

use std::path::{Path, PathBuf};

use debdiff::Limits;
use detdeb::Compressor;
use detdeb::TarEntryKind;
use detdeb::reader::DebReader;
use kbuild_env::ToolchainFingerprint;
use sha2::{Digest, Sha256};
use testimony::BuildRecord;

/// Why a package could not be inspected (bad input, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The `.deb` could not be read.
    #[error(transparent)]
    Deb(#[from] detdeb::Error),
    /// The package has no `boot/vmlinuz-*`.
    #[error("{0}: no boot/vmlinuz-* (not a linux-image package)")]
    NoKernel(String),
    /// The build record could not be read.
    #[error(transparent)]
    Record(debdiff::Error),
    /// The toolchain fingerprint beside the record exists but cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The `TOOLCHAIN` file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The toolchain fingerprint beside the record does not parse.
    #[error("{}: {source}", path.display())]
    Toolchain {
        /// The `TOOLCHAIN` file.
        path: PathBuf,
        /// Why.
        source: kbuild_env::ToolchainError,
    },
    /// The kernel image could not be decoded.
    #[error("{path}: {problem}")]
    Kernel {
        /// The image inside the package.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// One comparison with the record or the fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was compared.
    pub what: String,
    /// Whether it matched.
    pub ok: bool,
    /// The values compared.
    pub detail: String,
}

/// What the kernel image in a package says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KernelFacts {
    /// The image's path in the package.
    pub image: String,
    /// The bzImage payload's codec.
    pub codec: String,
    /// The `Linux version …` banner (`uname -a`'s source).
    pub banner: String,
    /// The compiler part of the banner (`gcc (Debian …) 12.2.0, GNU ld … 2.40`).
    pub compiler: Option<String>,
    /// SHA-256 of the embedded `.config` (None: IKCONFIG off).
    pub config_sha256: Option<String>,
    /// The embedded `.config`.
    #[serde(skip)]
    pub config: Option<String>,
}

/// Reads the kernel facts from the linux-image package at `deb`.
pub fn kernel_facts(deb: &Path, limits: &Limits) -> Result<KernelFacts, InspectError> {
    let reader = DebReader::open(deb)?;
    let (image, bytes) = vmlinuz(&reader, limits)?;
    let bad = |problem: String| InspectError::Kernel {
        path: image.clone(),
        problem,
    };
    let payload = debdiff::kernel::bzimage_payload(&bytes)
        .ok_or_else(|| bad("not a bzImage (no HdrS setup header >= 2.08)".into()))?;
    let codec = match payload.codec {
        "gzip" => Compressor::Gzip,
        "xz" => Compressor::Xz,
        "zstd" => Compressor::Zstd,
        other => return Err(bad(format!("payload compressed with {other}, not decoded"))),
    };
    let vmlinux = debdiff::content::decompress_first_stream(
        codec,
        compressed_stream(codec, payload.payload),
        "payload",
        limits.max_decompressed,
    )
    .map_err(bad)?;
    let banner = linux_banner(&vmlinux).ok_or_else(|| bad("no `Linux version` banner".into()))?;
    let config = match debdiff::kernel::ikconfig(&vmlinux, limits) {
        None => None,
        Some(r) => Some(String::from_utf8(r.map_err(bad)?).map_err(|e| bad(e.to_string()))?),
    };
    Ok(KernelFacts {
        image,
        codec: payload.codec.to_owned(),
        compiler: compiler_of(&banner),
        config_sha256: config.as_deref().map(sha256_hex),
        config,
        banner,
    })
}

/// The compressed stream of a bzImage payload: kbuild appends vmlinux's size (4 bytes,
/// LE) after xz and zstd streams (`size_append`), which their decoders refuse as
/// trailing garbage; gzip carries the size in its own trailer, so its payload is the
/// whole stream.
fn compressed_stream(codec: Compressor, payload: &[u8]) -> &[u8] {
    match codec {
        Compressor::Gzip => payload,
        _ => &payload[..payload.len().saturating_sub(4)],
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first `boot/vmlinuz-*` regular file of the package, read within the limits.
fn vmlinuz(reader: &DebReader, limits: &Limits) -> Result<(String, Vec<u8>), InspectError> {
    let mut tar = reader.data_tar()?;
    while let Some(entry) = tar.next_entry().map_err(detdeb::Error::from)? {
        let name = entry.name_lossy();
        let is_image = name.trim_start_matches("./").starts_with("boot/vmlinuz-");
        if is_image && entry.kind == TarEntryKind::File {
            if entry.size > limits.max_file_bytes {
                return Err(InspectError::Kernel {
                    path: name,
                    problem: format!("larger than {} bytes", limits.max_file_bytes),
                });
            }
            let bytes = tar.read_data_to_vec().map_err(detdeb::Error::from)?;
            return Ok((name, bytes));
        }
    }
    Err(InspectError::NoKernel(reader.display_name().to_owned()))
}

/// `Linux version …` up to its newline (the `linux_banner` string of init/version.c).
pub fn linux_banner(vmlinux: &[u8]) -> Option<String> {
    const MARK: &[u8] = b"Linux version ";
    let mut from = 0;
    while let Some(at) = find(&vmlinux[from..], MARK).map(|i| i + from) {
        let rest = &vmlinux[at..];
        let end = rest.iter().position(|&b| b == b'\n' || b == 0)?;
        // `linux_banner` ends with a newline; format strings such as
        // "Linux version %s" end with a NUL.
        if rest[end] == b'\n' && !rest[..end].contains(&b'%') {
            return Some(String::from_utf8_lossy(&rest[..end]).into_owned());
        }
        from = at + MARK.len();
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The compiler part: `Linux version R (user@host) (COMPILER) #…`.
pub fn compiler_of(banner: &str) -> Option<String> {
    let after_user = banner.split_once(") (")?.1;
    let end = after_user.find(") #")?;
    Some(after_user[..end].to_owned())
}

/// Compares `facts` (from the package `deb`) with `record` and `toolchain`.
pub fn check(
    deb: &Path,
    facts: &KernelFacts,
    record: &BuildRecord,
    toolchain: Option<&ToolchainFingerprint>,
) -> Result<Vec<Check>, InspectError> {
    let mut checks = Vec::new();
    let name = deb.file_name().map(|n| n.to_string_lossy().into_owned());
    let sha = crate::record::sha256_file(deb).map_err(|e| InspectError::Kernel {
        path: deb.display().to_string(),
        problem: e.to_string(),
    })?;
    let listed = record
        .debs
        .iter()
        .find(|d| Some(&d.file_name) == name.as_ref());
    checks.push(Check {
        what: "package sha256 in the build record".into(),
        ok: listed.is_some_and(|d| d.sha256 == sha),
        detail: format!("{sha} / {}", listed.map_or("(not listed)", |d| &d.sha256)),
    });
    checks.push(match &facts.config_sha256 {
        Some(ours) => Check {
            what: "embedded .config sha256 = kernel-config-sha256".into(),
            ok: *ours == record.kernel_config_sha256,
            detail: format!("{ours} / {}", record.kernel_config_sha256),
        },
        None => Check {
            what: "embedded .config (IKCONFIG)".into(),
            ok: true,
            detail: "not embedded (CONFIG_IKCONFIG off): not checked".into(),
        },
    });
    checks.push(release_check(facts));
    let stamp =
        kbuild_env::env::date_c_locale(i64::try_from(record.source.source_date_epoch).unwrap_or(0));
    checks.push(Check {
        what: "banner carries the pinned timestamp".into(),
        ok: facts.banner.ends_with(&stamp),
        detail: stamp,
    });
    if let Some(tc) = toolchain {
        for tool in ["gcc", "ld"] {
            let want = tc.banners.get(tool).cloned().unwrap_or_default();
            let compiler = facts.compiler.as_deref().unwrap_or("");
            checks.push(Check {
                what: format!("banner's compiler names the toolchain's {tool}"),
                ok: !want.is_empty() && compiler.contains(&want),
                detail: format!("`{want}` in `{compiler}`"),
            });
        }
    }
    Ok(checks)
}

/// The release the kernel reports (`uname -r`, and where it looks for its modules)
/// against the one the package installs it under (`/boot/vmlinuz-<release>`, which
/// maintainer scripts and initramfs-tools use): a mismatch makes an initrd without
/// modules.
fn release_check(facts: &KernelFacts) -> Check {
    let packaged = facts.image.rsplit_once("vmlinuz-").map_or("", |(_, r)| r);
    let reported = banner_release(&facts.banner).unwrap_or("");
    Check {
        what: "banner's release = the image's file name (uname -r = /boot/vmlinuz-R)".into(),
        ok: !reported.is_empty() && reported == packaged,
        detail: format!("{reported} / {packaged}"),
    }
}

/// `6.12.117-samekernel` from `Linux version 6.12.117-samekernel (user@host) …`.
pub fn banner_release(banner: &str) -> Option<&str> {
    banner.strip_prefix("Linux version ")?.split(' ').next()
}

/// The record beside `deb` (`BUILD-RECORD`) and the `TOOLCHAIN` file beside the record.
pub fn files_beside(deb: &Path, record: Option<&Path>) -> (PathBuf, PathBuf) {
    let dir = deb.parent().unwrap_or(Path::new("."));
    let record = record.map_or_else(|| dir.join("BUILD-RECORD"), Path::to_path_buf);
    let toolchain = record.parent().unwrap_or(Path::new(".")).join("TOOLCHAIN");
    (record, toolchain)
}

/// A package's kernel facts and their checks against the record beside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inspection {
    /// What the kernel says.
    pub kernel: KernelFacts,
    /// Each comparison with the record and the toolchain fingerprint.
    pub checks: Vec<Check>,
}

impl Inspection {
    /// Whether every check matched.
    pub fn consistent(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The facts and one line per check (`ok` or `MISMATCH`), and with `config` the
    /// embedded `.config` after them.
    pub fn render_text(&self, config: bool) -> String {
        let k = &self.kernel;
        let mut s = format!("image:    {} ({} payload)\n", k.image, k.codec);
        s += &format!("banner:   {}\n", k.banner);
        let compiler = k.compiler.as_deref().unwrap_or("(not found)");
        s += &format!("compiler: {compiler}\n");
        let sha = k.config_sha256.as_deref().unwrap_or("(not embedded)");
        s += &format!("config:   {sha}\n");
        for c in &self.checks {
            let mark = if c.ok { "ok      " } else { "MISMATCH" };
            s += &format!("{mark} {}: {}\n", c.what, c.detail);
        }
        if config {
            s += k.config.as_deref().unwrap_or("");
        }
        s
    }
}

/// Inspects the linux-image package `deb`: its kernel facts checked against the
/// build record (`record`, else `BUILD-RECORD` beside the package) and the
/// `TOOLCHAIN` beside the record when there is one.
pub fn inspect(
    deb: &Path,
    record: Option<&Path>,
    limits: &Limits,
) -> Result<Inspection, InspectError> {
    let kernel = kernel_facts(deb, limits)?;
    let (record_path, toolchain_path) = files_beside(deb, record);
    let record = debdiff::read_record(&record_path).map_err(InspectError::Record)?;
    let toolchain =
        match safe_extract::regular::read_regular_to_string(&toolchain_path) {
            Ok(text) => Some(ToolchainFingerprint::parse(&text).map_err(|source| {
                InspectError::Toolchain {
                    path: toolchain_path,
                    source,
                }
            })?),
            // No fingerprint beside the .deb: that check is skipped. Anything else
            // (a FIFO, unreadable) is an error rather than a silently skipped check.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(InspectError::Io {
                    path: toolchain_path,
                    source,
                });
            }
        };
    let checks = check(deb, &kernel, &record, toolchain.as_ref())?;
    Ok(Inspection { kernel, checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANNER: &str = "Linux version 6.12.117-samekernel (samekernel@samekernel) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 Sun Nov  9 00:00:00 UTC 2025";

    #[test]
    fn an_inspection_renders_facts_then_one_line_per_check() {
        let mut i = Inspection {
            kernel: KernelFacts {
                image: "boot/vmlinuz-6.12".into(),
                codec: "xz".into(),
                banner: BANNER.into(),
                compiler: None,
                config_sha256: Some("ab".into()),
                config: Some("CONFIG_X=y\n".into()),
            },
            checks: vec![Check {
                what: "package sha256".into(),
                ok: true,
                detail: "1 = 1".into(),
            }],
        };
        assert!(i.consistent());
        let text = i.render_text(false);
        assert_eq!(
            text,
            format!(
                "image:    boot/vmlinuz-6.12 (xz payload)\nbanner:   {BANNER}\ncompiler: (not found)\nconfig:   ab\nok       package sha256: 1 = 1\n"
            )
        );
        assert!(i.render_text(true).ends_with("1 = 1\nCONFIG_X=y\n"));
        i.checks[0].ok = false;
        assert!(!i.consistent());
        assert!(i.render_text(false).contains("MISMATCH package sha256"));
    }

    #[test]
    fn only_xz_and_zstd_payloads_end_with_a_size_after_the_stream() {
        let payload = [1, 2, 3, 4, 5, 6];
        assert_eq!(compressed_stream(Compressor::Gzip, &payload), &payload);
        assert_eq!(compressed_stream(Compressor::Xz, &payload), &payload[..2]);
        assert_eq!(compressed_stream(Compressor::Zstd, &payload), &payload[..2]);
        assert_eq!(
            compressed_stream(Compressor::Xz, &payload[..3]),
            &[] as &[u8]
        );
    }

    #[test]
    fn the_release_the_kernel_reports_must_be_the_one_it_is_installed_under() {
        let facts = |image: &str| KernelFacts {
            image: image.into(),
            codec: "gzip".into(),
            banner: "Linux version 6.12.117-samekernel (samekernel@samekernel) (gcc) #1".into(),
            compiler: None,
            config_sha256: None,
            config: None,
        };
        assert!(release_check(&facts("./boot/vmlinuz-6.12.117-samekernel")).ok);
        // The packaging bug this guards: modules in /lib/modules/6.12.117-samekernel,
        // image and initrd named 6.12.117.
        let c = release_check(&facts("./boot/vmlinuz-6.12.117"));
        assert!(!c.ok);
        assert_eq!(c.detail, "6.12.117-samekernel / 6.12.117");
        assert_eq!(banner_release("not a banner"), None);
    }

    #[test]
    fn the_banner_is_the_newline_terminated_one() {
        let mut image = b"\0Linux version %s (%s)\0junk".to_vec();
        image.extend_from_slice(BANNER.as_bytes());
        image.extend_from_slice(b"\n\0more");
        assert_eq!(linux_banner(&image).as_deref(), Some(BANNER));
        assert_eq!(linux_banner(b"Linux version %s\0"), None);
        assert_eq!(
            compiler_of(BANNER).as_deref(),
            Some("gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40")
        );
        assert_eq!(compiler_of("Linux version 1"), None);
    }
}
