//! ELF files (vmlinux, `.ko`, host tools): which sections differ, and why.
//!
//! Sections are paired by name (and occurrence, for repeated names). A section
//! whose bytes differ is explained by what it is: `.comment` is the compiler
//! banner, `.GCC.command.line` the options, `.note.gnu.build-id` the linker's hash
//! over the output, `.BTF` the type info, debug sections are read as DWARF, and
//! the printable strings of everything else are classified ([`crate::strings`]).
//! Sections with equal bytes at another offset or address are a layout shift.

use std::collections::HashMap;

use object::{Object, ObjectSection};

use crate::limits::Limits;
use crate::report::{CauseKind, Finding, ItemDiff, SectionDiff};
use crate::{dwarf, strings};

struct Section<'d> {
    name: String,
    offset: u64,
    address: u64,
    size: u64,
    data: &'d [u8],
}

fn sections<'d>(file: &object::File<'d>) -> Vec<Section<'d>> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    file.sections()
        .map(|s| {
            let base = s.name().unwrap_or("?").to_owned();
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            let name = if *n == 1 { base } else { format!("{base}#{n}") };
            Section {
                name,
                offset: s.file_range().map_or(0, |r| r.0),
                address: s.address(),
                size: s.size(),
                data: s.data().unwrap_or_default(),
            }
        })
        .collect()
}

/// Parses `data` as ELF (`None`: not ELF; `Err`: ELF that does not parse).
pub fn parse(data: &[u8]) -> Option<Result<object::File<'_>, String>> {
    if !data.starts_with(b"\x7fELF") {
        return None;
    }
    Some(object::File::parse(data).map_err(|e| format!("malformed ELF: {e}")))
}

/// Compares two parsed ELF files, filling `item` with sections and findings.
pub fn classify(a: &object::File<'_>, b: &object::File<'_>, limits: &Limits, item: &mut ItemDiff) {
    let (sa, sb) = (sections(a), sections(b));
    let by_name: HashMap<&str, &Section> = sb.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut differing: Vec<(&Section, &Section)> = Vec::new();
    for x in &sa {
        let Some(y) = by_name.get(x.name.as_str()) else {
            item.sections.push(section_diff(Some(x), None, true));
            continue;
        };
        let content = x.data != y.data || x.size != y.size;
        let moved = x.offset != y.offset || x.address != y.address;
        if content || moved {
            item.sections.push(section_diff(Some(x), Some(y), content));
        }
        if content {
            differing.push((x, y));
        }
    }
    for y in sb.iter().filter(|y| !sa.iter().any(|x| x.name == y.name)) {
        item.sections.push(section_diff(None, Some(y), true));
    }
    // DWARF first: its findings name the unit and attribute, so they lead ties.
    if differing.iter().any(|(x, _)| is_debug(&x.name)) {
        explain_dwarf(a, b, limits, item);
    }
    explain_sections(&differing, limits, item);
    explain_rest(&differing, item);
}

fn section_diff(a: Option<&Section>, b: Option<&Section>, content: bool) -> SectionDiff {
    SectionDiff {
        name: a.or(b).map(|s| s.name.clone()).unwrap_or_default(),
        size_a: a.map(|s| s.size),
        size_b: b.map(|s| s.size),
        content_differs: content,
        moved: matches!((a, b), (Some(x), Some(y)) if x.offset != y.offset || x.address != y.address),
    }
}

fn is_debug(name: &str) -> bool {
    name.starts_with(".debug_") || name.starts_with(".zdebug_")
}

fn one_sided_strings<'d>(
    x: &'d [u8],
    y: &'d [u8],
    limits: &Limits,
) -> (Vec<&'d str>, Vec<&'d str>) {
    let (pa, pb) = (
        strings::printable_strings(x, limits.max_strings),
        strings::printable_strings(y, limits.max_strings),
    );
    strings::one_sided(&pa, &pb)
}

