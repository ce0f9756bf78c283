//! What may differ between two builds (reprotest's variation names), which of them
//! this machine can apply, and why the others are skipped.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::ReproError;

/// One thing that differs between the control build and the experiment build.
/// Names and meanings follow reprotest's variations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variation {
    /// Extra junk variables in the environment (`CFLAGS`, `MAKEFLAGS`,
    /// `KBUILD_BUILD_USER`, `SOURCE_DATE_EPOCH`, …).
    Environment,
    /// Another, deeper work directory.
    BuildPath,
    /// Another kernel personality: `setarch ARCH --uname-2.6`.
    Kernel,
    /// Address-space randomisation off: `setarch ARCH -R`.
    Aslr,
    /// One CPU (`taskset -c 0`) and `-j1` instead of `-j2`.
    NumCpus,
    /// The clock two years ahead (`faketime`).
    Time,
    /// Another uid and gid (a throwaway user); needs root.
    UserGroup,
    /// Shuffled directory order (`disorderfs --shuffle-dirents=yes` over the work
    /// directory); needs FUSE.
    FileOrdering,
    /// Another hostname and domain name (`unshare --uts`); needs root.
    DomainHost,
    /// Another `HOME`.
    Home,
    /// Another locale (`LANG`, `LC_ALL`, `LANGUAGE`).
    Locales,
    /// Fake `gcc`, `rustc`, `pahole`… first in `PATH`.
    ExecPath,
    /// Another `TZ` (26 hours apart).
    Timezone,
    /// umask 077 instead of 022.
    Umask,
}

impl Variation {
    /// Every variation, in the order they are reported.
    pub const ALL: [Variation; 14] = [
        Variation::Environment,
        Variation::BuildPath,
        Variation::Kernel,
        Variation::Aslr,
        Variation::NumCpus,
        Variation::Time,
        Variation::UserGroup,
        Variation::FileOrdering,
        Variation::DomainHost,
        Variation::Home,
        Variation::Locales,
        Variation::ExecPath,
        Variation::Timezone,
        Variation::Umask,
    ];

    /// reprotest's name, e.g. `build_path`.
    pub fn name(self) -> &'static str {
        match self {
            Variation::Environment => "environment",
            Variation::BuildPath => "build_path",
            Variation::Kernel => "kernel",
            Variation::Aslr => "aslr",
            Variation::NumCpus => "num_cpus",
            Variation::Time => "time",
            Variation::UserGroup => "user_group",
            Variation::FileOrdering => "fileordering",
            Variation::DomainHost => "domain_host",
            Variation::Home => "home",
            Variation::Locales => "locales",
            Variation::ExecPath => "exec_path",
            Variation::Timezone => "timezone",
            Variation::Umask => "umask",
        }
    }

    /// What this machine lacks to apply it (`None`: it can).
    pub fn missing(self, caps: &Capabilities) -> Option<String> {
        let program = |p: &str| {
            (!caps.has_program(p)).then(|| format!("`{p}` is not installed (PATH has no {p})"))
        };
        match self {
            Variation::Kernel | Variation::Aslr => program("setarch"),
            Variation::NumCpus => program("taskset"),
            Variation::Time => program("faketime"),
            Variation::UserGroup if !caps.root => {
                Some("needs root (to build as a throwaway user with setpriv)".into())
            }
            Variation::UserGroup => program("setpriv").or_else(|| program("useradd")),
            Variation::DomainHost if !caps.root => {
                Some("needs root (unshare --uts to set another hostname)".into())
            }
            Variation::DomainHost => program("unshare"),
            Variation::FileOrdering if !caps.fuse => Some(
                "FUSE is unavailable: no /dev/fuse (try `modprobe fuse`; in a container, pass the device)"
                    .into(),
            ),
            Variation::FileOrdering => program("disorderfs").or_else(|| program("fusermount")),
            _ => None,
        }
    }
}

impl fmt::Display for Variation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variation {
    type Err = ReproError;

    /// reprotest's name; `-` may stand for `_` (`build-path`).
    fn from_str(s: &str) -> Result<Variation, ReproError> {
        let wanted = s.trim().replace('-', "_");
        Variation::ALL
            .into_iter()
            .find(|v| v.name() == wanted)
            .ok_or_else(|| ReproError::UnknownVariation {
                name: s.to_owned(),
                known: Variation::ALL.map(Variation::name).join(", "),
            })
    }
}

/// A set of variations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariationSet(BTreeSet<Variation>);

impl VariationSet {
    /// Every variation.
    pub fn all() -> VariationSet {
        VariationSet(Variation::ALL.into_iter().collect())
    }

