//! `cargo xtask fuzz seeds`: rebuilds `fuzz/seeds/<target>/` from real files, the same
//! bytes on every run on the same Debian release:
//!
//! * small .debs made by the real `dpkg-deb` (every compressor) from a fixed tree with
//!   fixed times, their data and control tarballs, and fixtures/srcpin/hello-1.0.tar;
//! * control paragraphs: the seed .deb's own and Debian's (`dpkg-query --status` of a
//!   fixed list of installed packages), md5sums made by `md5sum`;
//! * build records, v1 and v2 testimonies written by testimony for those .debs, the v2
//!   one cleartext-signed by `gpg` with fixtures/testimony's alice key at a faked time
//!   (EdDSA signatures are deterministic), a policy naming the fixture witnesses;
//! * the fixture certificates, keyrings and upstream signatures;
//! * srcpin's built-in manifest and one pinning the fixture tarball;
//! * samekernel's tiny kernel config and the head of Debian's amd64 config;
//! * `apt-cache policy|show dpkg` and the head of dpkg's changelog (these follow
//!   whatever dpkg this machine has);
//! * unified diffs made by `diff -u` against the tree the srcpin_patch target builds;
//! * kernel command lines, Debian's sysctl.d files and this machine's `sysctl -a`, the
//!   default hardening policy, heads of the pinned tree's Kconfig files
//!   (`SAMEKERNEL_LINUX_SRC`), mirror indexes, this machine's toolchain fingerprints and
//!   module-like objects compiled by gcc in two directories ([`system`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use testimony::build_record::{Toolchain, ToolchainComponent};
use testimony::canonical::Fingerprint;

use crate::cmd::{output, run, step};
use crate::flags::Flags;

mod system;

/// Fixed time of every seed file and signature (2026-06-01T00:00:00Z).
const SEED_TIME: u64 = 1_780_272_000;

pub fn build(flags: Flags) -> Result<()> {
    flags.finish()?;
    let out = PathBuf::from("fuzz/seeds");
    let _ = std::fs::remove_dir_all(&out);
    let scratch = tempfile::tempdir()?;
    let s = Seeds {
        out,
        scratch: scratch.path().to_owned(),
    };
    step("seed .debs from dpkg-deb");
    let debs = s.debs()?;
    s.deb_inputs(&debs)?;
    step("build records, testimonies, signatures, policy, keyrings");
    s.testimonies(&debs)?;
    s.keys_and_signatures()?;
    step("manifests, kernel configs, apt output, patches");
    s.manifests()?;
    s.kernel_configs()?;
    s.apt_meta()?;
    s.patches()?;
    step("command lines, sysctls, policies, Kconfig, indexes, toolchains, ELF objects");
    s.cmdlines()?;
    s.sysctls()?;
    s.harden_policies()?;
    s.kconfigs()?;
    s.indexes()?;
    s.toolchains()?;
    s.elf_objects()?;
    s.module_signatures()?;
    let total = dir_size(&s.out)?;
    eprintln!("seed corpus: {} ({} KiB)", s.out.display(), total / 1024);
    if total > 4 << 20 {
        bail!("the seed corpus grew to {total} bytes; keep it under 4 MiB");
    }
    Ok(())
}

struct Seeds {
    out: PathBuf,
    scratch: PathBuf,
}

