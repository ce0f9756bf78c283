//! Re-pinning a Debian source package from what apt offers now.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deb;
use crate::digest::Sha256Digest;
use crate::error::{Error, Result};
use crate::fetch::{FetchEvent, FetchProgress, Fetcher};
use crate::manifest::{DebMember, DebianSource, FileDigest, Manifest, SCHEMA, Source};

/// The candidate version apt would install, with the digest apt's signed lists record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptCandidate {
    /// Package name.
    pub package: String,
    /// Candidate version.
    pub version: String,
    /// `.deb` size and SHA-256 from the `Packages` index.
    pub deb: FileDigest,
}

fn run(cmd: &str, args: &[&str]) -> Result<String> {
    let command = format!("{cmd} {}", args.join(" "));
    let out = Command::new(cmd)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| Error::Command {
            command: command.clone(),
            problem: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(Error::Command {
            command,
            problem: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Asks `apt-cache policy` / `apt-cache show` for the candidate of `package`.
pub fn apt_candidate(package: &str) -> Result<AptCandidate> {
    let policy = run("apt-cache", &["policy", package])?;
    let version = parse_candidate(&policy).ok_or_else(|| Error::Command {
        command: format!("apt-cache policy {package}"),
        problem:
            "no installation candidate (is the package name right, and did `apt-get update` run?)"
                .into(),
    })?;
    let show = run("apt-cache", &["show", &format!("{package}={version}")])?;
    let deb = parse_stanza(&show).ok_or_else(|| Error::Command {
        command: format!("apt-cache show {package}={version}"),
        problem: "no Size/SHA256 fields".into(),
    })?;
    Ok(AptCandidate {
        package: package.to_owned(),
        version,
        deb,
    })
}

/// The `Candidate:` line of `apt-cache policy` output.
pub fn parse_candidate(policy: &str) -> Option<String> {
    policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v != "(none)")
}

/// `Size` and `SHA256` of the first stanza of `apt-cache show` output.
pub fn parse_stanza(show: &str) -> Option<FileDigest> {
    let stanza = show.split("\n\n").next()?;
    let field = |name: &str| {
        stanza
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    Some(FileDigest {
        size: field("Size:")?.parse().ok()?,
        sha256: field("SHA256:")?.parse().ok()?,
    })
}

/// Builds a manifest for the current apt candidate of `package` (e.g. `linux-source-6.12`):
/// downloads the `.deb` (checked against apt's index digest), hashes the inner
/// `/usr/src/<package>.tar.xz`, reads its top directory, and takes SOURCE_DATE_EPOCH from
/// the newest `changelog.Debian.gz` entry.
pub fn pin_debian_package(
    package: &str,
    fetcher: &Fetcher,
    progress: &mut dyn FetchProgress,
) -> Result<Manifest> {
    let cand = apt_candidate(package)?;
    let deb_path = cached_or_downloaded(package, &cand, fetcher, progress)?;
    let member_path = format!("/usr/src/{package}.tar.xz");
    let (member, top_dir) = hash_member(&deb_path, member_path, fetcher, progress)?;
    let epoch = changelog_date(&deb_path, package)?;
    let m = Manifest {
        schema: SCHEMA,
        source_date_epoch: epoch,
        source: Source::DebianPackage(DebianSource {
            package: package.to_owned(),
            version: cand.version,
            urls: Vec::new(),
            deb: cand.deb,
            member,
            top_dir,
        }),
        patches: Vec::new(),
        base_dir: None,
    };
    // Round-trip through the validator so a pin we write is a pin we can read.
    Manifest::from_toml_str(&m.to_toml_string(), "new pin")
}

/// The candidate's `.deb` from the cache, else from `apt-get download` (checked
/// against apt's index digest, then committed to the cache).
fn cached_or_downloaded(
    package: &str,
    cand: &AptCandidate,
    fetcher: &Fetcher,
    progress: &mut dyn FetchProgress,
) -> Result<PathBuf> {
    let deb_what = format!("{package}={} .deb", cand.version);
    if let Some(p) = fetcher.cached(&deb_what, &cand.deb, progress)? {
        return Ok(p);
    }
    fetcher.apt_download(package, &cand.version, &cand.deb, &deb_what, progress)
}

/// The source tarball inside the `.deb`: its size and sha256 (committed to the
/// cache) and its top directory.
fn hash_member(
    deb_path: &Path,
    member_path: String,
    fetcher: &Fetcher,
    progress: &mut dyn FetchProgress,
) -> Result<(DebMember, String)> {
    progress.event(&FetchEvent::Step {
        what: &format!("hashing {member_path}"),
    });
    let mut tmp = fetcher.cache().temp_file()?;
    let size = deb::extract_member_at_most(
        deb_path,
        &member_path,
        crate::manifest::MAX_ARTIFACT_SIZE,
        tmp.as_file_mut(),
    )?;
    let (sha256, _) = Sha256Digest::of_reader(
        std::fs::File::open(tmp.path()).map_err(|e| Error::io(tmp.path(), e))?,
    )
    .map_err(|e| Error::io(tmp.path(), e))?;
    let top_dir = first_component(tmp.path())?;
    fetcher.cache().commit(tmp, &sha256)?;
    let member = DebMember {
        path: member_path,
        size,
        sha256,
    };
    Ok((member, top_dir))
}

/// SOURCE_DATE_EPOCH: the trailer date of the newest `changelog.Debian.gz` entry.
fn changelog_date(deb_path: &Path, package: &str) -> Result<u64> {
    let mut changelog_gz = Vec::new();
    let changelog = format!("/usr/share/doc/{package}/changelog.Debian.gz");
    deb::extract_member_at_most(deb_path, &changelog, 64 << 20, &mut changelog_gz)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&changelog_gz[..])
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| Error::Deb {
            deb: deb_path.to_owned(),
            problem: format!("{changelog}: {e}"),
        })?;
    changelog_epoch(&text).ok_or_else(|| Error::Deb {
        deb: deb_path.to_owned(),
        problem: format!("{changelog}: no parseable trailer date in the first entry"),
    })
}

fn first_component(tarball: &std::path::Path) -> Result<String> {
    let r = crate::source::decompressed(tarball, crate::manifest::Compression::Xz)?;
    let archive = tarball.display().to_string();
    let mut tar = safe_extract::TarReader::new(r, &archive, safe_extract::Limits::default());
    let bad = |problem: String| Error::Archive {
        archive: archive.clone(),
        problem,
    };
    let first = tar
        .next_entry()?
        .ok_or_else(|| bad("empty archive".into()))?;
    let s = String::from_utf8_lossy(&first.name);
    let top = s
        .trim_start_matches("./")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    if top.is_empty() {
        Err(bad("no top directory".into()))
    } else {
        Ok(top)
    }
}

/// The date of the first (newest) entry of a Debian changelog, as seconds since 1970.
///
/// ```
/// let text = "linux (1.0-1) unstable; urgency=medium\n\n  * x\n\n \
///             -- A B <a@b.c>  Sat, 14 Nov 2026 13:56:01 +0100\n";
/// assert_eq!(srcpin::pin::changelog_epoch(text), Some(1794660961));
/// ```
pub fn changelog_epoch(changelog: &str) -> Option<u64> {
    let line = changelog.lines().find(|l| l.starts_with(" -- "))?;
    let date = line.split("  ").last()?.trim();
    rfc2822_epoch(date)
}

/// Parses `Sat, 14 Nov 2026 13:56:01 +0100`.
pub fn rfc2822_epoch(date: &str) -> Option<u64> {
    let rest = date.split_once(',').map_or(date, |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let [day, mon, year, hms, zone] = f[..] else {
        return None;
    };
    // Every field is range-checked before any arithmetic: the text comes from apt
    // metadata and changelogs, and an absurd value must be refused, not overflow.
    let day = in_range(day, 1, 31)?;
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == mon)? as i64
        + 1;
    let year = in_range(year, 1970, 9999)?;
    let t: Vec<&str> = hms.split(':').collect();
    let [h, mi, s] = t[..] else { return None };
    let (h, mi, s) = (
        in_range(h, 0, 23)?,
        in_range(mi, 0, 59)?,
        in_range(s, 0, 60)?,
    );
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    // `get`, not `[..]`: `+0ᙙ` is four bytes too, and byte 2 is inside a character.
    let digits = zone.get(1..)?;
    if digits.len() != 4 {
        return None;
    }
    let (zh, zm) = (
        in_range(digits.get(..2)?, 0, 14)?,
        in_range(digits.get(2..)?, 0, 59)?,
    );
    let offset = sign * (zh * 3600 + zm * 60);
    // Howard Hinnant's days_from_civil.
    let y = if mon <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mon + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s - offset).ok()
}

/// `text` as a number in `lo..=hi` (ASCII digits only), or `None`.
fn in_range(text: &str, lo: i64, hi: i64) -> Option<i64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = text.parse().ok()?;
    (lo..=hi).contains(&n).then_some(n)
}

