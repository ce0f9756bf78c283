//! The shared hostile-archive suite (feature `hostile-suite`, for tests only).
//!
//! [`cases`] is a table of hostile entry lists with the outcome each caller must produce:
//! detdeb builds every case into a `.deb` ([`Layout::Package`]), srcpin into a source
//! tarball ([`Layout::Source`]), and both assert the typed outcome and that nothing was
//! written outside. [`raw_tar`] writes the entries verbatim — no validation — so the
//! archive really is as hostile as the case says.

use std::path::Path;

use crate::error::{Error, LimitKind, Refusal};

/// What an entry is, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKind {
    /// A regular file with these contents.
    File(Vec<u8>),
    /// A regular file whose header claims `claimed` bytes but carries `data`.
    LyingFile {
        /// The size in the header.
        claimed: u64,
        /// The bytes that follow.
        data: Vec<u8>,
    },
    /// A directory.
    Dir,
    /// A symlink to this target.
    Symlink(Vec<u8>),
    /// A hard link to this archive path.
    HardLink(Vec<u8>),
    /// A character device.
    CharDev,
    /// A block device.
    BlockDev,
    /// A FIFO.
    Fifo,
    /// A GNU sparse file (type `S`).
    Sparse,
    /// A GNU long-name record claiming this many bytes, followed by nothing useful.
    HugeLongName(u64),
}

/// One raw entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The name (prefixed by the layout unless absolute or `pax_path` is set).
    pub name: Vec<u8>,
    /// What it is.
    pub kind: RawKind,
    /// A PAX `path` record overriding the name, if any.
    pub pax_path: Option<Vec<u8>>,
    /// A PAX `linkpath` record overriding the link target, if any.
    pub pax_linkpath: Option<Vec<u8>>,
}

impl RawEntry {
    fn new(name: &[u8], kind: RawKind) -> Self {
        RawEntry {
            name: name.to_vec(),
            kind,
            pax_path: None,
            pax_linkpath: None,
        }
    }
}

fn file(name: &str, data: &[u8]) -> RawEntry {
    RawEntry::new(name.as_bytes(), RawKind::File(data.to_vec()))
}
fn dir(name: &str) -> RawEntry {
    RawEntry::new(name.as_bytes(), RawKind::Dir)
}
fn symlink(name: &str, target: &[u8]) -> RawEntry {
    RawEntry::new(name.as_bytes(), RawKind::Symlink(target.to_vec()))
}
fn hard_link(name: &str, target: &[u8]) -> RawEntry {
    RawEntry::new(name.as_bytes(), RawKind::HardLink(target.to_vec()))
}

/// Which variant of [`Refusal`] is expected (tests match variants, not messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Extracted without error.
    Accepted,
    /// [`Refusal::Traversal`].
    Traversal,
    /// [`Refusal::BadPath`].
    BadPath,
    /// [`Refusal::ThroughLink`].
    ThroughLink,
    /// [`Refusal::ThroughFile`].
    ThroughFile,
    /// [`Refusal::LinkEscapes`].
    LinkEscapes,
    /// [`Refusal::AbsoluteLink`].
    AbsoluteLink,
    /// [`Refusal::LinkLoop`].
    LinkLoop,
    /// [`Refusal::BadLinkTarget`].
    BadLinkTarget,
    /// [`Refusal::HardLink`].
    HardLink,
    /// [`Refusal::Device`].
    Device,
    /// [`Refusal::UnsupportedType`].
    UnsupportedType,
    /// [`Refusal::Duplicate`].
    Duplicate,
    /// [`Refusal::LimitExceeded`] with this [`LimitKind`].
    Limit(LimitKind),
    /// [`Error::Malformed`].
    Malformed,
}

impl Expect {
    /// Whether `result` is this outcome; `Err` describes the mismatch.
    pub fn check(self, result: &Result<(), &Error>) -> Result<(), String> {
        let ok = match (self, result) {
            (Expect::Accepted, Ok(())) => true,
            (_, Ok(())) => false,
            (Expect::Malformed, Err(Error::Malformed { .. })) => true,
            (want, Err(e)) => match e.refusal() {
                Some(r) => want.matches(r),
                None => false,
            },
        };
        if ok {
            Ok(())
        } else {
            Err(format!("expected {self:?}, got {result:?}"))
        }
    }

