//! The flavours' config stage against the pinned source (no compile):
//! `kernel-deb build --flavour NAME --config-only`. Network: the pin (and for
//! `debian` the pinned linux-config-6.12 package) come from the Debian archive.

use std::path::Path;
use std::process::Command;

mod common;
use common::assert_config_lines;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

/// `--config-only` in a fresh work dir; returns (stdout+stderr of a success, the config).
fn configure(dir: &Path, name: &str, extra: &[&str]) -> (std::process::Output, String) {
    let out = dir.join(format!("{name}-out"));
    let output = Command::new(BIN)
        .args(["build", "--config-only", "--out"])
        .arg(&out)
        .arg("--work-dir")
        .arg(dir.join(format!("{name}-work")))
        .args(extra)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(dir.join(format!("{name}-work")));
    let config = std::fs::read_to_string(out.join("config")).unwrap_or_default();
    (output, config)
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
#[ignore = "network"]
fn debian_flavour_is_debians_config_with_each_change_explained() {
    let t = tempfile::tempdir().unwrap();
    let (o, config) = configure(t.path(), "debian", &["--flavour", "debian"]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    // The deliberate changes, each with its reason.
    assert!(
        log.contains(
            "CONFIG_MODULE_SIG_ALL: absent (Kconfig default) -> is not set: Debian signs its modules"
        ),
        "{log}"
    );
    assert!(
        log.contains("CONFIG_LOCALVERSION: \"\" -> \"-samekernel-debian\""),
        "{log}"
    );
    // They hold in the resolved config; BTF survives because pahole is pinned.
    let wanted = [
        "# CONFIG_MODULE_SIG_ALL is not set",
        "CONFIG_MODULE_SIG_KEY=\"\"",
        "CONFIG_SYSTEM_TRUSTED_KEYS=\"\"",
        "CONFIG_LOCALVERSION=\"-samekernel-debian\"",
        "CONFIG_DEBUG_INFO_BTF=y",
        "CONFIG_PAHOLE_VERSION=124",
    ];
    assert_config_lines(&config, &wanted, "debian");
    // What kbuild itself changed in Debian's config is listed (the compiler probes at
    // least: Debian builds with x86_64-linux-gnu-gcc-12, we with gcc).
    assert!(log.contains("kbuild resolved"), "{log}");
    assert!(log.contains("changed: CONFIG_CC_VERSION_TEXT"), "{log}");
}

#[test]
#[ignore = "network"]
fn generic_flavour_has_common_hardware_and_tiny_loses_btf_only_when_allowed() {
    let t = tempfile::tempdir().unwrap();
    let (o, config) = configure(t.path(), "generic", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let wanted = [
        "CONFIG_KVM_GUEST=y",
        "CONFIG_E1000E=m",
        "CONFIG_VIRTIO_NET=m",
        "CONFIG_BLK_DEV_NVME=m",
        "CONFIG_SATA_AHCI=m",
        "CONFIG_USB_XHCI_HCD=m",
        "CONFIG_USB_STORAGE=m",
        "CONFIG_BTRFS_FS=m",
        "CONFIG_IKCONFIG=y",
        "CONFIG_DEVTMPFS_MOUNT=y",
    ];
    assert_config_lines(&config, &wanted, "generic");

    // BTF without the bpf() syscall cannot be: kbuild drops it, and that stops the
    // build unless allowed by name.
    let frag = t.path().join("btf-no-bpf.config");
    std::fs::write(
        &frag,
        "CONFIG_DEBUG_INFO_DWARF5=y\nCONFIG_DEBUG_INFO_BTF=y\n",
    )
    .unwrap();
    let frag = frag.to_str().unwrap();
    let tiny = ["--flavour", "tiny", "--config-fragment", frag];
    let (o, _) = configure(t.path(), "lost", &tiny);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("kbuild dropped CONFIG_DEBUG_INFO_BTF"),
        "{}",
        text(&o)
    );
    let allowed = [&tiny[..], &["--allow-config-loss", "DEBUG_INFO_BTF"]].concat();
    let (o, config) = configure(t.path(), "allowed", &allowed);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("dropped: CONFIG_DEBUG_INFO_BTF requested y"),
        "{log}"
    );
    assert!(!config.contains("CONFIG_DEBUG_INFO_BTF=y"));
}

#[test]
#[ignore = "network"]
fn generic_arm64_is_arm64s_defconfig_for_vms_with_btf_and_passes_the_hardening_gate() {
    let t = tempfile::tempdir().unwrap();
    let args = ["--flavour", "generic", "--arch", "arm64"];
    let (o, config) = configure(t.path(), "generic-arm64", &args);
    assert!(o.status.success(), "{}", text(&o));
    let wanted = [
        "CONFIG_ARM64=y",
        "CONFIG_SERIAL_AMBA_PL011_CONSOLE=y",
        "CONFIG_VIRTIO_PCI=y",
        "CONFIG_BLK_DEV_NVME=m",
        "CONFIG_IXGBE=m",
        "CONFIG_DM_CRYPT=m",
        "CONFIG_IKCONFIG=y",
        "CONFIG_DEVTMPFS_MOUNT=y",
        "CONFIG_DEBUG_INFO_BTF=y",
        "CONFIG_PAHOLE_VERSION=124",
        "CONFIG_LOCALVERSION=\"-samekernel\"",
        // No signature enforcement for kexec_file_load on arm64, so none of it.
        "# CONFIG_KEXEC_FILE is not set",
    ];
    assert_config_lines(&config, &wanted, "generic arm64");
    // virt.config: no SoC platforms.
    assert_config_lines(&config, &["# CONFIG_ARCH_QCOM is not set"], "generic arm64");
}
