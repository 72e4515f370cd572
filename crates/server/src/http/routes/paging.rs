//! Turning `limit` and `cursor` query parameters into a page request.

use agentdeck_domain::page::{Cursor, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PageRequest};
use agentdeck_domain::validation::FieldError;

use crate::http::error::ApiError;

/// Checks `limit` (1..=200, default 50) and decodes `cursor`.
pub(crate) fn page_request(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    let mut errors = Vec::new();
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        errors.push(FieldError::new("/limit", format!("must be from 1 to {MAX_PAGE_LIMIT}")));
    }
    let after = match cursor.filter(|cursor| !cursor.is_empty()).map(Cursor::decode) {
        None => None,
        Some(Ok(cursor)) => Some(cursor),
        Some(Err(error)) => {
            errors.push(FieldError::new("/cursor", error.to_string()));
            None
        }
    };
    if errors.is_empty() { Ok(PageRequest { limit, after }) } else { Err(ApiError::validation(errors)) }
}
