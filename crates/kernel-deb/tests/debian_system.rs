//! The kernel installs into a real Debian system and boots it.
//!
//! 1. A minimal Debian 12 root from the Debian archive (`mmdebstrap`, cached under
//!    `target/tmp/debian-system/`, keyed by suite, mirror and package list).
//! 2. The generic flavour's `.debs` installed *inside* it with plain `dpkg -i` in a
//!    chroot: the maintainer scripts and the `/etc/kernel/postinst.d` hooks run and
//!    initramfs-tools makes `/boot/initrd.img-<release>`.
//! 3. A disk image made by `mke2fs -d` (no loop mounts), booted under
//!    `qemu-system-x86_64` (TCG) with the installed vmlinuz and initrd, root on a virtio
//!    disk (so the initramfs must load `virtio_blk`), user-mode networking with
//!    `restrict=on` (slirp's own DHCP; the guest reaches nothing on the host).
//! 4. A check unit after `network-online.target` prints `uname -r`, the addresses and
//!    the network driver bound by udev, then powers off; the test checks all three.
//! 5. `apt-get purge` in the chroot removes the kernel without leftovers.
//!
//! The `.debs` come from `SAMEKERNEL_GENERIC_DEBS=DIR` (every `.deb` there is
//! installed); without it the test builds the generic flavour with `kernel-deb build`
//! (about 17 minutes on 2 idle cores). Any kernel package that follows Debian's layout works:
//! the harness was first proven with Debian's own `linux-image-6.1.0-*-amd64`. Each
//! step's time is printed (`--nocapture`). Needs root (mmdebstrap `--mode=root`,
//! chroot, mount namespaces), mmdebstrap, qemu-system-x86 and the Debian archive.
//! The cached root is never refreshed: delete `target/tmp/debian-system/` for a newer
//! bookworm.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;
use common::run;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");
const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";
/// What the root holds besides `apt` and the essential set. linux-base: Debian's own
/// kernels depend on it (cheap: only debconf), so stock kernels install too.
const PACKAGES: &[&str] = &[
    "systemd-sysv",
    "udev",
    "initramfs-tools",
    "kmod",
    "iproute2",
    "linux-base",
];
/// The network driver the check unit must find bound to the NIC and loaded as a
/// module (`=m` in the generic flavour, as in Debian's kernels): udev loaded it, from
/// the initramfs or the root, for the virtio-net device qemu offers.
const NET_DRIVER: &str = "virtio_net";
const MARK: &str = "SAMEKERNEL-CHECK";

/// The check unit's script: what it prints is all the test learns about the guest.
const CHECK_SCRIPT: &str = r#"#!/bin/sh
echo "SAMEKERNEL-CHECK uname-r=$(uname -r)"
ip -4 -o addr show scope global | while read -r _ ifname _ addr _; do
    echo "SAMEKERNEL-CHECK addr=$ifname $addr"
done
for dev in /sys/class/net/*; do
    [ -e "$dev/device/driver" ] || continue
    driver=$(basename "$(readlink "$dev/device/driver")")
    if grep -q "^$driver " /proc/modules; then how=module; else how=built-in; fi
    echo "SAMEKERNEL-CHECK driver=${dev##*/} $driver $how"
done
echo "SAMEKERNEL-CHECK done"
systemctl --no-block poweroff
"#;

const CHECK_UNIT: &str = "[Unit]
Description=samekernel check: release, network, udev-loaded module
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/samekernel-check
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
";

const NETWORK: &str = "[Match]
Name=en* eth*

[Network]
DHCP=ipv4
";

/// Prints how long one step took, and returns its result.
fn step<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let v = f();
    eprintln!("debian-system: {name}: {:.1} s", t.elapsed().as_secs_f64());
    v
}

/// `nice -n 10 <program>`: every heavy step yields to the other work on the machine.
fn nice(program: &str) -> Command {
    let mut c = Command::new("nice");
    c.args(["-n", "10", program]);
    c
}

/// The cached root tarball for [`PACKAGES`], made by mmdebstrap on first use.
fn debian_root_tarball() -> PathBuf {
    let key = format!("{SUITE} {MIRROR} apt {}", PACKAGES.join(","));
    let hash = testimony::canonical::sha256_hex(key.as_bytes());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian-system");
    fs::create_dir_all(&dir).unwrap();
    let tarball = dir.join(format!("{SUITE}-{}.tar", &hash[..16]));
    if tarball.exists() {
        return tarball;
    }
    let partial = dir.join(format!(".{SUITE}-{}.tar.partial", &hash[..16]));
    run(nice("mmdebstrap")
        .args(["--quiet", "--mode=root", "--variant=apt", "--format=tar"])
        .arg(format!("--include={}", PACKAGES.join(",")))
        .arg(SUITE)
        .arg(&partial)
        .arg(MIRROR));
    fs::rename(&partial, &tarball).unwrap();
    tarball
}

