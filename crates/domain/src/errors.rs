//! Rendering errors for logs and messages.

/// An error and its sources on one line, `outer: inner: …`.
///
/// Many error types (reqwest's, sqlx's, a wrapping `thiserror` variant) say
/// only "unavailable" or "error sending request" at the top and keep the
/// useful part in their sources, which `Display` does not show.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn every_source_is_named_in_order() {
        let error = Outer(std::io::Error::other("inner"));
        assert_eq!(error_chain(&error), "outer: inner");
        assert_eq!(error_chain(&std::io::Error::other("alone")), "alone");
    }
}