impl Seeds {
    fn put(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let dir = self.out.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes).with_context(|| format!("seed {target}/{name}"))
    }

    fn copy(&self, target: &str, from: &str) -> Result<()> {
        let name = Path::new(from).file_name().context("a file")?;
        let bytes = std::fs::read(from).with_context(|| from.to_owned())?;
        self.put(target, &name.to_string_lossy(), bytes)
    }

    /// One .deb per compressor from the same fixed tree.
    fn debs(&self) -> Result<Vec<PathBuf>> {
        let tree = self.scratch.join("tree");
        seed_tree(&tree)?;
        let mut debs = Vec::new();
        for z in ["gzip", "xz", "zstd", "none"] {
            let deb = self
                .scratch
                .join(format!("samekernel-seed_1.0-1_amd64.{z}.deb"));
            run(Command::new("dpkg-deb")
                .args(["--root-owner-group", &format!("-Z{z}"), "-b"])
                .arg(&tree)
                .arg(&deb)
                .env("SOURCE_DATE_EPOCH", SEED_TIME.to_string())
                .stdout(Stdio::null()))?;
            debs.push(deb);
        }
        Ok(debs)
    }

    /// The .debs, their tarballs and control files, for the detdeb and unpack targets.
    fn deb_inputs(&self, debs: &[PathBuf]) -> Result<()> {
        for deb in debs {
            let name = deb.file_name().context("a file")?.to_string_lossy();
            self.put("deb_ar", &name, std::fs::read(deb)?)?;
        }
        let deb = &debs[debs.len() - 1];
        for (what, flag) in [("data", "--fsys-tarfile"), ("control", "--ctrl-tarfile")] {
            let tar = raw_output(Command::new("dpkg-deb").arg(flag).arg(deb))?;
            self.put("deb_tar", &format!("{what}.tar"), &tar)?;
            self.put("srcpin_unpack", &format!("{what}.tar"), &tar)?;
        }
        for t in ["deb_tar", "srcpin_unpack"] {
            self.copy(t, "fixtures/srcpin/hello-1.0.tar")?;
        }
        let tree = self.scratch.join("tree");
        self.put(
            "deb_control",
            "seed.control",
            std::fs::read(tree.join("DEBIAN/control"))?,
        )?;
        self.put(
            "deb_control",
            "seed.md5sums",
            std::fs::read(tree.join("DEBIAN/md5sums"))?,
        )?;
        for pkg in ["dpkg", "gpgv", "tar", "zstd", "libc6"] {
            let text = output(Command::new("dpkg-query").arg("--status").arg(pkg))?;
            self.put("deb_control", &format!("debian-{pkg}.control"), text)?;
        }
        Ok(())
    }

    fn testimonies(&self, debs: &[PathBuf]) -> Result<()> {
        let debs: Vec<&Path> = debs.iter().map(PathBuf::as_path).collect();
        let one = crate::record::build_record_of(&debs[..1], Toolchain::default())?;
        let all = crate::record::build_record_of(&debs, seed_toolchain())?;
        self.put("testimony_build_record", "one-deb.record", one.to_text())?;
        self.put("testimony_build_record", "four-debs.record", all.to_text())?;
        let alice = fixture_fingerprint("fixtures/testimony/keys/fingerprints.txt", "alice")?;
        let v1 = testimony::V1Testimony::from_build_record(&all, &v1_info(&alice));
        self.put("testimony_v1", "alice.v1", v1.to_text())?;
        let v2 = testimony::TestimonyV2::from_build_record(&all, witness(&alice), SEED_TIME);
        self.put("testimony_v2", "alice.v2", v2.to_text())?;
        let signed = self.gpg_sign("alice", "--clearsign", v2.to_text().as_bytes())?;
        self.put("testimony_v2", "alice.v2.asc", &signed)?;
        self.put("testimony_signed", "alice.v2.asc", &signed)?;
        let v1_signed = self.gpg_sign("bob", "--clearsign", v1.to_text().as_bytes())?;
        self.put("testimony_signed", "bob.v1.asc", &v1_signed)?;
        // The detached target checks signatures over this fixed text.
        let detached = self.gpg_sign("alice", "--detach-sign", b"samekernel fuzz\n")?;
        self.put("testimony_signed", "alice.detached.sig", &detached)?;
        self.put("testimony_policy", "fixture-witnesses.toml", seed_policy()?)?;
        Ok(())
    }

    /// Signs `data` with a fixture key by gpg at [`SEED_TIME`].
    fn gpg_sign(&self, who: &str, mode: &str, data: &[u8]) -> Result<Vec<u8>> {
        let home = self.scratch.join("gnupg");
        std::fs::create_dir_all(&home)?;
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let gpg = || {
            let mut c = Command::new("gpg");
            c.arg("--homedir").arg(&home).args(["--batch", "--quiet"]);
            c
        };
        run(gpg()
            .arg("--import")
            .arg(format!("fixtures/testimony/keys/{who}.key"))
            .stderr(Stdio::null()))?;
        let input = self.scratch.join("to-sign");
        let signed = self.scratch.join("signed");
        std::fs::write(&input, data)?;
        let _ = std::fs::remove_file(&signed);
        let fpr = fixture_fingerprint("fixtures/testimony/keys/fingerprints.txt", who)?;
        run(gpg()
            .arg("--faked-system-time")
            .arg(format!("{SEED_TIME}!"))
            .args(["--local-user", fpr.as_str(), mode, "--output"])
            .arg(&signed)
            .arg(&input)
            .stderr(Stdio::null()))?;
        Ok(std::fs::read(&signed)?)
    }

    fn keys_and_signatures(&self) -> Result<()> {
        for who in ["alice", "bob", "mallory"] {
            self.copy(
                "testimony_keyring",
                &format!("fixtures/testimony/keys/{who}.cert"),
            )?;
        }
        self.copy("testimony_keyring", "fixtures/srcpin/pinned-keyring.pgp")?;
        for f in [
            "alice.cert",
            "expired.cert",
            "alice-revoked.cert",
            "pinned-keyring.pgp",
        ] {
            self.copy("srcpin_signature", &format!("fixtures/srcpin/{f}"))?;
        }
        for f in [
            "alice.tar.sign",
            "alice-bob.tar.sign",
            "expired.tar.sign",
            "mallory.tar.sign",
        ] {
            self.copy("srcpin_signature", &format!("fixtures/srcpin/{f}"))?;
        }
        Ok(())
    }

    fn manifests(&self) -> Result<()> {
        let builtin = srcpin::Manifest::builtin_default().to_toml_string();
        self.put("srcpin_manifest", "builtin-default.toml", builtin)?;
        let tarball = fixture_tarball_manifest()?;
        srcpin::Manifest::from_toml_str(&tarball, "seed")?;
        self.put("srcpin_manifest", "fixture-tarball.toml", tarball)
    }

    fn kernel_configs(&self) -> Result<()> {
        self.copy(
            "kbuild_config",
            "crates/kernel-deb/configs/samekernel-tiny.config",
        )?;
        let debian = raw_output(
            Command::new("xz")
                .arg("-dc")
                .arg("/usr/src/linux-config-6.12/config.amd64_none_amd64.xz"),
        )?;
        self.put(
            "kbuild_config",
            "debian-amd64-head.config",
            head_lines(&debian, 400),
        )
    }

    fn apt_meta(&self) -> Result<()> {
        let policy = output(Command::new("apt-cache").args(["policy", "dpkg"]))?;
        self.put("srcpin_apt_meta", "apt-cache-policy-dpkg", policy)?;
        let show = output(Command::new("apt-cache").args(["show", "dpkg"]))?;
        self.put("srcpin_apt_meta", "apt-cache-show-dpkg", show)?;
        let log = raw_output(
            Command::new("gzip")
                .arg("-dc")
                .arg("/usr/share/doc/dpkg/changelog.gz"),
        )?;
        self.put(
            "srcpin_apt_meta",
            "dpkg-changelog-head",
            head_lines(&log, 60),
        )
    }

    /// Diffs against the tree srcpin_patch builds (Makefile, src/hello.c), `-p1` style.
    /// An unsigned module and one with a trailer appended by modsign (a fixed DER-like
    /// signature, so the seeds stay byte for byte the same).
    fn module_signatures(&self) -> Result<()> {
        let body = b"\x7fELF\x02\x01\x01 a module body";
        let signature = [&[0x30u8, 0x82, 0x01, 0x00][..], &[0xab; 252]].concat();
        self.put("modsign_trailer", "unsigned.ko", body)?;
        self.put(
            "modsign_trailer",
            "signed.ko",
            modsign::trailer::append(body, &signature)?,
        )
    }

    fn patches(&self) -> Result<()> {
        let (a, b) = (self.scratch.join("a"), self.scratch.join("b"));
        for (dir, make, hello) in [
            (
                &a,
                "all:\n\techo hello\n",
                "int main(void)\n{\n\treturn 0;\n}\n",
            ),
            (
                &b,
                "all:\n\techo hello, world\n",
                "#include <stdio.h>\nint main(void)\n{\n\tputs(\"hi\");\n\treturn 0;\n}\n",
            ),
        ] {
            std::fs::create_dir_all(dir.join("src"))?;
            std::fs::write(dir.join("Makefile"), make)?;
            std::fs::write(dir.join("src/hello.c"), hello)?;
        }
        std::fs::write(b.join("src/new.h"), "#define NEW 1\n")?;
        let mut both = Vec::new();
        for f in ["Makefile", "src/hello.c", "src/new.h"] {
            let d = unified_diff(&a, &b, f)?;
            self.put(
                "srcpin_patch",
                &format!("{}.patch", f.replace('/', "-")),
                &d,
            )?;
            both.extend_from_slice(&d);
        }
        self.put("srcpin_patch", "all.patch", both)
    }
}

