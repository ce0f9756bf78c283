//! Staging the `linux-image` and `linux-headers` trees from a finished kbuild tree,
//! and packing them with detdeb (never dpkg-buildpackage, debhelper or
//! dpkg-shlibdeps: their output depends on the machine, see the Mempo page's bug5).
//!
//! The layout follows upstream `scripts/package/builddeb` of the pinned kernel:
//! `/boot/{vmlinuz,System.map,config}-R`, `/lib/modules/R` from `modules_install`
//! (stripped, with depmod's indexes), the `/etc/kernel/*.d` hook-runner maintainer
//! scripts byte for byte as builddeb writes them, and for the headers what
//! `scripts/package/install-extmod-build` installs plus the `build` symlink.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use detdeb::{CompressionParams, Compressor, Control, DebBuilder};

/// What the packages are called and stamped with.
#[derive(Debug, Clone)]
pub struct PackageMeta {
    /// `make -s kernelrelease`, e.g. `6.12.117-samekernel`.
    pub kernel_release: String,
    /// Debian version of both packages.
    pub version: String,
    /// Debian architecture (`amd64`).
    pub arch: String,
    /// SOURCE_DATE_EPOCH of the pin: every timestamp in the packages.
    pub source_date_epoch: i64,
    /// RFC 5322 date of SOURCE_DATE_EPOCH, for the changelog.
    pub rfc2822_date: String,
    /// Whether the config enables `CONFIG_BLK_DEV_INITRD` (for the maintainer scripts).
    pub initrd: bool,
    /// The pin, named in the changelog.
    pub source_description: String,
}

const MAINTAINER: &str = "samekernel <samekernel@localhost>";

/// The maintainer scripts upstream builddeb writes for linux-image (same bytes).
fn maintainer_script(script: &str, meta: &PackageMeta, image_path: &str) -> String {
    format!(
        "#!/bin/sh\n\nset -e\n\n# Pass maintainer script parameters to hook scripts\nexport DEB_MAINT_PARAMS=\"$*\"\n\n# Tell initramfs builder whether it's wanted\nexport INITRD={}\n\ntest -d /etc/kernel/{script}.d && run-parts --arg=\"{}\" --arg=\"/{image_path}\" /etc/kernel/{script}.d\nexit 0\n",
        if meta.initrd { "Yes" } else { "No" },
        meta.kernel_release,
    )
}

/// Stages `linux-image-R` into `stage` from the kbuild output `obj`.
pub fn stage_image(
    make: &mut dyn FnMut(&[&str]) -> Result<()>,
    obj: &Path,
    image_name: &str,
    stage: &Path,
    meta: &PackageMeta,
) -> Result<()> {
    let r = &meta.kernel_release;
    let install_mod_path = format!("INSTALL_MOD_PATH={}", stage.display());
    make(&[&install_mod_path, "INSTALL_MOD_STRIP=1", "modules_install"])?;
    let build_link = stage.join(format!("lib/modules/{r}/build"));
    if fs::symlink_metadata(&build_link).is_ok() {
        fs::remove_file(&build_link).with_context(|| build_link.display().to_string())?;
    }
    let boot = stage.join("boot");
    fs::create_dir_all(&boot)?;
    copy(
        &obj.join("System.map"),
        &boot.join(format!("System.map-{r}")),
    )?;
    copy(&obj.join(".config"), &boot.join(format!("config-{r}")))?;
    let image_path = format!("boot/vmlinuz-{r}");
    copy(&obj.join(image_name), &stage.join(&image_path))?;
    let debian = stage.join("DEBIAN");
    fs::create_dir_all(&debian)?;
    for script in ["postinst", "postrm", "preinst", "prerm"] {
        fs::create_dir_all(stage.join(format!("etc/kernel/{script}.d")))?;
        let p = debian.join(script);
        fs::write(&p, maintainer_script(script, meta, &image_path))?;
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755))?;
    }
    let pkg = format!("linux-image-{r}");
    write_docs(stage, &pkg, meta)?;
    let description = format!(
        "Linux kernel, version {r}\n This package contains the Linux kernel, modules and corresponding other\n files, version: {r}.\n .\n Built by samekernel from {}: anyone rebuilding the\n same pin gets these same bytes.",
        meta.source_description
    );
    write_control(stage, &pkg, meta, &description)
}

