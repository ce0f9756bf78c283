//! Stage 6, stage and pack: the package trees ([`crate::builddeb`]) packed with
//! detdeb ([`crate::pack`]). The headers are staged first and packed on a second
//! thread (with xz, compressing their ~64 MB is most of this stage) while this thread
//! installs the modules and packs the image and the optional packages.

use std::path::{Path, PathBuf};

use detdeb::Compressor;

use crate::builddeb::{self, PackageMeta, StageError};
use crate::kbuild::Kbuild;
use crate::pack::{PackError, pack};

/// Which packages to make besides `linux-image` and `linux-headers`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// `linux-libc-dev` (`make headers_install`).
    pub libc_dev: bool,
    /// `linux-image-R-dbg` (vmlinux and module debug info).
    pub dbg: bool,
}

/// The trees and where the packages go.
#[derive(Debug, Clone, Copy)]
pub struct PackageDirs<'a> {
    /// The pinned source tree.
    pub src: &'a Path,
    /// The finished object tree.
    pub obj: &'a Path,
    /// An empty directory for the staged trees.
    pub staging: &'a Path,
    /// Where the `.deb`s are written.
    pub results: &'a Path,
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Staging a tree failed.
    #[error(transparent)]
    Stage(#[from] StageError),
    /// Packing a tree failed.
    #[error(transparent)]
    Pack(#[from] PackError),
}

/// Stages and packs every package; returns the `.deb`s, image first, headers last.
pub fn package(
    kbuild: &mut dyn Kbuild,
    dirs: PackageDirs<'_>,
    meta: &PackageMeta,
    extras: Extras,
    compressor: Compressor,
) -> Result<Vec<PathBuf>, PackageError> {
    let headers_stage = dirs.staging.join("headers");
    builddeb::stage_headers(kbuild, dirs.src, &headers_stage, meta)?;
    let (others, headers) = std::thread::scope(|scope| {
        let headers = scope.spawn(|| pack(&headers_stage, dirs.results, meta, compressor));
        let others = stage_and_pack_others(kbuild, dirs, meta, extras, compressor);
        let headers = headers
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (others, headers)
    });
    let mut debs = others?;
    debs.push(headers?);
    Ok(debs)
}

fn stage_and_pack_others(
    kbuild: &mut dyn Kbuild,
    dirs: PackageDirs<'_>,
    meta: &PackageMeta,
    extras: Extras,
    compressor: Compressor,
) -> Result<Vec<PathBuf>, PackageError> {
    let stage = dirs.staging.join("image");
    builddeb::stage_image(kbuild, dirs.obj, &stage, meta)?;
    let mut debs = vec![pack(&stage, dirs.results, meta, compressor)?];
    if extras.libc_dev {
        let stage = dirs.staging.join("libc-dev");
        builddeb::stage_libc_dev(kbuild, &stage, meta)?;
        debs.push(pack(&stage, dirs.results, meta, compressor)?);
    }
    if extras.dbg {
        let stage = dirs.staging.join("dbg");
        builddeb::stage_dbg(kbuild, dirs.obj, &stage, meta)?;
        debs.push(pack(&stage, dirs.results, meta, compressor)?);
    }
    Ok(debs)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::process::Command;

    use super::*;
    use crate::Target;
    use crate::kbuild::fake::FakeKbuild;
    use crate::record::deb_record;

    const R: &str = "6.12.117-samekernel";

    fn meta() -> PackageMeta {
        PackageMeta {
            kernel_release: R.into(),
            version: "6.12.117-1~deb12u1+sk.0123456789ab".into(),
            target: Target::AMD64,
            source_date_epoch: 1_794_660_961,
            initrd: true,
            source_description: "Debian's linux-source-6.12 6.12.117-1~deb12u1".into(),
        }
    }

    /// What make and install-extmod-build would write, in miniature.
    fn fake_kbuild() -> FakeKbuild {
        let mut kb = FakeKbuild::new(|args| {
            let dir = |prefix: &str| PathBuf::from(args[0].strip_prefix(prefix).unwrap());
            match *args.last().unwrap() {
                "modules_install" => {
                    let m = dir("INSTALL_MOD_PATH=").join(format!("lib/modules/{R}"));
                    fs::create_dir_all(m.join("kernel/lib"))?;
                    fs::write(m.join("kernel/lib/test_module.ko"), b"\x7fELF module")?;
                    fs::write(m.join("modules.dep"), "kernel/lib/test_module.ko:\n")?;
                    std::os::unix::fs::symlink("/build/dir", m.join("build"))?;
                }
                "headers_install" => {
                    let inc = dir("INSTALL_HDR_PATH=").join("include");
                    fs::create_dir_all(inc.join("asm"))?;
                    fs::create_dir_all(inc.join("linux"))?;
                    fs::write(inc.join("asm/unistd.h"), "#define __NR_read 0\n")?;
                    fs::write(
                        inc.join("linux/version.h"),
                        "#define LINUX_VERSION_CODE 396405\n",
                    )?;
                }
                other => panic!("unexpected make {other}"),
            }
            Ok(0)
        });
        kb.script = Box::new(|script, dest| {
            assert!(script.ends_with("scripts/package/install-extmod-build"));
            fs::create_dir_all(dest.join("scripts/mod"))?;
            fs::write(dest.join("Makefile"), "# kbuild\n")?;
            fs::write(
                dest.join("scripts/mod/devicetable-offsets.s"),
                "# /abs/path\n",
            )?;
            Ok(())
        });
        kb
    }

    /// A finished object tree in miniature; returns (src, obj).
    fn trees(root: &Path) -> (PathBuf, PathBuf) {
        let (src, obj) = (root.join("src"), root.join("obj"));
        fs::create_dir_all(&src).unwrap();
        fs::create_dir_all(obj.join("arch/x86/boot")).unwrap();
        fs::write(obj.join("System.map"), "ffffffff81000000 T _text\n").unwrap();
        fs::write(obj.join(".config"), "CONFIG_MODULES=y\n").unwrap();
        fs::write(obj.join("arch/x86/boot/bzImage"), b"MZ kernel").unwrap();
        (src, obj)
    }

    fn build_in(root: &Path) -> Vec<PathBuf> {
        let (src, obj) = trees(root);
        let results = root.join("results");
        fs::create_dir(&results).unwrap();
        let dirs = PackageDirs {
            src: &src,
            obj: &obj,
            staging: &root.join("staging"),
            results: &results,
        };
        let extras = Extras {
            libc_dev: true,
            dbg: false,
        };
        package(&mut fake_kbuild(), dirs, &meta(), extras, Compressor::Zstd).unwrap()
    }

    fn files(deb: &Path) -> Vec<String> {
        deb_record(deb)
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.path)
            .collect()
    }

    #[test]
    fn packages_have_builddebs_layout_and_dpkg_reads_them() {
        let t = tempfile::tempdir().unwrap();
        let debs = build_in(t.path());
        let names: Vec<String> = debs
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let v = "6.12.117-1~deb12u1+sk.0123456789ab";
        assert_eq!(
            names,
            [
                format!("linux-image-{R}_{v}_amd64.deb"),
                format!("linux-libc-dev_{v}_amd64.deb"),
                format!("linux-headers-{R}_{v}_amd64.deb"),
            ]
        );
        let image = files(&debs[0]);
        for want in [
            format!("boot/vmlinuz-{R}"),
            format!("boot/System.map-{R}"),
            format!("boot/config-{R}"),
            format!("lib/modules/{R}/kernel/lib/test_module.ko"),
            format!("usr/share/doc/linux-image-{R}/changelog.Debian.gz"),
        ] {
            assert!(image.contains(&want), "{want} not in {image:?}");
        }
        let libc = files(&debs[1]);
        assert!(
            libc.contains(&"usr/include/x86_64-linux-gnu/asm/unistd.h".to_owned()),
            "{libc:?}"
        );
        assert!(!libc.iter().any(|f| f.starts_with("usr/include/asm/")));
        let headers = files(&debs[2]);
        assert!(headers.contains(&format!("usr/src/linux-headers-{R}/Makefile")));
        assert!(!headers.iter().any(|f| f.ends_with(".s")), "{headers:?}");

        // dpkg-deb itself: control fields, the maintainer scripts, the build symlinks.
        let info = run(Command::new("dpkg-deb").arg("--info").arg(&debs[0]));
        for want in [
            format!("Package: linux-image-{R}"),
            format!("Version: {v}"),
            "Architecture: amd64".into(),
            "Section: kernel".into(),
            " postinst".into(),
        ] {
            assert!(info.contains(&want), "{want} not in:\n{info}");
        }
        assert!(!info.contains("Depends"), "no computed Depends:\n{info}");
        let image_list = run(Command::new("dpkg-deb").arg("--contents").arg(&debs[0]));
        assert!(
            !image_list.contains(&format!("lib/modules/{R}/build")),
            "{image_list}"
        );
        let headers_list = run(Command::new("dpkg-deb").arg("--contents").arg(&debs[2]));
        assert!(
            headers_list.contains(&format!(
                "./lib/modules/{R}/build -> /usr/src/linux-headers-{R}"
            )),
            "{headers_list}"
        );
        let postinst = run(Command::new("dpkg-deb")
            .arg("--info")
            .arg(&debs[0])
            .arg("postinst"));
        assert!(
            postinst.contains(&format!("--arg=\"/boot/vmlinuz-{R}\"")),
            "{postinst}"
        );
    }

    #[test]
    fn the_same_trees_in_another_directory_give_the_same_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let deeper = b.path().join("some/deeper/dir");
        fs::create_dir_all(&deeper).unwrap();
        let sha = |debs: Vec<PathBuf>| -> Vec<String> {
            debs.iter().map(|d| deb_record(d).unwrap().sha256).collect()
        };
        assert_eq!(sha(build_in(a.path())), sha(build_in(&deeper)));
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
