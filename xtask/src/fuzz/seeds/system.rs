//! Seeds for the parsers of what a machine or a tree says about itself: kernel command
//! lines, sysctl listings, hardening policies, Kconfig files (harden); mirror indexes
//! (testimony); toolchain fingerprints (kbuild-env); small ELF objects made by gcc
//! (debdiff).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Seeds, head_lines, raw_output};
use crate::cmd::{output, run};

/// Where `cargo xtask test` unpacks the pinned Linux tree (`SAMEKERNEL_LINUX_SRC`).
const LINUX_SRC: &str = "target/pinned-linux-source";

impl Seeds {
    /// Command lines as bootloaders and our own boot test write them.
    pub(super) fn cmdlines(&self) -> Result<()> {
        let lines: [(&str, &str); 4] = [
            ("samekernel-boot-test", "console=ttyS0 panic=-1\n"),
            (
                "debian-grub",
                "BOOT_IMAGE=/boot/vmlinuz-6.12.117+deb12-amd64 \
                 root=UUID=0b6a9c1e-5f0d-4c1e-9a7e-2d9b8f3c4a10 ro quiet\n",
            ),
            (
                "hardened",
                "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro init_on_alloc=1 init_on_free=1 \
                 slab_nomerge page_alloc.shuffle=1 randomize_kstack_offset=on pti=on \
                 vsyscall=none debugfs=off oops=panic module.sig_enforce=1 \
                 lockdown=confidentiality mitigations=auto,nosmt iommu=force \
                 intel_iommu=on amd_iommu=force_isolation efi=disable_early_pci_dma \
                 lsm=\"landlock,lockdown,yama,integrity,apparmor\" -- single\n",
            ),
            (
                "quotes-and-dashes",
                "dyndbg=\"file drivers/usb/* +p\" slab-nomerge \"a b\"=c x= =y --\n",
            ),
        ];
        for (name, text) in lines {
            self.put("harden_cmdline", name, text)?;
        }
        Ok(())
    }

    /// Debian's shipped sysctl.d files and this machine's `kernel.*` listing.
    pub(super) fn sysctls(&self) -> Result<()> {
        for f in [
            "/etc/sysctl.conf",
            "/usr/lib/sysctl.d/50-pid-max.conf",
            "/usr/lib/sysctl.d/99-protect-links.conf",
        ] {
            if Path::new(f).is_file() {
                self.copy("harden_sysctl", f)?;
            }
        }
        let all = output(Command::new("sysctl").args(["-a", "-r", "^(kernel|vm|fs)\\."]))?;
        let wanted: String = all
            .lines()
            .filter(|l| !is_counter(l))
            .take(200)
            .map(|l| format!("{l}\n"))
            .collect();
        self.put("harden_sysctl", "sysctl-a-kernel-vm-fs", wanted)
    }

    /// The default policy (what the build enforces) and one using every key.
    pub(super) fn harden_policies(&self) -> Result<()> {
        self.put(
            "harden_policy",
            "default.toml",
            harden::Policy::default().to_toml(),
        )?;
        let strict = "[require]\ngroups = [\"self-protection\"]\n\
                      rules = [\"sysctl:kernel.kptr_restrict\"]\n\n[relax]\n\
                      \"kconfig:MODULE_SIG\" = \"modules are pinned by testimony\"\n";
        harden::Policy::from_toml(strict, "seed").context("the seed policy")?;
        self.put("harden_policy", "every-key.toml", strict)
    }

    /// Kconfig files of the pinned tree (heads, so libFuzzer's length limit stays small),
    /// and a file that sources itself.
    pub(super) fn kconfigs(&self) -> Result<()> {
        let src = std::env::var("SAMEKERNEL_LINUX_SRC").unwrap_or_else(|_| LINUX_SRC.into());
        for (file, lines) in [
            ("Kconfig", 40),
            ("security/Kconfig.hardening", 160),
            ("mm/Kconfig", 120),
            ("init/Kconfig", 120),
        ] {
            let path = Path::new(&src).join(file);
            let text = std::fs::read(&path).with_context(|| {
                format!(
                    "{} (unpack the pinned source: kernel-deb source, or set SAMEKERNEL_LINUX_SRC)",
                    path.display()
                )
            })?;
            self.put(
                "harden_kconfig",
                &file.replace('/', "-"),
                head_lines(&text, lines),
            )?;
        }
        self.put(
            "harden_kconfig",
            "sources-itself",
            "config A\n\tbool \"a\"\n\tdepends on B && !(C || D=\"x\")\nsource \"Kconfig\"\n",
        )
    }

    /// Indexes as a mirror serves them.
    pub(super) fn indexes(&self) -> Result<()> {
        self.put(
            "testimony_index",
            "mirror-index",
            "# testimonies for linux-image 6.12.117\n\
             alice-6.12.117.v2.asc\nbob-6.12.117.v2.asc\n\ncarol_6.12.117-1.asc\n",
        )?;
        self.put("testimony_index", "one-name", "alice.asc\n")
    }

    /// This machine's fingerprint, native and for the arm64 cross build.
    pub(super) fn toolchains(&self) -> Result<()> {
        let native = kbuild_env::collect(&kbuild_env::ToolchainQuery::default())?;
        self.put("kbuild_toolchain", "native.toolchain", native.to_text())?;
        let cross = kbuild_env::ToolchainQuery::cross(
            "aarch64-linux-gnu-",
            "gcc-aarch64-linux-gnu",
            "binutils-aarch64-linux-gnu",
        );
        if let Ok(fp) = kbuild_env::collect(&cross) {
            self.put("kbuild_toolchain", "cross-arm64.toolchain", fp.to_text())?;
        }
        Ok(())
    }

