//! The credential report: `GET /v1/accounts/{account_id}/credential_report`, as JSON (in the
//! envelope) or CSV (`format=csv`, or `Accept: text/csv`).

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError, CredentialReport, CredentialRow, ReportFilter};
use tessera_domain::ids::AccountId;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, QueryParams, run};

/// The columns of the CSV form, in order (the JSON rows have the same fields).
pub const CSV_COLUMNS: [&str; 11] = [
    "type",
    "id",
    "user_id",
    "login",
    "name",
    "status",
    "created_at",
    "last_used_at",
    "last_used_from",
    "expires_at",
    "mfa",
];

/// The form of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The envelope, `application/json`.
    Json,
    /// `text/csv`, one header line then one line per row.
    Csv,
}

/// What to report, and how.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Only the keys (access and service keys) not used for this many days — last used, or
    /// created and never used, at least that long ago; users are left out. 1 to 36500.
    #[param(minimum = 1, maximum = 36500)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    pub unused_days: Option<u32>,
    /// `json` (default) or `csv`; without it, `Accept: text/csv` asks for CSV.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// One user or key.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialRowView {
    /// `user`, `access_key` or `service_key`.
    #[serde(rename = "type")]
    #[schema(value_type = crate::schema::CredentialTypeDoc)]
    pub kind: &'static str,
    /// The user's id, the access key's `AK…` id or the service key's UUID.
    pub id: String,
    /// The user it is or belongs to (`null`: a key of the account itself).
    pub user_id: Option<i64>,
    /// That user's login.
    pub login: Option<String>,
    /// A key's name.
    pub name: Option<String>,
    /// `active`, `inactive` or `pending` (a service key has no status of its own: `active`).
    #[schema(value_type = crate::schema::UserStatusDoc)]
    pub status: &'static str,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// A key's last use, a user's last password sign-in (keys: kept to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
    /// When a key stops working (`null`: never; users have none).
    pub expires_at: Option<DateTime<Utc>>,
    /// The second factor its sign-in needs: `totp` (a user with a confirmed enrolment) or
    /// `none` (other users, and every key: a key is one factor).
    #[schema(value_type = crate::schema::MfaKindDoc)]
    pub mfa: &'static str,
}

impl From<CredentialRow> for CredentialRowView {
    fn from(r: CredentialRow) -> Self {
        Self {
            kind: r.kind.as_str(),
            id: r.id,
            user_id: r.user_id.map(|u| u.0),
            login: r.login,
            name: r.name,
            status: r.status.as_str(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            last_used_from: r.last_used_from,
            expires_at: r.expires_at,
            mfa: r.mfa.as_str(),
        }
    }
}

/// The report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialReportView {
    /// The account.
    pub account_id: i64,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The filter it was made with.
    pub unused_days: Option<u32>,
    /// Users (by id), then access keys (by user, oldest first), then service keys (by id).
    pub rows: Vec<CredentialRowView>,
}

impl From<CredentialReport> for CredentialReportView {
    fn from(r: CredentialReport) -> Self {
        Self {
            account_id: r.account_id.0,
            generated_at: r.generated_at,
            unused_days: r.filter.unused_days,
            rows: r.rows.into_iter().map(CredentialRowView::from).collect(),
        }
    }
}

/// A CSV field as a spreadsheet may safely open it: a value starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return would be read as a formula, so it gets a leading `'`.
#[must_use]
pub fn spreadsheet_safe(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The report as CSV: a header line, then one line per row; every field quoted as needed (the
/// `csv` crate) and made spreadsheet-safe.
///
/// # Errors
/// Only if the writer fails, which writing to memory does not.
pub fn to_csv(rows: &[CredentialRowView]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_COLUMNS)?;
    for r in rows {
        let fields = [
            r.kind.to_owned(),
            r.id.clone(),
            r.user_id.map(|u| u.to_string()).unwrap_or_default(),
            r.login.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_default(),
            r.status.to_owned(),
            time(Some(r.created_at)),
            time(r.last_used_at),
            r.last_used_from.clone().unwrap_or_default(),
            time(r.expires_at),
            r.mfa.to_owned(),
        ];
        out.write_record(fields.iter().map(|f| spreadsheet_safe(f).into_owned()))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

fn wants_csv(req: &HttpRequest, format: Option<ReportFormat>) -> bool {
    match format {
        Some(f) => f == ReportFormat::Csv,
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',').any(|media| {
                    media
                        .split(';')
                        .next()
                        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
                })
            }),
    }
}

