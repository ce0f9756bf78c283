//! [`build`]: every stage in order, from a [`BuildPlan`] to a published output.

use std::path::{Path, PathBuf};
use std::time::Instant;

use kbuild_env::{EnvSpec, FingerprintDiff, KbuildEnv, ToolchainFingerprint};
use srcpin::Fetcher;
use testimony::BuildRecord;
use testimony::build_record::SourcePin;

use crate::builddeb::PackageMeta;
use crate::error::BuildError;
use crate::gate::{ConfigGate, Finding, HazardGate, run_gates};
use crate::hardening::{self, HardeningGate};
use crate::kbuild::{Kbuild, KbuildRunner};
use crate::plan::BuildPlan;
use crate::record::{build_record, deb_record, sha256_file, write_record};
use crate::report::{BuildReporter, FetchToReporter, Stage};
use crate::signing::ModuleCert;
use crate::stage::compile;
use crate::stage::config::{
    ConfigError, ResolvedConfig, check_losses, requested_before_kbuild, require_debug_info,
    resolve_config, write_hardening_fragment, write_module_signing_fragment,
};
use crate::stage::package::{PackageDirs, package};
use crate::stage::pin::{PinnedSource, fetch_pin, unpack_source};
use crate::stage::publish::{Results, check_out_free};
use crate::stage::requested::ConfigChange;

/// What a successful build made.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// Where the packages and the record are.
    pub out: PathBuf,
    /// `make -s kernelrelease`.
    pub kernel_release: String,
    /// The packages' Debian version.
    pub version: String,
    /// The build record as written to `BUILD-RECORD`.
    pub record: BuildRecord,
    /// Everything the gates found (none blocking).
    pub findings: Vec<Finding>,
    /// Differences from the expected toolchain (empty when none was given or none differ).
    pub toolchain_diffs: Vec<FingerprintDiff>,
    /// Requested options kbuild dropped or changed (none blocking).
    pub config_changes: Vec<ConfigChange>,
}

/// Pinned pahole (Debian's `dwarves`), given to Kconfig and kbuild when the config asks
/// for `DEBUG_INFO_BTF`; its package version and banner are in the toolchain fingerprint.
pub const PAHOLE: &str = "/usr/bin/pahole";

/// What [`configure`] resolved: the gated config and what kbuild changed in it.
#[derive(Debug, Clone)]
pub struct Configured {
    /// The resolved config (with its changes).
    pub resolved: ResolvedConfig,
    /// Everything the gates found (none blocking).
    pub findings: Vec<Finding>,
    /// This machine's toolchain.
    pub fingerprint: ToolchainFingerprint,
}

/// Runs the stages up to the gate only (toolchain, pin, source, config, gate): a config
/// check without compiling. `work` receives the source and the object tree.
pub fn configure(
    plan: &BuildPlan,
    fetcher: &Fetcher,
    work: &Path,
    reporter: &mut dyn BuildReporter,
) -> Result<Configured, BuildError> {
    let p = prepare(plan, fetcher, work, reporter)?;
    Ok(Configured {
        resolved: p.resolved,
        findings: p.findings,
        fingerprint: p.fingerprint,
    })
}

/// What [`make_targets`] left in the work directory: nothing packaged.
#[derive(Debug)]
pub struct TargetsMade {
    /// The resolved config, the gates' findings and the toolchain.
    pub configured: Configured,
    /// The object tree the targets were made in.
    pub obj: PathBuf,
    /// The runner that made them (more targets can be made with [`crate::Kbuild::make`]
    /// under the same sanitized environment).
    pub kbuild: KbuildRunner,
    /// Kbuild steps the targets took.
    pub steps: u64,
}

/// The stages up to the gate, then `make <targets>` instead of the whole compile: for a
/// config too large to build in one sitting (the `debian` flavour), two runs' objects
/// (`vmlinux` with its BTF, one subsystem's modules) can still be compared file by file.
pub fn make_targets(
    plan: &BuildPlan,
    fetcher: &Fetcher,
    work: &Path,
    targets: &[&str],
    reporter: &mut dyn BuildReporter,
) -> Result<TargetsMade, BuildError> {
    let mut p = prepare(plan, fetcher, work, reporter)?;
    let mut steps = 0;
    let detail = format!("{} (-j{})", targets.join(" "), plan.jobs);
    timed(reporter, Stage::Compile, &detail, |_| {
        p.kbuild
            .make(targets, &mut |n| steps = n)
            .map_err(compile::CompileError::from)
    })?;
    Ok(TargetsMade {
        configured: Configured {
            resolved: p.resolved,
            findings: p.findings,
            fingerprint: p.fingerprint,
        },
        obj: p.obj,
        kbuild: p.kbuild,
        steps,
    })
}

