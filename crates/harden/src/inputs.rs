//! Where a report's inputs come from on a live machine: the running kernel's config
//! (`/proc/config.gz`, else `/boot/config-$(uname -r)`), its command line
//! (`/proc/cmdline`) and the sysctls the rules look at (`/proc/sys`). Every read is
//! bounded by [`MAX_TEXT`], so a hostile or huge file cannot exhaust memory.
//!
//! ```no_run
//! let (text, origin) = harden::inputs::running_config()?;
//! let config = harden::KernelConfig::parse(&text, &origin)?;
//! let cmdline = harden::inputs::running_cmdline()?;
//! let sysctls = harden::inputs::running_sysctls()?;
//! # Ok::<(), harden::Error>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Cmdline, Error, Result, Sysctls};

/// Largest config, command line or sysctl file read.
pub const MAX_TEXT: u64 = 16 * 1024 * 1024;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads at most [`MAX_TEXT`] bytes of UTF-8 text from `path`.
pub fn read_text(path: &Path) -> Result<String> {
    let mut text = String::new();
    safe_extract::regular::open_regular(path)
        .and_then(|f| f.take(MAX_TEXT).read_to_string(&mut text))
        .map_err(io_error(path))?;
    Ok(text)
}

/// The running kernel's config and where it came from: `/proc/config.gz` when the
/// kernel exposes it, else `/boot/config-<release>`.
pub fn running_config() -> Result<(String, String)> {
    let gz = Path::new("/proc/config.gz");
    if gz.exists() {
        return Ok((read_gzip_text(gz)?, gz.display().to_string()));
    }
    let release_file = Path::new("/proc/sys/kernel/osrelease");
    let release = read_text(release_file)?;
    let boot = PathBuf::from(format!("/boot/config-{}", release.trim()));
    Ok((read_text(&boot)?, boot.display().to_string()))
}

/// Reads at most [`MAX_TEXT`] bytes of gzip-compressed UTF-8 text from `path`.
pub fn read_gzip_text(path: &Path) -> Result<String> {
    let mut text = String::new();
    let f = safe_extract::regular::open_regular(path).map_err(io_error(path))?;
    flate2::read::GzDecoder::new(f)
        .take(MAX_TEXT)
        .read_to_string(&mut text)
        .map_err(io_error(path))?;
    Ok(text)
}

/// The running kernel's command line, from `/proc/cmdline`.
pub fn running_cmdline() -> Result<Cmdline> {
    Cmdline::parse(&read_text(Path::new("/proc/cmdline"))?, "/proc/cmdline")
}

/// The current value of every sysctl a rule looks at, from `/proc/sys`.
pub fn running_sysctls() -> Result<Sysctls> {
    let keys = crate::rules::sysctl::RULES
        .iter()
        .flat_map(|r| r.check.terms())
        .filter(|t| t.kind == crate::rules::Kind::Sysctl)
        .map(|t| t.name);
    Sysctls::read_proc(Path::new("/proc/sys"), keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_text_is_read_and_bounded_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"CONFIG_X=y\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        assert_eq!(read_gzip_text(&path).unwrap(), "CONFIG_X=y\n");

        std::fs::write(&path, b"not gzip").unwrap();
        let err = read_gzip_text(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        let missing = dir.path().join("missing");
        let err = read_text(&missing).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn running_inputs_parse_on_this_machine() {
        // /proc/cmdline and /proc/sys exist on every Linux test machine.
        running_cmdline().unwrap();
        let sysctls = running_sysctls().unwrap();
        assert!(
            sysctls.iter().next().is_some(),
            "no rule sysctl found in /proc/sys"
        );
    }
}
