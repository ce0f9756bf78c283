//! Kernel command-line rules. A rule that a `.config` default can also satisfy says so with
//! an `Any` over a cmdline term and a kconfig term.
//!
//! Parameter names and values are those of Documentation/admin-guide/kernel-parameters.txt
//! in Linux 6.12.

use super::prelude::*;

const KSPP: &str = "KSPP Recommended Settings, section kernel command line options";
const DOC: &str = "Documentation/admin-guide/kernel-parameters.txt";
const HW: &str = "Documentation/admin-guide/hw-vuln/";
const LSM: &str = "Documentation/admin-guide/LSM/index.rst";
const CLIP: &str = "CLIP OS documentation, Kernel > Configuration > command line";

/// Command-line rules, in report order.
pub static RULES: &[Rule] = &[
    // ---- speculative execution ----
    rule(
        c("mitigations", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        KSPP,
        "mitigations=off switches every CPU vulnerability mitigation off at once",
    ),
    with(
        Check::Any(&[c("nosmt", Yes), c("mitigations", ListContains("nosmt"))]),
        SelfProtection,
        &[Kspp],
        HW,
        "sibling hyperthreads share buffers that MDS/L1TF-class bugs leak through",
    ),
    rule(
        c("spectre_v2", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the Spectre v2 mitigation",
    )
    .x86(),
    rule(
        c("spectre_v2_user", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps Spectre v2 protection between user processes",
    )
    .x86(),
    rule(
        c("spectre_bhi", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the branch history injection mitigation",
    )
    .x86(),
    rule(
        c("spec_store_bypass_disable", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the speculative store bypass mitigation",
    )
    .x86(),
    rule(
        c("l1tf", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the L1 terminal fault mitigation",
    )
    .x86(),
    rule(
        c("mds", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the MDS buffer clearing",
    )
    .x86(),
    rule(
        c("tsx_async_abort", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the TAA mitigation",
    )
    .x86(),
    rule(
        c("srbds", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the SRBDS mitigation",
    )
    .x86(),
    rule(
        c("mmio_stale_data", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the MMIO stale data mitigation",
    )
    .x86(),
    rule(
        c("retbleed", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the Retbleed mitigation",
    )
    .x86(),
    rule(
        c("spec_rstack_overflow", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the SRSO mitigation",
    )
    .x86(),
    rule(
        c("gather_data_sampling", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the GDS mitigation",
    )
    .x86(),
    rule(
        c("reg_file_data_sampling", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the RFDS mitigation",
    )
    .x86(),
    rule(
        c("indirect_target_selection", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps the ITS mitigation",
    )
    .x86(),
    rule(
        c("nospectre_v1", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "nospectre_v1 drops the bounds-check-bypass barriers",
    ),
    rule(
        c("nospectre_v2", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "nospectre_v2 drops the branch target injection mitigation",
    ),
    rule(
        c("nospec_store_bypass_disable", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "drops the speculative store bypass mitigation",
    ),
    rule(
        c("nospectre_bhb", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "drops the Spectre-BHB mitigation",
    )
    .arm64(),
    rule(
        c("ssbd", NoneOf(&["force-off"])),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "keeps speculative store bypass protection on arm64",
    )
    .arm64(),
    rule(
        c("kpti", FALSY),
        SelfProtection,
        &[Defconfig, Kspp],
        KSPP,
        "keeps kernel page-table isolation on arm64",
    )
    .arm64(),
    rule(
        c("nopti", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "nopti removes kernel page-table isolation",
    )
    .x86(),
    rule(
        c("pti", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        HW,
        "pti=off removes kernel page-table isolation",
    )
    .x86(),
    with(
        Check::Any(&[c("tsx", Is("off")), k("X86_INTEL_TSX_MODE_OFF", Yes)]),
        SelfProtection,
        &[Kspp],
        HW,
        "TSX is the vehicle for TAA and other leaks; keep it off",
    )
    .x86(),
    rule(
        c("l1d_flush", Is("on")),
        SelfProtection,
        &[Kspp],
        HW,
        "lets processes ask for an L1D flush when they are switched out",
    )
    .x86(),
    // ---- CPU protection features ----
    rule(
        c("nosmep", Off),
        SelfProtection,
        &[Defconfig, Kspp, Grsecurity],
        DOC,
        "SMEP stops the kernel executing user pages (the hardware form of KERNEXEC)",
    )
    .x86(),
    rule(
        c("nosmap", Off),
        SelfProtection,
        &[Defconfig, Kspp, Grsecurity],
        DOC,
        "SMAP stops the kernel touching user pages by accident (the hardware form of UDEREF)",
    )
    .x86(),
    rule(
        c("clearcpuid", Off),
        SelfProtection,
        &[Ours],
        DOC,
        "clearcpuid can hide SMEP, SMAP, UMIP or IBT from the kernel",
    )
    .x86(),
    rule(
        c("nopku", Off),
        HardenUserSpace,
        &[Ours],
        DOC,
        "keeps memory protection keys available to user space",
    )
    .x86(),
    rule(
        c("ibt", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "ibt=off disables indirect branch tracking",
    )
    .x86(),
    rule(
        c("cfi", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "cfi=off disables kernel control-flow integrity",
    )
    .x86(),
    rule(
        c("arm64.nobti", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "arm64.nobti disables branch target identification",
    )
    .arm64(),
    rule(
        c("arm64.nopauth", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "arm64.nopauth disables pointer authentication",
    )
    .arm64(),
    rule(
        c("arm64.nomte", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "arm64.nomte disables memory tagging",
    )
    .arm64(),
    rule(
        c("rodata", OneOf(&["full"])),
        SelfProtection,
        &[Kspp],
        DOC,
        "rodata=full also protects the linear alias of kernel data",
    )
    .arm64()
    .with_id("cmdline:rodata:arm64"),
    rule(
        c("rodata", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "rodata=off leaves kernel read-only data writable",
    ),
    rule(
        c("nokaslr", Off),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "nokaslr puts the kernel at a known address",
    ),
    rule(
        c("norandmaps", Off),
        HardenUserSpace,
        &[Defconfig, Kspp],
        DOC,
        "norandmaps turns off address-space randomisation for every process",
    ),
    // ---- memory allocator ----
    with(
        Check::Any(&[c("slab_nomerge", Yes), k("SLAB_MERGE_DEFAULT", Off)]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "keep slab caches separate so overflows stay among objects of one type",
    ),
    rule(
        c("slab_merge", Off),
        SelfProtection,
        &[Kspp],
        DOC,
        "slab_merge undoes slab_nomerge",
    ),
    with(
        Check::Any(&[
            c("init_on_alloc", Is("1")),
            k("INIT_ON_ALLOC_DEFAULT_ON", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "zero allocations so stale data cannot leak",
    ),
    with(
        Check::Any(&[
            c("init_on_free", Is("1")),
            k("INIT_ON_FREE_DEFAULT_ON", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "wipe freed memory so use-after-free reads find nothing",
    ),
    rule(
        c("init_on_alloc", NoneOf(&["0"])),
        SelfProtection,
        &[Kspp],
        DOC,
        "init_on_alloc=0 undoes the build-time default",
    )
    .with_id("cmdline:init_on_alloc:not-0"),
    rule(
        c("init_on_free", NoneOf(&["0"])),
        SelfProtection,
        &[Kspp],
        DOC,
        "init_on_free=0 undoes the build-time default",
    )
    .with_id("cmdline:init_on_free:not-0"),
    rule(
        c("page_alloc.shuffle", Is("1")),
        SelfProtection,
        &[Kspp],
        KSPP,
        "randomise page allocator free lists",
    ),
    rule(
        c("hardened_usercopy", FALSY),
        SelfProtection,
        &[Kspp],
        DOC,
        "hardened_usercopy=off drops user-copy bounds checks",
    ),
    with(
        Check::Any(&[
            c(
                "randomize_kstack_offset",
                OneOf(&["1", "on", "y", "yes", "true"]),
            ),
            k("RANDOMIZE_KSTACK_OFFSET_DEFAULT", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "a random kernel stack offset on every syscall",
    ),
    rule(
        c("randomize_kstack_offset", FALSY),
        SelfProtection,
        &[Kspp],
        DOC,
        "randomize_kstack_offset=off undoes the build default",
    )
    .with_id("cmdline:randomize_kstack_offset:not-off"),
    with(
        Check::Any(&[
            c("page_table_check", Is("on")),
            k("PAGE_TABLE_CHECK_ENFORCED", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "run the page-table checks",
    ),
    rule(
        c("no_hash_pointers", Off),
        SelfProtection,
        &[Kspp],
        DOC,
        "printing raw pointers in logs gives away the kernel layout",
    ),
    with(
        Check::Any(&[
            c("proc_mem.force_override", Is("never")),
            k("PROC_MEM_NO_FORCE", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        DOC,
        "/proc/pid/mem writes must not override read-only mappings",
    ),
    rule(
        c("oops", Is("panic")),
        SelfProtection,
        &[Kspp],
        KSPP,
        "after an oops the kernel's state is suspect; stop",
    ),
    // ---- IOMMU and DMA ----
    rule(
        c("iommu.passthrough", NoneOf(&["1", "y", "on"])),
        SelfProtection,
        &[Defconfig, Kspp],
        KSPP,
        "IOMMU passthrough lets devices DMA anywhere",
    ),
    with(
        Check::Any(&[
            c("iommu.strict", Is("1")),
            k("IOMMU_DEFAULT_DMA_STRICT", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "flush IOTLBs synchronously so freed DMA buffers are unreachable",
    ),
    rule(
        c("iommu", NoneOf(&["off", "pt", "soft"])),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "iommu=off/pt/soft weakens DMA isolation",
    )
    .x86(),
    with(
        Check::Any(&[c("intel_iommu", Is("on")), k("INTEL_IOMMU_DEFAULT_ON", Yes)]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "Intel DMA remapping on",
    )
    .x86(),
    rule(
        c("intel_iommu", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "intel_iommu=off drops DMA remapping",
    )
    .x86()
    .with_id("cmdline:intel_iommu:not-off"),
    rule(
        c("amd_iommu", NOT_OFF),
        SelfProtection,
        &[Defconfig, Kspp],
        DOC,
        "amd_iommu=off drops DMA remapping",
    )
    .x86(),
    rule(
        c("amd_iommu_intr", NoneOf(&["legacy"])),
        SelfProtection,
        &[Ours],
        DOC,
        "interrupt remapping stops devices forging interrupts",
    )
    .x86(),
    rule(
        c("intremap", NOT_OFF),
        SelfProtection,
        &[Ours],
        DOC,
        "intremap=off lets a device with DMA inject arbitrary interrupts",
    )
    .x86(),
    with(
        Check::Any(&[
            c("efi", ListContains("disable_early_pci_dma")),
            k("EFI_DISABLE_PCI_DMA", Yes),
        ]),
        SelfProtection,
        &[Kspp],
        KSPP,
        "no bus mastering between firmware hand-off and IOMMU setup",
    ),
    // ---- surface ----
    with(
        Check::Any(&[c("debugfs", Is("off")), k("DEBUG_FS", Off)]),
        CutAttackSurface,
        &[Kspp],
        KSPP,
        "debugfs holds unaudited kernel internals",
    ),
    with(
        Check::Any(&[c("vsyscall", Is("none")), k("LEGACY_VSYSCALL_NONE", Yes)]),
        HardenUserSpace,
        &[Kspp],
        KSPP,
        "no fixed-address vsyscall page in every process",
    )
    .x86(),
    with(
        Check::Any(&[
            c("ia32_emulation", FALSY),
            k("IA32_EMULATION", Off),
            k("IA32_EMULATION_DEFAULT_DISABLED", Yes),
        ]),
        CutAttackSurface,
        &[Kspp],
        KSPP,
        "no 32-bit syscall entry unless needed",
    )
    .x86(),
    rule(
        c("sysrq_always_enabled", Off),
        CutAttackSurface,
        &[Kspp],
        DOC,
        "SysRq must follow the kernel.sysrq policy",
    ),
    with(
        Check::Any(&[
            c("bdev_allow_write_mounted", FALSY),
            k("BLK_DEV_WRITE_MOUNTED", Off),
        ]),
        CutAttackSurface,
        &[Kspp],
        DOC,
        "writing to a mounted filesystem's device corrupts it under the kernel's feet",
    ),
    // ---- policy ----
    with(
        Check::Any(&[
            c("lockdown", Is("confidentiality")),
            k("LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY", Yes),
        ]),
        SecurityPolicy,
        &[Kspp],
        KSPP,
        "lockdown separates root from the kernel",
    ),
    with(
        Check::Any(&[
            c("module.sig_enforce", Is("1")),
            k("MODULE_SIG_FORCE", Yes),
            k("MODULES", Off),
        ]),
        SecurityPolicy,
        &[Kspp],
        KSPP,
        "refuse unsigned modules",
    ),
    with(
        Check::Any(&[c("lsm", Off), c("lsm", ListContains("lockdown"))]),
        SecurityPolicy,
        &[Ours],
        LSM,
        "an explicit lsm= list replaces CONFIG_LSM; it must keep lockdown",
    )
    .with_id("cmdline:lsm:lockdown"),
    with(
        Check::Any(&[c("lsm", Off), c("lsm", ListContains("yama"))]),
        SecurityPolicy,
        &[Ours],
        LSM,
        "an explicit lsm= list must keep yama",
    )
    .with_id("cmdline:lsm:yama"),
    with(
        Check::Any(&[c("lsm", Off), c("lsm", ListContains("landlock"))]),
        SecurityPolicy,
        &[Ours],
        LSM,
        "an explicit lsm= list must keep landlock",
    )
    .with_id("cmdline:lsm:landlock"),
    rule(
        c("security", Off),
        SecurityPolicy,
        &[Ours],
        LSM,
        "security= is the legacy major-LSM selector; use lsm=",
    ),
    rule(
        c("apparmor", NoneOf(&["0"])),
        SecurityPolicy,
        &[Distro],
        LSM,
        "apparmor=0 switches AppArmor off",
    ),
    rule(
        c("selinux", NoneOf(&["0"])),
        SecurityPolicy,
        &[Distro],
        LSM,
        "selinux=0 switches SELinux off",
    ),
    rule(
        c("enforcing", NoneOf(&["0"])),
        SecurityPolicy,
        &[Distro],
        LSM,
        "enforcing=0 boots SELinux permissive",
    ),
    with(
        Check::Any(&[
            c("loadpin.enforce", Is("1")),
            k("SECURITY_LOADPIN_ENFORCE", Yes),
        ]),
        SecurityPolicy,
        &[Kspp],
        DOC,
        "LoadPin enforcing",
    ),
    rule(
        c("random.trust_cpu", Is("off")),
        SecurityPolicy,
        &[ClipOs],
        CLIP,
        "do not credit the CPU's RDRAND alone with entropy",
    ),
    rule(
        c("random.trust_bootloader", Is("off")),
        SecurityPolicy,
        &[ClipOs],
        CLIP,
        "do not credit the boot loader's seed alone with entropy",
    ),
    rule(
        c("audit", NoneOf(&["0", "off"])),
        SecurityPolicy,
        &[Ours],
        DOC,
        "audit=0 hides security events",
    ),
];
