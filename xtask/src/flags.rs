//! The one flag parser every task uses: `--name value`, `--name=value`, switches and
//! sub-task words, consumed one by one so that whatever is left over is an error.
//!
//! Hand-written on purpose (as rust-analyzer's xtask does with its own small parser):
//! the tasks take a handful of flags, and a parser this size needs no dependency.

use std::fmt::Display;
use std::str::FromStr;

use anyhow::{Result, bail};

/// The words after `cargo xtask`, not yet consumed.
#[derive(Debug, Clone)]
pub struct Flags {
    args: Vec<String>,
}

impl Flags {
    pub fn new(args: impl IntoIterator<Item = String>) -> Flags {
        Flags {
            args: args.into_iter().collect(),
        }
    }

    /// Takes the leading word if it is not a flag: a task or sub-task name.
    pub fn word(&mut self) -> Option<String> {
        match self.args.first() {
            Some(w) if !w.starts_with('-') => Some(self.args.remove(0)),
            _ => None,
        }
    }

    /// Takes a switch (a flag without a value); true if it was given.
    pub fn switch(&mut self, name: &str) -> bool {
        let before = self.args.len();
        self.args.retain(|a| a != name);
        self.args.len() != before
    }

    /// Takes every `name value` / `name=value` pair, in order, parsed as `T`.
    pub fn values<T>(&mut self, name: &str) -> Result<Vec<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        let mut found = Vec::new();
        let mut i = 0;
        while i < self.args.len() {
            let raw = if self.args[i] == name {
                if i + 1 == self.args.len() {
                    bail!("{name} needs a value");
                }
                self.args.remove(i);
                self.args.remove(i)
            } else if let Some(v) = self.args[i]
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix('='))
            {
                let v = v.to_owned();
                self.args.remove(i);
                v
            } else {
                i += 1;
                continue;
            };
            match raw.parse() {
                Ok(v) => found.push(v),
                Err(e) => bail!("{name} {raw:?}: {e}"),
            }
        }
        Ok(found)
    }

    /// Takes an optional flag that may be given at most once.
    pub fn value<T>(&mut self, name: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        let mut all = self.values(name)?;
        if all.len() > 1 {
            bail!("{name} given {} times; give it once", all.len());
        }
        Ok(all.pop())
    }

    /// [`Flags::value`] with a default.
    pub fn value_or<T>(&mut self, name: &str, default: T) -> Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.value(name)?.unwrap_or(default))
    }

    /// Everything not consumed yet, for a task that hands it on to another program.
    pub fn into_rest(self) -> Vec<String> {
        self.args
    }

    /// Ends parsing: any word not consumed is an error naming it.
    pub fn finish(self) -> Result<()> {
        match self.args.first() {
            None => Ok(()),
            Some(a) => bail!("unexpected argument {a:?} (see `cargo xtask help`)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(s: &str) -> Flags {
        Flags::new(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn words_values_and_switches_are_consumed_in_any_order() {
        let mut f = flags("bench build --runs 3 -Z xz --slow");
        assert_eq!(f.word().as_deref(), Some("bench"));
        assert_eq!(f.word().as_deref(), Some("build"));
        assert_eq!(f.word(), None);
        assert!(f.switch("--slow"));
        assert!(!f.switch("--slow"));
        assert_eq!(f.value::<String>("-Z").unwrap().as_deref(), Some("xz"));
        assert_eq!(f.value_or("--runs", 5usize).unwrap(), 3);
        f.finish().unwrap();
    }

    #[test]
    fn equals_form_and_repeated_values() {
        let mut f = flags("--target=a --target b --seconds=7");
        assert_eq!(f.values::<String>("--target").unwrap(), ["a", "b"]);
        assert_eq!(f.value_or("--seconds", 1u64).unwrap(), 7);
        assert_eq!(f.value_or("--runs", 9u64).unwrap(), 9);
        f.finish().unwrap();
    }

    #[test]
    fn bad_input_is_an_error_naming_the_flag() {
        let e = flags("--runs x").value::<u32>("--runs").unwrap_err();
        assert!(e.to_string().starts_with("--runs \"x\""), "{e}");
        let e = flags("--runs").value::<u32>("--runs").unwrap_err();
        assert_eq!(e.to_string(), "--runs needs a value");
        let e = flags("--runs 1 --runs 2")
            .value::<u32>("--runs")
            .unwrap_err();
        assert!(e.to_string().contains("given 2 times"), "{e}");
        let e = flags("--run 1").finish().unwrap_err();
        assert!(e.to_string().contains("\"--run\""), "{e}");
    }

    #[test]
    fn a_longer_flag_is_not_taken_for_a_prefix() {
        let mut f = flags("--runs-max=3");
        assert_eq!(f.value::<u32>("--runs").unwrap(), None);
        assert_eq!(f.into_rest(), ["--runs-max=3"]);
    }
}
