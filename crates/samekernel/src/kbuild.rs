//! Running kbuild: the [`Kbuild`] seam every stage that needs make goes through, and
//! [`KbuildRunner`], the real one (sanitized environment, log file, step counting).
//!
//! Stages take `&mut dyn Kbuild`, so their tests run with a fake that writes the files
//! make would write, in milliseconds.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kbuild_env::KbuildEnv;

use crate::Target;

/// Why running kbuild (or a tool under its environment) failed.
#[derive(Debug, thiserror::Error)]
pub enum KbuildError {
    /// The program could not be started.
    #[error("cannot run {what}: {source}")]
    Spawn {
        /// What was run, e.g. `make all`.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// It ran and failed; the log has everything.
    #[error("kbuild failed ({what}: {status}); last lines of {}:\n{tail}", log.display())]
    Failed {
        /// What was run.
        what: String,
        /// Its exit status.
        status: String,
        /// The build log.
        log: PathBuf,
        /// The log's last 25 lines.
        tail: String,
    },
    /// A query (`make -s kernelrelease`) failed.
    #[error("{what} failed: {stderr}")]
    Query {
        /// What was run.
        what: String,
        /// Its standard error.
        stderr: String,
    },
    /// The build log could not be written.
    #[error("{}: {source}", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What the stages need from kbuild. [`KbuildRunner`] is the real one.
pub trait Kbuild {
    /// `make <args>` in the object tree; `on_step` is called with the number of kbuild
    /// steps (quiet-mode lines such as `  CC init/main.o`) seen so far.
    fn make(&mut self, args: &[&str], on_step: &mut dyn FnMut(u64)) -> Result<(), KbuildError>;
    /// `make -s <args>`, returning its standard output without surrounding whitespace.
    fn query(&mut self, args: &[&str]) -> Result<String, KbuildError>;
    /// Runs the source tree's shell script `script` with `dest` as its argument, in the
    /// object tree, with the variables kbuild would export to it.
    fn script(&mut self, script: &Path, dest: &Path) -> Result<(), KbuildError>;
    /// A command for a binutils program (`readelf`, `objcopy`) under the same
    /// environment, for the target's binaries.
    fn tool(&self, name: &str) -> Command;
}

/// The real kbuild: every command under [`KbuildEnv`], output appended to a log file.
#[derive(Debug)]
pub struct KbuildRunner {
    env: KbuildEnv,
    log: PathBuf,
    /// `ARCH=`/`CROSS_COMPILE=` arguments; empty for a native build, where kbuild
    /// derives them from the machine exactly as before targets existed.
    arch_args: Vec<String>,
    cross_prefix: &'static str,
    src_arch: &'static str,
}

impl KbuildRunner {
    /// A runner for `target` on a machine whose `uname -m` is `machine`, logging to `log`.
    pub fn new(env: KbuildEnv, log: PathBuf, target: &Target, machine: &str) -> KbuildRunner {
        let native = target.is_native_on(machine);
        let cross_prefix = if native { "" } else { target.cross_compile };
        let arch_args = if native {
            Vec::new()
        } else {
            vec![
                format!("ARCH={}", target.kbuild_arch),
                format!("CROSS_COMPILE={cross_prefix}"),
            ]
        };
        KbuildRunner {
            env,
            log,
            arch_args,
            cross_prefix,
            src_arch: target.src_arch,
        }
    }

    /// The build log.
    pub fn log(&self) -> &Path {
        &self.log
    }

    fn make_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.make_command(&[]);
        cmd.args(&self.arch_args).args(args);
        cmd
    }

    fn log_err(&self) -> impl Fn(std::io::Error) -> KbuildError + '_ {
        |source| KbuildError::Log {
            path: self.log.clone(),
            source,
        }
    }

    /// Runs `cmd`, stdout and stderr to the log, counting steps on stdout.
    fn run(
        &self,
        mut cmd: Command,
        what: &str,
        on_step: &mut dyn FnMut(u64),
    ) -> Result<(), KbuildError> {
        let mut log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(self.log_err())?;
        writeln!(log, "$ {what}").map_err(self.log_err())?;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| KbuildError::Spawn {
                what: what.to_owned(),
                source,
            })?;
        let mut err_log = log.try_clone().map_err(self.log_err())?;
        let stderr = child.stderr.take().expect("piped");
        let err_thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(err_log, "{line}");
            }
        });
        let mut steps = 0u64;
        for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
            let line = line.map_err(self.log_err())?;
            writeln!(log, "{line}").map_err(self.log_err())?;
            if line.starts_with("  ") {
                steps += 1;
                on_step(steps);
            }
        }
        let _ = err_thread.join();
        let status = child.wait().map_err(|source| KbuildError::Spawn {
            what: what.to_owned(),
            source,
        })?;
        if status.success() {
            return Ok(());
        }
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let mut tail: Vec<&str> = text.lines().rev().take(25).collect();
        tail.reverse();
        Err(KbuildError::Failed {
            what: what.to_owned(),
            status: status.to_string(),
            log: self.log.clone(),
            tail: tail.join("\n"),
        })
    }
}