/// Runs `f` as `stage`, reporting its start and its duration.
fn timed<T, E>(
    reporter: &mut dyn BuildReporter,
    stage: Stage,
    detail: &str,
    f: impl FnOnce(&mut dyn BuildReporter) -> Result<T, E>,
) -> Result<T, E> {
    reporter.stage_started(stage, detail);
    let started = Instant::now();
    let value = f(reporter)?;
    reporter.stage_finished(stage, started.elapsed());
    Ok(value)
}

/// The toolchain stage: fingerprint this machine (every tool kbuild needs is checked,
/// a missing one named with its Debian package) and compare with the plan's.
pub fn toolchain(
    plan: &BuildPlan,
) -> Result<(ToolchainFingerprint, Vec<FingerprintDiff>), BuildError> {
    let fingerprint = kbuild_env::collect(&toolchain_query(&plan.target))?;
    let diffs = plan
        .expected_toolchain
        .as_ref()
        .map_or_else(Vec::new, |theirs| fingerprint.diff(theirs));
    Ok((fingerprint, diffs))
}

/// The fingerprint query for `target` on this machine: the native toolchain, plus the
/// cross toolchain (`aarch64-linux-gnu-gcc`…) when the target is not native here.
fn toolchain_query(target: &crate::Target) -> kbuild_env::ToolchainQuery {
    if target.is_native_on(std::env::consts::ARCH) {
        return kbuild_env::ToolchainQuery::default();
    }
    let [gcc, binutils, libc] = target.cross_packages();
    let mut query = kbuild_env::ToolchainQuery::cross(target.cross_compile, gcc, binutils);
    // install-extmod-build links linux-headers' host programs against it.
    query.packages.push(libc.to_owned());
    query.required_packages.push(libc.to_owned());
    query
}

/// Builds `plan` in `work` (the caller owns it and decides whether to keep it), then
/// publishes to `plan.out`. The process umask should be [`kbuild_env::UMASK`]: it is
/// process-wide, so setting it is the caller's business.
pub fn build(
    plan: &BuildPlan,
    fetcher: &Fetcher,
    work: &Path,
    reporter: &mut dyn BuildReporter,
) -> Result<BuildOutcome, BuildError> {
    let mut prepared = prepare(plan, fetcher, work, reporter)?;
    let compiled = compile_stage(plan, &mut prepared, reporter)?;
    let meta = package_meta(plan, &prepared, &compiled)?;
    let results = Results::beside(&plan.out)?;
    let debs = timed(reporter, Stage::Package, "", |_| {
        let dirs = PackageDirs {
            src: &prepared.src,
            obj: &prepared.obj,
            staging: &work.join("staging"),
            results: results.path(),
        };
        package(
            &mut prepared.kbuild,
            dirs,
            &meta,
            plan.extras,
            plan.compressor,
        )
    })?;
    let record = timed(reporter, Stage::Record, "", |_| {
        record_stage(plan, &prepared, &debs, results.path())
    })?;
    timed(reporter, Stage::Publish, "", |_| results.publish(&plan.out))?;
    Ok(BuildOutcome {
        out: plan.out.clone(),
        kernel_release: compiled.kernel_release,
        version: meta.version,
        record,
        config_changes: prepared.resolved.changes.clone(),
        findings: prepared.findings,
        toolchain_diffs: prepared.toolchain_diffs,
    })
}

/// Everything up to compiling: a verified tree with a gated `.config`.
struct Prepared {
    fingerprint: ToolchainFingerprint,
    toolchain_diffs: Vec<FingerprintDiff>,
    pinned: PinnedSource,
    src: PathBuf,
    obj: PathBuf,
    kbuild: KbuildRunner,
    resolved: ResolvedConfig,
    findings: Vec<Finding>,
    hardening: Option<testimony::build_record::Hardening>,
    module_cert_sha256: Option<String>,
}

