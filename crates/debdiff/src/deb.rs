//! Walking two `.deb`s in step: ar container, control area, data tree.
//!
//! Hashes first: equal files end the walk at once; equal members are skipped;
//! the data trees are read once (both sides in parallel) for every entry's
//! metadata and sha256, and a second time only when contents differ, for just
//! those files. Side A's differing files are spooled to a temporary directory
//! so the two trees never have to be in the same order or in memory at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use detdeb::{ArMember, DebReader, TarEntry, TarEntryKind};
use sha2::{Digest, Sha256};

use crate::content;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::report::{Area, CauseKind, DiffReport, Finding, ItemDiff};

/// Compares two `.deb` files.
pub fn diff_debs(a: &Path, b: &Path, limits: &Limits) -> Result<DiffReport> {
    let mut report = DiffReport {
        a: a.display().to_string(),
        b: b.display().to_string(),
        items: Vec::new(),
    };
    if same_bytes(a, b)? {
        return Ok(report);
    }
    let (da, db) = (DebReader::open(a)?, DebReader::open(b)?);
    report.items = diff_readers(&da, &db, limits)?;
    let package = da
        .control()
        .ok()
        .and_then(|c| c.get("Package").map(str::to_owned));
    for item in &mut report.items {
        item.package = package.clone().unwrap_or_default();
    }
    Ok(report)
}

/// Compares two opened packages (of any [`detdeb::reader::DebSource`]).
pub fn diff_readers<S: detdeb::reader::DebSource + Sync>(
    a: &DebReader<S>,
    b: &DebReader<S>,
    limits: &Limits,
) -> Result<Vec<ItemDiff>> {
    let mut items = diff_container(a, b);
    if member_sha256(a, a.control_member())? != member_sha256(b, b.control_member())? {
        items.extend(diff_control(a, b, limits)?);
    }
    if member_sha256(a, a.data_member())? != member_sha256(b, b.data_member())? {
        let before = items.len();
        items.extend(diff_data(a, b, limits)?);
        if items.len() == before {
            let name = &a.data_member().name;
            items.push(item_with(Area::Container, format!("ar:{name}"), CauseKind::Compression,
                "data member bytes differ but every entry's metadata and content are equal (compression or tar framing)"));
        }
    }
    Ok(items)
}

fn item_with(area: Area, path: String, kind: CauseKind, detail: &str) -> ItemDiff {
    let mut item = ItemDiff::new(area, path);
    item.causes.push(Finding::new(kind, detail));
    item
}

/// Whether two files have the same bytes: sizes first, then both sha256s in parallel.
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let len = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| Error::io(p, e))
    };
    if len(a)? != len(b)? {
        return Ok(false);
    }
    let (ha, hb) = std::thread::scope(|s| {
        let ha = s.spawn(|| sha256_file(a));
        (ha.join().expect("hashing does not panic"), sha256_file(b))
    });
    Ok(ha? == hb?)
}

fn sha256_file(p: &Path) -> Result<[u8; 32]> {
    let f = safe_extract::regular::open_regular(p).map_err(|e| Error::io(p, e))?;
    sha256_reader(f).map_err(|e| Error::io(p, e))
}

fn sha256_reader(mut r: impl Read) -> std::io::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(h.finalize().into()),
            n => h.update(&buf[..n]),
        }
    }
}

fn member_sha256<S: detdeb::reader::DebSource>(d: &DebReader<S>, m: &ArMember) -> Result<[u8; 32]> {
    sha256_reader(d.member_reader(m))
        .map_err(|e| Error::io(format!("{}: {}", d.display_name(), m.name), e))
}

