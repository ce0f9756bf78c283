//! The kernel config shipped inside a linux-image .deb (`boot/config-<release>`), read
//! straight from the package's data tar with detdeb, never unpacked, and bounded in size.
//!
//! ```no_run
//! let cfg = samekernel::image_config::read("linux-image-6.12.deb".as_ref())?;
//! println!("{} ({} bytes)", cfg.origin, cfg.text.len());
//! # Ok::<(), samekernel::image_config::ImageConfigError>(())
//! ```

use std::path::{Path, PathBuf};

/// Largest config accepted from a package.
pub const MAX_CONFIG: u64 = 16 * 1024 * 1024;

/// A config found in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The config text.
    pub text: String,
    /// `PACKAGE.deb:boot/config-…`, for error messages and reports.
    pub origin: String,
}

/// Why no config could be read from a package.
#[derive(Debug, thiserror::Error)]
pub enum ImageConfigError {
    /// The package itself could not be read.
    #[error(transparent)]
    Deb(Box<detdeb::Error>),
    /// The package's data tar is malformed (the tar reader's error names the
    /// package and its member).
    #[error("{source}")]
    Tar {
        /// The package.
        deb: PathBuf,
        /// What the tar reader refused.
        source: Box<detdeb::safe_extract::Error>,
    },
    /// The config member is over [`MAX_CONFIG`].
    #[error("{}: {name} is larger than {MAX_CONFIG} bytes", deb.display())]
    TooLarge {
        /// The package.
        deb: PathBuf,
        /// The member.
        name: String,
    },
    /// The config member is not UTF-8 text.
    #[error("{}: {name} is not UTF-8", deb.display())]
    NotUtf8 {
        /// The package.
        deb: PathBuf,
        /// The member.
        name: String,
    },
    /// The package has no `boot/config-*` regular file.
    #[error("{}: no boot/config-* in the package", deb.display())]
    Missing {
        /// The package.
        deb: PathBuf,
    },
}

impl From<detdeb::Error> for ImageConfigError {
    fn from(e: detdeb::Error) -> Self {
        ImageConfigError::Deb(Box::new(e))
    }
}

/// The first `boot/config-*` regular file in the .deb's data.
pub fn read(deb: &Path) -> Result<ImageConfig, ImageConfigError> {
    let reader = detdeb::DebReader::open(deb)?;
    let mut tar = reader.data_tar()?;
    let tar_error = |source| ImageConfigError::Tar {
        deb: deb.into(),
        source: Box::new(source),
    };
    while let Some(entry) = tar.next_entry().map_err(tar_error)? {
        let name = entry.name_lossy();
        let name = name.trim_start_matches("./").to_owned();
        if entry.kind != detdeb::TarEntryKind::File
            || !name.starts_with("boot/config-")
            || name.contains("/..")
        {
            continue;
        }
        if entry.size > MAX_CONFIG {
            return Err(ImageConfigError::TooLarge {
                deb: deb.into(),
                name,
            });
        }
        let bytes = tar.read_data_to_vec().map_err(tar_error)?;
        let origin = format!("{}:{name}", deb.display());
        let text = String::from_utf8(bytes).map_err(|_| ImageConfigError::NotUtf8 {
            deb: deb.into(),
            name,
        })?;
        return Ok(ImageConfig { text, origin });
    }
    Err(ImageConfigError::Missing { deb: deb.into() })
}