/// Stages `linux-headers-R` into `stage`: runs the pinned kernel's own
/// `install-extmod-build` under the sanitized environment, then adds the
/// `/lib/modules/R/build` symlink.
pub fn stage_headers(
    run_script: &mut dyn FnMut(&Path, &Path) -> Result<()>,
    src: &Path,
    stage: &Path,
    meta: &PackageMeta,
) -> Result<()> {
    let r = &meta.kernel_release;
    let dest = stage.join(format!("usr/src/linux-headers-{r}"));
    run_script(&src.join("scripts/package/install-extmod-build"), &dest)?;
    // install-extmod-build already drops the objects and `.cmd` files it copies from
    // the object tree; it keeps `scripts/mod/devicetable-offsets.s`, an intermediate
    // whose -fverbose-asm comments and line markers carry the absolute source path
    // (prefix maps do not reach them). External module builds never read it (they
    // use the generated devicetable-offsets.h), so it goes the same way. The source
    // tree has no lowercase `.s` files, so only generated ones are removed.
    remove_generated_asm(&dest)?;
    let moddir = stage.join(format!("lib/modules/{r}"));
    fs::create_dir_all(&moddir)?;
    std::os::unix::fs::symlink(format!("/usr/src/linux-headers-{r}"), moddir.join("build"))?;
    let pkg = format!("linux-headers-{r}");
    write_docs(stage, &pkg, meta)?;
    fs::create_dir_all(stage.join("DEBIAN"))?;
    let description = format!(
        "Linux kernel headers for {r}\n This package provides kernel header files for {r}.\n .\n This is useful for people who need to build external modules.\n Built by samekernel from {}.",
        meta.source_description
    );
    write_control(stage, &pkg, meta, &description)
}

