//! Property: any text built from the line shapes Kconfig writes parses, keeps every value,
//! and writes back byte for byte; and values written with `Display` parse to themselves.

use kbuild_env::{ConfigValue, KernelConfig};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = ConfigValue> {
    prop_oneof![
        Just(ConfigValue::Yes),
        Just(ConfigValue::Module),
        Just(ConfigValue::No),
        Just(ConfigValue::NotSet),
        "[ -~]{0,12}".prop_map(ConfigValue::Str),
        any::<i64>().prop_map(ConfigValue::Int),
        any::<u64>().prop_map(ConfigValue::Hex),
    ]
}

#[derive(Debug, Clone)]
enum Entry {
    Blank,
    Comment(String),
    Symbol(ConfigValue),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        1 => Just(Entry::Blank),
        1 => "#[ -~]{0,20}".prop_map(Entry::Comment),
        6 => value().prop_map(Entry::Symbol),
    ]
}

proptest! {
    #[test]
    fn round_trips(entries in proptest::collection::vec(entry(), 0..40), final_newline in any::<bool>()) {
        let mut lines = Vec::new();
        let mut expected = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match e {
                Entry::Blank => lines.push(String::new()),
                Entry::Comment(c) => lines.push(c.clone()),
                Entry::Symbol(v) => {
                    let name = format!("CONFIG_SYM_{i}");
                    lines.push(match v {
                        ConfigValue::NotSet => format!("# {name} is not set"),
                        v => format!("{name}={v}"),
                    });
                    expected.push((name, v.clone()));
                }
            }
        }
        let mut text = lines.join("\n");
        if final_newline && !lines.is_empty() {
            text.push('\n');
        }
        let parsed = KernelConfig::parse(&text, "prop").unwrap();
        prop_assert_eq!(parsed.to_text(), text.clone());
        let got: Vec<(String, ConfigValue)> = parsed.symbols().map(|(n, v)| (n.to_owned(), v.clone())).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(KernelConfig::parse(&parsed.to_text(), "again").unwrap(), parsed);
    }

    #[test]
    fn arbitrary_text_never_panics_and_round_trips_when_accepted(text in "(CONFIG_[A-Z]{1,3}=[ -~]{0,6}|# CONFIG_[A-Z]{1,3} is not set|#[ -~]{0,5}|[ -~]{0,8}|)(\n(CONFIG_[A-Z]{1,3}=[ -~]{0,6}|#[ -~]{0,5}|)){0,6}\n?") {
        if let Ok(c) = KernelConfig::parse(&text, "prop") {
            prop_assert_eq!(c.to_text(), text);
        }
    }
}