    /// A module-like object (`.modinfo`, debug info) built by gcc in two directories, so
    /// the pair differs by build path; also xz-compressed and with a signature appendix.
    pub(super) fn elf_objects(&self) -> Result<()> {
        let mut objects = Vec::new();
        for side in ["a", "b"] {
            let dir = self.scratch.join("elf").join(side);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("seed.c"), MODULE_C)?;
            run(Command::new("gcc")
                .args(["-c", "-g", "-O2", "-fno-asynchronous-unwind-tables"])
                .arg(format!("-ffile-prefix-map={}=/build/{side}", dir.display()))
                .args(["seed.c", "-o", "seed.o"])
                .current_dir(&dir))?;
            objects.push(std::fs::read(dir.join("seed.o"))?);
        }
        let (a, b) = (&objects[0], &objects[1]);
        self.put("debdiff_elf", "build-path.o-pair", pair(a, b, AS_KO))?;
        self.put("debdiff_elf", "identical.o-pair", pair(a, a, AS_KO))?;
        let mut signed = a.clone();
        signed.extend_from_slice(&module_signature());
        self.put(
            "debdiff_elf",
            "signed-unsigned.ko-pair",
            pair(&signed, a, AS_KO),
        )?;
        let xz = |data: &[u8]| -> Result<Vec<u8>> {
            let f = self.scratch.join("elf/to-xz");
            std::fs::write(&f, data)?;
            raw_output(Command::new("xz").args(["-c", "--check=crc32"]).arg(&f))
        };
        self.put(
            "debdiff_elf",
            "build-path.ko.xz-pair",
            pair(&xz(a)?, &xz(b)?, AS_KO_XZ),
        )
    }
}

/// Sysctls that count what the machine is doing right now (dentries, open files,
/// quota syncs, the last pid, entropy), left out so the seed changes only with the kernel.
fn is_counter(line: &str) -> bool {
    let key = line.split(" = ").next().unwrap_or(line);
    key.ends_with("-nr")
        || key.ends_with("-state")
        || key.ends_with(".nr")
        || key.contains(".quota.")
        || key.contains("ns_last_pid")
        || key.starts_with("kernel.random.")
}

/// A kernel module's shape without the kernel: `.modinfo` strings, a function, data.
const MODULE_C: &str = "\
static const char seed_modinfo[] __attribute__((section(\".modinfo\"), used)) =
\t\"license=GPL\\0vermagic=6.12.0 SMP preempt mod_unload \\0name=seed\\0\";
int seed_value = 42;
const char seed_banner[] = \"seed built \" __FILE__;
int seed_init(void) { return seed_value + (int)sizeof(seed_banner); }
";

/// The appendix `scripts/sign-file` writes: PKCS#7 bytes, `struct module_signature`
/// (id_type 2 = PKEY_ID_PKCS7, big-endian length), the magic string.
fn module_signature() -> Vec<u8> {
    let pkcs7 = [0x30u8, 0x82, 0x00, 0x04, 0x06, 0x02, 0x2a, 0x03];
    let mut out = pkcs7.to_vec();
    out.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&(pkcs7.len() as u32).to_be_bytes());
    out.extend_from_slice(b"~Module signature appended~\n");
    out
}

/// The last byte of a debdiff_elf input picks the file name: `m.ko`, `m.ko.xz`, `vmlinuz`.
const AS_KO: u8 = 0;
const AS_KO_XZ: u8 = 1;

/// The debdiff_elf input: one byte saying where `a` ends, `a`, then `b` (padded with
/// zeros until that byte can say exactly where `a` ends), then the byte picking the name.
fn pair(a: &[u8], b: &[u8], name: u8) -> Vec<u8> {
    let mut b = b.to_vec();
    loop {
        let len = a.len() + b.len();
        if let Some(split) = (0..=255u8).find(|s| usize::from(*s) * len / 255 == a.len()) {
            let mut out = vec![split];
            out.extend_from_slice(a);
            out.extend_from_slice(&b);
            out.push(name);
            return out;
        }
        b.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a pair back the way fuzz/fuzz_targets/debdiff_elf.rs does.
    fn as_the_target_reads(input: &[u8]) -> (&[u8], &[u8], u8) {
        let (&split, rest) = input.split_first().unwrap();
        let (&pick, rest) = rest.split_last().unwrap();
        let at = (usize::from(split) * rest.len()) / 255;
        let (a, b) = rest.split_at(at.min(rest.len()));
        (a, b, pick)
    }

    #[test]
    fn the_target_reads_a_seed_pair_back_as_written() {
        for (a, b) in [
            (&b"\x7fELF one"[..], &b"\x7fELF other side"[..]),
            (b"", b"only b"),
            (b"only a", b""),
            (&[7u8; 1000][..], &[9u8; 3][..]),
        ] {
            let input = pair(a, b, AS_KO_XZ);
            let (ra, rb, pick) = as_the_target_reads(&input);
            assert_eq!(ra, a);
            assert_eq!(&rb[..b.len()], b, "b keeps its bytes");
            assert!(rb[b.len()..].iter().all(|&z| z == 0), "padding is zeros");
            assert_eq!(pick, AS_KO_XZ);
        }
    }
}
