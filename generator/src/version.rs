//! The spec's `info.version` as a semantic version, and the bump that a set of changes needs.
//!
//! A breaking change needs a major bump (a minor one while the major version is 0); any other
//! change needs at least a patch bump. Going back is never allowed.

use std::fmt;

use crate::diff::Change;
use crate::spec::Spec;

/// A `MAJOR.MINOR.PATCH` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Incompatible changes.
    pub major: u64,
    /// Compatible additions.
    pub minor: u64,
    /// Compatible fixes.
    pub patch: u64,
}

impl Version {
    /// Parses `MAJOR.MINOR.PATCH` (no pre-release or build suffix).
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().split('.').map(|p| {
            let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            let canonical = p == "0" || !p.starts_with('0');
            (digits && canonical)
                .then(|| p.parse::<u64>().ok())
                .flatten()
        });
        let version = Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }

    /// The `info.version` of `spec`, parsed.
    pub fn of(spec: &Spec) -> Result<Version, String> {
        let text = spec
            .raw
            .pointer("/info/version")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("{}: info.version is missing", spec.source.display()))?;
        Version::parse(text).ok_or_else(|| {
            format!(
                "{}: info.version `{text}` is not MAJOR.MINOR.PATCH",
                spec.source.display()
            )
        })
    }

    /// The smallest version after `self` that makes a bump of `bump`.
    pub fn bumped(self, bump: Bump) -> Version {
        match bump {
            Bump::None => self,
            Bump::Patch => Version {
                patch: self.patch + 1,
                ..self
            },
            Bump::Minor => Version {
                minor: self.minor + 1,
                patch: 0,
                ..self
            },
            Bump::Major => Version {
                major: self.major + 1,
                minor: 0,
                patch: 0,
            },
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// How far a version moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Not at all.
    None,
    /// The patch number.
    Patch,
    /// The minor number.
    Minor,
    /// The major number.
    Major,
}

impl Bump {
    /// The bump from `old` to `new` (`None` also when `new` is not after `old`).
    pub fn between(old: Version, new: Version) -> Bump {
        if new <= old {
            Bump::None
        } else if new.major != old.major {
            Bump::Major
        } else if new.minor != old.minor {
            Bump::Minor
        } else {
            Bump::Patch
        }
    }

    /// The bump that `changes` need from a spec at version `old`.
    pub fn required(old: Version, changes: &[Change]) -> Bump {
        if changes.iter().any(|c| c.breaking) {
            if old.major == 0 {
                Bump::Minor
            } else {
                Bump::Major
            }
        } else if changes.is_empty() {
            Bump::None
        } else {
            Bump::Patch
        }
    }
}

/// `Ok` when `new`'s version follows `old`'s as `changes` (from `old` to `new`) require; else
/// the reason and the smallest version that would do.
pub fn check_bump(old: &Spec, new: &Spec, changes: &[Change]) -> Result<(), String> {
    let (from, to) = (Version::of(old)?, Version::of(new)?);
    if to < from {
        return Err(format!("info.version goes back from {from} to {to}"));
    }
    let needed = Bump::required(from, changes);
    if Bump::between(from, to) >= needed {
        return Ok(());
    }
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let why = match changes.iter().find(|c| c.breaking) {
        Some(first) => format!("{breaking} breaking change(s), the first: {first}"),
        None => format!("{} change(s)", changes.len()),
    };
    Err(format!(
        "info.version {to} does not follow {from}: {why}; set it to {} or later",
        from.bumped(needed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(breaking: bool) -> Change {
        Change {
            location: "components.schemas.X".into(),
            description: "changed".into(),
            breaking,
        }
    }

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn versions_parse_strictly() {
        assert_eq!(
            v("1.20.3"),
            Version {
                major: 1,
                minor: 20,
                patch: 3
            }
        );
        for bad in [
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.x",
            "",
            "1..0",
            "-1.0.0",
            "1.0.0-rc1",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn breaking_changes_need_a_major_bump_or_a_minor_one_before_1_0() {
        let breaking = [change(true), change(false)];
        assert_eq!(Bump::required(v("1.4.2"), &breaking), Bump::Major);
        assert_eq!(Bump::required(v("0.4.2"), &breaking), Bump::Minor);
        assert_eq!(Bump::required(v("1.4.2"), &[change(false)]), Bump::Patch);
        assert_eq!(Bump::required(v("1.4.2"), &[]), Bump::None);
        assert_eq!(v("1.4.2").bumped(Bump::Major), v("2.0.0"));
        assert_eq!(v("0.4.2").bumped(Bump::Minor), v("0.5.0"));
    }

    #[test]
    fn bumps_are_measured_by_the_highest_part_that_moved() {
        assert_eq!(Bump::between(v("1.4.2"), v("2.0.0")), Bump::Major);
        assert_eq!(Bump::between(v("1.4.2"), v("1.5.0")), Bump::Minor);
        assert_eq!(Bump::between(v("1.4.2"), v("1.4.3")), Bump::Patch);
        assert_eq!(Bump::between(v("1.4.2"), v("1.4.2")), Bump::None);
        assert_eq!(Bump::between(v("1.4.2"), v("1.3.9")), Bump::None);
    }
}