    /// A comma-separated list of names; `all` means every variation, `none` none.
    pub fn parse_list(list: &str) -> Result<VariationSet, ReproError> {
        let mut set = BTreeSet::new();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "all" => set.extend(Variation::ALL),
                "none" => {}
                name => {
                    set.insert(name.parse()?);
                }
            }
        }
        Ok(VariationSet(set))
    }

    /// `--vary` (default: all) minus `--no-vary`.
    pub fn from_flags(
        vary: Option<&str>,
        no_vary: Option<&str>,
    ) -> Result<VariationSet, ReproError> {
        let mut set = match vary {
            Some(list) => VariationSet::parse_list(list)?,
            None => VariationSet::all(),
        };
        if let Some(list) = no_vary {
            let drop = VariationSet::parse_list(list)?;
            set.0.retain(|v| !drop.contains(*v));
        }
        Ok(set)
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: Variation) -> bool {
        self.0.contains(&v)
    }

    /// The variations, in [`Variation::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Variation> + '_ {
        self.0.iter().copied()
    }

    /// Splits into what `caps` allows and what is skipped, with the reason.
    pub fn plan(&self, caps: &Capabilities) -> (VariationSet, Vec<(Variation, String)>) {
        let mut applied = VariationSet::default();
        let mut skipped = Vec::new();
        for v in self.iter() {
            match v.missing(caps) {
                None => {
                    applied.0.insert(v);
                }
                Some(why) => skipped.push((v, why)),
            }
        }
        (applied, skipped)
    }

    /// Comma-separated names (`none` when empty).
    pub fn names(&self) -> String {
        if self.0.is_empty() {
            return "none".into();
        }
        self.iter()
            .map(Variation::name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What the machine offers: root, FUSE, and which programs are in `PATH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Running as uid 0.
    pub root: bool,
    /// `/dev/fuse` exists.
    pub fuse: bool,
    /// Programs found in `PATH`.
    pub programs: BTreeSet<String>,
}

/// Programs some variation runs.
const PROGRAMS: [&str; 8] = [
    "setarch",
    "taskset",
    "faketime",
    "setpriv",
    "useradd",
    "unshare",
    "disorderfs",
    "fusermount",
];

impl Capabilities {
    /// Looks at this machine: euid, `/dev/fuse`, and `PATH`.
    pub fn probe(root: bool) -> Capabilities {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let programs = PROGRAMS
            .iter()
            .filter(|p| std::env::split_paths(&path).any(|d| is_executable(&d.join(p))))
            .map(|p| p.to_string())
            .collect();
        Capabilities {
            root,
            fuse: Path::new("/dev/fuse").exists(),
            programs,
        }
    }

    /// Whether `name` was found in `PATH`.
    pub fn has_program(&self, name: &str) -> bool {
        self.programs.contains(name)
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(root: bool, fuse: bool, programs: &[&str]) -> Capabilities {
        Capabilities {
            root,
            fuse,
            programs: programs.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn every_name_parses_back_and_dashes_are_accepted() {
        for v in Variation::ALL {
            assert_eq!(v.name().parse::<Variation>().unwrap(), v);
            assert_eq!(v.name().replace('_', "-").parse::<Variation>().unwrap(), v);
        }
        let err = "clock".parse::<Variation>().unwrap_err().to_string();
        assert!(err.contains("clock") && err.contains("build_path"), "{err}");
    }

    #[test]
    fn vary_and_no_vary_lists_combine() {
        let table: &[(Option<&str>, Option<&str>, &str)] = &[
            (
                None,
                None,
                "environment,build_path,kernel,aslr,num_cpus,time,user_group,fileordering,domain_host,home,locales,exec_path,timezone,umask",
            ),
            (Some("time,umask"), None, "time,umask"),
            (Some("umask, time"), None, "time,umask"),
            (None, Some("all"), "none"),
            (
                Some("all"),
                Some(
                    "time,fileordering,user_group,domain_host,kernel,aslr,num_cpus,exec_path,environment,build_path,home,locales",
                ),
                "timezone,umask",
            ),
            (Some("none"), None, "none"),
            (Some("build-path"), Some("build_path"), "none"),
        ];
        for (vary, no_vary, want) in table {
            let set = VariationSet::from_flags(*vary, *no_vary).unwrap();
            assert_eq!(set.names(), *want, "--vary {vary:?} --no-vary {no_vary:?}");
        }
        assert!(VariationSet::from_flags(Some("time,nope"), None).is_err());
        assert!(VariationSet::from_flags(None, Some("nope")).is_err());
    }

    #[test]
    fn without_root_or_fuse_those_variations_are_skipped_with_a_reason() {
        let everything = PROGRAMS;
        let (applied, skipped) = VariationSet::all().plan(&caps(true, true, &everything));
        assert_eq!(applied, VariationSet::all());
        assert!(skipped.is_empty());

        let (applied, skipped) = VariationSet::all().plan(&caps(false, false, &everything));
        let names: Vec<_> = skipped.iter().map(|(v, _)| v.name()).collect();
        assert_eq!(names, ["user_group", "fileordering", "domain_host"]);
        assert!(skipped[0].1.contains("root"));
        assert!(skipped[1].1.contains("/dev/fuse"));
        assert!(!applied.contains(Variation::UserGroup));
        assert!(applied.contains(Variation::Umask));

        let (_, skipped) =
            VariationSet::parse_list("time,aslr")
                .unwrap()
                .plan(&caps(true, true, &[]));
        assert_eq!(skipped.len(), 2);
        assert!(
            skipped
                .iter()
                .any(|(v, why)| *v == Variation::Time && why.contains("faketime"))
        );
        assert!(
            skipped
                .iter()
                .any(|(v, why)| *v == Variation::Aslr && why.contains("setarch"))
        );
    }

    #[test]
    fn probing_finds_programs_in_path() {
        // sh is always there, `setarch` comes with util-linux on every Debian.
        let c = Capabilities::probe(false);
        assert!(!c.root);
        assert!(c.has_program("setarch"), "{c:?}");
        assert!(
            !c.has_program("sh"),
            "only the programs variations use are probed"
        );
    }
}
