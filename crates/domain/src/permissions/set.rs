//! A set of permissions as a 128-bit mask: two bits per capability (read, write).

use super::capability::{Capability, Level, Permission};

const _: () = assert!(
    Capability::ALL.len() * 2 <= 128,
    "PermSet holds at most 64 capabilities"
);

/// A set of permissions. Inserting `write` inserts `read` too, so every set is closed under
/// "write implies read" and a membership test is one mask operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermSet(u128);

impl PermSet {
    /// No permission.
    pub const EMPTY: PermSet = PermSet(0);

    /// The single bit of `p` (no closure): for masks that must not imply `read` from `write`.
    #[must_use]
    pub fn bit(p: Permission) -> u128 {
        let level = match p.level {
            Level::Read => 0,
            Level::Write => 1,
        };
        1u128 << (p.capability.index() * 2 + level)
    }

    /// The closure of one permission (`write` brings `read`).
    #[must_use]
    pub fn of(p: Permission) -> Self {
        let mut s = Self::EMPTY;
        s.insert(p);
        s
    }

    /// Every capability at `write`.
    #[must_use]
    pub fn all() -> Self {
        Capability::ALL
            .iter()
            .map(|c| Permission::write(*c))
            .collect()
    }

    /// Adds a permission (and `read` when it is `write`).
    pub fn insert(&mut self, p: Permission) {
        self.0 |= Self::bit(p);
        if p.level == Level::Write {
            self.0 |= Self::bit(Permission::read(p.capability));
        }
    }

    /// Whether the set grants `p`.
    #[must_use]
    pub fn contains(self, p: Permission) -> bool {
        self.0 & Self::bit(p) != 0
    }

    /// Every permission in either set.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Every permission in both sets.
    #[must_use]
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether every permission of `self` is in `other`.
    #[must_use]
    pub fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The raw mask.
    #[must_use]
    pub fn bits(self) -> u128 {
        self.0
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions of the set, capability order, `read` before `write`.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Capability::ALL.iter().flat_map(move |c| {
            Level::ALL
                .into_iter()
                .map(move |l| Permission::new(*c, l))
                .filter(move |p| self.contains(*p))
        })
    }

    /// For each capability in the set, its highest level.
    pub fn highest(self) -> impl Iterator<Item = Permission> {
        Capability::ALL.iter().filter_map(move |c| {
            if self.contains(Permission::write(*c)) {
                Some(Permission::write(*c))
            } else if self.contains(Permission::read(*c)) {
                Some(Permission::read(*c))
            } else {
                None
            }
        })
    }
}

impl FromIterator<Permission> for PermSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut s = Self::EMPTY;
        for p in iter {
            s.insert(p);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read_but_not_the_reverse() {
        let w = PermSet::of(Permission::write(Capability::UserManagement));
        assert!(w.contains(Permission::read(Capability::UserManagement)));
        let r = PermSet::of(Permission::read(Capability::UserManagement));
        assert!(!r.contains(Permission::write(Capability::UserManagement)));
        assert!(r.is_subset(w));
        assert!(!w.is_subset(r));
    }

    #[test]
    fn all_holds_every_capability_at_both_levels() {
        let all = PermSet::all();
        assert_eq!(all.iter().count(), Capability::ALL.len() * 2);
        assert_eq!(all.highest().count(), Capability::ALL.len());
    }
}
