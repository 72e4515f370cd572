//! The stored form of a dashboard document: its JSON text, compressed with zstd
//! when it is larger than a threshold.
//!
//! Stored bytes start with a one-byte tag naming the encoding, so a reader never
//! guesses and the threshold can change without rewriting stored documents.
//! Compression is verified by decompressing once before the result is used: a
//! compressor bug can cost space, never data. Reading caps the decompressed
//! size, so a corrupted or hostile blob cannot expand without bound.

/// Documents larger than this (bytes of JSON) are stored compressed by default.
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 8 * 1024;

/// zstd level: fast, and already several times smaller on dashboard JSON.
const ZSTD_LEVEL: i32 = 3;

const TAG_PLAIN: u8 = 0;
const TAG_ZSTD: u8 = 1;

/// How a stored document is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JSON text as is.
    Plain,
    /// JSON text compressed with zstd.
    Zstd,
}

/// A document ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Tag byte followed by the payload.
    pub bytes: Vec<u8>,
    /// Which encoding was chosen.
    pub encoding: Encoding,
    /// Length of the JSON text before encoding.
    pub original_len: usize,
}

impl Encoded {
    /// Stored size over original size (1.0 when stored plain; lower is better).
    pub fn ratio(&self) -> f64 {
        if self.original_len == 0 {
            return 1.0;
        }
        self.bytes.len() as f64 / self.original_len as f64
    }
}

/// Why stored bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Nothing was stored.
    #[error("stored document is empty")]
    Empty,
    /// The tag byte names no known encoding.
    #[error("stored document has unknown encoding tag {0}")]
    UnknownTag(u8),
    /// The compressed payload is corrupt or expands past the limit.
    #[error("stored document cannot be decompressed: {0}")]
    Corrupt(String),
}

/// Encodes JSON text for storage: zstd above `threshold` bytes, verified by a
/// round trip; plain otherwise, or when compression does not pay or fails.
pub fn encode(json: &[u8], threshold: usize) -> Encoded {
    let plain = || Encoded { bytes: tagged(TAG_PLAIN, json), encoding: Encoding::Plain, original_len: json.len() };
    if json.len() <= threshold {
        return plain();
    }
    let compressed = match zstd::bulk::compress(json, ZSTD_LEVEL) {
        Ok(compressed) => compressed,
        Err(error) => {
            tracing::warn!(%error, bytes = json.len(), "compression failed; storing the document plain");
            return plain();
        }
    };
    if compressed.len() >= json.len() {
        return plain();
    }
    match zstd::bulk::decompress(&compressed, json.len()) {
        Ok(round_trip) if round_trip == json => {}
        _ => {
            tracing::warn!(bytes = json.len(), "compression round trip differed; storing the document plain");
            return plain();
        }
    }
    Encoded { bytes: tagged(TAG_ZSTD, &compressed), encoding: Encoding::Zstd, original_len: json.len() }
}

/// Decodes stored bytes back into JSON text of at most `max_len` bytes.
pub fn decode(stored: &[u8], max_len: usize) -> Result<Vec<u8>, CodecError> {
    let Some((&tag, payload)) = stored.split_first() else {
        return Err(CodecError::Empty);
    };
    match tag {
        TAG_PLAIN => Ok(payload.to_vec()),
        TAG_ZSTD => zstd::bulk::decompress(payload, max_len).map_err(|error| CodecError::Corrupt(error.to_string())),
        other => Err(CodecError::UnknownTag(other)),
    }
}

fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(payload.len() + 1);
    bytes.push(tag);
    bytes.extend_from_slice(payload);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dashboard_like_json(items: usize) -> Vec<u8> {
        let activity: Vec<_> = (0..items)
            .map(|index| {
                serde_json::json!({
                    "id": format!("act-{index}"), "user": "Priya Shah", "action": "completed",
                    "target": format!("Task number {index}"), "time": "2026-11-22T03:00:00.000Z"
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "schemaVersion": 2, "activity": activity })).unwrap()
    }

    #[test]
    fn small_documents_stay_plain() {
        let json = dashboard_like_json(2);
        let encoded = encode(&json, DEFAULT_COMPRESSION_THRESHOLD);
        assert_eq!(encoded.encoding, Encoding::Plain);
        assert_eq!(encoded.ratio(), (json.len() + 1) as f64 / json.len() as f64);
        assert_eq!(decode(&encoded.bytes, 1 << 20).unwrap(), json);
    }

    #[test]
    fn large_documents_are_compressed_and_round_trip() {
        let json = dashboard_like_json(100);
        assert!(json.len() > DEFAULT_COMPRESSION_THRESHOLD);
        let encoded = encode(&json, DEFAULT_COMPRESSION_THRESHOLD);
        assert_eq!(encoded.encoding, Encoding::Zstd);
        assert!(encoded.ratio() < 0.2, "ratio {}", encoded.ratio());
        assert_eq!(decode(&encoded.bytes, 1 << 20).unwrap(), json);
    }

    #[test]
    fn incompressible_data_stays_plain() {
        // splitmix64: bytes with no structure for zstd to find.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let noise: Vec<u8> = (0..2_500)
            .flat_map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)).to_le_bytes()
            })
            .collect();
        let encoded = encode(&noise, 1024);
        assert_eq!(encoded.encoding, Encoding::Plain);
        assert_eq!(decode(&encoded.bytes, 1 << 20).unwrap(), noise);
    }

    #[test]
    fn bad_stored_bytes_are_errors_not_panics() {
        assert_eq!(decode(&[], 10), Err(CodecError::Empty));
        assert_eq!(decode(&[9, 1, 2], 10), Err(CodecError::UnknownTag(9)));
        assert!(matches!(decode(&[TAG_ZSTD, 1, 2, 3], 10), Err(CodecError::Corrupt(_))));
        // A valid stream that expands past the cap is refused.
        let encoded = encode(&dashboard_like_json(100), 0);
        assert!(matches!(decode(&encoded.bytes, 100), Err(CodecError::Corrupt(_))));
    }
}
