//! Sentences people read: counts with the right form of their noun.

/// `count` followed by `singular` when it is one, else `plural`: "1 risk", "3 risks", "0 people".
pub fn counted(count: usize, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1, "person", "people"), "1 person");
        assert_eq!(counted(0, "person", "people"), "0 people");
        assert_eq!(counted(3, "risk", "risks"), "3 risks");
    }
}
