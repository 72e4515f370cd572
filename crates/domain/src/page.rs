//! Cursor pagination shared by every list of records.
//!
//! Lists are ordered newest first by a sort key (a time in milliseconds) and then
//! by id, so a cursor is the `(sort key, id)` of the last item served. It is opaque
//! to clients and stable while records are added: a page never repeats or skips
//! an item that existed when the first page was read.
//!
//! Its text is 48 lowercase hex digits (the sort key's 64 bits, then the id's
//! 128), so [`CURSOR_PATTERN`] describes exactly the strings the server accepts
//! and the API description can say so: every string matching it decodes, and
//! nothing else does.

use serde::Serialize;
use uuid::Uuid;

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE_LIMIT: u32 = 200;

/// Hex digits of an encoded cursor: 16 for the sort key, 32 for the id.
pub const CURSOR_HEX_DIGITS: usize = 48;
/// The `cursor` query parameter as a JSON Schema pattern: a cursor, or empty for the first page.
pub const CURSOR_PATTERN: &str = "^([0-9a-f]{48})?$";

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
    /// Encodes the cursor as an opaque URL-safe string of [`CURSOR_HEX_DIGITS`] lowercase hex digits.
    pub fn encode(&self) -> String {
        format!("{:016x}{}", self.sort_key as u64, self.id.simple())
    }

    /// Decodes a string produced by [`Cursor::encode`]; exactly the strings of
    /// [`CURSOR_PATTERN`] but the empty one decode.
    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        // `from_str_radix` and `Uuid::parse_str` accept signs, upper case and hyphens; a cursor has none.
        let lower_hex = |byte: u8| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte);
        if text.len() != CURSOR_HEX_DIGITS || !text.bytes().all(lower_hex) {
            return Err(InvalidCursor);
        }
        let (sort_key, id) = text.split_at(16);
        let sort_key = u64::from_str_radix(sort_key, 16).map_err(|_| InvalidCursor)?;
        let id = Uuid::try_parse(id).map_err(|_| InvalidCursor)?;
        // The sort key's bits, read back as the signed number they were.
        Ok(Self { sort_key: sort_key as i64, id })
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
        let valid = Cursor { sort_key: 12, id: Uuid::now_v7() }.encode();
        let upper = valid.to_uppercase();
        let signed = format!("+{}", &valid[1..]);
        let hyphenated = format!("{:016x}{}", 12, Uuid::nil().hyphenated());
        for text in ["", "!!!", "bm9kb3Q", &valid[1..], &format!("{valid}0"), &upper, &signed, &hyphenated] {
            assert_eq!(Cursor::decode(text), Err(InvalidCursor), "{text}");
        }
    }

    #[test]
    fn the_pattern_admits_exactly_the_cursors_that_decode() {
        let pattern = jsonschema::validator_for(&serde_json::json!({"type": "string", "pattern": CURSOR_PATTERN}))
            .expect("a valid pattern");
        let valid = Cursor { sort_key: i64::MIN, id: Uuid::max() }.encode();
        let samples = [
            valid.clone(),
            Cursor { sort_key: 1_700_000_000_123, id: Uuid::now_v7() }.encode(),
            "0".repeat(48),
            "f".repeat(48),
            valid.to_uppercase(),
            format!("{valid}\n"),
            format!("-{}", &valid[1..]),
            "g".repeat(48),
            "0".repeat(47),
        ];
        for text in samples {
            let admitted = pattern.is_valid(&serde_json::json!(text));
            assert_eq!(admitted, Cursor::decode(&text).is_ok(), "{text:?}");
        }
        assert!(pattern.is_valid(&serde_json::json!("")), "empty means the first page");
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