/// Stages `linux-libc-dev` into `stage`, as upstream builddeb's
/// `install_libc_headers`: `make headers_install` into `/usr`, then `asm/` moved
/// under the multiarch directory (`/usr/include/x86_64-linux-gnu/asm`), where
/// Debian's multi-arch layout has it.
pub fn stage_libc_dev(
    make: &mut dyn FnMut(&[&str]) -> Result<()>,
    stage: &Path,
    multiarch: &str,
    meta: &PackageMeta,
) -> Result<()> {
    let usr = stage.join("usr");
    make(&[
        &format!("INSTALL_HDR_PATH={}", usr.display()),
        "headers_install",
    ])?;
    let include = usr.join("include");
    let arch_dir = include.join(multiarch);
    fs::create_dir_all(&arch_dir)?;
    fs::rename(include.join("asm"), arch_dir.join("asm"))
        .with_context(|| format!("moving {}/asm", include.display()))?;
    let pkg = "linux-libc-dev";
    write_docs(stage, pkg, meta)?;
    fs::create_dir_all(stage.join("DEBIAN"))?;
    write_control_with(
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
/// perf, systemtap and kdump-tools look for it. `tool` gives a command for a
/// binutils program under the sanitized environment.
pub fn stage_dbg(
    tool: &dyn Fn(&str) -> Command,
    obj: &Path,
    stage: &Path,
    meta: &PackageMeta,
) -> Result<()> {
    let r = &meta.kernel_release;
    let debug = stage.join("usr/lib/debug");
    let moddir = debug.join(format!("lib/modules/{r}"));
    let order = obj.join("modules.order");
    let order = fs::read_to_string(&order).with_context(|| order.display().to_string())?;
    for object in order.lines().filter(|l| !l.is_empty()) {
        let module = format!("{}.ko", object.strip_suffix(".o").unwrap_or(object));
        let out = tool("readelf")
            .arg("-n")
            .arg(&module)
            .current_dir(obj)
            .output()
            .context("running readelf")?;
        if !out.status.success() {
            bail!(
                "readelf -n {module}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let notes = String::from_utf8_lossy(&out.stdout);
        let build_id = notes
            .lines()
            .find_map(|l| l.trim().strip_prefix("Build ID: "))
            .map(str::trim)
            .filter(|id| id.len() > 2 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .with_context(|| format!("{module} has no GNU build ID note"))?;
        let dbg = moddir.join("kernel").join(&module);
        fs::create_dir_all(dbg.parent().expect("has a parent"))?;
        let status = tool("objcopy")
            .arg("--only-keep-debug")
            .arg(&module)
            .arg(&dbg)
            .current_dir(obj)
            .status()
            .context("running objcopy")?;
        if !status.success() {
            bail!("objcopy --only-keep-debug {module}: {status}");
        }
        let link_dir = debug.join(".build-id").join(&build_id[..2]);
        fs::create_dir_all(&link_dir)?;
        // What `ln -sf --relative` makes: from .build-id/xx/ up to /usr/lib/debug.
        std::os::unix::fs::symlink(
            format!("../../lib/modules/{r}/kernel/{module}"),
            link_dir.join(format!("{}.debug", &build_id[2..])),
        )?;
    }
    fs::create_dir_all(&moddir)?;
    copy(&obj.join("vmlinux"), &moddir.join("vmlinux"))?;
    fs::create_dir_all(debug.join("boot"))?;
    std::os::unix::fs::symlink(
        format!("../lib/modules/{r}/vmlinux"),
        debug.join(format!("boot/vmlinux-{r}")),
    )?;
    std::os::unix::fs::symlink(
        format!("lib/modules/{r}/vmlinux"),
        debug.join(format!("vmlinux-{r}")),
    )?;
    let pkg = format!("linux-image-{r}-dbg");
    write_docs(stage, &pkg, meta)?;
    fs::create_dir_all(stage.join("DEBIAN"))?;
    write_control_with(
        stage,
        &pkg,
        meta,
        &format!(
            "Linux kernel debugging symbols for {r}\n This package will come in handy if you need to debug the kernel. It provides\n all the necessary debug symbols for the kernel and its modules."
        ),
        &[("Section", "debug")],
    )
}

fn remove_generated_asm(dir: &Path) -> Result<()> {
    for e in fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let e = e?;
        let path = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            remove_generated_asm(&path)?;
        } else if ft.is_file() && path.extension().is_some_and(|x| x == "s") {
            fs::remove_file(&path).with_context(|| path.display().to_string())?;
        }
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// `/usr/share/doc/PKG/{changelog.Debian.gz,copyright}`, dated from the pin.
fn write_docs(stage: &Path, pkg: &str, meta: &PackageMeta) -> Result<()> {
    let doc = stage.join(format!("usr/share/doc/{pkg}"));
    fs::create_dir_all(&doc)?;
    let changelog = format!(
        "{pkg} ({}) unstable; urgency=medium\n\n  * Deterministic build of {} by samekernel.\n\n -- {MAINTAINER}  {}\n",
        meta.version, meta.source_description, meta.rfc2822_date
    );
    // gzip -9n: no name, mtime 0, so the bytes depend on the text only.
    let mut gz = flate2::GzBuilder::new()
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(changelog.as_bytes())?;
    fs::write(doc.join("changelog.Debian.gz"), gz.finish()?)?;
    fs::write(
        doc.join("copyright"),
        "This is a packaged upstream version of the Linux kernel.\n\n\
         The sources may be found at most Linux archive sites, including:\n\
         https://www.kernel.org/pub/linux/kernel\n\n\
         Copyright: 1991 - 2024 Linus Torvalds and others.\n\n\
         The git repository for mainline kernel development is at:\n\
         git://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git\n\n    \
         This program is free software; you can redistribute it and/or modify\n    \
         it under the terms of the GNU General Public License as published by\n    \
         the Free Software Foundation; version 2 dated June, 1991.\n\n\
         On Debian GNU/Linux systems, the complete text of the GNU General Public\n\
         License version 2 can be found in `/usr/share/common-licenses/GPL-2'.\n",
    )?;
    Ok(())
}

/// `DEBIAN/control` with fixed fields: no Depends computed from the machine.
fn write_control(stage: &Path, pkg: &str, meta: &PackageMeta, description: &str) -> Result<()> {
    write_control_with(stage, pkg, meta, description, &[("Section", "kernel")])
}

/// [`write_control`] with other fields (`Section` among them) for packages that are
/// not kernels.
fn write_control_with(
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
    c.set("Architecture", &meta.arch);
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
    fs::write(stage.join("DEBIAN/control"), c.to_text())?;
    Ok(())
}

/// Normalizes modes like dh_fixperms, so the umask and the tools' own choices do not
/// reach the package: directories 0755; files 0755 when any execute bit is set, else
/// 0644; no setuid/setgid/sticky; `DEBIAN/` maintainer scripts 0755.
pub fn fix_permissions(root: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(root)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode();
    let new = if meta.is_dir() || mode & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    if mode & 0o7777 != new {
        fs::set_permissions(root, fs::Permissions::from_mode(new))?;
    }
    if meta.is_dir() {
        for e in fs::read_dir(root)? {
            fix_permissions(&e?.path())?;
        }
    }
    Ok(())
}

/// Packs a staged tree into `out_dir/<pkg>_<version>_<arch>.deb` (xz, as Debian's own
/// kernel packages; md5sums added). Returns the path.
pub fn pack(
    stage: &Path,
    out_dir: &Path,
    meta: &PackageMeta,
    compressor: Compressor,
) -> Result<PathBuf> {
    fix_permissions(stage)?;
    let b = DebBuilder::from_staging_dir(stage, meta.source_date_epoch, false)?
        .compression(CompressionParams::new(compressor))
        .with_md5sums()?;
    let c = b.control()?;
    let pkg = c
        .get("Package")
        .context("control has no Package")?
        .to_owned();
    // Debian file names drop the epoch.
    let version = meta
        .version
        .split_once(':')
        .map_or(meta.version.as_str(), |v| v.1);
    let out = out_dir.join(format!("{pkg}_{version}_{}.deb", meta.arch));
    if out.exists() {
        bail!("{}: already exists", out.display());
    }
    b.write_to_path(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> PackageMeta {
        PackageMeta {
            kernel_release: "6.12.117-samekernel".into(),
            version: "6.12.117-1~deb12u1+sk.0123456789ab".into(),
            arch: "amd64".into(),
            source_date_epoch: 1_794_660_961,
            rfc2822_date: "Sat, 14 Nov 2026 12:56:01 +0000".into(),
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
    fn permissions_are_normalized_like_dh_fixperms() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("d");
        fs::create_dir(&d).unwrap();
        let f = d.join("f");
        let x = d.join("x");
        fs::write(&f, b"").unwrap();
        fs::write(&x, b"").unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o4600)).unwrap();
        fs::set_permissions(&x, fs::Permissions::from_mode(0o700)).unwrap();
        fix_permissions(t.path()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!((mode(&d), mode(&f), mode(&x)), (0o755, 0o644, 0o755));
    }
}
