//! The diff's result as data: what differs, and the classified causes with evidence.
//!
//! Everything here is plain data (serde-serializable for `--json`); the text form
//! is [`DiffReport::render`]. The summary line names the most telling cause first:
//! causes are ranked by [`CauseKind::rank`], root causes (a build path, a
//! timestamp) ahead of their consequences (a new build-id, shifted sections).

use std::fmt::Write as _;

use serde::Serialize;

/// A classified reason for a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// A build record's inputs differ: source pin, SOURCE_DATE_EPOCH, `.config` or toolchain.
    BuildInput,
    /// A build directory differs: DWARF `DW_AT_comp_dir`/`DW_AT_name`/line tables or
    /// path strings.
    BuildPath,
    /// A date or time got in (`__DATE__`/`__TIME__`, SOURCE_DATE_EPOCH, a timestamp string).
    Timestamp,
    /// The kernel's uname banner (`Linux version … #1 SMP …`, `UTS_VERSION`).
    UnameBanner,
    /// The compiler banner in `.comment` (seed bug2).
    CompilerBanner,
    /// Compiler options (`DW_AT_producer`, `.GCC.command.line`).
    CompilerFlags,
    /// The embedded kernel `.config` (IKCONFIG `IKCFG_ST`…`IKCFG_ED`).
    EmbeddedConfig,
    /// `vermagic=` in `.modinfo` (kernel release or module ABI flags).
    Vermagic,
    /// The module signature appendix (`~Module signature appended~`).
    ModuleSignature,
    /// The `.BTF` type information.
    Btf,
    /// Machine code or data differs with no more specific explanation.
    Code,
    /// Text content differs (config, changelog, scripts, control files).
    Text,
    /// Opaque bytes differ (not ELF, not text).
    Bytes,
    /// A file exists on one side only.
    Presence,
    /// Tar metadata: mode, owner, mtime, type or link target.
    Metadata,
    /// A control field of the package.
    ControlField,
    /// The ar container (member names, order, header fields).
    Container,
    /// Only the compression differs: the decompressed contents are the same.
    Compression,
    /// The GNU build-id (a hash of the linked file; follows from other changes).
    BuildId,
    /// Sections moved (offsets/addresses) because others changed size.
    SectionLayout,
}

impl CauseKind {
    /// Lower ranks are more telling: they go first in summaries.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// A short phrase for summaries ("build path").
    pub fn phrase(self) -> &'static str {
        match self {
            CauseKind::BuildInput => "build input",
            CauseKind::BuildPath => "build path",
            CauseKind::Timestamp => "timestamp",
            CauseKind::UnameBanner => "uname/version banner",
            CauseKind::CompilerBanner => "compiler banner (.comment)",
            CauseKind::CompilerFlags => "compiler flags",
            CauseKind::EmbeddedConfig => "embedded .config (IKCONFIG)",
            CauseKind::Vermagic => "module vermagic",
            CauseKind::ModuleSignature => "module signature",
            CauseKind::Btf => "BTF type info",
            CauseKind::Code => "code/data",
            CauseKind::Text => "text content",
            CauseKind::Bytes => "binary content",
            CauseKind::Presence => "file only on one side",
            CauseKind::Metadata => "tar metadata",
            CauseKind::ControlField => "control field",
            CauseKind::Container => "ar container",
            CauseKind::Compression => "compression only",
            CauseKind::BuildId => "build-id",
            CauseKind::SectionLayout => "section layout shift",
        }
    }
}

/// One observed value on each side, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Where (e.g. `DWARF DW_AT_comp_dir of unit hello.c`, `.comment`).
    pub location: String,
    /// Value on side A (empty when absent).
    pub a: String,
    /// Value on side B (empty when absent).
    pub b: String,
}

/// A classified cause with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which cause.
    pub kind: CauseKind,
    /// Where in kernel terms (`DWARF of …`, `section .rodata`).
    pub detail: String,
    /// A few examples, bounded by [`Limits::max_evidence`](crate::Limits).
    pub evidence: Vec<Evidence>,
}

impl Finding {
    pub(crate) fn new(kind: CauseKind, detail: impl Into<String>) -> Self {
        Finding {
            kind,
            detail: detail.into(),
            evidence: Vec::new(),
        }
    }

    pub(crate) fn with(mut self, location: impl Into<String>, a: &str, b: &str) -> Self {
        self.evidence.push(Evidence {
            location: location.into(),
            a: a.to_owned(),
            b: b.to_owned(),
        });
        self
    }
}

/// One ELF section that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionDiff {
    /// Section name.
    pub name: String,
    /// Size on side A (`None`: absent).
    pub size_a: Option<u64>,
    /// Size on side B (`None`: absent).
    pub size_b: Option<u64>,
    /// Content differs (not only its place).
    pub content_differs: bool,
    /// File offset or address differs.
    pub moved: bool,
}

/// Which part of the input an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// A build record's own fields (source, toolchain, config, file hashes).
    Record,
    /// The package set or the ar container (member names, headers, compression).
    Container,
    /// The control area (fields and files such as `md5sums`, `postinst`).
    Control,
    /// A file of the data tree.
    Data,
}