/// DEBIAN/control, DEBIAN/md5sums (by md5sum), a few files, a symlink and an empty
/// directory, all with [`SEED_TIME`] and plain modes.
fn seed_tree(tree: &Path) -> Result<()> {
    let files: [(&str, &[u8]); 3] = [
        ("boot/vmlinuz-seed", b"\x7fELF not really a kernel\n"),
        (
            "usr/share/doc/samekernel-seed/copyright",
            b"Files: *\nLicense: MIT\n",
        ),
        ("lib/modules/seed/modules.order", b"kernel/fs/seed.ko\n"),
    ];
    for (path, bytes) in files {
        let p = tree.join(path);
        std::fs::create_dir_all(p.parent().context("a parent")?)?;
        std::fs::write(&p, bytes)?;
    }
    std::fs::create_dir_all(tree.join("DEBIAN"))?;
    std::fs::create_dir_all(tree.join("lib/firmware"))?;
    std::os::unix::fs::symlink("vmlinuz-seed", tree.join("boot/vmlinuz"))?;
    std::fs::write(
        tree.join("DEBIAN/control"),
        "Package: samekernel-seed\nVersion: 1.0-1\nArchitecture: amd64\n\
         Maintainer: samekernel <seed@example.invalid>\nInstalled-Size: 4\n\
         Depends: kmod, linux-base (>= 4.3~)\nSection: kernel\nPriority: optional\n\
         Description: fuzz seed package\n A tiny kernel-like package.\n .\n Second paragraph.\n",
    )?;
    let mut md5 = Command::new("md5sum");
    md5.args(files.map(|(p, _)| p)).current_dir(tree);
    std::fs::write(tree.join("DEBIAN/md5sums"), output(&mut md5)?)?;
    run(Command::new("chmod").args(["-R", "u=rwX,go=rX"]).arg(tree))?;
    run(Command::new("find")
        .arg(tree)
        .args(["-exec", "touch", "-h", "-d"])
        .arg(format!("@{SEED_TIME}"))
        .args(["{}", "+"]))
}