    fn matches(self, r: &Refusal) -> bool {
        matches!(
            (self, r),
            (Expect::Traversal, Refusal::Traversal { .. })
                | (Expect::BadPath, Refusal::BadPath { .. })
                | (Expect::ThroughLink, Refusal::ThroughLink { .. })
                | (Expect::ThroughFile, Refusal::ThroughFile { .. })
                | (Expect::LinkEscapes, Refusal::LinkEscapes { .. })
                | (Expect::AbsoluteLink, Refusal::AbsoluteLink { .. })
                | (Expect::LinkLoop, Refusal::LinkLoop { .. })
                | (Expect::BadLinkTarget, Refusal::BadLinkTarget { .. })
                | (Expect::HardLink, Refusal::HardLink { .. })
                | (Expect::Device, Refusal::Device { .. })
                | (Expect::UnsupportedType, Refusal::UnsupportedType { .. })
                | (Expect::Duplicate, Refusal::Duplicate { .. })
        ) || matches!((self, r), (Expect::Limit(k), Refusal::LimitExceeded { which, .. }) if k == *which)
    }
}

/// One hostile archive and what each caller must make of it.
#[derive(Debug, Clone)]
pub struct HostileCase {
    /// A name for failure messages.
    pub name: &'static str,
    /// The entries, relative to the tree root.
    pub entries: Vec<RawEntry>,
    /// Outcome for a package (detdeb: absolute symlinks kept, any bytes in names).
    pub package: Expect,
    /// Outcome for a source tarball (srcpin: absolute symlinks refused, UTF-8 names).
    pub source: Expect,
}

fn case(
    name: &'static str,
    entries: Vec<RawEntry>,
    package: Expect,
    source: Expect,
) -> HostileCase {
    HostileCase {
        name,
        entries,
        package,
        source,
    }
}

/// The table. `outside` is a directory the caller keeps empty and checks afterwards:
/// absolute paths and link targets point into it.
pub fn cases(outside: &Path) -> Vec<HostileCase> {
    let out = outside.to_str().expect("UTF-8 temp path").as_bytes();
    let mut all = path_cases(out);
    all.extend(symlink_cases(out));
    all.extend(hard_link_cases());
    all.extend(type_and_tree_cases());
    all.extend(limit_cases());
    all
}

/// Escaping paths: `..`, absolute, PAX overrides, NUL.
fn path_cases(out: &[u8]) -> Vec<HostileCase> {
    use Expect::*;
    let abs_s = String::from_utf8([out, b"/abs"].concat()).unwrap();
    let mut pax_escape = file("innocent", b"pwned");
    pax_escape.pax_path = Some(b"../../../outside/pax".to_vec());
    let mut pax_nul = file("innocent", b"x");
    pax_nul.pax_path = Some(b"a\0b".to_vec());
    vec![
        case(
            "dotdot file",
            vec![file("../../../outside/x", b"pwned")],
            Traversal,
            Traversal,
        ),
        case(
            "dotdot in the middle",
            vec![file("a/../../x", b"pwned")],
            Traversal,
            Traversal,
        ),
        case(
            "absolute file",
            vec![RawEntry::new(
                abs_s.as_bytes(),
                RawKind::File(b"pwned".to_vec()),
            )],
            Traversal,
            Traversal,
        ),
        case(
            "PAX path override with ..",
            vec![pax_escape],
            Traversal,
            Traversal,
        ),
        case("PAX path with NUL", vec![pax_nul], BadPath, BadPath),
    ]
}

