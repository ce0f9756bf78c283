//! The `builddeb` emulation: staging `linux-image`, `linux-headers`, `linux-libc-dev`
//! and `linux-image-R-dbg` trees from a finished kbuild tree, as upstream
//! `scripts/package/builddeb` of the pinned kernel lays them out — never through
//! dpkg-buildpackage, debhelper or dpkg-shlibdeps, whose output depends on the machine
//! (the Mempo page's bug5).
//!
//! `linux-image-R`: `/boot/{vmlinuz,System.map,config}-R`, `/lib/modules/R` from
//! `modules_install` (stripped, with depmod's indexes), and the `/etc/kernel/*.d`
//! hook-runner maintainer scripts byte for byte as builddeb writes them.
//! `linux-headers-R`: what `scripts/package/install-extmod-build` installs, plus the
//! `build` symlink. Control files have fixed fields (no computed Depends); changelog
//! and copyright are dated from the pin. [`crate::pack`] turns a staged tree into a .deb.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use detdeb::Control;

use crate::Target;
use crate::kbuild::{Kbuild, KbuildError};

/// What the packages are called and stamped with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageMeta {
    /// `make -s kernelrelease`, e.g. `6.12.117-samekernel`.
    pub kernel_release: String,
    /// Debian version of every package.
    pub version: String,
    /// The target architecture.
    pub target: Target,
    /// SOURCE_DATE_EPOCH of the pin: every timestamp in the packages.
    pub source_date_epoch: i64,
    /// Whether the config enables `CONFIG_BLK_DEV_INITRD` (for the maintainer scripts).
    pub initrd: bool,
    /// The pin, named in the changelog and descriptions.
    pub source_description: String,
}

/// Why a package tree could not be staged.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// Reading or writing a file of the tree failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// kbuild (modules_install, headers_install, install-extmod-build) failed.
    #[error(transparent)]
    Kbuild(#[from] KbuildError),
    /// A binutils program failed on a module.
    #[error("{tool} {module}: {problem}")]
    Tool {
        /// `readelf` or `objcopy`.
        tool: &'static str,
        /// The module (relative to the object tree).
        module: String,
        /// What went wrong.
        problem: String,
    },
    /// A module has no GNU build-ID note, so its debug file cannot be linked.
    #[error("{module} has no GNU build ID note")]
    NoBuildId {
        /// The module.
        module: String,
    },
    /// Listing the tree for `Installed-Size` failed.
    #[error(transparent)]
    Deb(#[from] detdeb::Error),
    /// `modules_install` put modules under another release than the packages' (whose
    /// `/boot` names and maintainer scripts would then not find them).
    #[error("kbuild installed modules for release {installed}, but the packages are for {release}")]
    ReleaseMismatch {
        /// The packages' release (`make -s kernelrelease`).
        release: String,
        /// The directory `modules_install` made under `lib/modules`.
        installed: String,
    },
}

/// Every directory `modules_install` made under `<stage>/lib/modules` must be `r`.
fn check_module_release(stage: &Path, r: &str) -> Result<()> {
    let dir = stage.join("lib/modules");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(()); // CONFIG_MODULES off: nothing installed.
    };
    for entry in entries {
        let name = entry.map_err(at(&dir))?.file_name();
        if name != r {
            return Err(StageError::ReleaseMismatch {
                release: r.to_owned(),
                installed: name.to_string_lossy().into_owned(),
            });
        }
    }
    Ok(())
}

type Result<T, E = StageError> = std::result::Result<T, E>;

/// Attaches the path to an I/O error.
pub(crate) fn at(path: &Path) -> impl FnOnce(std::io::Error) -> StageError + '_ {
    move |source| StageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

const MAINTAINER: &str = "samekernel <samekernel@localhost>";

