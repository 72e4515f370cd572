//! Token metering: how many tokens agent messages carry, counted the way
//! OpenAI's tokenizers count them.
//!
//! [`count_tokens`] is exact for `cl100k_base` and `o200k_base` (tiktoken-rs,
//! whose vocabularies are embedded in the binary: nothing is fetched at run
//! time); special-token markers such as `<|endoftext|>` in a text count as
//! the plain text they are. [`message_tokens`] counts a message: its text
//! parts, its data parts as compact JSON and its URLs. [`Meter`] keeps the
//! per-workspace daily totals of what hosted agents are sent and answer.

mod meter;

pub use meter::{Meter, QuotaAlerts};

use agentdeck_a2a_protocol::{Message, PartContent};
use tiktoken_rs::CoreBPE;

/// A tokenizer vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// GPT-4 and GPT-3.5.
    #[default]
    Cl100kBase,
    /// GPT-4o and later.
    O200kBase,
}

impl Encoding {
    /// The vocabulary's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cl100kBase => "cl100k_base",
            Self::O200kBase => "o200k_base",
        }
    }

    /// Reads a vocabulary name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "cl100k_base" => Some(Self::Cl100kBase),
            "o200k_base" => Some(Self::O200kBase),
            _ => None,
        }
    }

    fn bpe(self) -> &'static CoreBPE {
        match self {
            Self::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
            Self::O200kBase => tiktoken_rs::o200k_base_singleton(),
        }
    }
}

/// Loads the vocabularies (a second or so in debug builds), so the first count is not slow.
pub fn warm_up() {
    for encoding in [Encoding::Cl100kBase, Encoding::O200kBase] {
        let _ = encoding.bpe();
    }
}

/// Tokens of `text`.
pub fn count_tokens(encoding: Encoding, text: &str) -> usize {
    encoding.bpe().encode_ordinary(text).len()
}

/// Tokens of a message's content.
pub fn message_tokens(encoding: Encoding, message: &Message) -> usize {
    parts_tokens(encoding, &message.parts)
}

/// Tokens of message or artifact parts.
pub fn parts_tokens(encoding: Encoding, parts: &[agentdeck_a2a_protocol::Part]) -> usize {
    parts
        .iter()
        .map(|part| match &part.content {
            PartContent::Text(text) | PartContent::Url(text) => count_tokens(encoding, text),
            PartContent::Data(data) => count_tokens(encoding, &data.to_string()),
            PartContent::Raw(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_world_is_two_tokens_in_both_vocabularies() {
        assert_eq!(Encoding::Cl100kBase.bpe().encode_ordinary("hello world"), [15339, 1917]);
        assert_eq!(Encoding::O200kBase.bpe().encode_ordinary("hello world"), [24912, 2375]);
        let message = Message {
            parts: vec![
                agentdeck_a2a_protocol::Part::text("hello world"),
                agentdeck_a2a_protocol::Part::data(serde_json::json!({"a": 1})),
            ],
            ..Message::default()
        };
        assert_eq!(
            message_tokens(Encoding::Cl100kBase, &message),
            2 + count_tokens(Encoding::Cl100kBase, r#"{"a":1}"#)
        );
    }
}
