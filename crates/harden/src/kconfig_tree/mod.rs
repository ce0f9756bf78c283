//! A small, bounded reader of the kernel's Kconfig files, enough to say *why* an option ended
//! up off (or on) in a resolved `.config`: the bug7 guard's explanation.
//!
//! It follows `source` from the top-level `Kconfig` with `$(SRCARCH)` substituted, keeps a
//! stack of enclosing `if`/`menu … depends on`/`choice` conditions, and records for every
//! `config`: its own `depends on`, the enclosing conditions, a prompt's `if`, `default`s and
//! which other options `select`/`imply` it. Help text is skipped by indentation, as the
//! kernel's lexer does. Limits: at most [`MAX_FILES`] files of at most [`MAX_FILE_LEN`] bytes,
//! [`MAX_TOTAL_LEN`] bytes in all, `source` nested at most [`MAX_SOURCE_DEPTH`] deep (a file
//! that sources itself, directly or not, is an error, as in the kernel's own lexer), blocks
//! nested at most [`MAX_BLOCK_DEPTH`] deep and expressions of at most
//! [`expr::MAX_TOKENS`] tokens: a hostile tree can neither exhaust the stack nor memory.

pub mod expr;
mod reader;

use std::collections::HashMap;
use std::path::Path;

use kbuild_env::KernelConfig;

use crate::error::Result;
use crate::toolchain::Arch;
pub use expr::Expr;

/// Most Kconfig files read (6.12 has about 1,700).
pub const MAX_FILES: usize = 10_000;
/// Largest Kconfig file read.
pub const MAX_FILE_LEN: u64 = 4 * 1024 * 1024;
/// Most bytes read from all files together (6.12's x86 tree reads about 3 MB).
pub const MAX_TOTAL_LEN: u64 = 64 * 1024 * 1024;
/// Deepest `source` nesting (6.12 nests about 6 deep).
pub const MAX_SOURCE_DEPTH: usize = 32;
/// Deepest nesting of `if`/`menu`/`choice` blocks across files (6.12: about 10).
pub const MAX_BLOCK_DEPTH: usize = 64;
/// Most `depends on` lines of one `menu` or `choice` header (each is and-ed in).
pub const MAX_HEADER_DEPENDS: usize = 64;

/// Where a condition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// The condition.
    pub expr: Expr,
    /// `depends on`, `if` block, `menu`, `choice`.
    pub what: &'static str,
    /// `file:line` relative to the tree.
    pub at: String,
}

/// One `config SYMBOL` definition.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// `file:line`.
    pub at: String,
    /// Enclosing conditions followed by the entry's own `depends on`.
    pub deps: Vec<Cond>,
    /// The prompt's `if` condition (a prompt that is only visible sometimes).
    pub prompt_if: Option<Expr>,
    /// Has a prompt at all (otherwise only defaults and selects can set it).
    pub has_prompt: bool,
    /// `default VALUE [if COND]` in order.
    pub defaults: Vec<(Expr, Option<Expr>)>,
    /// Index of the enclosing `choice`, if any.
    pub choice: Option<usize>,
}

/// `X selects/implies Y [if COND]`, recorded on Y.
#[derive(Debug, Clone)]
pub struct ReverseDep {
    /// The selecting symbol X.
    pub by: String,
    /// `select` or `imply`.
    pub how: &'static str,
    /// The `if` condition.
    pub cond: Option<Expr>,
    /// `file:line`.
    pub at: String,
}

/// The parsed tree for one arch.
#[derive(Debug, Default)]
pub struct KconfigTree {
    entries: HashMap<String, Vec<Entry>>,
    reverse: HashMap<String, Vec<ReverseDep>>,
    choices: Vec<Vec<String>>,
    files: usize,
}

impl KconfigTree {
    /// Reads `root/Kconfig` for `arch`.
    pub fn load(root: &Path, arch: Arch) -> Result<KconfigTree> {
        reader::load(root, arch)
    }

