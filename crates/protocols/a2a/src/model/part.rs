//! `Part`: one piece of content — text, raw bytes, a URL or JSON data.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::Metadata;

/// The oneof `content` of a [`Part`].
#[derive(Debug, Clone, PartialEq)]
pub enum PartContent {
    /// `text`: a string.
    Text(String),
    /// `raw`: bytes, base64 on the wire.
    Raw(Vec<u8>),
    /// `url`: where the content can be fetched.
    Url(String),
    /// `data`: any JSON value.
    Data(Value),
}

/// A section of a message or artifact (`lf.a2a.v1.Part`).
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Exactly one kind of content.
    pub content: PartContent,
    /// Optional metadata of the part.
    pub metadata: Option<Metadata>,
    /// Optional file name (`document.pdf`).
    pub filename: Option<String>,
    /// Optional media type (`text/plain`).
    pub media_type: Option<String>,
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::with(PartContent::Text(text.into()))
    }

    /// A data part.
    pub fn data(data: Value) -> Self {
        Self::with(PartContent::Data(data))
    }

    /// A part of the given content and no metadata.
    pub fn with(content: PartContent) -> Self {
        Self { content, metadata: None, filename: None, media_type: None }
    }

    /// The text, when this is a text part.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            PartContent::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl Serialize for Part {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = Map::new();
        let (key, value) = match &self.content {
            PartContent::Text(text) => ("text", Value::String(text.clone())),
            PartContent::Raw(bytes) => ("raw", Value::String(STANDARD.encode(bytes))),
            PartContent::Url(url) => ("url", Value::String(url.clone())),
            PartContent::Data(data) => ("data", data.clone()),
        };
        object.insert(key.to_owned(), value);
        if let Some(metadata) = &self.metadata {
            object.insert("metadata".to_owned(), Value::Object(metadata.clone()));
        }
        if let Some(filename) = &self.filename {
            object.insert("filename".to_owned(), Value::String(filename.clone()));
        }
        if let Some(media_type) = &self.media_type {
            object.insert("mediaType".to_owned(), Value::String(media_type.clone()));
        }
        object.serialize(serializer)
    }
}

/// Every key a part may carry, in 1.0 and in the 0.3 form (`kind`, `file`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePart {
    text: Option<String>,
    raw: Option<String>,
    url: Option<String>,
    // `Some(Value::Null)` is a data part holding null, so the key's presence is what counts.
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    metadata: Option<Metadata>,
    filename: Option<String>,
    #[serde(alias = "media_type", alias = "mimeType")]
    media_type: Option<String>,
    /// 0.3: `{"kind": "file", "file": {"bytes" | "uri", "mimeType", "name"}}`.
    file: Option<WireFile03>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFile03 {
    bytes: Option<String>,
    uri: Option<String>,
    mime_type: Option<String>,
    name: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

fn decode_bytes<E: serde::de::Error>(text: &str) -> Result<Vec<u8>, E> {
    STANDARD.decode(text).or_else(|_| URL_SAFE.decode(text)).map_err(|_| E::custom("`raw` is not base64"))
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WirePart::deserialize(deserializer)?;
        let mut filename = wire.filename;
        let mut media_type = wire.media_type;
        let mut contents = Vec::with_capacity(1);
        if let Some(text) = wire.text {
            contents.push(PartContent::Text(text));
        }
        if let Some(raw) = wire.raw {
            contents.push(PartContent::Raw(decode_bytes(&raw)?));
        }
        if let Some(url) = wire.url {
            contents.push(PartContent::Url(url));
        }
        if let Some(data) = wire.data {
            contents.push(PartContent::Data(data));
        }
        if let Some(file) = wire.file {
            filename = filename.or(file.name);
            media_type = media_type.or(file.mime_type);
            match (file.bytes, file.uri) {
                (Some(bytes), _) => contents.push(PartContent::Raw(decode_bytes(&bytes)?)),
                (None, Some(uri)) => contents.push(PartContent::Url(uri)),
                (None, None) => return Err(D::Error::custom("a `file` part needs `bytes` or `uri`")),
            }
        }
        let mut contents = contents.into_iter();
        let (Some(content), None) = (contents.next(), contents.next()) else {
            return Err(D::Error::custom("a part must have exactly one of `text`, `raw`, `url` or `data`"));
        };
        Ok(Part { content, metadata: wire.metadata, filename, media_type })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Part, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn each_content_kind_round_trips_in_its_wire_form() -> Result<(), serde_json::Error> {
        let cases = [
            json!({"text": "hello"}),
            json!({"raw": "aGVsbG8=", "filename": "output.txt", "mediaType": "text/plain"}),
            json!({"url": "https://example.com/output.txt"}),
            json!({"data": {"key": "value", "count": 42}, "metadata": {"a": 1}}),
            json!({"data": null}),
        ];
        for case in cases {
            assert_eq!(serde_json::to_value(parse(case.clone())?)?, case);
        }
        assert_eq!(parse(json!({"raw": "aGVsbG8="}))?.content, PartContent::Raw(b"hello".to_vec()));
        Ok(())
    }

    #[test]
    fn a_part_needs_exactly_one_content() {
        assert!(parse(json!({})).is_err());
        assert!(parse(json!({"metadata": {}})).is_err());
        assert!(parse(json!({"text": "a", "url": "https://x"})).is_err());
        assert!(parse(json!({"raw": "not base64!"})).is_err());
    }

    #[test]
    fn the_0_3_forms_are_read() -> Result<(), serde_json::Error> {
        assert_eq!(parse(json!({"kind": "text", "text": "hi"}))?.as_text(), Some("hi"));
        let file =
            parse(json!({"kind": "file", "file": {"uri": "https://x/y", "mimeType": "text/plain", "name": "y"}}))?;
        assert_eq!(file.content, PartContent::Url("https://x/y".into()));
        assert_eq!((file.filename.as_deref(), file.media_type.as_deref()), (Some("y"), Some("text/plain")));
        Ok(())
    }
}