/// The `.debs` to install: `SAMEKERNEL_GENERIC_DEBS`, or a generic build into `work`.
fn generic_debs(work: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("SAMEKERNEL_GENERIC_DEBS") {
        return PathBuf::from(dir);
    }
    let out = work.join("generic-out");
    let build = work.join("generic-work");
    run(nice(BIN)
        .args(["build", "--flavour", "generic", "--quiet", "--out"])
        .arg(&out)
        .arg("--work-dir")
        .arg(&build));
    fs::remove_dir_all(&build).unwrap();
    out
}

/// The kernel release of the image package among `debs` (`linux-image-<release>`).
fn image_release(debs: &[PathBuf]) -> String {
    let releases: Vec<String> = debs
        .iter()
        .map(|d| run(Command::new("dpkg-deb").args(["-f"]).arg(d).arg("Package")))
        .filter_map(|p| p.trim().strip_prefix("linux-image-").map(str::to_owned))
        .filter(|r| !r.ends_with("-dbg"))
        .collect();
    assert_eq!(releases.len(), 1, "one image package in {debs:?}");
    releases[0].clone()
}

/// Runs `script` (sh) in the chroot `root` with /proc, /sys and /dev mounted in a
/// private mount namespace (they vanish with it; the host's mounts are untouched).
fn in_chroot(root: &Path, script: &str) -> String {
    let setup = "mount -t proc proc \"$1/proc\" && mount -t sysfs sys \"$1/sys\" && \
                 mount --rbind /dev \"$1/dev\" && shift && exec chroot \"$@\"";
    run(nice("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--fork",
            "sh",
            "-c",
            setup,
            "sh",
        ])
        .arg(root)
        .arg(root)
        .args(["/bin/sh", "-ec", script])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))
}

/// Unpacks the cached root into `root` and installs `debs` inside it with `dpkg -i`.
fn install_kernel(tarball: &Path, root: &Path, debs: &[PathBuf]) -> String {
    fs::create_dir_all(root).unwrap();
    run(Command::new("tar")
        .args(["--numeric-owner", "-xpf"])
        .arg(tarball)
        .arg("-C")
        .arg(root));
    let staged = root.join("tmp/samekernel-debs");
    fs::create_dir_all(&staged).unwrap();
    for d in debs {
        fs::copy(d, staged.join(d.file_name().unwrap())).unwrap();
    }
    let log = in_chroot(root, "dpkg -i /tmp/samekernel-debs/*.deb 2>&1");
    fs::remove_dir_all(&staged).unwrap();
    log
}

/// The check unit, networkd's DHCP config and a hostname, enabled offline.
fn install_check_unit(root: &Path) {
    let write = |path: &str, text: &str, mode: u32| {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    };
    write("usr/local/sbin/samekernel-check", CHECK_SCRIPT, 0o755);
    write(
        "etc/systemd/system/samekernel-check.service",
        CHECK_UNIT,
        0o644,
    );
    write("etc/systemd/network/20-dhcp.network", NETWORK, 0o644);
    write("etc/hostname", "samekernel-guest\n", 0o644);
    write("etc/fstab", "/dev/vda / ext4 rw 0 1\n", 0o644);
    run(Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args([
            "enable",
            "systemd-networkd.service",
            "samekernel-check.service",
        ]));
}

/// An ext4 image of `root` (`mke2fs -d`), sized from its contents plus room for the boot.
fn disk_image(root: &Path, image: &Path) {
    let du = run(Command::new("du").args(["-s", "-B1M"]).arg(root));
    let used_mib: u64 = du.split_whitespace().next().unwrap().parse().unwrap();
    run(nice("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-L", "root", "-d"])
        .arg(root)
        .arg(image)
        .arg(format!("{}M", used_mib * 3 / 2 + 256)));
}

/// Boots the image with `vmlinuz` and `initrd`; returns the serial console's text.
fn boot(work: &Path, image: &Path, vmlinuz: &Path, initrd: &Path) -> String {
    let console = work.join("console.log");
    let status = nice("timeout")
        .args(["--kill-after=10", "900", "qemu-system-x86_64"])
        .args(["-machine", "q35", "-cpu", "max", "-smp", "1", "-m", "1536"])
        .args(["-display", "none", "-monitor", "none", "-no-reboot"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-kernel")
        .arg(vmlinuz)
        .arg("-initrd")
        .arg(initrd)
        .args([
            "-append",
            "root=/dev/vda rw console=ttyS0,115200 panic=-1 systemd.show_status=1",
        ])
        .arg("-drive")
        .arg(format!("file={},format=raw,if=virtio", image.display()))
        .args(["-netdev", "user,id=net0,restrict=on"])
        .args(["-device", "virtio-net-pci,netdev=net0"])
        .status()
        .unwrap();
    let text = String::from_utf8_lossy(&fs::read(&console).unwrap()).into_owned();
    assert!(status.success(), "qemu: {status}; console:\n{text}");
    text
}

/// The values the check unit printed for `key` (`SAMEKERNEL-CHECK key=value`).
fn checked<'a>(console: &'a str, key: &str) -> Vec<&'a str> {
    let prefix = format!("{MARK} {key}=");
    console
        .lines()
        .filter_map(|l| l.find(&prefix).map(|i| l[i + prefix.len()..].trim_end()))
        .collect()
}