fn diff_container<S: detdeb::reader::DebSource>(
    a: &DebReader<S>,
    b: &DebReader<S>,
) -> Vec<ItemDiff> {
    let mut f = Finding::new(CauseKind::Container, "ar container");
    if a.format_version() != b.format_version() {
        f = f.with("debian-binary", a.format_version(), b.format_version());
    }
    let names = |d: &DebReader<S>| {
        d.members()
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if names(a) != names(b) {
        f = f.with("member names", &names(a), &names(b));
    }
    for (ma, mb) in a.members().iter().zip(b.members()) {
        let hdr = |m: &ArMember| {
            format!(
                "mtime {} uid {} gid {} mode {:o}",
                m.mtime, m.uid, m.gid, m.mode
            )
        };
        if hdr(ma) != hdr(mb) {
            f = f.with(format!("header of {}", ma.name), &hdr(ma), &hdr(mb));
        }
    }
    if f.evidence.is_empty() {
        return Vec::new();
    }
    let mut item = ItemDiff::new(Area::Container, "ar");
    item.causes.push(f);
    vec![item]
}

fn diff_control<S: detdeb::reader::DebSource>(
    a: &DebReader<S>,
    b: &DebReader<S>,
    limits: &Limits,
) -> Result<Vec<ItemDiff>> {
    let (fa, fb) = (a.control_files()?, b.control_files()?);
    let mut items = Vec::new();
    if let (Ok(ca), Ok(cb)) = (a.control(), b.control()) {
        let fields: BTreeMap<&str, ()> = ca
            .fields()
            .chain(cb.fields())
            .map(|(k, _)| (k, ()))
            .collect();
        for field in fields.keys() {
            let (x, y) = (ca.get(field).unwrap_or(""), cb.get(field).unwrap_or(""));
            if x != y {
                let mut item = ItemDiff::new(Area::Control, format!("control:{field}"));
                item.causes
                    .push(Finding::new(CauseKind::ControlField, *field).with(*field, x, y));
                items.push(item);
            }
        }
    }
    let map_b: HashMap<&str, &detdeb::ControlFile> =
        fb.iter().map(|f| (f.name.as_str(), f)).collect();
    for x in &fa {
        let path = format!("control:{}", x.name);
        match map_b.get(x.name.as_str()) {
            None => items.push(item_with(
                Area::Control,
                path,
                CauseKind::Presence,
                "only in A",
            )),
            Some(y) => {
                let mut item = ItemDiff::new(Area::Control, path);
                metadata_finding(&mut item, &x.entry, &y.entry);
                if x.contents != y.contents && x.name == "md5sums" {
                    // A consequence of the data files that differ, explained there.
                    item.text_diff = Some(crate::text::unified(
                        &x.contents,
                        &y.contents,
                        "md5sums",
                        limits.max_diff_lines,
                    ));
                    item.causes.push(Finding::new(
                        CauseKind::Text,
                        "md5sums (follows from the data files that differ)",
                    ));
                } else if x.contents != y.contents && x.name != "control" {
                    content::explain(&mut item, &x.name, &x.contents, &y.contents, limits);
                }
                if !item.causes.is_empty() {
                    items.push(item);
                }
            }
        }
    }
    for y in fb.iter().filter(|y| !fa.iter().any(|x| x.name == y.name)) {
        items.push(item_with(
            Area::Control,
            format!("control:{}", y.name),
            CauseKind::Presence,
            "only in B",
        ));
    }
    Ok(items)
}

/// What pass 1 keeps of an entry: its header and, for files, its sha256.
struct Scanned {
    entry: TarEntry,
    sha256: Option<[u8; 32]>,
}

fn entry_name(e: &TarEntry) -> String {
    let n = e.name_lossy();
    let n = n.strip_prefix("./").unwrap_or(&n);
    n.trim_end_matches('/').to_owned()
}

fn scan<S: detdeb::reader::DebSource>(d: &DebReader<S>) -> Result<Vec<(String, Scanned)>> {
    let mut tar = d.data_tar()?;
    let mut out = Vec::new();
    while let Some(entry) = tar.next_entry().map_err(detdeb::Error::from)? {
        let sha256 = match entry.kind {
            TarEntryKind::File => Some(sha256_reader(tar.data_reader()).map_err(|e| {
                Error::io(format!("{}: {}", d.display_name(), entry.name_lossy()), e)
            })?),
            _ => None,
        };
        out.push((entry_name(&entry), Scanned { entry, sha256 }));
    }
    Ok(out)
}

fn kind_text(k: &TarEntryKind) -> String {
    match k {
        TarEntryKind::File => "file".into(),
        TarEntryKind::Dir => "directory".into(),
        TarEntryKind::Symlink { target } => {
            format!("symlink to {}", String::from_utf8_lossy(target))
        }
        TarEntryKind::HardLink { target } => {
            format!("hard link to {}", String::from_utf8_lossy(target))
        }
        TarEntryKind::CharDev { major, minor } => format!("char device {major}:{minor}"),
        TarEntryKind::BlockDev { major, minor } => format!("block device {major}:{minor}"),
        TarEntryKind::Fifo => "fifo".into(),
    }
}

fn metadata_finding(item: &mut ItemDiff, a: &TarEntry, b: &TarEntry) {
    let mut f = Finding::new(CauseKind::Metadata, "tar header");
    let fields: [(&str, String, String); 5] = [
        ("type", kind_text(&a.kind), kind_text(&b.kind)),
        ("mode", format!("{:04o}", a.mode), format!("{:04o}", b.mode)),
        (
            "owner",
            format!("{}:{} ({}:{})", a.uid, a.gid, a.uname, a.gname),
            format!("{}:{} ({}:{})", b.uid, b.gid, b.uname, b.gname),
        ),
        ("mtime", a.mtime.to_string(), b.mtime.to_string()),
        ("size", a.size.to_string(), b.size.to_string()),
    ];
    for (what, x, y) in fields {
        if x != y && (what != "size" || a.kind != TarEntryKind::File) {
            f = f.with(what, &x, &y);
        }
    }
    if !f.evidence.is_empty() {
        item.causes.push(f);
    }
}

fn diff_data<S: detdeb::reader::DebSource + Sync>(
    a: &DebReader<S>,
    b: &DebReader<S>,
    limits: &Limits,
) -> Result<Vec<ItemDiff>> {
    let (sa, sb) = std::thread::scope(|s| {
        let ha = s.spawn(|| scan(a));
        let sb = scan(b);
        (ha.join().expect("scan does not panic"), sb)
    });
    let (sa, sb) = (sa?, sb?);
    let mut items = Vec::new();
    let order = |v: &[(String, Scanned)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    let map_b: HashMap<&str, &Scanned> = sb.iter().map(|(n, s)| (n.as_str(), s)).collect();
    let mut differing: BTreeMap<String, usize> = BTreeMap::new();
    for (name, x) in &sa {
        let Some(y) = map_b.get(name.as_str()) else {
            items.push(item_with(
                Area::Data,
                name.clone(),
                CauseKind::Presence,
                "only in A",
            ));
            continue;
        };
        let mut item = ItemDiff::new(Area::Data, name.clone());
        metadata_finding(&mut item, &x.entry, &y.entry);
        if let (Some(ha), Some(hb)) = (x.sha256, y.sha256)
            && ha != hb
        {
            item.sha256_a = Some(hex(&ha));
            item.sha256_b = Some(hex(&hb));
            differing.insert(name.clone(), items.len());
        }
        if !item.causes.is_empty() || item.sha256_a.is_some() {
            items.push(item);
        }
    }
    let names_a: HashSet<&str> = sa.iter().map(|x| x.0.as_str()).collect();
    for (name, _) in sb.iter().filter(|(n, _)| !names_a.contains(n.as_str())) {
        items.push(item_with(
            Area::Data,
            name.clone(),
            CauseKind::Presence,
            "only in B",
        ));
    }
    if items.is_empty() && order(&sa) != order(&sb) {
        items.push(item_with(
            Area::Container,
            "data.tar order".into(),
            CauseKind::Container,
            "same entries in another order",
        ));
    }
    if !differing.is_empty() {
        explain_contents(a, b, &differing, &mut items, limits)?;
    }
    Ok(items)
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|c| format!("{c:02x}")).collect()
}

/// Streams `d`'s data tree, handing each wanted file's contents (bounded) to `sink`.
fn collect<S: detdeb::reader::DebSource>(
    d: &DebReader<S>,
    wanted: &BTreeMap<String, usize>,
    limits: &Limits,
    mut sink: impl FnMut(&str, usize, Option<Vec<u8>>) -> Result<()>,
) -> Result<()> {
    let mut tar = d.data_tar()?;
    let mut left = wanted.len();
    while left > 0
        && let Some(entry) = tar.next_entry().map_err(detdeb::Error::from)?
    {
        let name = entry_name(&entry);
        let Some(&idx) = wanted.get(&name) else {
            continue;
        };
        left -= 1;
        if entry.size > limits.max_file_bytes {
            sink(&name, idx, None)?;
            continue;
        }
        let mut buf = Vec::with_capacity(entry.size as usize);
        tar.data_reader()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(format!("{}: {name}", d.display_name()), e))?;
        sink(&name, idx, Some(buf))?;
    }
    Ok(())
}