fn explain_sections(differing: &[(&Section, &Section)], limits: &Limits, item: &mut ItemDiff) {
    for (x, y) in differing {
        let name = x.name.as_str();
        let (oa, ob) = one_sided_strings(x.data, y.data, limits);
        let first = |v: &[&str]| v.first().copied().unwrap_or("").to_owned();
        match name {
            ".comment" => {
                item.causes
                    .push(Finding::new(CauseKind::CompilerBanner, ".comment").with(
                        ".comment",
                        &first(&oa),
                        &first(&ob),
                    ))
            }
            ".GCC.command.line" => item.causes.push(
                Finding::new(
                    CauseKind::CompilerFlags,
                    ".GCC.command.line (-frecord-gcc-switches)",
                )
                .with(".GCC.command.line", &oa.join(" "), &ob.join(" ")),
            ),
            ".note.gnu.build-id" => {
                item.causes
                    .push(build_id_finding(x.data, y.data, differing.len()))
            }
            ".BTF" | ".BTF.ext" => item.causes.push(Finding::new(CauseKind::Btf, name).with(
                name,
                &format!("{} bytes", x.size),
                &format!("{} bytes", y.size),
            )),
            _ if is_debug(name) && name != ".debug_str" && name != ".debug_line_str" => {}
            _ => item.causes.extend(strings::classify(
                &oa,
                &ob,
                &format!("section {name}"),
                limits,
            )),
        }
    }
}

fn build_id_finding(a: &[u8], b: &[u8], differing_sections: usize) -> Finding {
    // The note is 16 bytes of header and name ("GNU\0") followed by the id.
    let hex = |d: &[u8]| {
        d.iter()
            .skip(16)
            .map(|c| format!("{c:02x}"))
            .collect::<String>()
    };
    let detail = if differing_sections == 1 {
        ".note.gnu.build-id only: every other section is equal, so the id itself was made differently (--build-id=uuid, or edited after linking)"
    } else {
        ".note.gnu.build-id: ld's hash over the whole linked output (all sections, debug info included), so it follows from the other differences"
    };
    Finding::new(CauseKind::BuildId, detail).with("build-id", &hex(a), &hex(b))
}

fn explain_dwarf(a: &object::File<'_>, b: &object::File<'_>, limits: &Limits, item: &mut ItemDiff) {
    match (dwarf::unit_facts(a, limits), dwarf::unit_facts(b, limits)) {
        (Ok(ua), Ok(ub)) => {
            if ua.len() != ub.len() {
                item.notes
                    .push(format!("DWARF units: {} on A, {} on B", ua.len(), ub.len()));
            }
            item.causes.extend(dwarf::compare(&ua, &ub, limits));
        }
        (Err(e), _) | (_, Err(e)) => item.notes.push(format!("DWARF not inspected: {e}")),
    }
}

/// Adds the consequence and catch-all findings once the specific ones are known.
fn explain_rest(differing: &[(&Section, &Section)], item: &mut ItemDiff) {
    let moved: Vec<&str> = item
        .sections
        .iter()
        .filter(|s| s.moved && !s.content_differs)
        .map(|s| s.name.as_str())
        .collect();
    if let Some(first) = moved.first() {
        item.causes.push(Finding::new(
            CauseKind::SectionLayout,
            format!("{} equal section(s) moved, first {first}", moved.len()),
        ));
    }
    let explained = item
        .causes
        .iter()
        .any(|f| f.kind.rank() < CauseKind::Code.rank());
    let code: Vec<&str> = differing
        .iter()
        .map(|(x, _)| x.name.as_str())
        .filter(|n| {
            !is_debug(n) && !matches!(*n, ".note.gnu.build-id" | ".comment" | ".GCC.command.line")
        })
        .collect();
    if !explained && !code.is_empty() {
        let shown = code.iter().take(6).copied().collect::<Vec<_>>().join(", ");
        item.causes.push(Finding::new(
            CauseKind::Code,
            format!("sections {shown}: code or data differ (compiler, flags or source)"),
        ));
    }
    item.sort_causes();
}
