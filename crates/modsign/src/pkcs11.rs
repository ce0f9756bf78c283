//! What a `pkcs11:` key URI may show in an error, and why openssl's `pkcs11` engine
//! refused one.
//!
//! A URI (RFC 7512) may carry the token's PIN as `pin-value=…`, and openssl echoes the
//! whole URI on stderr when the key cannot be loaded (`Could not read signing key from
//! org.openssl.engine:pkcs11:pkcs11:…;pin-value=1234`). Everything this crate prints or
//! returns about such a key goes through [`redact_pin`] first.
//!
//! A PIN in the URI is also on openssl's command line, which every user of the machine
//! can read (`ps`, `/proc/PID/cmdline`) while it signs. RFC 7512's `pin-source=` keeps
//! it off: `pkcs11:token=t;object=k;type=private;pin-source=file:/home/me/.token-pin`
//! (libp11 reads the PIN from the file; measured with Debian 12's
//! libengine-pkcs11-openssl and SoftHSM2). [`pin_value_in`] says when a URI does not.

/// `text` with the value of every `pin-value=` attribute replaced by `<redacted>`.
///
/// The value ends where an RFC 7512 attribute ends (`;` in the path, `&` in the query)
/// or at the end of a word (whitespace, a quote), so a URI quoted inside a message is
/// cut correctly too. A percent-encoded `;` (`%3B`) stays inside the value.
///
/// ```
/// use modsign::pkcs11::redact_pin;
///
/// assert_eq!(
///     redact_pin("pkcs11:token=t;object=k;pin-value=1234;type=private"),
///     "pkcs11:token=t;object=k;pin-value=<redacted>;type=private"
/// );
/// assert_eq!(
///     redact_pin("from pkcs11:object=k?pin-value=12%3B4 failed"),
///     "from pkcs11:object=k?pin-value=<redacted> failed"
/// );
/// ```
pub fn redact_pin(text: &str) -> String {
    const ATTRIBUTE: &str = "pin-value=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_ascii_ci(rest, ATTRIBUTE) {
        let value = &rest[at + ATTRIBUTE.len()..];
        let end = value
            .find(|c: char| matches!(c, ';' | '&' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(value.len());
        out.push_str(&rest[..at + ATTRIBUTE.len()]);
        out.push_str("<redacted>");
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Whether `uri` carries the PIN itself (`pin-value=`), where other users of the machine
/// can read it in process listings while openssl runs; `pin-source=file:PATH` instead
/// names a file holding it.
///
/// ```
/// use modsign::pkcs11::pin_value_in;
///
/// assert!(pin_value_in("pkcs11:token=t;object=k;pin-value=1234"));
/// assert!(!pin_value_in("pkcs11:token=t;object=k;pin-source=file:/home/me/pin"));
/// ```
pub fn pin_value_in(uri: &str) -> bool {
    find_ascii_ci(uri, "pin-value=").is_some()
}

/// The byte offset of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Why openssl could not sign with a `pkcs11:` key, read from its stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkcs11Problem {
    /// openssl has no `pkcs11` engine.
    EngineMissing,
    /// The token refused the login: a wrong PIN, or none given.
    Login,
    /// No token or no private key matches the URI.
    KeyNotFound,
    /// Something else (the whole stderr is kept in the error).
    Other,
}

impl std::fmt::Display for Pkcs11Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pkcs11Problem::EngineMissing => {
                "openssl has no pkcs11 engine (install the Debian package libengine-pkcs11-openssl)"
            }
            Pkcs11Problem::Login => "the token refused the login (wrong or missing PIN)",
            Pkcs11Problem::KeyNotFound => "no token holds a private key matching it",
            Pkcs11Problem::Other => "openssl could not sign with it",
        })
    }
}