/// `Sat, 14 Nov 2026 12:56:01 +0000` for an epoch (UTC), for changelogs: the same
/// calendar arithmetic as the pinned KBUILD_BUILD_TIMESTAMP, in RFC 5322 order.
pub fn rfc2822(epoch: i64) -> String {
    // "Sat Nov 14 12:56:01 UTC 2026"
    let c = kbuild_env::env::date_c_locale(epoch);
    let f: Vec<&str> = c.split_whitespace().collect();
    format!("{}, {:0>2} {} {} {} +0000", f[0], f[2], f[1], f[5], f[3])
}

/// The maintainer scripts upstream builddeb writes for linux-image (same bytes).
fn maintainer_script(script: &str, meta: &PackageMeta, image_path: &str) -> String {
    format!(
        "#!/bin/sh\n\nset -e\n\n# Pass maintainer script parameters to hook scripts\nexport DEB_MAINT_PARAMS=\"$*\"\n\n# Tell initramfs builder whether it's wanted\nexport INITRD={}\n\ntest -d /etc/kernel/{script}.d && run-parts --arg=\"{}\" --arg=\"/{image_path}\" /etc/kernel/{script}.d\nexit 0\n",
        if meta.initrd { "Yes" } else { "No" },
        meta.kernel_release,
    )
}

fn mkdir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(at(path))
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    fs::write(path, contents).map_err(at(path))
}

fn symlink(target: String, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link).map_err(at(link))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to).map(drop).map_err(at(from))
}

/// Stages `linux-image-R` into `stage` from the kbuild output `obj`.
pub fn stage_image(
    kbuild: &mut dyn Kbuild,
    obj: &Path,
    stage: &Path,
    meta: &PackageMeta,
) -> Result<()> {
    let r = &meta.kernel_release;
    let install_mod_path = format!("INSTALL_MOD_PATH={}", stage.display());
    let args = [&*install_mod_path, "INSTALL_MOD_STRIP=1", "modules_install"];
    kbuild.make(&args, &mut |_| {})?;
    check_module_release(stage, r)?;
    let build_link = stage.join(format!("lib/modules/{r}/build"));
    if fs::symlink_metadata(&build_link).is_ok() {
        fs::remove_file(&build_link).map_err(at(&build_link))?;
    }
    let boot = stage.join("boot");
    mkdir(&boot)?;
    copy(
        &obj.join("System.map"),
        &boot.join(format!("System.map-{r}")),
    )?;
    copy(&obj.join(".config"), &boot.join(format!("config-{r}")))?;
    let image_path = meta.target.image_in_package(r);
    copy(
        &obj.join(meta.target.image_in_tree),
        &stage.join(&image_path),
    )?;
    let debian = stage.join("DEBIAN");
    mkdir(&debian)?;
    for script in ["postinst", "postrm", "preinst", "prerm"] {
        mkdir(&stage.join(format!("etc/kernel/{script}.d")))?;
        let p = debian.join(script);
        write(&p, maintainer_script(script, meta, &image_path))?;
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).map_err(at(&p))?;
    }
    let pkg = format!("linux-image-{r}");
    write_docs(stage, &pkg, meta)?;
    let description = format!(
        "Linux kernel, version {r}\n This package contains the Linux kernel, modules and corresponding other\n files, version: {r}.\n .\n Built by samekernel from {}: anyone rebuilding the\n same pin gets these same bytes.",
        meta.source_description
    );
    write_control(stage, &pkg, meta, &description, &[("Section", "kernel")])
}

