//! List parameters (`page`, `per_page`, `name`, `fuzzyName`, `direction`, `cursor`) and
//! `result_info`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tessera_domain::ports::ListQuery;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use actix_web::HttpResponse;
use serde::Serialize;

use crate::envelope::{ApiError, Envelope, ResultInfo};

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Oldest (lowest id) first.
    Asc,
    /// Newest first.
    Desc,
}

/// Paging and filtering of a list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the object with this id.
    #[param(max_length = 64)]
    #[validate(length(max = 64, message = "must be at most 64 characters"))]
    pub id: Option<String>,
    /// Page number, from 1 (offset paging).
    #[param(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1_000_000, message = "must be between 1 and 1000000"))]
    pub page: Option<u64>,
    /// Items per page (at most 1000; default 20, or every object on the lists that say so).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1000, message = "must be between 1 and 1000"))]
    pub per_page: Option<u32>,
    /// Exact name.
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub name: Option<String>,
    /// Name contains (case-insensitive).
    #[serde(rename = "fuzzyName")]
    #[param(rename = "fuzzyName", max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub fuzzy_name: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(inline)]
    pub direction: Option<Direction>,
    /// The `result_info.cursor` of the previous page (keyset paging: a deep page costs what the
    /// first does).
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "is not a cursor"))]
    pub cursor: Option<String>,
}

/// Default page size.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// Largest page size.
pub const MAX_PER_PAGE: u32 = 1000;

/// An object of a list that is paged in memory (a list loaded whole: the catalogs, an
/// account's children, a user's keys): what the `id`, `cursor`, `name` and `fuzzyName`
/// parameters look at.
pub trait Listed {
    /// The id `id` and `cursor` name.
    fn list_id(&self) -> String;
    /// The name `name` and `fuzzyName` match; `None` matches no name filter.
    fn list_name(&self) -> Option<&str>;
}

/// Paging only (`page`, `per_page`), for lists whose objects have no name to filter on.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1_000_000, message = "must be between 1 and 1000000"))]
    pub page: Option<u64>,
    /// Items per page (default: all of them, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1000, message = "must be between 1 and 1000"))]
    pub per_page: Option<u32>,
}

impl PageParams {
    /// The answer to a list request: page `page` of `items` (the whole list, in order), with
    /// its `result_info`. A page past the end is empty, so a client that asks for the next
    /// page until one is empty stops.
    #[must_use]
    pub fn respond<V: Serialize>(&self, items: Vec<V>) -> HttpResponse {
        let list = ListParams {
            page: self.page,
            per_page: Some(self.per_page.unwrap_or(MAX_PER_PAGE)),
            ..ListParams::default()
        };
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let start = usize::try_from(list.offset()).unwrap_or(usize::MAX);
        let page: Vec<V> = items
            .into_iter()
            .skip(start)
            .take(list.per_page() as usize)
            .collect();
        let info = ResultInfo {
            cursor: None,
            ..list.info(page.len(), total, None)
        };
        Envelope::page(page, info).respond()
    }
}

impl ListParams {
    /// The page size.
    #[must_use]
    pub fn per_page(&self) -> u32 {
        self.per_page.unwrap_or(DEFAULT_PER_PAGE)
    }

    /// For a list a client may read as one page (the Cloudflare SDK reads resource groups and
    /// SSO connectors so, and the catalogs were always answered whole): without `per_page`,
    /// a page holds [`MAX_PER_PAGE`] items.
    #[must_use]
    pub fn whole_by_default(mut self) -> Self {
        self.per_page.get_or_insert(MAX_PER_PAGE);
        self
    }

    /// Rows before the requested page.
    fn offset(&self) -> u64 {
        (self.page() - 1) * u64::from(self.per_page())
    }

