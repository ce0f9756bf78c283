//! Every input `cargo xtask fuzz` found crashing the apt-metadata parsers
//! (fuzz/regressions/srcpin_apt_meta/) goes through the same calls as the fuzz target,
//! in the ordinary test build (overflow checks on), so a regression fails `cargo test`
//! too, not only the fuzz replay.

use srcpin::pin;

#[test]
fn apt_metadata_inputs_that_once_crashed_parse_without_panicking() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/srcpin_apt_meta");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) else {
            continue;
        };
        let _ = pin::parse_candidate(&text);
        let _ = pin::parse_stanza(&text);
        let _ = pin::changelog_epoch(&text);
        for line in text.lines() {
            assert_eq!(
                pin::rfc2822_epoch(line).filter(|_| line.contains("9999999999")),
                None,
                "{}: an absurd date must be refused",
                path.display()
            );
        }
        seen += 1;
    }
    assert!(
        seen >= 3,
        "expected the regression inputs in {}",
        dir.display()
    );
}