/// Stages `linux-headers-R` into `stage`: runs the pinned kernel's own
/// `install-extmod-build` under the sanitized environment, then adds the
/// `/lib/modules/R/build` symlink.
pub fn stage_headers(
    kbuild: &mut dyn Kbuild,
    src: &Path,
    stage: &Path,
    meta: &PackageMeta,
) -> Result<()> {
    let r = &meta.kernel_release;
    let dest = stage.join(format!("usr/src/linux-headers-{r}"));
    kbuild.script(&src.join("scripts/package/install-extmod-build"), &dest)?;
    // install-extmod-build already drops the objects and `.cmd` files it copies from
    // the object tree; it keeps `scripts/mod/devicetable-offsets.s`, an intermediate
    // whose -fverbose-asm comments and line markers carry the absolute source path
    // (prefix maps do not reach them). External module builds never read it (they
    // use the generated devicetable-offsets.h), so it goes the same way. The source
    // tree has no lowercase `.s` files, so only generated ones are removed.
    remove_generated_asm(&dest)?;
    let moddir = stage.join(format!("lib/modules/{r}"));
    mkdir(&moddir)?;
    symlink(format!("/usr/src/linux-headers-{r}"), &moddir.join("build"))?;
    let pkg = format!("linux-headers-{r}");
    write_docs(stage, &pkg, meta)?;
    mkdir(&stage.join("DEBIAN"))?;
    let description = format!(
        "Linux kernel headers for {r}\n This package provides kernel header files for {r}.\n .\n This is useful for people who need to build external modules.\n Built by samekernel from {}.",
        meta.source_description
    );
    write_control(stage, &pkg, meta, &description, &[("Section", "kernel")])
}

/// Stages `linux-libc-dev` into `stage`, as upstream builddeb's
/// `install_libc_headers`: `make headers_install` into `/usr`, then `asm/` moved
/// under the target's multiarch directory (`/usr/include/x86_64-linux-gnu/asm`),
/// where Debian's multi-arch layout has it.
pub fn stage_libc_dev(kbuild: &mut dyn Kbuild, stage: &Path, meta: &PackageMeta) -> Result<()> {
    let usr = stage.join("usr");
    let hdr_path = format!("INSTALL_HDR_PATH={}", usr.display());
    kbuild.make(&[&hdr_path, "headers_install"], &mut |_| {})?;
    let include = usr.join("include");
    let arch_dir = include.join(meta.target.multiarch);
    mkdir(&arch_dir)?;
    let asm = include.join("asm");
    fs::rename(&asm, arch_dir.join("asm")).map_err(at(&asm))?;
    let pkg = "linux-libc-dev";
    write_docs(stage, pkg, meta)?;
    mkdir(&stage.join("DEBIAN"))?;
    write_control(
        stage,
        pkg,
        meta,
        "Linux support headers for userspace development\n This package provides userspaces headers from the Linux kernel.  These headers\n are used by the installed headers for GNU glibc and other system libraries.",
        &[
            ("Section", "devel"),
            ("Provides", "linux-kernel-headers"),
            ("Multi-Arch", "same"),
        ],
    )
}

/// Stages `linux-image-R-dbg`, as upstream builddeb's `install_linux_image_dbg`:
/// each module's debug info (`objcopy --only-keep-debug`, modules read from
/// `modules.order`) with its `/usr/lib/debug/.build-id` link, and `vmlinux` where
/// perf, systemtap and kdump-tools look for it.
pub fn stage_dbg(kbuild: &dyn Kbuild, obj: &Path, stage: &Path, meta: &PackageMeta) -> Result<()> {
    let r = &meta.kernel_release;
    let debug = stage.join("usr/lib/debug");
    let moddir = debug.join(format!("lib/modules/{r}"));
    let order = obj.join("modules.order");
    let order = fs::read_to_string(&order).map_err(at(&order))?;
    for object in order.lines().filter(|l| !l.is_empty()) {
        let module = format!("{}.ko", object.strip_suffix(".o").unwrap_or(object));
        let build_id = build_id(kbuild, obj, &module)?;
        let dbg = moddir.join("kernel").join(&module);
        mkdir(dbg.parent().expect("has a parent"))?;
        let status = kbuild
            .tool("objcopy")
            .arg("--only-keep-debug")
            .arg(&module)
            .arg(&dbg)
            .current_dir(obj)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(tool_error("objcopy", &module, s.to_string())),
            Err(e) => return Err(tool_error("objcopy", &module, e.to_string())),
        }
        let link_dir = debug.join(".build-id").join(&build_id[..2]);
        mkdir(&link_dir)?;
        // What `ln -sf --relative` makes: from .build-id/xx/ up to /usr/lib/debug.
        symlink(
            format!("../../lib/modules/{r}/kernel/{module}"),
            &link_dir.join(format!("{}.debug", &build_id[2..])),
        )?;
    }
    mkdir(&moddir)?;
    copy(&obj.join("vmlinux"), &moddir.join("vmlinux"))?;
    mkdir(&debug.join("boot"))?;
    symlink(
        format!("../lib/modules/{r}/vmlinux"),
        &debug.join(format!("boot/vmlinux-{r}")),
    )?;
    symlink(
        format!("lib/modules/{r}/vmlinux"),
        &debug.join(format!("vmlinux-{r}")),
    )?;
    let pkg = format!("linux-image-{r}-dbg");
    write_docs(stage, &pkg, meta)?;
    mkdir(&stage.join("DEBIAN"))?;
    let description = format!(
        "Linux kernel debugging symbols for {r}\n This package will come in handy if you need to debug the kernel. It provides\n all the necessary debug symbols for the kernel and its modules."
    );
    write_control(stage, &pkg, meta, &description, &[("Section", "debug")])
}

