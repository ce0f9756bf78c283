//! Showing untrusted bytes (entry names, link targets, control fields) on a terminal.
//!
//! An archive entry may be named `"ok\r\x1b[2Kevil"`: printed raw, the carriage return and
//! the escape sequence rewrite what the user sees. [`escape`] renders bytes the way GNU tar
//! (and so `dpkg-deb -c`) does with its default `escape` quoting style: backslash escapes for
//! `\\`, `\a`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v`, three-digit octal for every other control
//! byte and for bytes that are not valid UTF-8; printable text, UTF-8 included, as is.
//! One deliberate difference from tar: the Unicode bidirectional controls (U+202A–U+202E,
//! U+2066–U+2069, U+200E, U+200F, U+061C) are escaped too, because they reorder what the
//! user reads (`f\u{202e}gnp.exe` shows as `fexe.png`).
//! [`Quoted`] adds a length cap, so an error never quotes a gigabyte-long name.
//! [`escape_text`] is for whole reports made of untrusted pieces: the same escapes, line
//! feeds and tabs kept.

use std::fmt;

/// Escapes `bytes` for a terminal (see the module docs).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for &b in chunk.invalid() {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

/// Escapes `text` like [`escape`] but keeps its line feeds and tabs: for a multi-line
/// report or error message with untrusted names in it, printed as a whole.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\\' => out.push('\\'),
            c => push_char(&mut out, c),
        }
    }
    out
}

/// Unicode controls that change the display order of the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if c.is_control() || is_bidi_control(c) => {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:03o}"));
            }
        }
        c => out.push(c),
    }
}

/// Longest stretch of an untrusted name quoted in a message, in input bytes.
pub const MAX_QUOTED: usize = 256;

/// An untrusted name, escaped and cut to [`MAX_QUOTED`] bytes, ready for an error message.
/// Displays in double quotes, with the full length when it was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    text: String,
    cut_from: Option<usize>,
}

impl Quoted {
    /// Quotes `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= MAX_QUOTED {
            return Quoted {
                text: escape(bytes),
                cut_from: None,
            };
        }
        Quoted {
            text: escape(&bytes[..MAX_QUOTED]),
            cut_from: Some(bytes.len()),
        }
    }

    /// The escaped text, without quotes or the length note.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cut_from {
            None => write!(f, "\"{}\"", self.text),
            Some(n) => write!(f, "\"{}\"… ({n} bytes)", self.text),
        }
    }
}

impl From<&str> for Quoted {
    fn from(s: &str) -> Self {
        Quoted::new(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped_like_gnu_tar() {
        assert_eq!(escape(b"ok\r\x1b[2Kevil"), "ok\\r\\033[2Kevil");
        assert_eq!(escape(b"a\\b\tc\n"), "a\\\\b\\tc\\n");
        assert_eq!(escape(b"\x7f\xff"), "\\177\\377");
        assert_eq!(escape("grüße".as_bytes()), "grüße");
        // C1 controls (U+009B is a one-byte CSI on some terminals).
        assert_eq!(escape("\u{9b}2J".as_bytes()), "\\302\\2332J");
    }

    #[test]
    fn bidirectional_controls_are_escaped() {
        assert_eq!(
            escape("f\u{202e}gnp.exe".as_bytes()),
            "f\\342\\200\\256gnp.exe"
        );
        assert_eq!(
            escape("\u{2066}x\u{2069}".as_bytes()),
            "\\342\\201\\246x\\342\\201\\251"
        );
    }

    #[test]
    fn text_keeps_its_lines_and_escapes_the_rest() {
        let t = "deb  alice\nok\r\x1b[32mPASS\tx\\y\n";
        assert_eq!(escape_text(t), "deb  alice\nok\\r\\033[32mPASS\tx\\y\n");
        // Plain text, backslashes included, is unchanged.
        assert_eq!(escape_text("a\\b c\n"), "a\\b c\n");
    }

    #[test]
    fn long_names_are_cut_in_messages() {
        let q = Quoted::new(&vec![b'a'; 1 << 20]);
        let shown = q.to_string();
        assert!(shown.len() < 300, "{}", shown.len());
        assert!(shown.ends_with("(1048576 bytes)"), "{shown}");
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_control_characters(bytes: Vec<u8>) {
            let s = escape(&bytes);
            proptest::prop_assert!(!s.chars().any(|c| c.is_control() || is_bidi_control(c)), "{s:?}");
        }

        #[test]
        fn escaped_text_keeps_only_line_feeds_and_tabs(text: String) {
            let s = escape_text(&text);
            let bad = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c);
            proptest::prop_assert!(!s.chars().any(bad), "{s:?}");
            proptest::prop_assert_eq!(s.matches('\n').count(), text.matches('\n').count());
        }
    }
}
