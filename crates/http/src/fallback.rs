//! What answers a request no route takes: 405 with `Allow` when the path exists under other
//! methods, 404 otherwise, both in the envelope.

use actix_web::dev::ResourceDef;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use utoipa::openapi::OpenApi;

use crate::envelope::ApiError;

/// The methods each served path pattern answers.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    /// Every path and method of `doc` (patterns like `/v1/accounts/{account_id}` match as
    /// actix routes do).
    #[must_use]
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let mut table = Self::default();
        for (path, item) in &doc.paths.paths {
            let methods: Vec<Method> = [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, present)| present.then_some(m))
            .collect();
            table = table.with(path, &methods);
        }
        table
    }

    /// Adds a pattern served outside the document (or under more methods than it lists).
    #[must_use]
    pub fn with(mut self, pattern: &str, methods: &[Method]) -> Self {
        self.routes
            .push((ResourceDef::new(pattern), methods.to_vec()));
        self
    }

    /// The methods `path` answers, in a fixed order; empty when no pattern matches.
    #[must_use]
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let mut out: Vec<Method> = Vec::new();
        for (def, methods) in &self.routes {
            if def.is_match(path) {
                for m in methods {
                    if !out.contains(m) {
                        out.push(m.clone());
                    }
                }
            }
        }
        let order = |m: &Method| {
            ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .iter()
                .position(|n| *n == m.as_str())
        };
        out.sort_by_key(order);
        out
    }
}

/// The default service: 405 with `Allow` for a known path under another method, else 404.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<web::Data<RouteTable>>()
        .map(|t| t.allowed(req.path()))
        .unwrap_or_default();
    if allowed.is_empty() {
        return ApiError::new(StatusCode::NOT_FOUND, 1, "no such route").error_response();
    }
    let list = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        0,
        format!("method {} not allowed here; allowed: {list}", req.method()),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&list) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_of_every_matching_pattern_are_merged_in_order() {
        let table = RouteTable::default()
            .with("/v1/accounts/{account_id}", &[Method::PATCH, Method::GET])
            .with("/rpc/{method}", &[Method::POST])
            .with("/rpc/{method}", &[Method::GET, Method::POST]);
        assert_eq!(
            table.allowed("/v1/accounts/7"),
            vec![Method::GET, Method::PATCH]
        );
        assert_eq!(
            table.allowed("/rpc/GetKeys"),
            vec![Method::GET, Method::POST]
        );
        assert!(table.allowed("/v1/accounts/7/nothing").is_empty());
        assert!(table.allowed("/v1/accounts").is_empty());
    }
}
