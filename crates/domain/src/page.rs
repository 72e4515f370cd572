//! Cursor pagination shared by every list of records.
//!
//! Lists are ordered newest first by a sort key (a time in milliseconds) and then
//! by id, so a cursor is the `(sort key, id)` of the last item served. It is opaque
//! to clients (base64url) and stable while records are added: a page never repeats
//! or skips an item that existed when the first page was read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use uuid::Uuid;

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE_LIMIT: u32 = 200;

/// Where the next page starts: just after the item with this sort key and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Sort key of the last item served (milliseconds since the Unix epoch).
    pub sort_key: i64,
    /// Id of the last item served; breaks ties between equal sort keys.
    pub id: Uuid,
}

/// A cursor string that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cursor is not one this server issued")]
pub struct InvalidCursor;

impl Cursor {
    /// Encodes the cursor as an opaque URL-safe string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.sort_key, self.id))
    }

    /// Decodes a string produced by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
        let (sort_key, id) = text.split_once('.').ok_or(InvalidCursor)?;
        Ok(Self { sort_key: sort_key.parse().map_err(|_| InvalidCursor)?, id: id.parse().map_err(|_| InvalidCursor)? })
    }
}

/// Which page of a list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items (1..=[`MAX_PAGE_LIMIT`]).
    pub limit: u32,
    /// Start after this item; `None` for the first page.
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_PAGE_LIMIT, after: None }
    }
}

impl PageRequest {
    /// The first page with `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only tells
    /// that another page exists, and the cursor points after the last kept item.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let limit = limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = match rows.last() {
            Some(last) if has_more => Some(cursor_of(last).encode()),
            _ => None,
        };
        Self { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor { sort_key: -1_700_000_000_123, id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
    }

    #[test]
    fn garbage_cursor_is_rejected() {
        for text in ["", "!!!", "bm9kb3Q", &URL_SAFE_NO_PAD.encode("12.not-a-uuid")] {
            assert_eq!(Cursor::decode(text), Err(InvalidCursor), "{text}");
        }
    }

    #[test]
    fn extra_row_yields_a_cursor_to_the_last_kept_item() {
        let page = Page::from_rows(vec![3_i64, 2, 1], 2, |n| Cursor { sort_key: *n, id: Uuid::nil() });
        assert_eq!(page.items, [3, 2]);
        let next = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(next.sort_key, 2);

        let last = Page::from_rows(vec![1_i64], 2, |n| Cursor { sort_key: *n, id: Uuid::nil() });
        assert_eq!(last.next_cursor, None);
    }
}