/// Every user and key of the account with status, creation, last use (time and client
/// address) and expiry, as JSON or CSV; `unused_days=N` keeps only the keys unused for N days.
/// Needs User Management read and API Credentials read; what a deny policy hides from the
/// caller is left out. At most every user (1000 by default), two access keys each and ten
/// service keys per owner: 13,010 rows with the default limits.
#[utoipa::path(tag = "Credential report", params(("account_id" = i64, Path), ReportParams),
    responses(
        (status = 200, description = "The report: JSON in the envelope, or CSV (`format=csv` or `Accept: text/csv`)", content(
            (Envelope<CredentialReportView> = "application/json"),
            (String = "text/csv")
        )),
        (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/credential_report")]
pub async fn credential_report(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    query: QueryParams<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let params = query.0;
    let csv = wants_csv(&req, params.format);
    let filter = ReportFilter {
        unused_days: params.unused_days,
    };
    let report = run(&app, move |app| {
        app.credential_report(&caller.0, account, filter)
    })
    .await?;
    let view = CredentialReportView::from(report);
    if !csv {
        return Ok(Envelope::ok(view).respond());
    }
    let body = to_csv(&view.rows).map_err(|e| {
        ApiError::from(AppError::Internal(format!("the report did not write: {e}")))
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "credential-report-{}.csv",
                account.0
            ))],
        })
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, from: Option<&str>) -> CredentialRowView {
        CredentialRowView {
            kind: "access_key",
            id: "AK000000000000000001".into(),
            user_id: Some(2),
            login: Some("alice".into()),
            name: Some(name.into()),
            status: "active",
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            last_used_at: None,
            last_used_from: from.map(str::to_owned),
            expires_at: None,
            mfa: "none",
        }
    }

    #[test]
    fn formulas_are_defused_and_everything_else_left_alone() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
            ("::1", "::1"),
        ] {
            assert_eq!(spreadsheet_safe(raw), safe, "{raw:?}");
        }
    }

    #[test]
    fn the_csv_has_a_header_and_quotes_what_needs_quoting() {
        let csv = to_csv(&[
            row("=cmd|' /C calc'!A0", Some("192.0.2.1")),
            row("a,b \"c\"\nd", None),
        ])
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        let mut lines = text.split_inclusive('\n');
        assert_eq!(
            lines.next().unwrap(),
            "type,id,user_id,login,name,status,created_at,last_used_at,last_used_from,expires_at,mfa\n"
        );
        assert_eq!(
            lines.next().unwrap(),
            "access_key,AK000000000000000001,2,alice,'=cmd|' /C calc'!A0,active,2023-11-14T22:13:20Z,,192.0.2.1,,none\n"
        );
        // A comma, quotes and a line break stay inside one quoted field.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(&records[1][4], "a,b \"c\"\nd");
        assert_eq!(records[1].len(), CSV_COLUMNS.len());
    }

    #[test]
    fn csv_is_asked_for_by_format_or_by_accept() {
        let req = |accept: Option<&str>| {
            let mut r = actix_web::test::TestRequest::default();
            if let Some(a) = accept {
                r = r.insert_header((header::ACCEPT, a));
            }
            r.to_http_request()
        };
        assert!(!wants_csv(&req(None), None));
        assert!(wants_csv(&req(Some("text/csv")), None));
        assert!(wants_csv(
            &req(Some("application/json;q=0.5, Text/CSV; charset=utf-8")),
            None
        ));
        assert!(!wants_csv(&req(Some("application/json")), None));
        assert!(!wants_csv(&req(Some("text/csv")), Some(ReportFormat::Json)));
        assert!(wants_csv(&req(None), Some(ReportFormat::Csv)));
    }
}
