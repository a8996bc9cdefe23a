//! The Restcomm "IAM User Roles and Permissions" matrix, cell by cell.
//!
//! The four Restcomm roles are defined by this table (see [`crate::roles`]); a test compares it
//! with the copy of the matrix kept in `tests/data/restcomm-permission-matrix.csv`.

use super::capability::Capability::{self, *};

/// One cell of the matrix: what a role may do with a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// "no access".
    None,
    /// "read only".
    Read,
    /// "read/write".
    Write,
}

/// The "Capability Availability at that Account Hierarchy Level" column. Platform rows say yes/no;
/// Turnkey rows state the highest level available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Available at the account level.
    Yes,
    /// Not available at the account level.
    No,
    /// Available up to this level (Turnkey rows).
    UpTo(Access),
}

/// A row of the matrix: capability, availability and one cell per Restcomm role, in the matrix's
/// column order (Administrator, Developer, Turnkey Applications Administrator, Turnkey
/// Applications Developer).
#[derive(Debug, Clone, Copy)]
pub struct MatrixRow {
    /// The row.
    pub capability: Capability,
    /// The availability column.
    pub availability: Availability,
    /// The four role columns.
    pub cells: [Access; 4],
}

/// The four Restcomm roles, in the matrix's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestcommRole {
    /// Administrator.
    Administrator,
    /// Developer.
    Developer,
    /// Turnkey Applications Administrator.
    TurnkeyAdministrator,
    /// Turnkey Applications Developer.
    TurnkeyDeveloper,
}

impl RestcommRole {
    /// All four, in column order.
    pub const ALL: [RestcommRole; 4] = [
        RestcommRole::Administrator,
        RestcommRole::Developer,
        RestcommRole::TurnkeyAdministrator,
        RestcommRole::TurnkeyDeveloper,
    ];

    /// Column index in [`MatrixRow::cells`].
    #[must_use]
    pub fn column(self) -> usize {
        self as usize
    }

    /// The role's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Administrator => "Administrator",
            Self::Developer => "Developer",
            Self::TurnkeyAdministrator => "Turnkey Applications Administrator",
            Self::TurnkeyDeveloper => "Turnkey Applications Developer",
        }
    }

    /// The roles this role may grant (the matrix's "Role Access" row).
    #[must_use]
    pub fn role_access(self) -> &'static [RestcommRole] {
        match self {
            Self::Administrator => &RestcommRole::ALL,
            Self::TurnkeyAdministrator => &[
                RestcommRole::TurnkeyAdministrator,
                RestcommRole::TurnkeyDeveloper,
            ],
            Self::Developer | Self::TurnkeyDeveloper => &[],
        }
    }
}

use Access::{None as N, Read as R, Write as W};
use Availability::{No, UpTo, Yes};

const fn row(capability: Capability, availability: Availability, cells: [Access; 4]) -> MatrixRow {
    MatrixRow {
        capability,
        availability,
        cells,
    }
}

/// The matrix, row by row. The "Role Access" row lists roles rather than levels: its cells here
/// are `Write` for the roles that may grant at least one role (see [`RestcommRole::role_access`]).
pub const MATRIX: &[MatrixRow] = &[
    row(AccountSettings, Yes, [R, R, N, N]),
    row(ApiCredentials, Yes, [W, W, N, N]),
    row(AuditApi, No, [N, N, N, N]),
    row(FeatureAccessControl, No, [N, N, N, N]),
    row(UserManagement, Yes, [W, N, W, N]),
    row(RoleAccess, Yes, [W, N, W, N]),
    row(Whitelabeling, No, [N, N, N, N]),
    row(ByocSettings, No, [N, N, N, N]),
    row(EnterpriseAccounts, No, [N, N, N, N]),
    row(PartnerManagement, No, [N, N, N, N]),
    row(TurnkeyEnablement, No, [N, N, N, N]),
    row(Applications, Yes, [W, W, N, N]),
    row(Numbers, Yes, [W, W, N, N]),
    row(SipClients, Yes, [W, W, N, N]),
    row(Sms, Yes, [W, W, N, N]),
    row(Voice, Yes, [W, W, N, N]),
    row(CallLogs, Yes, [R, R, N, N]),
    row(SmsLogs, Yes, [R, R, N, N]),
    row(SmsLogsContent, Yes, [R, R, N, N]),
    row(Recordings, Yes, [W, W, N, N]),
    row(RecordingsContent, Yes, [R, R, N, N]),
    row(Usage, Yes, [R, R, N, N]),
    row(Notifications, Yes, [R, R, N, N]),
    row(OutgoingCallerIds, No, [N, N, N, N]),
    row(VisualDesigner, Yes, [W, W, N, N]),
    row(AaProvisioning, UpTo(W), [N, N, W, W]),
    row(AaSystem, UpTo(R), [N, N, R, R]),
    row(AaUsageRecords, UpTo(R), [N, N, R, R]),
    row(AaEnterpriseUsers, UpTo(R), [N, N, R, R]),
    row(AaSearch, UpTo(N), [N, N, N, N]),
    row(NmProvisioning, UpTo(W), [N, N, W, N]),
    row(NmUsageRecords, UpTo(R), [N, N, R, N]),
    row(NmEnterpriseUsers, UpTo(R), [N, N, R, N]),
    row(NmSearch, UpTo(N), [N, N, N, N]),
    row(TrProvisioning, UpTo(W), [N, N, W, N]),
    row(TrUsageRecords, UpTo(R), [N, N, R, N]),
    row(TrEnterpriseUsers, UpTo(N), [N, N, N, N]),
    row(TrSearch, UpTo(N), [N, N, N, N]),
    row(TfaTraffic, UpTo(W), [N, N, W, N]),
    row(TfaProvisioning, UpTo(W), [N, N, W, N]),
    row(TfaUsageRecords, UpTo(R), [N, N, R, N]),
    row(TfaSearch, UpTo(N), [N, N, N, N]),
    row(CmProvisioning, UpTo(N), [N, N, N, N]),
    row(CmCampaigns, UpTo(W), [N, N, W, N]),
    row(CmUsageRecords, UpTo(R), [N, N, R, N]),
    row(CmSearch, UpTo(N), [N, N, N, N]),
];

/// The matrix row of a capability.
#[must_use]
pub fn row_of(capability: Capability) -> &'static MatrixRow {
    &MATRIX[capability.index()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_has_one_row_per_capability_in_order() {
        assert_eq!(MATRIX.len(), Capability::ALL.len());
        for (row, cap) in MATRIX.iter().zip(Capability::ALL) {
            assert_eq!(row.capability, *cap);
        }
    }
}