    /// The page number.
    #[must_use]
    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1)
    }

    /// The repository query.
    ///
    /// # Errors
    /// 400 for a cursor that is not one of ours.
    pub fn query(&self) -> Result<ListQuery, ApiError> {
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(ListQuery {
            limit: self.per_page(),
            offset: self.offset(),
            after,
            name: self.name.clone(),
            fuzzy_name: self.fuzzy_name.clone(),
            descending: self.direction == Some(Direction::Desc),
            hidden: Vec::new(),
            hidden_owners: Vec::new(),
            expiry: None,
        })
    }

    /// The answer to a list request: one page of `items` in the envelope, with the
    /// `result_info` that counts them and whose cursor is the last item's id.
    #[must_use]
    pub fn respond<V: Serialize>(
        &self,
        items: Vec<V>,
        total: i64,
        id_of: impl Fn(&V) -> String,
    ) -> HttpResponse {
        let last = items.last().map(id_of);
        let info = self.info(items.len(), total, last);
        Envelope::page(items, info).respond()
    }

    /// The answer to a list request for a list loaded whole (`items`, in ascending order):
    /// filtered by `id`, `name` and `fuzzyName`, ordered by `direction`, paged by `cursor` or
    /// `page`, with its `result_info`. A page past the end is empty.
    ///
    /// # Errors
    /// 400 for a cursor that is not one of ours.
    pub fn respond_whole<V: Serialize + Listed>(
        &self,
        items: Vec<V>,
    ) -> Result<HttpResponse, ApiError> {
        let query = self.query()?;
        let fuzzy = query.fuzzy_name.as_deref().map(str::to_lowercase);
        let mut matching: Vec<V> = items
            .into_iter()
            .filter(|v| self.id.as_deref().is_none_or(|id| v.list_id() == id))
            .filter(|v| {
                query
                    .name
                    .as_deref()
                    .is_none_or(|n| v.list_name() == Some(n))
            })
            .filter(|v| {
                fuzzy
                    .as_deref()
                    .is_none_or(|f| v.list_name().is_some_and(|n| n.to_lowercase().contains(f)))
            })
            .collect();
        if query.descending {
            matching.reverse();
        }
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        let start = match &query.after {
            Some(after) => matching
                .iter()
                .position(|v| v.list_id() == *after)
                .map_or(matching.len(), |p| p + 1),
            None => usize::try_from(query.offset).unwrap_or(usize::MAX),
        };
        let page: Vec<V> = matching
            .into_iter()
            .skip(start)
            .take(query.limit as usize)
            .collect();
        Ok(self.respond(page, total, Listed::list_id))
    }

    /// `result_info` for a page of `count` items whose last item has id `last`.
    #[must_use]
    fn info(&self, count: usize, total: i64, last: Option<String>) -> ResultInfo {
        let full = count == self.per_page() as usize;
        ResultInfo {
            page: self.page(),
            per_page: self.per_page(),
            count,
            total_count: Some(total),
            cursor: last.filter(|_| full).map(|id| encode_cursor(&id)),
        }
    }
}

/// `result_info.cursor` for a page whose last row has id `id`.
#[must_use]
pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The row id inside a `cursor` this API handed out.
///
/// # Errors
/// 400 when `cursor` is not one of ours.
pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or_else(not_a_cursor)
}

/// The 400 for a cursor this API did not hand out.
pub(crate) fn not_a_cursor() -> ApiError {
    ApiError::bad_request("cursor: is not a cursor from result_info")
}

/// The cursor naming the row after which the next page starts, for a numeric id (users).
///
/// # Errors
/// 400 when the cursor does not hold a number.
pub fn numeric_cursor(query: &ListQuery) -> Result<(), ApiError> {
    match &query.after {
        Some(a) if a.parse::<i64>().is_err() => Err(not_a_cursor()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_only_full_pages_have_one() {
        let p = ListParams {
            per_page: Some(2),
            ..ListParams::default()
        };
        let info = p.info(2, 10, Some("42".into()));
        let next = ListParams {
            per_page: Some(2),
            cursor: info.cursor.clone(),
            ..ListParams::default()
        };
        assert_eq!(next.query().unwrap().after.as_deref(), Some("42"));
        assert!(p.info(1, 10, Some("42".into())).cursor.is_none());
        let bad = ListParams {
            cursor: Some("!!".into()),
            ..ListParams::default()
        };
        assert!(bad.query().is_err());
    }

    #[test]
    fn pages_become_offsets() {
        let p = ListParams {
            page: Some(3),
            per_page: Some(50),
            ..ListParams::default()
        };
        let q = p.query().unwrap();
        assert_eq!((q.offset, q.limit), (100, 50));
    }
}
