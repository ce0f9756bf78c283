//! The line reader behind [`KconfigTree::load`](super::KconfigTree::load).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::expr::{self, Expr};
use super::{
    Cond, Entry, KconfigTree, MAX_BLOCK_DEPTH, MAX_FILE_LEN, MAX_FILES, MAX_HEADER_DEPENDS,
    MAX_SOURCE_DEPTH, MAX_TOTAL_LEN, ReverseDep,
};
use crate::error::{Error, Result};
use crate::toolchain::Arch;

/// An enclosing block.
enum Frame {
    If(Option<Cond>),
    Menu(Option<Cond>),
    Choice(Option<Cond>, usize),
}

/// What the attribute lines that follow belong to.
enum Target {
    None,
    Entry(String, usize),
    MenuHeader,
    ChoiceHeader,
}

struct Reader<'a> {
    root: &'a Path,
    srcarch: &'static str,
    tree: KconfigTree,
    stack: Vec<Frame>,
    target: Target,
    /// The files being read, outermost first: a `source` of one of them is a loop.
    reading: Vec<PathBuf>,
    /// Bytes read so far, from all files.
    bytes: u64,
    /// `depends on` lines of the current `menu`/`choice` header.
    header_depends: usize,
}

pub(super) fn load(root: &Path, arch: Arch) -> Result<KconfigTree> {
    let mut r = Reader {
        root,
        srcarch: arch.srcarch(),
        tree: KconfigTree::default(),
        stack: Vec::new(),
        target: Target::None,
        reading: Vec::new(),
        bytes: 0,
        header_depends: 0,
    };
    r.file(Path::new("Kconfig"))?;
    Ok(r.tree)
}

