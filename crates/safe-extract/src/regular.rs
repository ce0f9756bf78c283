//! Opening a file a user named without ever blocking on it.
//!
//! `File::open` on a FIFO waits for a writer forever, and reading `/dev/zero` never ends.
//! A `.deb`, a record or a config may come from a download directory someone else can
//! write to, so inputs are opened with [`open_regular`]: `O_NONBLOCK` (opening a FIFO
//! returns at once), then `fstat` on the open descriptor, so the file checked is the file
//! read. Anything but a regular file is refused with [`std::io::ErrorKind::InvalidInput`]
//! and a message saying what it is; callers add the path.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let fifo = dir.path().join("linux-image.deb");
//! std::process::Command::new("mkfifo").arg(&fifo).status()?;
//! let err = safe_extract::regular::open_regular(&fifo).unwrap_err();
//! assert_eq!(err.to_string(), "a FIFO, not a regular file");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{File, FileType};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading if it is a regular file (symlinks followed), without blocking.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = f.metadata()?.file_type();
    if !kind.is_file() {
        let what = format!("{}, not a regular file", kind_name(kind));
        return Err(io::Error::new(io::ErrorKind::InvalidInput, what));
    }
    Ok(f)
}

/// Reads a regular file as UTF-8 text ([`open_regular`], then `read_to_string`).
pub fn read_regular_to_string(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    open_regular(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// What a file that is not regular is, with its article.
pub fn kind_name(t: FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_open_and_everything_else_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "text").unwrap();
        assert_eq!(read_regular_to_string(&file).unwrap(), "text");
        let err = |p: &Path| open_regular(p).unwrap_err();
        assert_eq!(
            err(dir.path()).to_string(),
            "a directory, not a regular file"
        );
        assert_eq!(
            err(Path::new("/dev/zero")).to_string(),
            "a device, not a regular file"
        );
        assert_eq!(err(dir.path()).kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            err(&dir.path().join("none")).kind(),
            io::ErrorKind::NotFound
        );
    }
}
