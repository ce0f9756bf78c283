//! One module per subcommand or family of subcommands.

pub mod build;
pub mod deb;
pub mod diff;
pub mod fetch;
pub mod harden;
pub mod repro_check;
pub mod sign;
pub mod term;
pub mod testify;
pub mod verify;

/// Text for the terminal. Reports and errors quote names that come from archives,
/// testimonies, configs and file names; a carriage return or escape sequence in one
/// could rewrite what the user reads, so control and bidirectional characters are
/// escaped. Line feeds and tabs are kept (reports have lines, some errors carry a
/// log tail), so the names a report lists are escaped by the library that formats
/// them (testimony's origins and .deb names, debdiff's entry names). JSON output does not
/// go through this: serde escapes U+0000–U+001F, and DEL, C1 and bidirectional
/// characters are left to the program that reads the JSON.
pub(crate) fn shown(text: &str) -> String {
    safe_extract::quote::escape_text(text)
}

/// An outcome with its own exit code (2: bad input) and message, which `main` prints
/// as it is.
#[derive(Debug, thiserror::Error)]
#[error("{1}")]
pub struct Exit(pub u8, pub String);
