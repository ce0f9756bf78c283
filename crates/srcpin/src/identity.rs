//! A pin's identity: the one digest a build record names the pin by.
//!
//! [`manifest_identity`] is the SHA-256 of the manifest's *canonical* TOML text, exactly
//! the bytes [`Manifest::to_toml_string`] returns (UTF-8, LF line ends). It is not the
//! hash of the file the user wrote: comments, key order, whitespace and quoting do not
//! count, so two files that pin the same sources, mirrors, signers, patches and
//! SOURCE_DATE_EPOCH have the same identity, and a change to any of those changes it.
//!
//! What it covers is therefore everything [`Manifest`] holds: the schema, the
//! SOURCE_DATE_EPOCH, the source (kind, package or file name, version, top directory,
//! sizes, SHA-256s, mirrors), the signature pin (signers, threshold, keyring) and the
//! patch series, in order. Mirrors are part of it even though they do not change the
//! bytes: the identity names the pin as written, and the build record also carries the
//! tarball's own SHA-256 for a mirror-independent comparison.
//!
//! ```
//! let m = srcpin::Manifest::builtin_default();
//! let id = srcpin::identity::manifest_identity(&m);
//! assert_eq!(id, srcpin::Sha256Digest::of(m.to_toml_string().as_bytes()));
//! // Re-reading the canonical text gives the same identity.
//! let again = srcpin::Manifest::from_toml_str(&m.to_toml_string(), "again")?;
//! assert_eq!(srcpin::identity::manifest_identity(&again), id);
//! # Ok::<(), srcpin::Error>(())
//! ```

use crate::{Manifest, Sha256Digest};

/// SHA-256 of [`Manifest::to_toml_string`]'s bytes (see the module docs).
pub fn manifest_identity(manifest: &Manifest) -> Sha256Digest {
    Sha256Digest::of(manifest.to_toml_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ignores_comments_but_not_the_epoch() {
        let m = Manifest::builtin_default();
        let text = m.to_toml_string();
        let commented = format!("# a comment\n{text}");
        let parsed = Manifest::from_toml_str(&commented, "commented").unwrap();
        assert_eq!(manifest_identity(&parsed), manifest_identity(&m));
        let later = text.replacen(
            &format!("source-date-epoch = {}", m.source_date_epoch),
            &format!("source-date-epoch = {}", m.source_date_epoch + 1),
            1,
        );
        assert_ne!(later, text, "the canonical text names the epoch");
        let later = Manifest::from_toml_str(&later, "later").unwrap();
        assert_ne!(manifest_identity(&later), manifest_identity(&m));
    }
}