impl Reader<'_> {
    fn file(&mut self, rel: &Path) -> Result<()> {
        self.tree.files += 1;
        let path = self.root.join(rel);
        let err = |line, problem: String| Error::Kconfig {
            path: path.clone(),
            line,
            problem,
        };
        if self.tree.files > MAX_FILES {
            return Err(err(0, format!("more than {MAX_FILES} Kconfig files")));
        }
        let mut text = String::new();
        let f = safe_extract::regular::open_regular(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        f.take(MAX_FILE_LEN + 1)
            .read_to_string(&mut text)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        if text.len() as u64 > MAX_FILE_LEN {
            return Err(err(0, format!("larger than {MAX_FILE_LEN} bytes")));
        }
        self.bytes += text.len() as u64;
        if self.bytes > MAX_TOTAL_LEN {
            return Err(err(
                0,
                format!("the tree's Kconfig files pass {MAX_TOTAL_LEN} bytes"),
            ));
        }
        self.reading.push(rel.to_owned());
        self.lines(&text, rel).map_err(|(no, p)| err(no, p))?;
        self.reading.pop();
        Ok(())
    }

    /// The statements of one file; errors are (line, problem).
    fn lines(&mut self, text: &str, rel: &Path) -> std::result::Result<(), (usize, String)> {
        let lines = logical_lines(text);
        let mut i = 0;
        while i < lines.len() {
            let (no, line) = &lines[i];
            i += 1;
            let at = format!("{}:{no}", rel.display());
            let (indent, words) = (indent_of(line), strip_comment(line));
            let words = words.trim();
            if words == "help" || words == "---help---" {
                i = skip_help(&lines, i, indent);
                continue;
            }
            if !words.is_empty() {
                self.statement(words, &at).map_err(|p| (*no, p))?;
            }
        }
        Ok(())
    }

    fn statement(&mut self, line: &str, at: &str) -> std::result::Result<(), String> {
        let (kw, rest) = line
            .split_once(char::is_whitespace)
            .map(|(k, r)| (k, r.trim()))
            .unwrap_or((line, ""));
        let cond = |what, text: &str| {
            expr::parse(text).map(|expr| Cond {
                expr,
                what,
                at: at.to_owned(),
            })
        };
        match kw {
            "config" | "menuconfig" => self.begin_entry(rest, at),
            "if" => {
                self.open(Frame::If(cond("if", rest)))?;
                self.target = Target::None;
            }
            "endif" | "endmenu" | "endchoice" => {
                self.stack
                    .pop()
                    .ok_or_else(|| format!("{kw} without an opening block"))?;
                self.target = Target::None;
            }
            "menu" => {
                self.open(Frame::Menu(None))?;
                self.target = Target::MenuHeader;
            }
            "choice" => {
                self.open(Frame::Choice(None, self.tree.choices.len()))?;
                self.tree.choices.push(Vec::new());
                self.target = Target::ChoiceHeader;
            }
            "source" | "osource" | "rsource" | "orsource" => return self.source(rest),
            "comment" | "mainmenu" => self.target = Target::None,
            "depends" => self.depends(rest.strip_prefix("on").unwrap_or(rest).trim(), at)?,
            "select" => self.reverse("select", rest, at),
            "imply" => self.reverse("imply", rest, at),
            _ => self.attribute(kw, rest),
        }
        Ok(())
    }

    /// Enters a block, within [`MAX_BLOCK_DEPTH`]; a new header has no `depends on` yet.
    fn open(&mut self, frame: Frame) -> std::result::Result<(), String> {
        if self.stack.len() >= MAX_BLOCK_DEPTH {
            return Err(format!(
                "if/menu/choice blocks nested deeper than {MAX_BLOCK_DEPTH}"
            ));
        }
        self.stack.push(frame);
        self.header_depends = 0;
        Ok(())
    }

    fn begin_entry(&mut self, name: &str, at: &str) {
        let mut deps = Vec::new();
        let mut choice = None;
        for f in &self.stack {
            match f {
                Frame::If(Some(c)) | Frame::Menu(Some(c)) => deps.push(c.clone()),
                Frame::Choice(c, idx) => {
                    deps.extend(c.clone());
                    choice = Some(*idx);
                }
                _ => {}
            }
        }
        if let Some(idx) = choice {
            self.tree.choices[idx].push(name.to_owned());
        }
        let list = self.tree.entries.entry(name.to_owned()).or_default();
        list.push(Entry {
            at: at.to_owned(),
            deps,
            choice,
            ..Entry::default()
        });
        self.target = Target::Entry(name.to_owned(), list.len() - 1);
    }

    fn depends(&mut self, text: &str, at: &str) -> std::result::Result<(), String> {
        let Some(expr) = expr::parse(text) else {
            return Ok(());
        };
        let c = Cond {
            expr,
            what: "depends on",
            at: at.to_owned(),
        };
        match (&self.target, self.stack.last_mut()) {
            (Target::Entry(..), _) => self.entry().deps.push(c),
            (Target::MenuHeader, Some(Frame::Menu(slot)))
            | (Target::ChoiceHeader, Some(Frame::Choice(slot, _))) => {
                // Each line nests the and-ed condition one level deeper.
                self.header_depends += 1;
                if self.header_depends > MAX_HEADER_DEPENDS {
                    return Err(format!(
                        "more than {MAX_HEADER_DEPENDS} `depends on` lines for one menu or choice"
                    ));
                }
                *slot = Some(match slot.take() {
                    Some(prev) => Cond {
                        expr: Expr::And(Box::new(prev.expr), Box::new(c.expr)),
                        what: prev.what,
                        at: prev.at,
                    },
                    None => Cond {
                        what: if matches!(self.target, Target::MenuHeader) {
                            "menu"
                        } else {
                            "choice"
                        },
                        ..c
                    },
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn reverse(&mut self, how: &'static str, rest: &str, at: &str) {
        let Target::Entry(by, _) = &self.target else {
            return;
        };
        let (sym, cond) = split_if(rest);
        let r = ReverseDep {
            by: by.clone(),
            how,
            cond: cond.and_then(expr::parse),
            at: at.to_owned(),
        };
        self.tree.reverse.entry(sym.to_owned()).or_default().push(r);
    }

    fn attribute(&mut self, kw: &str, rest: &str) {
        if !matches!(self.target, Target::Entry(..)) {
            return;
        }
        let (value, cond) = split_if(rest);
        let cond = cond.and_then(expr::parse);
        let entry = self.entry();
        match kw {
            "bool" | "tristate" | "string" | "int" | "hex" | "prompt" if !value.is_empty() => {
                entry.has_prompt = true;
                entry.prompt_if = cond;
            }
            "default" | "def_bool" | "def_tristate" => {
                if let Some(v) = expr::parse(value) {
                    entry.defaults.push((v, cond));
                }
            }
            _ => {}
        }
    }

    fn entry(&mut self) -> &mut Entry {
        let Target::Entry(name, idx) = &self.target else {
            unreachable!("checked by callers")
        };
        &mut self.tree.entries.get_mut(name).expect("entry exists")[*idx]
    }

    fn source(&mut self, rest: &str) -> std::result::Result<(), String> {
        let rel = rest
            .trim()
            .trim_matches('"')
            .replace("$(SRCARCH)", self.srcarch)
            .replace("$(HEADER_ARCH)", self.srcarch);
        if rel.contains("$(") || rel.contains("..") || rel.starts_with('/') {
            return Err(format!("source path {rel:?} not supported"));
        }
        let rel = PathBuf::from(rel);
        if !self.root.join(&rel).is_file() {
            return Ok(()); // osource of an absent file, or an arch-specific file for another arch
        }
        if self.reading.contains(&rel) {
            return Err(format!(
                "source {:?} is a loop: that file is already being read (through {})",
                rel.display(),
                self.chain()
            ));
        }
        if self.reading.len() >= MAX_SOURCE_DEPTH {
            return Err(format!(
                "source nested deeper than {MAX_SOURCE_DEPTH} files (through {})",
                self.chain()
            ));
        }
        let saved = std::mem::replace(&mut self.target, Target::None);
        self.file(&rel).map_err(|e| e.to_string())?;
        self.target = saved;
        Ok(())
    }
}

impl Reader<'_> {
    /// `Kconfig -> mm/Kconfig -> …`: the files being read, for a message.
    fn chain(&self) -> String {
        let names: Vec<String> = self
            .reading
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        names.join(" -> ")
    }
}

/// Joins `\` continuations; yields (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let (no, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                pending = Some((no, acc));
            }
            None => {
                acc.push_str(line);
                out.push((no, acc));
            }
        }
    }
    out.extend(pending);
    out
}

fn indent_of(line: &str) -> usize {
    let mut n = 0;
    for c in line.chars() {
        match c {
            ' ' => n += 1,
            '\t' => n = (n / 8 + 1) * 8,
            _ => break,
        }
    }
    n
}

/// Help text: every following line that is blank or indented more than the `help` keyword.
fn skip_help(lines: &[(usize, String)], mut i: usize, help_indent: usize) -> usize {
    while i < lines.len() {
        let l = &lines[i].1;
        if !l.trim().is_empty() && indent_of(l) <= help_indent {
            break;
        }
        i += 1;
    }
    i
}

fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('#', None) => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits `VALUE if COND` at a top-level ` if ` outside quotes.
fn split_if(rest: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    let b = rest.as_bytes();
    for (i, c) in rest.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            (' ' | '\t', None)
                if rest[i + 1..].starts_with("if")
                    && b.get(i + 3).is_none_or(|c| c.is_ascii_whitespace()) =>
            {
                return (rest[..i].trim(), Some(rest[i + 3..].trim()));
            }
            _ => {}
        }
    }
    (rest.trim(), None)
}
