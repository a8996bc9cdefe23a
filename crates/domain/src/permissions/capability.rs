//! Capabilities (what a permission is about) and levels (`read` < `write`), transcribed from the
//! Restcomm capability matrix.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Where a capability sits in the Restcomm matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Section {
    /// Platform Resources.
    Platform,
    /// Turnkey Applications: Auto Attendant.
    AutoAttendant,
    /// Turnkey Applications: Number Masking.
    NumberMasking,
    /// Turnkey Applications: Task Router.
    TaskRouter,
    /// Turnkey Applications: Smart 2FA.
    Smart2fa,
    /// Turnkey Applications: Campaign Manager.
    CampaignManager,
}

impl Section {
    /// The section's heading as the matrix writes it.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Platform => "Platform Resources",
            Self::AutoAttendant => "Turnkey Applications: Auto Attendant",
            Self::NumberMasking => "Turnkey Applications: Number Masking",
            Self::TaskRouter => "Turnkey Applications: Task Router",
            Self::Smart2fa => "Turnkey Applications: Smart 2FA",
            Self::CampaignManager => "Turnkey Applications: Campaign Manager",
        }
    }
}

macro_rules! capabilities {
    ($( $variant:ident = $slug:literal, $name:literal, $section:ident, $matrix:literal; )+) => {
        /// One row of the Restcomm capability matrix.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Capability {
            $(
                #[doc = $name]
                $variant,
            )+
        }

        impl Capability {
            /// Every capability, in matrix order.
            pub const ALL: &'static [Capability] = &[$(Capability::$variant),+];

            /// Stable machine name (`user_management`), used on the wire and in permission group meta.
            #[must_use]
            pub fn slug(self) -> &'static str {
                match self { $(Capability::$variant => $slug),+ }
            }

            /// Human name (`User Management`), used in permission group names.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Capability::$variant => $name),+ }
            }

            /// The row's text exactly as the Restcomm matrix writes it.
            #[must_use]
            pub fn matrix_name(self) -> &'static str {
                match self { $(Capability::$variant => $matrix),+ }
            }

            /// The matrix section holding the row.
            #[must_use]
            pub fn section(self) -> Section {
                match self { $(Capability::$variant => Section::$section),+ }
            }
        }
    };
}

