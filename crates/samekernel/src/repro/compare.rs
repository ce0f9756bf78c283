//! The check's two ends as a user reads them: what will vary (before the builds), and
//! the verdict over the two output directories (after), with what was kept on disk.

use std::path::{Path, PathBuf};

use super::{Kept, PackageVerdict, ReproError, Variation, VariationSet, clean_up, describe};

/// `varied in build b: …`, a line per applied variation saying how, and a line per
/// skipped one saying why.
pub fn plan_lines(applied: &VariationSet, skipped: &[(Variation, String)]) -> Vec<String> {
    let mut lines = vec![format!("varied in build b: {}", applied.names())];
    lines.extend(applied.iter().map(|v| format!("  {v}: {}", describe(v))));
    lines.extend(
        skipped
            .iter()
            .map(|(v, why)| format!("  skipped {v}: {why}")),
    );
    lines
}

/// `--control DIR` must be what a build wrote: it needs its `BUILD-RECORD`.
pub fn check_control(dir: &Path) -> Result<(), ReproError> {
    if dir.join("BUILD-RECORD").is_file() {
        return Ok(());
    }
    Err(ReproError::NoControlRecord {
        path: dir.to_owned(),
    })
}

/// The check's result over the two output directories.
#[derive(Debug)]
pub struct Comparison {
    /// debdiff's report over them.
    pub report: debdiff::DiffReport,
    /// One verdict per package of side A.
    pub packages: Vec<PackageVerdict>,
    /// What is left on disk.
    pub kept: Kept,
    /// Where the kept outputs are, as shown: `BASE/{a,b}/out`, or `BASE/b/out` when
    /// side A was a `--control` directory.
    pub kept_in: String,
}

impl Comparison {
    /// Whether every package is identical.
    pub fn reproducible(&self) -> bool {
        self.report.is_identical()
    }

    /// The last line: the verdict, and where the packages are when kept.
    pub fn verdict(&self) -> String {
        match (self.kept, self.reproducible()) {
            (Kept::Nothing, _) => "reproducible: every package is identical".to_owned(),
            (Kept::Outputs, true) => format!(
                "reproducible: every package is identical; kept in {}",
                self.kept_in
            ),
            (Kept::Outputs, false) => {
                format!(
                    "NOT reproducible; the packages are kept in {}",
                    self.kept_in
                )
            }
        }
    }
}

/// debdiff over `a` and `b` (in `base`; `a` outside it when `control`), then
/// [`clean_up`]: everything goes when identical unless `keep_out`.
pub fn compare(
    base: &Path,
    a: &Path,
    b: &Path,
    control: bool,
    keep_out: bool,
) -> Result<Comparison, ReproError> {
    let report = debdiff::diff_dirs(a, b, &debdiff::Limits::default())?;
    let packages = super::per_package(a, &report)?;
    let kept = clean_up(base, report.is_identical(), keep_out)?;
    let sides = if control { "b" } else { "{a,b}" };
    let kept_in = PathBuf::from(base).join(sides).join("out");
    Ok(Comparison {
        report,
        packages,
        kept,
        kept_in: kept_in.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_deb(dir: &Path, name: &str, text: &str) {
        let stage = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(stage.path().join("DEBIAN")).unwrap();
        let control = format!(
            "Package: {name}\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n"
        );
        std::fs::write(stage.path().join("DEBIAN/control"), control).unwrap();
        std::fs::write(stage.path().join("file"), text).unwrap();
        detdeb::DebBuilder::from_staging_dir(stage.path(), 1, false)
            .unwrap()
            .write_to_path(&dir.join(format!("{name}_1_amd64.deb")))
            .unwrap();
    }

    fn sides(b_text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("check");
        for (side, text) in [("a", "same"), ("b", b_text)] {
            let out = base.join(side).join("out");
            std::fs::create_dir_all(&out).unwrap();
            write_deb(&out, "pkg", text);
        }
        (dir, base)
    }

    #[test]
    fn identical_outputs_are_removed_unless_kept() {
        let (_dir, base) = sides("same");
        let (a, b) = (base.join("a/out"), base.join("b/out"));
        let c = compare(&base, &a, &b, false, false).unwrap();
        assert!(c.reproducible());
        assert_eq!(c.packages[0].to_string(), "pkg_1_amd64.deb: identical");
        assert_eq!(c.verdict(), "reproducible: every package is identical");
        assert!(!base.exists());
    }

    #[test]
    fn differing_outputs_are_kept_and_named() {
        let (_dir, base) = sides("other");
        let (a, b) = (base.join("a/out"), base.join("b/out"));
        let c = compare(&base, &a, &b, true, false).unwrap();
        assert!(!c.reproducible());
        assert!(
            c.packages[0].verdict.starts_with("DIFFERS: 1 item(s)"),
            "{:?}",
            c.packages
        );
        let expected = format!(
            "NOT reproducible; the packages are kept in {}/b/out",
            base.display()
        );
        assert_eq!(c.verdict(), expected);
        assert!(a.is_dir() && b.is_dir());
    }

    #[test]
    fn a_control_without_a_build_record_is_refused_and_the_plan_names_skips() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_control(dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("--control ") && err.contains(": no BUILD-RECORD there"),
            "{err}"
        );
        std::fs::write(dir.path().join("BUILD-RECORD"), "").unwrap();
        check_control(dir.path()).unwrap();
        let applied = VariationSet::from_flags(Some("umask"), None).unwrap();
        let lines = plan_lines(&applied, &[(Variation::UserGroup, "needs root".into())]);
        assert_eq!(lines[0], "varied in build b: umask");
        assert_eq!(lines[2], "  skipped user_group: needs root");
    }
}