impl Kbuild for KbuildRunner {
    fn make(&mut self, args: &[&str], on_step: &mut dyn FnMut(u64)) -> Result<(), KbuildError> {
        self.run(
            self.make_command(args),
            &format!("make {}", args.join(" ")),
            on_step,
        )
    }

    fn query(&mut self, args: &[&str]) -> Result<String, KbuildError> {
        let what = format!("make -s {}", args.join(" "));
        let mut cmd = self.make_command(&["-s"]);
        cmd.args(args);
        let out = cmd.output().map_err(|source| KbuildError::Spawn {
            what: what.clone(),
            source,
        })?;
        if !out.status.success() {
            return Err(KbuildError::Query {
                what,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn script(&mut self, script: &Path, dest: &Path) -> Result<(), KbuildError> {
        let mut cmd = Command::new("sh");
        self.env.apply(&mut cmd);
        let spec = self.env.spec();
        let cc = format!("{}gcc", self.cross_prefix);
        cmd.current_dir(&spec.obj_dir)
            .arg(script)
            .arg(dest)
            .env("srctree", &spec.src_dir)
            .env("SRCARCH", self.src_arch)
            .env("MAKE", "make")
            .env("CC", cc)
            .env("HOSTCC", "gcc");
        // The script runs make itself (install-extmod-build rebuilds the host programs
        // with the cross compiler): it must see the same ARCH/CROSS_COMPILE as kbuild.
        for arg in &self.arch_args {
            if let Some((name, value)) = arg.split_once('=') {
                cmd.env(name, value);
            }
        }
        let name = script.file_name().unwrap_or(script.as_os_str());
        self.run(cmd, &name.to_string_lossy(), &mut |_| {})
    }

    fn tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(format!("{}{name}", self.cross_prefix));
        self.env.apply(&mut cmd);
        cmd
    }
}

/// A [`Kbuild`] for tests: make and scripts are closures over the arguments, queries
/// answer from a table, and every call is recorded.
#[cfg(test)]
pub(crate) mod fake {
    use super::*;

    type MakeFn = dyn FnMut(&[&str]) -> std::io::Result<u64>;
    type ScriptFn = dyn FnMut(&Path, &Path) -> std::io::Result<()>;

    pub(crate) struct FakeKbuild {
        /// Does what make would; returns how many steps to report.
        pub make: Box<MakeFn>,
        pub script: Box<ScriptFn>,
        pub answers: Vec<(&'static str, String)>,
        pub calls: Vec<String>,
    }

    impl FakeKbuild {
        pub(crate) fn new(make: impl FnMut(&[&str]) -> std::io::Result<u64> + 'static) -> Self {
            FakeKbuild {
                make: Box::new(make),
                script: Box::new(|_, _| Ok(())),
                answers: Vec::new(),
                calls: Vec::new(),
            }
        }
    }

    fn failed(what: String, e: std::io::Error) -> KbuildError {
        KbuildError::Failed {
            what,
            status: "fake".into(),
            log: PathBuf::from("fake.log"),
            tail: e.to_string(),
        }
    }

    impl Kbuild for FakeKbuild {
        fn make(&mut self, args: &[&str], on_step: &mut dyn FnMut(u64)) -> Result<(), KbuildError> {
            let what = format!("make {}", args.join(" "));
            self.calls.push(what.clone());
            let steps = (self.make)(args).map_err(|e| failed(what, e))?;
            (1..=steps).for_each(on_step);
            Ok(())
        }

        fn query(&mut self, args: &[&str]) -> Result<String, KbuildError> {
            let what = format!("make -s {}", args.join(" "));
            self.calls.push(what.clone());
            let answer = self.answers.iter().find(|(q, _)| *q == args.join(" "));
            answer.map(|(_, a)| a.clone()).ok_or(KbuildError::Query {
                what,
                stderr: "no answer".into(),
            })
        }

        fn script(&mut self, script: &Path, dest: &Path) -> Result<(), KbuildError> {
            self.calls.push(format!("sh {}", script.display()));
            (self.script)(script, dest).map_err(|e| failed("script".into(), e))
        }

        fn tool(&self, name: &str) -> Command {
            Command::new(name)
        }
    }
}