impl Pkcs11Problem {
    /// Sorts the stderr of a failed `openssl cms -sign -engine pkcs11` (libp11 0.4's
    /// messages; the login is checked first, as a refused login also reports the key
    /// as not found).
    pub fn classify(stderr: &str) -> Pkcs11Problem {
        let s = stderr.to_ascii_lowercase();
        let any = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
        if any(&["invalid engine \"pkcs11\"", "no such engine"]) {
            Pkcs11Problem::EngineMissing
        } else if any(&[
            "pin incorrect",
            "pin_incorrect",
            "login failed",
            "no pin code",
        ]) {
            Pkcs11Problem::Login
        } else if any(&["object not found", "no matching initialized token"]) {
            Pkcs11Problem::KeyNotFound
        } else {
            Pkcs11Problem::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_value_is_redacted_and_nothing_else_changes() {
        let uri = "pkcs11:token=modsign;object=k;type=private;pin-value=s3cr3t";
        let stderr = format!(
            "Engine \"pkcs11\" set.\nThe private key was not found at: {uri}\n\
             Could not read signing key from org.openssl.engine:pkcs11:{uri}\n"
        );
        let redacted = redact_pin(&stderr);
        assert!(!redacted.contains("s3cr3t"), "{redacted}");
        assert_eq!(redacted.matches("pin-value=<redacted>").count(), 2);
        assert_eq!(
            redacted.replace("pin-value=<redacted>", "pin-value=s3cr3t"),
            stderr
        );
        // Upper case, in a query, quoted, and a URI without a PIN.
        assert_eq!(
            redact_pin("'pkcs11:object=k?PIN-VALUE=1&module-name=x'"),
            "'pkcs11:object=k?PIN-VALUE=<redacted>&module-name=x'"
        );
        assert_eq!(
            redact_pin("pkcs11:pin-value="),
            "pkcs11:pin-value=<redacted>"
        );
        assert_eq!(
            redact_pin("pkcs11:token=t;object=k"),
            "pkcs11:token=t;object=k"
        );
        assert_eq!(redact_pin("pin-valu"), "pin-valu");
    }

    #[test]
    fn libp11_messages_are_sorted() {
        let cases = [
            (
                "Invalid engine \"pkcs11\"\n…no such engine:…id=pkcs11",
                Pkcs11Problem::EngineMissing,
            ),
            (
                "Login failed\nThe private key was not found at: …\n…PIN incorrect:p11_slot.c:208:",
                Pkcs11Problem::Login,
            ),
            (
                "UI_process failed\nNo PIN code was entered",
                Pkcs11Problem::Login,
            ),
            (
                "…pkcs11 engine:ERR_ENG_error:object not found:eng_back.c:887:",
                Pkcs11Problem::KeyNotFound,
            ),
            (
                "No matching initialized token was found for private key",
                Pkcs11Problem::KeyNotFound,
            ),
            ("Failed to enumerate slots", Pkcs11Problem::Other),
        ];
        for (stderr, want) in cases {
            assert_eq!(Pkcs11Problem::classify(stderr), want, "{stderr}");
        }
        assert!(
            Pkcs11Problem::EngineMissing
                .to_string()
                .contains("libengine-pkcs11-openssl")
        );
    }

    mod prop {
        use super::super::redact_pin;
        use proptest::prelude::*;

        proptest! {
            /// Whatever surrounds it, a PIN put in a `pin-value=` attribute never survives.
            #[test]
            fn a_pin_never_survives(
                before in "[ -~\n]{0,40}",
                pin in "[0-9A-Za-z%]{4,12}",
                after in "([;& \n'\"][ -~]{0,40})?",
            ) {
                let text = format!("{before}pin-value={pin}{after}");
                let redacted = redact_pin(&text);
                prop_assert!(redacted.contains("pin-value=<redacted>"), "{}", redacted);
                prop_assert_eq!(
                    redacted.matches("<redacted>").count(),
                    text.to_ascii_lowercase().matches("pin-value=").count()
                );
                if !before.contains(&pin) && !after.contains(&pin) {
                    prop_assert!(!redacted.contains(&pin), "{}", redacted);
                }
            }
        }
    }
}
