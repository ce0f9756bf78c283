//! What DWARF says about how a file was built: per compilation unit its
//! `DW_AT_name`, `DW_AT_comp_dir`, `DW_AT_producer` and line-table directories.
//!
//! Only each unit's root entry and line-program header are read (never the whole
//! tree), and the number of units and line-table entries is bounded by
//! [`Limits`], so a hostile file costs at most that much work.

use std::borrow::Cow;

use gimli::{EndianSlice, RunTimeEndian};
use object::{Object, ObjectSection};

use crate::limits::Limits;
use crate::report::{CauseKind, Finding};

/// Build facts of one compilation unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFacts {
    /// `DW_AT_name` (the source file).
    pub name: String,
    /// `DW_AT_comp_dir` (the compiler's working directory).
    pub comp_dir: String,
    /// `DW_AT_producer` (compiler banner and options).
    pub producer: String,
    /// The line program's include directories and file names, as stored.
    pub line_paths: Vec<String>,
}

/// Reads a section's bytes, decompressing `SHF_COMPRESSED` ones only when their
/// declared size is within the limit.
fn section_bytes<'d>(
    file: &object::File<'d>,
    name: &str,
    limits: &Limits,
) -> Result<Cow<'d, [u8]>, String> {
    let Some(s) = file.section_by_name(name) else {
        return Ok(Cow::Borrowed(&[]));
    };
    let range = s
        .compressed_file_range()
        .map_err(|e| format!("{name}: {e}"))?;
    if range.uncompressed_size > limits.max_decompressed {
        return Err(format!(
            "{name}: compressed section claims {} bytes, over the limit of {}",
            range.uncompressed_size, limits.max_decompressed
        ));
    }
    let data = s.uncompressed_data().map_err(|e| format!("{name}: {e}"))?;
    if file.kind() != object::ObjectKind::Relocatable {
        return Ok(data);
    }
    Ok(Cow::Owned(relocate(file, &s, data.into_owned())))
}

/// Applies a relocatable object's (`.o`, `.ko`) absolute relocations to a debug
/// section, as the linker would: without them every string offset of a unit
/// reads as the addend-less 0. Other relocation kinds are left alone.
fn relocate(
    file: &object::File<'_>,
    section: &object::Section<'_, '_>,
    mut data: Vec<u8>,
) -> Vec<u8> {
    use object::{ObjectSymbol, RelocationKind, RelocationTarget};
    for (offset, r) in section.relocations() {
        if r.kind() != RelocationKind::Absolute {
            continue;
        }
        let base = match r.target() {
            RelocationTarget::Symbol(i) => file.symbol_by_index(i).map_or(0, |sym| sym.address()),
            _ => 0,
        };
        let value = base.wrapping_add_signed(r.addend());
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let bytes = match r.size() {
            32 => (value as u32).to_le_bytes().to_vec(),
            64 => value.to_le_bytes().to_vec(),
            _ => continue,
        };
        let bytes = if file.is_little_endian() {
            bytes
        } else {
            bytes.into_iter().rev().collect()
        };
        if let Some(slot) = at
            .checked_add(bytes.len())
            .and_then(|end| data.get_mut(at..end))
        {
            slot.copy_from_slice(&bytes);
        }
    }
    data
}

/// The build facts of every unit (up to the limits), or an error saying why not.
pub fn unit_facts(file: &object::File<'_>, limits: &Limits) -> Result<Vec<UnitFacts>, String> {
    let endian = if file.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    let sections = gimli::DwarfSections::load(|id| section_bytes(file, id.name(), limits))?;
    let dwarf = sections.borrow(|s| EndianSlice::new(s, endian));
    let mut out = Vec::new();
    let mut files_seen = 0usize;
    let mut units = dwarf.units();
    while let Some(header) = units
        .next()
        .map_err(|e| format!("DWARF unit header: {e}"))?
    {
        if out.len() >= limits.max_dwarf_units {
            return Err(format!("more than {} DWARF units", limits.max_dwarf_units));
        }
        let unit = dwarf.unit(header).map_err(|e| format!("DWARF unit: {e}"))?;
        let mut facts = root_facts(&dwarf, &unit)?;
        if let Some(program) = &unit.line_program {
            let header = program.header();
            for dir in header.include_directories() {
                facts.line_paths.push(attr_string(&dwarf, &unit, *dir));
            }
            for f in header.file_names() {
                facts
                    .line_paths
                    .push(attr_string(&dwarf, &unit, f.path_name()));
            }
            files_seen += facts.line_paths.len();
            if files_seen > limits.max_dwarf_files {
                return Err(format!(
                    "more than {} DWARF line-table entries",
                    limits.max_dwarf_files
                ));
            }
        }
        out.push(facts);
    }
    Ok(out)
}

type Reader<'d> = EndianSlice<'d, RunTimeEndian>;

fn root_facts(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
) -> Result<UnitFacts, String> {
    let mut entries = unit.entries();
    let Some((_, root)) = entries
        .next_dfs()
        .map_err(|e| format!("DWARF root entry: {e}"))?
    else {
        return Ok(UnitFacts::default());
    };
    let get = |at: gimli::DwAt| -> String {
        match root.attr_value(at) {
            Ok(Some(v)) => attr_string(dwarf, unit, v),
            _ => String::new(),
        }
    };
    Ok(UnitFacts {
        name: get(gimli::DW_AT_name),
        comp_dir: get(gimli::DW_AT_comp_dir),
        producer: get(gimli::DW_AT_producer),
        line_paths: Vec::new(),
    })
}

fn attr_string(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
    v: gimli::AttributeValue<Reader<'_>>,
) -> String {
    dwarf
        .attr_string(unit, v)
        .map(|s| String::from_utf8_lossy(s.slice()).into_owned())
        .unwrap_or_default()
}

/// Findings from comparing the units of two files, paired in order.
pub fn compare(a: &[UnitFacts], b: &[UnitFacts], limits: &Limits) -> Vec<Finding> {
    let mut path = Finding::new(CauseKind::BuildPath, "DWARF");
    let mut flags = Finding::new(CauseKind::CompilerFlags, "DWARF DW_AT_producer");
    for (ua, ub) in a.iter().zip(b) {
        let unit = if ua.name.is_empty() {
            "?"
        } else {
            ua.name.as_str()
        };
        let push = |f: &mut Finding, what: &str, x: &str, y: &str| {
            if x != y && f.evidence.len() < limits.max_evidence {
                *f = f.clone().with(format!("{what} of unit {unit}"), x, y);
            }
        };
        push(&mut path, "DW_AT_comp_dir", &ua.comp_dir, &ub.comp_dir);
        push(&mut path, "DW_AT_name", &ua.name, &ub.name);
        if let Some((x, y)) = ua
            .line_paths
            .iter()
            .zip(&ub.line_paths)
            .find(|(x, y)| x != y)
        {
            push(&mut path, "line table", x, y);
        }
        push(&mut flags, "DW_AT_producer", &ua.producer, &ub.producer);
    }
    let mut out: Vec<Finding> = [path, flags]
        .into_iter()
        .filter(|f| !f.evidence.is_empty())
        .collect();
    if let Some(f) = out.iter_mut().find(|f| f.kind == CauseKind::BuildPath) {
        let e = &f.evidence[0];
        if e.a.starts_with('/') && e.b.starts_with('/') {
            let (ra, rb) = crate::strings::path_roots(&e.a, &e.b);
            f.detail = format!("DWARF (build directory {ra:?} vs {rb:?})");
        }
    }
    out
}