/// One item (data file, control file, member, field) that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemDiff {
    /// Package name (`Package:`), when known.
    pub package: String,
    /// Which part of the package.
    pub area: Area,
    /// Path or name, e.g. `usr/lib/modules/6.12/kernel/fs/foo.ko.xz`,
    /// `control:Version`, `ar:data.tar.xz`. Nested payloads are joined by `!`.
    pub path: String,
    /// sha256 on side A, when a file.
    pub sha256_a: Option<String>,
    /// sha256 on side B, when a file.
    pub sha256_b: Option<String>,
    /// Causes, most telling first.
    pub causes: Vec<Finding>,
    /// ELF sections that differ.
    pub sections: Vec<SectionDiff>,
    /// Unified diff for text.
    pub text_diff: Option<String>,
    /// What could not be inspected and why (limits, undecodable payloads).
    pub notes: Vec<String>,
}

impl ItemDiff {
    pub(crate) fn new(area: Area, path: impl Into<String>) -> Self {
        ItemDiff {
            package: String::new(),
            area,
            path: path.into(),
            sha256_a: None,
            sha256_b: None,
            causes: Vec::new(),
            sections: Vec::new(),
            text_diff: None,
            notes: Vec::new(),
        }
    }

    /// The most telling cause, if any was found.
    pub fn primary(&self) -> Option<&Finding> {
        self.causes.iter().min_by_key(|f| f.kind.rank())
    }

    pub(crate) fn sort_causes(&mut self) {
        self.causes.sort_by_key(|f| f.kind.rank());
    }
}

/// The result of comparing two inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// Side A as given.
    pub a: String,
    /// Side B as given.
    pub b: String,
    /// Items that differ, in walk order.
    pub items: Vec<ItemDiff>,
}

impl DiffReport {
    /// No differences.
    pub fn is_identical(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of data files that differ (items that are not control fields,
    /// control files or container members).
    pub fn files_differing(&self) -> usize {
        self.items.iter().filter(|i| i.area == Area::Data).count()
    }

    /// Distinct cause kinds, most telling first, each with the first item showing it.
    pub fn causes(&self) -> Vec<(CauseKind, &ItemDiff, &Finding)> {
        let mut seen: Vec<(CauseKind, &ItemDiff, &Finding)> = Vec::new();
        for item in &self.items {
            for f in &item.causes {
                if !seen.iter().any(|s| s.0 == f.kind) {
                    seen.push((f.kind, item, f));
                }
            }
        }
        seen.sort_by_key(|s| s.0.rank());
        seen
    }

    /// One line: `identical`, or `2 files differ; cause: build path in DWARF of …`.
    pub fn summary(&self) -> String {
        let records = self.items.iter().filter(|i| i.area == Area::Record).count();
        if self.is_identical() {
            return "identical".to_owned();
        }
        let n = self.files_differing();
        let mut s = match (n, self.items.len()) {
            (0, k) if k == records => format!("{k} build record item(s) differ"),
            (0, k) => format!("{k} package item(s) differ, no file contents"),
            (1, _) => "1 file differs".to_owned(),
            (n, _) => format!("{n} files differ"),
        };
        let causes = self.causes();
        for (i, (kind, item, f)) in causes.iter().take(3).enumerate() {
            s.push_str(if i == 0 { "; cause: " } else { "; also: " });
            let _ = write!(s, "{} in {} of {}", kind.phrase(), f.detail, item.path);
        }
        if causes.len() > 3 {
            let _ = write!(s, " (+{} more kinds)", causes.len() - 3);
        }
        s
    }

    /// Summary line, then every item with its causes, evidence and diffs.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.summary());
        for item in &self.items {
            render_item(&mut out, item);
        }
        out
    }
}

/// One line of untrusted text (an entry name, a string from a binary): control
/// characters escaped, so a name cannot end its line and forge the next one.
fn one_line(text: &str) -> String {
    safe_extract::escape(text.as_bytes())
}

fn render_item(out: &mut String, item: &ItemDiff) {
    let path = one_line(&item.path);
    match item.package.as_str() {
        "" => _ = writeln!(out, "\n--- {path}"),
        p => _ = writeln!(out, "\n--- {}: {path}", one_line(p)),
    }
    if let (Some(a), Some(b)) = (&item.sha256_a, &item.sha256_b) {
        let _ = writeln!(out, "    sha256 A {a}\n    sha256 B {b}");
    }
    for f in &item.causes {
        let _ = writeln!(out, "    cause: {} ({})", f.kind.phrase(), f.detail);
        for e in &f.evidence {
            let _ = writeln!(
                out,
                "      {}:\n        A: {}\n        B: {}",
                one_line(&e.location),
                one_line(&e.a),
                one_line(&e.b)
            );
        }
    }
    if !item.sections.is_empty() {
        let names: Vec<String> = item
            .sections
            .iter()
            .map(|s| match (s.content_differs, s.moved) {
                (true, _) => s.name.clone(),
                (false, _) => format!("{} (moved)", s.name),
            })
            .collect();
        let _ = writeln!(out, "    sections: {}", names.join(", "));
    }
    for n in &item.notes {
        let _ = writeln!(out, "    note: {n}");
    }
    if let Some(d) = &item.text_diff {
        for l in d.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
}