/// Symbolic links: writes through them, escapes, chains, loops, absolute targets.
fn symlink_cases(out: &[u8]) -> Vec<HostileCase> {
    use Expect::*;
    let mut pax_link = symlink("l", b"ok");
    pax_link.pax_linkpath = Some(b"../../../outside".to_vec());
    vec![
        case(
            "relative symlink out, then write through it",
            vec![
                symlink("evil", b"../../../../outside"),
                file("evil/pwned", b"pwned"),
            ],
            ThroughLink,
            ThroughLink,
        ),
        case(
            "absolute symlink out, then write through it",
            vec![symlink("lnk", out), file("lnk/owned", b"pwned")],
            ThroughLink,
            AbsoluteLink,
        ),
        case(
            "symlink to a directory, then write through it",
            vec![dir("d"), symlink("l", b"d"), file("l/x", b"pwned")],
            ThroughLink,
            ThroughLink,
        ),
        case(
            "escaping relative symlink",
            vec![symlink("evil", b"../x")],
            LinkEscapes,
            LinkEscapes,
        ),
        case(
            "deep escaping symlink",
            vec![dir("a"), dir("a/b"), symlink("a/b/up", b"../../../x")],
            LinkEscapes,
            LinkEscapes,
        ),
        case(
            "chained symlinks escape only when resolved",
            vec![symlink("dot", b"."), symlink("chain", b"dot/dot/../../x")],
            LinkEscapes,
            LinkEscapes,
        ),
        case(
            "chain through a sibling link escapes",
            vec![
                dir("a"),
                symlink("a/up", b".."),
                symlink("a/out", b"up/../x"),
            ],
            LinkEscapes,
            LinkEscapes,
        ),
        case(
            "PAX linkpath override escapes",
            vec![pax_link],
            LinkEscapes,
            LinkEscapes,
        ),
        case(
            "symlink loop",
            vec![symlink("l1", b"l2"), symlink("l2", b"l1")],
            LinkLoop,
            LinkLoop,
        ),
        case(
            "absolute symlink (package-style)",
            vec![symlink("build", b"/usr/src/linux-headers")],
            Accepted,
            AbsoluteLink,
        ),
        case(
            "relative link into an absolute link",
            vec![symlink("abs", b"/etc"), symlink("rel", b"abs/passwd")],
            Accepted,
            AbsoluteLink,
        ),
        case(
            "absolute link climbing above /",
            vec![symlink("up", b"/../../etc")],
            LinkEscapes,
            AbsoluteLink,
        ),
        case(
            "empty symlink target",
            vec![symlink("empty", b"")],
            BadLinkTarget,
            BadLinkTarget,
        ),
    ]
}

/// Hard links to what is outside, missing, or not a regular file.
fn hard_link_cases() -> Vec<HostileCase> {
    use Expect::*;
    vec![
        case(
            "hard link to an absolute path",
            vec![hard_link("passwd", b"/etc/passwd")],
            HardLink,
            HardLink,
        ),
        case(
            "hard link with ..",
            vec![hard_link("passwd", b"../../../../etc/passwd")],
            HardLink,
            HardLink,
        ),
        case(
            "hard link to nothing extracted",
            vec![hard_link("passwd", b"etc/passwd")],
            HardLink,
            HardLink,
        ),
        case(
            "hard link to a symlink",
            vec![symlink("s", b"x"), hard_link("h", b"s")],
            HardLink,
            HardLink,
        ),
        case(
            "hard link to a directory",
            vec![dir("d"), hard_link("h", b"d")],
            HardLink,
            HardLink,
        ),
    ]
}

/// Devices, FIFOs, sparse files, duplicates, writes below files, names.
fn type_and_tree_cases() -> Vec<HostileCase> {
    use Expect::*;
    vec![
        case(
            "character device",
            vec![RawEntry::new(b"null", RawKind::CharDev)],
            Device,
            Device,
        ),
        case(
            "block device",
            vec![RawEntry::new(b"sda", RawKind::BlockDev)],
            Device,
            Device,
        ),
        case(
            "FIFO",
            vec![RawEntry::new(b"fifo", RawKind::Fifo)],
            Device,
            Device,
        ),
        case(
            "GNU sparse file",
            vec![RawEntry::new(b"sparse", RawKind::Sparse)],
            UnsupportedType,
            UnsupportedType,
        ),
        case(
            "duplicate file",
            vec![file("a", b"1"), file("a", b"2")],
            Duplicate,
            Duplicate,
        ),
        case(
            "duplicate after normalization",
            vec![file("a/b", b"1"), file("a//./b", b"2")],
            Duplicate,
            Duplicate,
        ),
        case(
            "directory over a symlink",
            vec![symlink("d", b"x"), dir("d")],
            Duplicate,
            Duplicate,
        ),
        case(
            "write below a file",
            vec![file("f", b"1"), file("f/g", b"2")],
            ThroughFile,
            ThroughFile,
        ),
        case(
            "non-UTF-8 name",
            vec![RawEntry::new(b"bad\xff\xfe", RawKind::File(b"x".to_vec()))],
            Accepted,
            BadPath,
        ),
    ]
}

