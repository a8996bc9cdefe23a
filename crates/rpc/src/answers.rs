//! What the methods answer, typed: each method returns one of these, the dispatcher serializes
//! it, and the OpenAPI document references the same type as the method's 200 response (as
//! a `…OrError` type: the answer or a [`MethodError`]), so document and wire cannot drift apart.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::schema::OneOfBuilder;
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::error::RpcError;
use crate::views::{
    AccountInfoView, AuthorizedIpView, KeyInfo, KeyView, RoleGroupView, RoleView, SubUserView,
};

/// `{"result": 1}`: the method did what it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Done {
    /// Always 1.
    #[schema(minimum = 1, maximum = 1)]
    pub result: u8,
}

impl Done {
    /// `{"result": 1}`.
    pub const ONE: Self = Self { result: 1 };
}

/// The new subuser's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct NewSubUser {
    /// Id.
    pub subuser_id: i64,
}

/// AddSubUser's answer: `{"result": {"subuser_id": N}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AddedSubUser {
    /// The new subuser.
    pub result: NewSubUser,
}

/// GetSubUsers' answer: one page of subusers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SubUserPage {
    /// The page.
    pub result: Vec<SubUserView>,
    /// Subusers matching, over every page.
    pub total_count: i64,
    /// Subusers on this page.
    pub count: usize,
}

/// CreateKey's answer: the credentials file, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CreatedKey {
    /// One entry.
    pub result: Vec<KeyInfo>,
}

/// GetKeys' answer: one page of keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeyPage {
    /// The page.
    pub result: Vec<KeyView>,
    /// Keys matching, over every page.
    pub total_count: i64,
    /// Keys on this page.
    pub count: usize,
}

/// GetRoles', GetSubUserRoles' and GetKeyRoles' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Roles {
    /// The roles.
    pub result: Vec<RoleView>,
}

/// GetRoleGroups' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleGroups {
    /// The role groups.
    pub result: Vec<RoleGroupView>,
}

/// DelAuthorizedAccountIP's answer: `{"result": N}`, how many entries went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Removed {
    /// Entries removed (0 when none matched).
    #[schema(minimum = 0)]
    pub result: u64,
}

/// GetAuthorizedAccountIPs' answer: one page of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuthorizedIpPage {
    /// The page.
    pub result: Vec<AuthorizedIpView>,
    /// Entries matching, over every page.
    pub total_count: i64,
    /// Entries on this page.
    pub count: usize,
}

/// CheckAuthorizedAccountIP's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuthorizedIpCheck {
    /// Whether the address may call.
    pub result: bool,
    /// The entry that decided: the deny entry that refuses it, or the allow entry that admits
    /// it; absent when none matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorized_ip: Option<String>,
}

/// GetAccountInfo's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccountInfo {
    /// The caller's account.
    pub result: AccountInfoView,
}

/// A refused call: `{"error": {"code", "msg"}}`, with HTTP 200 like every answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MethodError {
    /// The code and message (docs/method-api.md lists the codes).
    pub error: RpcError,
}

/// Declares, for each answer type, the document's type of a method's 200 answer: `oneOf` the
/// answer or a [`MethodError`]. Documentation only; never built.
macro_rules! answered {
    ($($or:ident => $answer:ident;)+) => {
        $(
            #[doc = concat!("`oneOf` [`", stringify!($answer), "`] or [`MethodError`] (documentation only).")]
            pub enum $or {}

            impl PartialSchema for $or {
                fn schema() -> RefOr<Schema> {
                    OneOfBuilder::new()
                        .item(Ref::from_schema_name($answer::name()))
                        .item(Ref::from_schema_name(MethodError::name()))
                        .into()
                }
            }

            impl ToSchema for $or {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($or))
                }

                fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                    schemas.push(($answer::name().into_owned(), $answer::schema()));
                    $answer::schemas(schemas);
                    schemas.push((MethodError::name().into_owned(), MethodError::schema()));
                    MethodError::schemas(schemas);
                }
            }
        )+
    };
}

answered! {
    DoneOrError => Done;
    AddedSubUserOrError => AddedSubUser;
    SubUserPageOrError => SubUserPage;
    CreatedKeyOrError => CreatedKey;
    KeyPageOrError => KeyPage;
    RolesOrError => Roles;
    RoleGroupsOrError => RoleGroups;
    RemovedOrError => Removed;
    AuthorizedIpPageOrError => AuthorizedIpPage;
    AuthorizedIpCheckOrError => AuthorizedIpCheck;
    AccountInfoOrError => AccountInfo;
}