/// Asserts what the check unit saw: our release, a DHCP address from slirp, and the
/// network driver loaded as a module and bound to the NIC.
fn assert_checked(console: &str, release: &str) {
    assert!(
        console.contains(&format!("{MARK} done")),
        "the check unit did not finish; console:\n{console}"
    );
    assert_eq!(checked(console, "uname-r"), [release], "{console}");
    let addrs = checked(console, "addr");
    assert!(
        addrs.iter().any(|a| a
            .split_once(' ')
            .is_some_and(|(_, ip)| ip.starts_with("10.0.2."))),
        "no address from slirp's DHCP: {addrs:?}\n{console}"
    );
    let drivers = checked(console, "driver");
    assert!(
        drivers
            .iter()
            .any(|d| d.ends_with(&format!(" {NET_DRIVER} module"))),
        "{NET_DRIVER} is not a loaded module bound to a NIC: {drivers:?}\n{console}"
    );
}

/// Purges every installed package of `release` and asserts nothing of it is left.
fn purge_and_assert_clean(root: &Path, release: &str) {
    let listed = in_chroot(root, "dpkg-query -W -f '${Package}\\n'");
    let ours: Vec<&str> = listed.lines().filter(|p| p.contains(release)).collect();
    assert!(!ours.is_empty(), "no package of {release} installed");
    in_chroot(root, &format!("apt-get purge -y {} 2>&1", ours.join(" ")));
    let left: Vec<String> = fs::read_dir(root.join("boot"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(release))
        .collect();
    assert!(left.is_empty(), "left in /boot after purge: {left:?}");
    for dir in ["lib/modules", "usr/src"] {
        let gone = root.join(dir).join(release);
        assert!(!gone.exists(), "{} is left after purge", gone.display());
    }
    for link in ["vmlinuz", "initrd.img", "vmlinuz.old", "initrd.img.old"] {
        if let Ok(target) = fs::read_link(root.join(link)) {
            let target = target.to_string_lossy().into_owned();
            assert!(
                !target.contains(release),
                "/{link} -> {target} left after purge"
            );
        }
    }
}

#[test]
#[ignore = "slow: a Debian root from the archive, dpkg -i in a chroot and a systemd boot under qemu TCG (~5 min with the .debs given, ~20 min building them)"]
fn slow_generic_debs_install_into_debian_boot_it_and_purge_cleanly() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "needs root: mmdebstrap --mode=root, chroot, unshare --mount"
    );
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let tarball = step("debian root (mmdebstrap or cache)", debian_root_tarball);
    let dir = step("generic .debs (given or built)", || generic_debs(work));
    let debs: Vec<PathBuf> = common::debs_in(&dir)
        .into_keys()
        .map(|n| dir.join(n))
        .collect();
    let release = image_release(&debs);
    let root = work.join("root");
    let log = step("unpack root + dpkg -i", || {
        install_kernel(&tarball, &root, &debs)
    });
    let vmlinuz = root.join(format!("boot/vmlinuz-{release}"));
    let initrd = root.join(format!("boot/initrd.img-{release}"));
    assert!(vmlinuz.is_file(), "no {}:\n{log}", vmlinuz.display());
    assert!(initrd.is_file(), "initramfs-tools made no initrd:\n{log}");
    // initramfs-tools takes the modules for the initrd from /lib/modules/<release>: a
    // package whose release differs from its modules' boots without its disk driver.
    let modules = root.join("lib/modules");
    assert!(
        modules.join(&release).join("kernel").is_dir(),
        "the package's release is {release}, its modules are in {:?}",
        fs::read_dir(&modules)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
            .unwrap_or_default()
    );
    // The package's postinst ran the /etc/kernel/postinst.d hooks (initramfs-tools').
    assert!(
        log.contains(&format!(
            "update-initramfs: Generating /boot/initrd.img-{release}"
        )),
        "{log}"
    );
    step("check unit", || install_check_unit(&root));
    let image = work.join("disk.img");
    step("mke2fs -d", || disk_image(&root, &image));
    let console = step("qemu boot to the check unit", || {
        boot(work, &image, &vmlinuz, &initrd)
    });
    fs::remove_file(&image).unwrap();
    assert_checked(&console, &release);
    step("apt-get purge", || purge_and_assert_clean(&root, &release));
}