fn explain_contents<S: detdeb::reader::DebSource>(
    a: &DebReader<S>,
    b: &DebReader<S>,
    differing: &BTreeMap<String, usize>,
    items: &mut [ItemDiff],
    limits: &Limits,
) -> Result<()> {
    let spool = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut spooled: HashMap<usize, PathBuf> = HashMap::new();
    let mut total = 0u64;
    collect(a, differing, limits, |name, idx, data| {
        let Some(data) = data else { return Ok(()) };
        total += data.len() as u64;
        if total > limits.max_spool_bytes {
            return Err(Error::Limit {
                item: name.to_owned(),
                what: "total size of differing files",
                limit: limits.max_spool_bytes,
            });
        }
        let p = spool.path().join(idx.to_string());
        File::create(&p)
            .and_then(|mut f| f.write_all(&data))
            .map_err(|e| Error::io(&p, e))?;
        spooled.insert(idx, p);
        Ok(())
    })?;
    collect(b, differing, limits, |name, idx, data| {
        let item = &mut items[idx];
        match (spooled.get(&idx), data) {
            (Some(p), Some(db)) => {
                let da = std::fs::read(p).map_err(|e| Error::io(p, e))?;
                content::explain(item, name, &da, &db, limits);
            }
            _ => {
                item.notes.push(format!(
                    "not inspected: larger than {} bytes",
                    limits.max_file_bytes
                ));
                item.causes
                    .push(Finding::new(CauseKind::Bytes, "sha256 differs"));
            }
        }
        Ok(())
    })
}