capabilities! {
    AccountSettings = "account_settings", "Account Settings", Platform, "Account Settings";
    ApiCredentials = "api_credentials", "API Credentials", Platform, "API Credentials";
    AuditApi = "audit_api", "Audit API", Platform, "Audit API";
    FeatureAccessControl = "feature_access_control", "Feature Access Control Management", Platform, "Feature Access Control Management";
    UserManagement = "user_management", "User Management", Platform, "User Management";
    RoleAccess = "role_access", "Role Access", Platform, "Role Access";
    Whitelabeling = "whitelabeling", "Whitelabeling Settings", Platform, "Whitelabeling Settings";
    ByocSettings = "byoc_settings", "BYOC Settings", Platform, "BYOC Settings";
    EnterpriseAccounts = "enterprise_accounts", "Manage Enterprise Accounts", Platform, "Manage Enterprise Accounts";
    PartnerManagement = "partner_management", "Communications Partner Organization/Account Management", Platform, "Communications Partner Organization/Account Management";
    TurnkeyEnablement = "turnkey_enablement", "Turnkey Applications Enablement Management", Platform, "Turnkey Applications Enablement Management";
    Applications = "applications", "Manage Applications", Platform, "Manage Applications";
    Numbers = "numbers", "Manage Numbers", Platform, "Manage Numbers";
    SipClients = "sip_clients", "Manage SIP/WebRTC Clients", Platform, "Manage SIP/WebRTC Clients";
    Sms = "sms", "SMS", Platform, "P. SMS";
    Voice = "voice", "Voice", Platform, "P. Voice";
    CallLogs = "call_logs", "Call Logs", Platform, "Call Logs";
    SmsLogs = "sms_logs", "SMS Logs", Platform, "SMS Logs";
    SmsLogsContent = "sms_logs_content", "SMS Logs Content", Platform, "SMS Logs Content";
    Recordings = "recordings", "Recordings", Platform, "Recordings";
    RecordingsContent = "recordings_content", "Recordings Content", Platform, "Recordings Content";
    Usage = "usage", "Usage", Platform, "Usage";
    Notifications = "notifications", "Notifications", Platform, "Notifications";
    OutgoingCallerIds = "outgoing_caller_ids", "OutgoingCallerIDs", Platform, "OutgoingCallerIDs";
    VisualDesigner = "visual_designer", "Visual Designer", Platform, "Visual Designer";
    AaProvisioning = "aa_provisioning", "Auto Attendant Provisioning", AutoAttendant, "AA-Provisioning (GET, POST, PUT, DELETE) / AA-Announcement (CSP_ADMIN or SUPER_ADMIN or BG_ADMIN or AA_ADMIN) / AA-Menu / AA-Schedule";
    AaSystem = "aa_system", "Auto Attendant System", AutoAttendant, "AA-System(CSP_ADMIN or SUPER_ADMIN) AA-Phone Number AA-Single Sign On";
    AaUsageRecords = "aa_usage_records", "Auto Attendant Usage Records", AutoAttendant, "AA- Usage Records";
    AaEnterpriseUsers = "aa_enterprise_users", "Auto Attendant Enterprise And User", AutoAttendant, "AA-Enterprise And User";
    AaSearch = "aa_search", "Auto Attendant Search and Usage Records", AutoAttendant, "AA-Search and Usage record all endpoints all levels";
    NmProvisioning = "nm_provisioning", "Number Masking Provisioning", NumberMasking, "NM-Provisioning(GET, POST, PUT, DELETE) / NM-User (CSP_ADMIN or SUPER_ADMIN or ENTERPRISE_ADMIN) / NM-Application / NM-Context / NM-Interaction / NM-Masked Number / NM-Participant / NM-Phone Number";
    NmUsageRecords = "nm_usage_records", "Number Masking Usage Records", NumberMasking, "NM-Usage records";
    NmEnterpriseUsers = "nm_enterprise_users", "Number Masking Enterprise And User", NumberMasking, "NM-Enterprise And User";
    NmSearch = "nm_search", "Number Masking Search and Usage Records", NumberMasking, "NM- Search and Usage record all endpoints all levels";
    TrProvisioning = "tr_provisioning", "Task Router Provisioning", TaskRouter, "TR-Provisioning (GET, POST, PUT, DELETE) / TR-Workspace / TR-WorkFlow / TR-TaskQueue / TR-Activity / TR-Worker / TR-Reservation / TR-Task";
    TrUsageRecords = "tr_usage_records", "Task Router Usage Records", TaskRouter, "TR-Usage Records";
    TrEnterpriseUsers = "tr_enterprise_users", "Task Router Enterprise And User", TaskRouter, "TR-Enterprise And User";
    TrSearch = "tr_search", "Task Router Search and Usage Records", TaskRouter, "TR- Search and Usage record all endpoints all levels";
    TfaTraffic = "tfa_traffic", "Smart 2FA Traffic", Smart2fa, "2FA-Traffic / send/verify/cancel";
    TfaProvisioning = "tfa_provisioning", "Smart 2FA Limit and Workflow Provisioning", Smart2fa, "2FA-Limit Provision / 2FA-WorkFlow provision";
    TfaUsageRecords = "tfa_usage_records", "Smart 2FA Usage Records", Smart2fa, "2FA-Usage Records";
    TfaSearch = "tfa_search", "Smart 2FA Search and Usage Records", Smart2fa, "2FA-Search and Usage record all endpoints all levels";
    CmProvisioning = "cm_provisioning", "Campaign Manager Provisioning", CampaignManager, "Campaign Manager-Provisioning (GET, POST, PUT, DELETE) / Enterprise / Users / Enterprise Credit";
    CmCampaigns = "cm_campaigns", "Campaigns", CampaignManager, "Campaigns (GET, POST, PUT, DELETE)";
    CmUsageRecords = "cm_usage_records", "Campaign Usage Records", CampaignManager, "Usage records";
    CmSearch = "cm_search", "Campaign Manager Search and Usage Records", CampaignManager, "Search and Usage Records / All endpoints all levels";
}

impl Capability {
    /// Position of the capability in [`Capability::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }

    /// Looks a capability up by its slug.
    #[must_use]
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.slug() == slug)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Capability {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_slug(s)
            .ok_or_else(|| DomainError::invalid("capability", format!("unknown capability '{s}'")))
    }
}

impl Serialize for Capability {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.slug())
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How much of a capability: `read` < `write`; `write` implies `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// See.
    Read,
    /// See and change.
    Write,
}

impl Level {
    /// Both levels, lowest first.
    pub const ALL: [Level; 2] = [Level::Read, Level::Write];

    /// `read` or `write`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            _ => Err(DomainError::invalid("level", "must be read or write")),
        }
    }
}

/// A capability at a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Permission {
    /// What.
    pub capability: Capability,
    /// How much.
    pub level: Level,
}

impl Permission {
    /// `capability` at `level`.
    #[must_use]
    pub const fn new(capability: Capability, level: Level) -> Self {
        Self { capability, level }
    }

    /// `capability` at `read`.
    #[must_use]
    pub const fn read(capability: Capability) -> Self {
        Self::new(capability, Level::Read)
    }

    /// `capability` at `write`.
    #[must_use]
    pub const fn write(capability: Capability) -> Self {
        Self::new(capability, Level::Write)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.capability, self.level)
    }
}