/// Stages toolchain, pin, source, config and gate; fails before anything is compiled.
fn prepare(
    plan: &BuildPlan,
    fetcher: &Fetcher,
    work: &Path,
    reporter: &mut dyn BuildReporter,
) -> Result<Prepared, BuildError> {
    plan.target.check_buildable()?;
    // Checked before anything is fetched: a bad certificate (or a key given as one)
    // stops the build at once.
    let module_cert = plan
        .module_cert
        .as_deref()
        .map(ModuleCert::load)
        .transpose()?;
    let (fingerprint, toolchain_diffs) =
        timed(reporter, Stage::Toolchain, "", |_| toolchain(plan))?;
    if plan.expected_toolchain.is_some() {
        reporter.toolchain_compared(&toolchain_diffs);
    }
    check_out_free(&plan.out)?;
    let pinned = timed(reporter, Stage::Pin, "", |r| {
        fetch_pin(&plan.manifest, fetcher, &mut FetchToReporter(r))
    })?;
    let src = timed(reporter, Stage::Source, "", |r| {
        unpack_source(&pinned, &work.join("src"), &mut FetchToReporter(r))
    })?;
    let (mut kbuild, env) = kbuild_runner(plan, &pinned, &src, work)?;
    let obj = env.spec().obj_dir.clone();
    // Two-stage module signing, stage 1: the certificate at its fixed tree path, the
    // signing rules required, the stage-1 fragment and gate (see crate::signing).
    let mut h = plan.hardening.clone();
    if let Some(cert) = &module_cert {
        cert.place(&obj)?;
        h.policy.require_module_signing();
    }
    let fragments = config_fragments(plan, &h, module_cert.as_ref(), &fingerprint, work)?;
    let resolved = timed(reporter, Stage::Config, "", |_| {
        resolve_config(&mut kbuild, &plan.config, &fragments, work, &obj)
    })?;
    check_losses(&resolved, &plan.allow_config_loss)?;
    let mut context = env.lint_context();
    context.trusted_keys_pinned = module_cert.is_some();
    let hazards = HazardGate {
        context,
        allow_blocking: plan.allow_hazards,
    };
    let h = &h;
    let hardening = HardeningGate::new(h.policy.clone(), &src, h.allow_weaker || !h.apply_fragment);
    let signing_gate = module_cert.as_ref().map(ModuleCert::gate);
    let gates: Vec<&dyn ConfigGate> = [&hazards as &dyn ConfigGate, &hardening]
        .into_iter()
        .chain(signing_gate.as_ref().map(|g| g as &dyn ConfigGate))
        .chain(plan.extra_gates.iter().map(|g| &**g))
        .collect();
    let findings = timed(reporter, Stage::Gate, "", |r| {
        run_gates(&gates, &resolved.config, &resolved.path, &mut |f| {
            r.finding(f)
        })
    })?;
    if plan.extras.dbg {
        require_debug_info(&resolved)?;
    }
    let hardening = hardening
        .report(&resolved.config)
        .ok()
        .map(|r| hardening::summary(&r, h));
    Ok(Prepared {
        module_cert_sha256: module_cert.map(|c| c.sha256),
        hardening,
        fingerprint,
        toolchain_diffs,
        pinned,
        src,
        obj,
        kbuild,
        resolved,
        findings,
    })
}

/// The config stage's fragments, in order: harden's fragment for this target and
/// toolchain first (unless `--no-harden`), then the user's. The base config comes before
/// both, so hardening overrides a flavour's choice (tiny's SLUB_TINY); the user's explicit
/// fragments come last and may weaken it, which the hardening gate then refuses unless
/// `--allow-weaker` — a weakening is always visible, never silent.
fn config_fragments(
    plan: &BuildPlan,
    h: &hardening::Hardening,
    module_cert: Option<&ModuleCert>,
    fingerprint: &ToolchainFingerprint,
    work: &Path,
) -> Result<Vec<PathBuf>, BuildError> {
    let mut fragments = Vec::new();
    if h.apply_fragment {
        let tc = hardening::toolchain_for(&plan.target, fingerprint)
            .ok_or(ConfigError::NoHardeningToolchain)?;
        let text = hardening::fragment_for(&tc, &h.policy);
        fragments.push(write_hardening_fragment(&text, work)?);
    }
    if let Some(cert) = module_cert {
        fragments.push(write_module_signing_fragment(&cert.fragment(), work)?);
    }
    fragments.extend(plan.fragments.iter().cloned());
    Ok(fragments)
}

