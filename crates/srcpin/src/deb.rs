//! Reading one file out of a Debian binary package (`ar` archive → `data.tar.{xz,gz}` →
//! member), in pure Rust. The `.deb` must already be verified against its pinned digest.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use safe_extract::{Limits, TarEntryKind, TarReader};

use crate::error::{Error, Result};

/// Copies the regular file at `member` (e.g. `/usr/src/linux-source-6.12.tar.xz`) inside
/// the verified `.deb` at `deb` into `out`. The member's header must announce exactly
/// `size` bytes; nothing larger is ever copied.
pub fn extract_member(deb: &Path, member: &str, size: u64, out: &mut impl Write) -> Result<()> {
    extract(deb, member, Size::Exactly(size), out).map(drop)
}

/// Like [`extract_member`] for a member of unknown size, refusing one larger than `max`.
/// Returns the size.
pub fn extract_member_at_most(
    deb: &Path,
    member: &str,
    max: u64,
    out: &mut impl Write,
) -> Result<u64> {
    extract(deb, member, Size::AtMost(max), out)
}

#[derive(Clone, Copy)]
enum Size {
    Exactly(u64),
    AtMost(u64),
}

fn extract(deb: &Path, member: &str, want_size: Size, out: &mut impl Write) -> Result<u64> {
    let bad = |problem: String| Error::Deb {
        deb: deb.to_path_buf(),
        problem,
    };
    let file = File::open(deb).map_err(|e| Error::io(deb, e))?;
    let mut ar = ar::Archive::new(BufReader::new(file));
    let want = member.trim_start_matches('/');
    while let Some(entry) = ar.next_entry() {
        let entry = entry.map_err(|e| bad(format!("not a valid ar archive: {e}")))?;
        let id = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        let decompressed: Box<dyn Read> = match id.as_str() {
            "data.tar.xz" => Box::new(xz2::read::XzDecoder::new(entry)),
            "data.tar.gz" => Box::new(flate2::read::GzDecoder::new(entry)),
            "data.tar" => Box::new(entry),
            other if other.starts_with("data.tar") => {
                return Err(bad(format!("unsupported payload compression {other:?}")));
            }
            _ => continue,
        };
        // The bounded reader: a hostile long name or PAX record cannot exhaust memory.
        let archive = format!("{}: {id}", deb.display());
        let mut tar = TarReader::new(decompressed, &archive, Limits::default());
        while let Some(e) = tar.next_entry()? {
            let norm = safe_extract::path::normalize(&e.name).ok();
            if norm.as_deref() != Some(want.as_bytes()) {
                continue;
            }
            if e.kind != TarEntryKind::File {
                return Err(bad(format!("{member} is not a regular file in {id}")));
            }
            let announced = e.size;
            let size = match want_size {
                Size::Exactly(size) if announced != size => {
                    return Err(Error::SizeMismatch {
                        what: format!("{member} in {}", deb.display()),
                        expected: size,
                        actual: announced,
                    });
                }
                Size::AtMost(max) if announced > max => {
                    return Err(bad(format!(
                        "{member} is {announced} bytes, more than the limit {max}"
                    )));
                }
                _ => announced,
            };
            let n = io::copy(&mut tar.data_reader(), out)
                .map_err(|err| bad(format!("{id}: {member}: {err}")))?;
            if n != size {
                return Err(bad(format!(
                    "{member}: truncated after {n} of {size} bytes"
                )));
            }
            return Ok(n);
        }
        return Err(bad(format!("{member} not found in {id}")));
    }
    Err(bad("no data.tar member".to_owned()))
}