fn seed_toolchain() -> Toolchain {
    let c = |name: &str, version: &str| ToolchainComponent {
        name: name.to_owned(),
        version: version.to_owned(),
    };
    Toolchain {
        components: vec![
            c("gcc-12", "12.2.0-14"),
            c("binutils", "2.40-2"),
            c("make", "4.3-4.1"),
        ],
        banners: vec!["gcc (Debian 12.2.0-14) 12.2.0".to_owned()],
    }
}

fn v1_info(fpr: &Fingerprint) -> testimony::v1::V1Info {
    testimony::v1::V1Info {
        name: "alice".to_owned(),
        code_review: 2,
        computer_trust: 60,
        computer_system: Some("Debian 12.11".to_owned()),
        jurisdiction: "EU".to_owned(),
        sources_sign_by_fpr: Some(fpr.clone()),
    }
}

fn witness(fpr: &Fingerprint) -> testimony::v2::WitnessInfo {
    testimony::v2::WitnessInfo {
        name: "alice".to_owned(),
        fingerprint: fpr.clone(),
        jurisdiction: Some("EU".to_owned()),
        computer_system: Some("Debian 12.11".to_owned()),
        code_review: 4,
        computer_trust: 50,
        canary: Some("no one has asked me to change this build".to_owned()),
        statement: vec!["I built these sources myself.".to_owned()],
    }
}

