//! Two build records (`BUILD-RECORD`, see [`testimony::build_record`]): which
//! inputs, packages and files differ by hash; then, where both `.deb`s lie beside
//! the records, the packages themselves.

use std::collections::BTreeMap;
use std::path::Path;

use testimony::BuildRecord;
use testimony::build_record::DebRecord;

use crate::deb::diff_debs;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::report::{Area, CauseKind, DiffReport, Finding, ItemDiff};

/// Reads and parses a build record file.
pub fn read_record(path: &Path) -> Result<BuildRecord> {
    let text =
        safe_extract::regular::read_regular_to_string(path).map_err(|e| Error::io(path, e))?;
    BuildRecord::parse(&text).map_err(|source| Error::Record {
        path: path.to_owned(),
        source: source.with_origin(path.display().to_string()),
    })
}

/// What differs between two records, by hash only (no package is opened).
pub fn diff_records(a: &BuildRecord, b: &BuildRecord) -> Vec<ItemDiff> {
    let mut items = Vec::new();
    let mut input = |what: &str, x: String, y: String| {
        if x != y {
            let mut item = ItemDiff::new(Area::Record, format!("record:{what}"));
            item.causes
                .push(Finding::new(CauseKind::BuildInput, what).with(what, &x, &y));
            items.push(item);
        }
    };
    let (sa, sb) = (&a.source, &b.source);
    input(
        "source-manifest-sha256",
        sa.manifest_sha256.clone(),
        sb.manifest_sha256.clone(),
    );
    input(
        "source-tarball",
        format!("{} {}", sa.tarball_sha256, sa.tarball_name),
        format!("{} {}", sb.tarball_sha256, sb.tarball_name),
    );
    input(
        "source-date-epoch",
        sa.source_date_epoch.to_string(),
        sb.source_date_epoch.to_string(),
    );
    input("toolchain", a.toolchain.lines(), b.toolchain.lines());
    input(
        "kernel-config-sha256",
        a.kernel_config_sha256.clone(),
        b.kernel_config_sha256.clone(),
    );
    let by_pkg = |r: &BuildRecord| {
        r.debs
            .iter()
            .map(|d| (d.package.clone(), d.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (pa, pb) = (by_pkg(a), by_pkg(b));
    for (pkg, da) in &pa {
        match pb.get(pkg) {
            None => items.push(presence(pkg, &da.file_name, "only in A")),
            Some(db) if da.sha256 != db.sha256 => items.extend(diff_deb_records(da, db)),
            Some(_) => {}
        }
    }
    for (pkg, db) in pb.iter().filter(|(p, _)| !pa.contains_key(*p)) {
        items.push(presence(pkg, &db.file_name, "only in B"));
    }
    items
}

fn presence(pkg: &str, file: &str, side: &str) -> ItemDiff {
    let mut item = ItemDiff::new(Area::Container, file.to_owned());
    item.package = pkg.to_owned();
    item.causes.push(Finding::new(CauseKind::Presence, side));
    item
}

fn diff_deb_records(a: &DebRecord, b: &DebRecord) -> Vec<ItemDiff> {
    let mut items = Vec::new();
    let mut deb = ItemDiff::new(Area::Record, format!("deb:{}", a.file_name));
    deb.package = a.package.clone();
    deb.sha256_a = Some(a.sha256.clone());
    deb.sha256_b = Some(b.sha256.clone());
    deb.causes
        .push(Finding::new(CauseKind::Bytes, "package sha256 differs"));
    items.push(deb);
    let files = |d: &DebRecord| {
        d.files
            .iter()
            .map(|f| (f.path.clone(), f.sha256.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (fa, fb) = (files(a), files(b));
    let paths: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    for path in paths {
        let (x, y) = (fa.get(path), fb.get(path));
        if x == y {
            continue;
        }
        let mut item = ItemDiff::new(Area::Data, path.clone());
        item.package = a.package.clone();
        item.sha256_a = x.cloned();
        item.sha256_b = y.cloned();
        let (kind, detail) = match (x, y) {
            (Some(_), Some(_)) => (
                CauseKind::Bytes,
                "sha256 differs (build record; no .deb to look into)",
            ),
            (Some(_), None) => (CauseKind::Presence, "only in A"),
            _ => (CauseKind::Presence, "only in B"),
        };
        item.causes.push(Finding::new(kind, detail));
        items.push(item);
    }
    items
}

/// Compares two record files; for each package that differs and whose `.deb`
/// lies beside both records, its record items are replaced by a full package diff.
pub fn diff_record_files(a: &Path, b: &Path, limits: &Limits) -> Result<DiffReport> {
    let (ra, rb) = (read_record(a)?, read_record(b)?);
    let mut items = diff_records(&ra, &rb);
    for da in &ra.debs {
        let Some(db) = rb
            .debs
            .iter()
            .find(|d| d.package == da.package && d.sha256 != da.sha256)
        else {
            continue;
        };
        let (pa, pb) = (beside(a, &da.file_name), beside(b, &db.file_name));
        if !(pa.is_file() && pb.is_file()) {
            continue;
        }
        let deep = diff_debs(&pa, &pb, limits)?;
        items.retain(|i| i.package != da.package || i.path.starts_with("deb:"));
        items.extend(deep.items);
    }
    Ok(DiffReport {
        a: a.display().to_string(),
        b: b.display().to_string(),
        items,
    })
}

fn beside(record: &Path, file: &str) -> std::path::PathBuf {
    record.parent().unwrap_or(Path::new(".")).join(file)
}