/// Lying sizes and bombs, and a harmless tree that must stay accepted.
fn limit_cases() -> Vec<HostileCase> {
    use Expect::*;
    vec![
        case(
            "size field larger than the data (lying size)",
            vec![RawEntry::new(
                b"liar",
                RawKind::LyingFile {
                    claimed: 100_000,
                    data: vec![b'x'; 512],
                },
            )],
            Malformed,
            Malformed,
        ),
        case(
            "10 GB declared in a tiny archive",
            vec![RawEntry::new(
                b"bomb",
                RawKind::LyingFile {
                    claimed: 10_000_000_000,
                    data: vec![0; 512],
                },
            )],
            Limit(LimitKind::Ratio),
            Limit(LimitKind::FileSize),
        ),
        case(
            "1 GiB GNU long name",
            vec![RawEntry::new(b"x", RawKind::HugeLongName(1 << 30))],
            Limit(LimitKind::ExtensionRecord),
            Limit(LimitKind::ExtensionRecord),
        ),
        case(
            "harmless tree with an in-tree link chain",
            vec![
                dir("a"),
                file("a/f", b"data"),
                symlink("a/l1", b"f"),
                symlink("l2", b"a/l1"),
                hard_link("h", b"a/f"),
            ],
            Accepted,
            Accepted,
        ),
    ]
}

/// How a caller lays a case out.
#[derive(Debug, Clone, Copy)]
pub enum Layout<'a> {
    /// A `.deb` data member: a `./` root entry, names prefixed with `./`.
    Package,
    /// A source tarball: a `<top>/` entry, names prefixed with `<top>/`.
    Source(&'a str),
}

impl Layout<'_> {
    fn prefix(&self) -> Vec<u8> {
        match self {
            Layout::Package => b"./".to_vec(),
            Layout::Source(top) => format!("{top}/").into_bytes(),
        }
    }

    /// Prefixes a relative archive path (absolute ones stay as they are).
    pub fn place(&self, name: &[u8]) -> Vec<u8> {
        if name.first() == Some(&b'/') {
            return name.to_vec();
        }
        [self.prefix(), name.to_vec()].concat()
    }
}

/// A tar stream holding `entries` as they are, laid out for `layout`.
pub fn raw_tar(entries: &[RawEntry], layout: Layout<'_>) -> Vec<u8> {
    let mut out = header(&layout.prefix(), b'5', b"", 0, 0o755);
    for e in entries {
        let name = layout.place(&e.name);
        let mut pax = Vec::new();
        if let Some(p) = &e.pax_path {
            pax.push(("path", layout.place(p)));
        }
        if let Some(l) = &e.pax_linkpath {
            pax.push(("linkpath", l.clone()));
        }
        if !pax.is_empty() {
            let body = pax_body(&pax);
            out.extend(header(
                b"././@PaxHeader",
                b'x',
                b"",
                body.len() as u64,
                0o644,
            ));
            out.extend(padded(&body));
        }
        let (flag, link, size, data): (u8, Vec<u8>, u64, &[u8]) = match &e.kind {
            RawKind::File(d) => (b'0', vec![], d.len() as u64, d),
            RawKind::LyingFile { claimed, data } => (b'0', vec![], *claimed, data),
            RawKind::Dir => (b'5', vec![], 0, &[]),
            RawKind::Symlink(t) => (b'2', t.clone(), 0, &[]),
            RawKind::HardLink(t) => (b'1', layout.place(t), 0, &[]),
            RawKind::CharDev => (b'3', vec![], 0, &[]),
            RawKind::BlockDev => (b'4', vec![], 0, &[]),
            RawKind::Fifo => (b'6', vec![], 0, &[]),
            RawKind::Sparse => (b'S', vec![], 512, &[0u8; 512]),
            RawKind::HugeLongName(n) => {
                out.extend(header(b"././@LongLink", b'L', b"", *n, 0o644));
                out.extend([b'a'; 512]);
                continue;
            }
        };
        out.extend(header(&name, flag, &link, size, 0o644));
        out.extend(padded(data));
    }
    out.extend([0u8; 1024]);
    out
}

fn padded(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(512) * 512, 0);
    v
}

fn pax_body(records: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        let rest = k.len() + v.len() + 3; // ' ', '=', '\n'
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        out.extend(format!("{len} {k}=").into_bytes());
        out.extend(v);
        out.push(b'\n');
    }
    out
}

/// A GNU-format header (names over 100 bytes are cut: cases keep theirs short).
fn header(name: &[u8], flag: u8, link: &[u8], size: u64, mode: u32) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 8u64.pow(11) {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = flag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..265].copy_from_slice(b"ustar  \0");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}