/// Every option of the policy format, with the fixture witnesses.
fn seed_policy() -> Result<String> {
    let fprs = std::fs::read_to_string("fixtures/testimony/keys/fingerprints.txt")?;
    let mut p = String::from(
        "threshold = 2\nmin_review = 2\nmin_trust = 50\nmax_age_days = 365\n\
         accept_v1 = true\ndissent = \"report\"\n",
    );
    for (i, line) in fprs.lines().enumerate() {
        if let Some((name, fpr)) = line.split_once(' ') {
            let group = if i < 2 { "org-a" } else { name };
            p.push_str(&format!(
                "\n[[witness]]\nname = \"{name}\"\nfingerprint = \"{fpr}\"\ngroup = \"{group}\"\n"
            ));
        }
    }
    testimony::Policy::parse(&p).context("the seed policy")?;
    Ok(p)
}

fn fixture_tarball_manifest() -> Result<String> {
    let sums = std::fs::read_to_string("fixtures/srcpin/SHA256SUMS")?;
    let sha = |name: &str| {
        sums.lines()
            .find_map(|l| l.strip_suffix(&format!("  {name}")))
            .map(str::to_owned)
            .with_context(|| format!("{name} in fixtures/srcpin/SHA256SUMS"))
    };
    let size = |name: &str| std::fs::metadata(format!("fixtures/srcpin/{name}")).map(|m| m.len());
    let alice = fixture_fingerprint("fixtures/srcpin/fingerprints.txt", "alice")?;
    let bob = fixture_fingerprint("fixtures/srcpin/fingerprints.txt", "bob")?;
    Ok(format!(
        "schema = 1\nsource-date-epoch = {SEED_TIME}\n[source]\nkind = \"tarball\"\n\
         file-name = \"hello-1.0.tar.xz\"\nurls = [\"https://example.org/hello-1.0.tar.xz\"]\n\
         size = {}\nsha256 = \"{}\"\ntop-dir = \"hello-1.0\"\n[source.signature]\n\
         urls = [\"https://example.org/hello-1.0.tar.sign\"]\nsigned-over = \"uncompressed\"\n\
         signers = [\"{}\", \"{}\"]\nmin-signers = 1\n\
         keyring = {{ urls = [\"https://example.org/keyring.pgp\"], size = {}, sha256 = \"{}\" }}\n",
        size("hello-1.0.tar.xz")?,
        sha("hello-1.0.tar.xz")?,
        alice.as_str(),
        bob.as_str(),
        size("pinned-keyring.pgp")?,
        sha("pinned-keyring.pgp")?,
    ))
}

fn fixture_fingerprint(list: &str, who: &str) -> Result<Fingerprint> {
    std::fs::read_to_string(list)?
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{who} ")))
        .and_then(Fingerprint::parse)
        .with_context(|| format!("{who} in {list}"))
}

/// `diff -u` of one file, with fixed `a/…` `b/…` labels (no times).
fn unified_diff(a: &Path, b: &Path, file: &str) -> Result<Vec<u8>> {
    let (old, new) = (a.join(file), b.join(file));
    let mut c = Command::new("diff");
    c.arg("-u")
        .arg("--label")
        .arg(format!("a/{file}"))
        .arg("--label")
        .arg(format!("b/{file}"));
    c.arg(if old.exists() {
        old
    } else {
        "/dev/null".into()
    });
    c.arg(new);
    let out = c.output().with_context(|| format!("cannot run {c:?}"))?;
    // diff exits 1 when the files differ, which they do here.
    if out.status.code() != Some(1) {
        bail!("{c:?}: {}", out.status);
    }
    Ok(out.stdout)
}

fn raw_output(cmd: &mut Command) -> Result<Vec<u8>> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", out.status);
    }
    Ok(out.stdout)
}

fn head_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for line in bytes.split_inclusive(|b| *b == b'\n').take(n) {
        out.extend_from_slice(line);
    }
    out
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        total += if p.is_dir() {
            dir_size(&p)?
        } else {
            p.metadata()?.len()
        };
    }
    Ok(total)
}