fn tool_error(tool: &'static str, module: &str, problem: String) -> StageError {
    StageError::Tool {
        tool,
        module: module.to_owned(),
        problem,
    }
}

/// The GNU build ID of `module` (relative to `obj`), from `readelf -n`.
fn build_id(kbuild: &dyn Kbuild, obj: &Path, module: &str) -> Result<String> {
    let out = kbuild
        .tool("readelf")
        .arg("-n")
        .arg(module)
        .current_dir(obj)
        .output()
        .map_err(|e| tool_error("readelf", module, e.to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(tool_error("readelf", module, stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .map(str::trim)
        .filter(|id| id.len() > 2 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .ok_or_else(|| StageError::NoBuildId {
            module: module.to_owned(),
        })
}

fn remove_generated_asm(dir: &Path) -> Result<()> {
    for e in fs::read_dir(dir).map_err(at(dir))? {
        let e = e.map_err(at(dir))?;
        let path = e.path();
        let ft = e.file_type().map_err(at(&path))?;
        if ft.is_dir() {
            remove_generated_asm(&path)?;
        } else if ft.is_file() && path.extension().is_some_and(|x| x == "s") {
            fs::remove_file(&path).map_err(at(&path))?;
        }
    }
    Ok(())
}

/// `/usr/share/doc/PKG/{changelog.Debian.gz,copyright}`, dated from the pin.
fn write_docs(stage: &Path, pkg: &str, meta: &PackageMeta) -> Result<()> {
    let doc = stage.join(format!("usr/share/doc/{pkg}"));
    mkdir(&doc)?;
    let changelog = format!(
        "{pkg} ({}) unstable; urgency=medium\n\n  * Deterministic build of {} by samekernel.\n\n -- {MAINTAINER}  {}\n",
        meta.version,
        meta.source_description,
        rfc2822(meta.source_date_epoch)
    );
    // gzip -9n: no name, mtime 0, so the bytes depend on the text only.
    let mut gz = flate2::GzBuilder::new()
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::best());
    let gz_path = doc.join("changelog.Debian.gz");
    gz.write_all(changelog.as_bytes()).map_err(at(&gz_path))?;
    write(&gz_path, gz.finish().map_err(at(&gz_path))?)?;
    write(&doc.join("copyright"), COPYRIGHT)
}

const COPYRIGHT: &str = "This is a packaged upstream version of the Linux kernel.\n\n\
    The sources may be found at most Linux archive sites, including:\n\
    https://www.kernel.org/pub/linux/kernel\n\n\
    Copyright: 1991 - 2024 Linus Torvalds and others.\n\n\
    The git repository for mainline kernel development is at:\n\
    git://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git\n\n    \
    This program is free software; you can redistribute it and/or modify\n    \
    it under the terms of the GNU General Public License as published by\n    \
    the Free Software Foundation; version 2 dated June, 1991.\n\n\
    On Debian GNU/Linux systems, the complete text of the GNU General Public\n\
    License version 2 can be found in `/usr/share/common-licenses/GPL-2'.\n";

/// `DEBIAN/control` with fixed fields (no Depends computed from the machine) plus
/// `fields` (`Section` among them).
fn write_control(
    stage: &Path,
    pkg: &str,
    meta: &PackageMeta,
    description: &str,
    fields: &[(&str, &str)],
) -> Result<()> {
    let data = detdeb::tree::walk_dir(
        stage,
        detdeb::tree::WalkOptions {
            skip_debian: true,
            symlinks_last: true,
            allow_special: false,
        },
    )?;
    let mut c = Control::new();
    c.set("Package", pkg);
    c.set("Source", "linux-samekernel");
    c.set("Version", &meta.version);
    c.set("Architecture", meta.target.debian_arch);
    c.set("Maintainer", MAINTAINER);
    c.set(
        "Installed-Size",
        detdeb::installed_size_kib(&data).to_string(),
    );
    for (name, value) in fields {
        c.set(name, *value);
    }
    c.set("Priority", "optional");
    c.set("Homepage", "https://www.kernel.org/");
    c.set("Description", description);
    c.sort_fields();
    write(&stage.join("DEBIAN/control"), c.to_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_installed_under_another_release_are_refused() {
        let t = tempfile::tempdir().unwrap();
        check_module_release(t.path(), "6.12.117-samekernel").unwrap(); // no modules
        fs::create_dir_all(t.path().join("lib/modules/6.12.117-samekernel")).unwrap();
        check_module_release(t.path(), "6.12.117-samekernel").unwrap();
        // The bug this guards: a release read before syncconfig (no LOCALVERSION).
        let err = check_module_release(t.path(), "6.12.117").unwrap_err();
        assert!(matches!(
            &err,
            StageError::ReleaseMismatch { installed, .. } if installed == "6.12.117-samekernel"
        ));
        assert_eq!(
            err.to_string(),
            "kbuild installed modules for release 6.12.117-samekernel, but the packages are for 6.12.117"
        );
    }

    fn meta() -> PackageMeta {
        PackageMeta {
            kernel_release: "6.12.117-samekernel".into(),
            version: "6.12.117-1~deb12u1+sk.0123456789ab".into(),
            target: Target::AMD64,
            source_date_epoch: 1_794_660_961,
            initrd: true,
            source_description: "test".into(),
        }
    }

    #[test]
    fn maintainer_scripts_are_upstream_builddebs() {
        // What scripts/package/builddeb of 6.12 writes for postinst (heredoc with
        // leading tabs stripped), for KERNELRELEASE=6.12.117-samekernel, INITRD=Yes.
        let expected = "#!/bin/sh\n\nset -e\n\n# Pass maintainer script parameters to hook scripts\nexport DEB_MAINT_PARAMS=\"$*\"\n\n# Tell initramfs builder whether it's wanted\nexport INITRD=Yes\n\ntest -d /etc/kernel/postinst.d && run-parts --arg=\"6.12.117-samekernel\" --arg=\"/boot/vmlinuz-6.12.117-samekernel\" /etc/kernel/postinst.d\nexit 0\n";
        assert_eq!(
            maintainer_script("postinst", &meta(), "boot/vmlinuz-6.12.117-samekernel"),
            expected
        );
    }

    #[test]
    fn rfc2822_dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_794_660_961), "Sat, 14 Nov 2026 12:56:01 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn a_missing_image_is_named() {
        let t = tempfile::tempdir().unwrap();
        let obj = t.path().join("obj");
        fs::create_dir(&obj).unwrap();
        fs::write(obj.join("System.map"), "").unwrap();
        fs::write(obj.join(".config"), "").unwrap();
        let mut kb = crate::kbuild::fake::FakeKbuild::new(|_| Ok(0));
        let err = stage_image(&mut kb, &obj, &t.path().join("stage"), &meta()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: No such file or directory (os error 2)",
                obj.join("arch/x86/boot/bzImage").display()
            )
        );
    }
}