/// The compile stage, with the remembered step count as the progress estimate.
fn compile_stage(
    plan: &BuildPlan,
    p: &mut Prepared,
    reporter: &mut dyn BuildReporter,
) -> Result<compile::Compiled, BuildError> {
    let release = compile::kernel_release(&mut p.kbuild, &plan.target)?;
    let config_sha256 = p.resolved.sha256();
    let memo = plan.step_memo.as_ref();
    let expected = memo.and_then(|m| m.recall(&config_sha256));
    let detail = format!("{release} (-j{})", plan.jobs);
    let compiled = timed(reporter, Stage::Compile, &detail, |r| {
        let mut progress = |progress| r.compile(progress);
        compile::compile(
            &mut p.kbuild,
            &plan.target,
            &p.obj,
            release,
            expected,
            &mut progress,
        )
    })?;
    if let Some(memo) = memo {
        // A progress hint: failing to remember it must not fail the build.
        let _ = memo.remember(&config_sha256, compiled.steps);
    }
    Ok(compiled)
}

/// Names and stamps of the packages: version `<pin version>+sk.<12 hex of the config>`.
fn package_meta(
    plan: &BuildPlan,
    p: &Prepared,
    compiled: &compile::Compiled,
) -> Result<PackageMeta, BuildError> {
    let release = &compiled.kernel_release;
    Ok(PackageMeta {
        version: format!(
            "{}+sk.{}",
            p.pinned.package_version_base(release),
            &p.resolved.sha256()[..12]
        ),
        kernel_release: release.clone(),
        target: plan.target,
        source_date_epoch: p.pinned.source_date_epoch()?,
        initrd: p.resolved.config.is_enabled("CONFIG_BLK_DEV_INITRD"),
        source_description: p.pinned.description(),
    })
}

/// The record stage: every package read back, the pin, the toolchain and the config.
fn record_stage(
    plan: &BuildPlan,
    p: &Prepared,
    debs: &[PathBuf],
    dir: &Path,
) -> Result<BuildRecord, BuildError> {
    let debs = debs
        .iter()
        .map(|d| deb_record(d))
        .collect::<Result<Vec<_>, _>>()?;
    let source = SourcePin {
        manifest_sha256: p.pinned.identity.to_string(),
        tarball_name: p.pinned.tarball_name(),
        tarball_sha256: sha256_file(&p.pinned.fetched.tarball)?,
        source_date_epoch: p.pinned.fetched.source_date_epoch,
    };
    let record = build_record(
        source,
        &p.fingerprint,
        p.resolved.sha256(),
        plan.flavour,
        p.hardening.clone(),
        p.module_cert_sha256.clone(),
        debs,
    )?;
    write_record(dir, &record, &p.fingerprint)?;
    Ok(record)
}

/// The sanitized environment for this plan and a runner logging to `work/build.log`.
fn kbuild_runner(
    plan: &BuildPlan,
    pinned: &PinnedSource,
    src: &Path,
    work: &Path,
) -> Result<(KbuildRunner, KbuildEnv), BuildError> {
    let obj = work.join("obj");
    let home = work.join("home");
    for dir in [&obj, &home] {
        std::fs::create_dir_all(dir).map_err(|source| BuildError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    let sde = pinned.source_date_epoch()?;
    let mut spec = EnvSpec::new(sde, src.to_path_buf(), obj, home, plan.jobs);
    let requested = requested_before_kbuild(&plan.config, &plan.fragments)?;
    if requested.asks_for("CONFIG_DEBUG_INFO_BTF") {
        spec.pahole = Some(PathBuf::from(PAHOLE));
    }
    let env = KbuildEnv::new(&spec)?;
    let runner = KbuildRunner::new(
        env.clone(),
        work.join("build.log"),
        &plan.target,
        std::env::consts::ARCH,
    );
    Ok((runner, env))
}