    /// Number of Kconfig files read.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Definitions of `symbol` (no `CONFIG_`).
    pub fn entries(&self, symbol: &str) -> &[Entry] {
        self.entries.get(symbol).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Does `symbol` exist for this arch?
    pub fn defines(&self, symbol: &str) -> bool {
        self.entries.contains_key(symbol)
    }

    /// Why `symbol` is off in `config` although wanted on, as one sentence.
    pub fn explain_off(&self, symbol: &str, config: &KernelConfig) -> String {
        self.explain_off_depth(symbol, config, 0)
    }

    fn explain_off_depth(&self, symbol: &str, config: &KernelConfig, depth: usize) -> String {
        let defs = self.entries(symbol);
        if defs.is_empty() {
            return format!("CONFIG_{symbol} does not exist in this kernel for this arch");
        }
        for entry in defs {
            let failing: Vec<&Cond> = entry
                .deps
                .iter()
                .filter(|c| expr::eval(&c.expr, config) == 0)
                .collect();
            if let Some(first) = failing.first() {
                return format!(
                    "CONFIG_{symbol} is off because {}",
                    self.blame(first, config, depth)
                );
            }
        }
        let entry = &defs[0];
        if let Some(choice) = entry.choice {
            let chosen: Vec<String> = self.choices[choice]
                .iter()
                .filter(|s| config.is_enabled(&format!("CONFIG_{s}")))
                .map(|s| format!("CONFIG_{s}=y"))
                .collect();
            if !chosen.is_empty() {
                return format!(
                    "CONFIG_{symbol} is off because it is one choice of several ({}) and {} is chosen",
                    entry.at,
                    chosen.join(", ")
                );
            }
        }
        if let Some(cond) = entry
            .prompt_if
            .as_ref()
            .filter(|c| expr::eval(c, config) == 0)
        {
            return format!(
                "CONFIG_{symbol} is off: its prompt is only visible if {} ({}) and no default or select turns it on",
                expr::render(cond),
                entry.at
            );
        }
        if !entry.has_prompt {
            return self.explain_unselected(symbol, entry, config, depth);
        }
        format!(
            "CONFIG_{symbol} is off although its dependencies hold ({}): nothing enables it; set it in the fragment",
            entry.at
        )
    }

    /// A symbol without a prompt is only ever set by `select` (or a default): name who could,
    /// and when an enabled selector's `if` is false, why.
    fn explain_unselected(
        &self,
        symbol: &str,
        entry: &Entry,
        config: &KernelConfig,
        depth: usize,
    ) -> String {
        let selects: Vec<&ReverseDep> = self
            .reverse
            .get(symbol)
            .into_iter()
            .flatten()
            .filter(|r| r.how == "select")
            .collect();
        let head = format!(
            "CONFIG_{symbol} is off: it has no prompt ({}) and only a select sets it",
            entry.at
        );
        let blocked = selects.iter().find_map(|r| {
            let cond = r.cond.as_ref()?;
            (config.is_enabled(&format!("CONFIG_{}", r.by)) && expr::eval(cond, config) == 0)
                .then_some((r, cond))
        });
        if let Some((r, cond)) = blocked {
            return format!(
                "{head}; CONFIG_{}=y selects it only if {} ({}), and {}{}",
                r.by,
                expr::render(cond),
                r.at,
                values_in(cond, config),
                self.deeper(cond, config, depth)
            );
        }
        let names: Vec<String> = selects
            .iter()
            .take(6)
            .map(|r| value_of(&r.by, config))
            .collect();
        if names.is_empty() {
            return format!("{head}, and nothing selects it");
        }
        format!(
            "{head}, but none of its selectors is on: {}",
            names.join(", ")
        )
    }

    /// "it depends on !SLUB_TINY (mm/Kconfig:282), and CONFIG_SLUB_TINY=y".
    fn blame(&self, cond: &Cond, config: &KernelConfig, depth: usize) -> String {
        let part = expr::conjuncts(&cond.expr)
            .into_iter()
            .find(|c| expr::eval(c, config) == 0)
            .unwrap_or(&cond.expr);
        let values = values_in(part, config);
        let verb = match cond.what {
            "depends on" => "it depends on",
            other => {
                return format!(
                    "it sits inside `{other} {}` ({}), and {}",
                    expr::render(&cond.expr),
                    cond.at,
                    values
                );
            }
        };
        format!(
            "{verb} {} ({}), and {}{}",
            expr::render(part),
            cond.at,
            values,
            self.deeper(part, config, depth)
        )
    }

    /// When the failing condition is a single symbol, why *that* symbol is off (bounded depth).
    fn deeper(&self, e: &Expr, config: &KernelConfig, depth: usize) -> String {
        match e {
            Expr::Sym(s) if depth < 3 => {
                format!("; {}", self.explain_off_depth(s, config, depth + 1))
            }
            _ => String::new(),
        }
    }

    /// Why `symbol` is on in `config` although wanted off.
    pub fn explain_on(&self, symbol: &str, config: &KernelConfig) -> String {
        let value = value_of(symbol, config);
        for r in self.reverse.get(symbol).into_iter().flatten() {
            let holds = r.cond.as_ref().is_none_or(|c| expr::eval(c, config) > 0);
            if r.how == "select" && holds && config.is_enabled(&format!("CONFIG_{}", r.by)) {
                return format!(
                    "{value} because CONFIG_{}={} selects it ({})",
                    r.by,
                    value_of_bare(&r.by, config),
                    r.at
                );
            }
        }
        for entry in self.entries(symbol) {
            for (v, cond) in &entry.defaults {
                let holds = cond.as_ref().is_none_or(|c| expr::eval(c, config) > 0);
                if holds && expr::eval(v, config) > 0 {
                    return format!(
                        "{value} because it defaults to {} ({}) and the config does not turn it off",
                        expr::render(v),
                        entry.at
                    );
                }
            }
        }
        format!("{value}: set explicitly by the config or its fragment")
    }
}

/// "CONFIG_A=y, CONFIG_B is not set" for every symbol in `e`.
fn values_in(e: &Expr, config: &KernelConfig) -> String {
    let mut syms = Vec::new();
    expr::symbols(e, &mut syms);
    syms.iter()
        .map(|s| value_of(s, config))
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_of(symbol: &str, config: &KernelConfig) -> String {
    let v = value_of_bare(symbol, config);
    if v == "is not set" {
        format!("CONFIG_{symbol} is not set")
    } else {
        format!("CONFIG_{symbol}={v}")
    }
}

fn value_of_bare(symbol: &str, config: &KernelConfig) -> String {
    match config.get(&format!("CONFIG_{symbol}")) {
        None | Some(kbuild_env::ConfigValue::NotSet | kbuild_env::ConfigValue::No) => {
            "is not set".into()
        }
        Some(v) => v.to_string(),
    }
}