#[cfg(test)]
mod rfc2822_tests {
    use super::rfc2822_epoch;

    #[test]
    fn a_debian_date_converts() {
        assert_eq!(
            rfc2822_epoch("Sat, 08 Mar 2026 13:15:41 +0000"),
            Some(1_772_975_741)
        );
        assert_eq!(
            rfc2822_epoch("Sat, 08 Mar 2026 14:15:41 +0100"),
            Some(1_772_975_741)
        );
    }

    /// The three inputs `cargo xtask fuzz` found overflowing (fuzz/regressions/srcpin_apt_meta).
    #[test]
    fn absurd_fields_are_refused_not_overflowed() {
        for date in [
            "Sat, 08 Mar 2026 9999999999999999:15:41 +0000",
            "Sat, 08 Mar 9223372036854775807 13:15:41 +0000",
            "Sat, 08 Mar 2026 13:15:41 +0000000000000000000000547204519323704256",
            "Sat, 08 Mar 2026 24:00:00 +0000",
            "Sat, 32 Mar 2026 13:15:41 +0000",
            "Sat, 08 Mar 2026 13:15:41 +1599",
            "Sat, 08 Mar 2026 +1:15:41 +0000",
            // fuzz/regressions/srcpin_apt_meta/zone-multibyte-char: 4 bytes, 2 characters
            "t, 08 Mar 2026 13:15:41 +0\u{1659}",
        ] {
            assert_eq!(rfc2822_epoch(date), None, "{date}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(date in "\\PC{0,80}") {
            let _ = rfc2822_epoch(&date);
        }

        /// A well-formed date up to the zone, and anything (any script) as the zone.
        #[test]
        fn any_zone_is_parsed_or_refused_without_panicking(zone in "[+-]\\PC{0,5}") {
            let date = format!("Sat, 08 Mar 2026 13:15:41 {zone}");
            let ascii4 = zone.len() == 5 && zone[1..].bytes().all(|b| b.is_ascii_digit());
            if rfc2822_epoch(&date).is_some() {
                proptest::prop_assert!(ascii4, "{}", date);
            }
        }
    }
}
