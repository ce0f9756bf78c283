//! Mirror URLs that never show their credentials.
//!
//! A manifest may name a mirror as `https://user:password@mirror.example/…`. Every message
//! and progress event shows the URL through [`MirrorUrl`]'s `Display`, which replaces the
//! `user:password@` part with `***@`, so no caller can print the secret by forgetting a
//! call. The raw URL is only reachable through [`MirrorUrl::as_secret_str`].

use std::fmt;

/// A URL from a manifest; `Display` redacts credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct MirrorUrl(String);

impl MirrorUrl {
    /// Wraps a URL as written.
    pub fn new(url: &str) -> Self {
        MirrorUrl(url.to_owned())
    }

    /// The URL with its credentials, for making the request only.
    pub fn as_secret_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MirrorUrl({:?})", redact(&self.0))
    }
}

/// Replaces the userinfo (`user:password@`) of every `scheme://` URL in `text` with `***@`.
/// Used on messages from the HTTP client too, which may quote a URL.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        match rest[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&rest[at..end]);
            }
            None => out.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_display() {
        let u = MirrorUrl::new("https://alice:s3cret@mirror.example:8443/pub/x.tar.xz");
        assert_eq!(
            u.to_string(),
            "https://***@mirror.example:8443/pub/x.tar.xz"
        );
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(
            u.as_secret_str(),
            "https://alice:s3cret@mirror.example:8443/pub/x.tar.xz"
        );
        assert_eq!(redact("http://h/p@q"), "http://h/p@q");
        assert_eq!(
            redact("GET http://a:b@h/x failed; try http://c@d/"),
            "GET http://***@h/x failed; try http://***@d/"
        );
        assert_eq!(redact("file:mirror/x"), "file:mirror/x");
    }

    proptest::proptest! {
        #[test]
        fn a_password_never_survives_redaction(pw in "[a-zA-Z0-9]{8,20}", path in "[a-z/]{0,20}") {
            let url = format!("https://user:{pw}@host.example/{path}");
            proptest::prop_assert!(!redact(&url).contains(&pw));
        }
    }
}
