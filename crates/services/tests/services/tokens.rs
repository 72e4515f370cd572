//! Token counts against Python tiktoken's, on the committed corpus
//! (`tests/services/fixtures/token-corpus.json`, counts written by `scripts/tiktoken-corpus`).

use agentdeck_services::metering::{Encoding, count_tokens};
use serde_json::Value;

#[test]
fn every_count_of_the_corpus_equals_python_tiktokens() -> anyhow::Result<()> {
    let corpus: Value = serde_json::from_str(include_str!("fixtures/token-corpus.json"))?;
    let texts = corpus["texts"].as_array().cloned().unwrap_or_default();
    assert!(texts.len() >= 15, "the corpus is there");
    let mut checked = 0;
    for entry in &texts {
        let text = entry["text"].as_str().unwrap_or_default();
        for encoding in [Encoding::Cl100kBase, Encoding::O200kBase] {
            let expected = entry["counts"][encoding.as_str()].as_u64();
            assert_eq!(
                Some(count_tokens(encoding, text) as u64),
                expected,
                "{} under {}",
                entry["name"],
                encoding.as_str()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, texts.len() * 2);
    Ok(())
}
