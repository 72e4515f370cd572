//! Small JSON helpers shared by the document rules and the patch checks:
//! pointer segments, nesting depth and numeric-aware equality.

use serde::Serialize;
use serde_json::Value;

/// Escapes one JSON Pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `parent` with one more (escaped) segment.
pub(crate) fn child(parent: &str, segment: &str) -> String {
    format!("{parent}/{}", escape(segment))
}

/// The pointer of the first array or object nested more than `max_depth`
/// levels deep (the outermost container is level 1), or `None` if none is.
///
/// Iterative on purpose: the value may come from anywhere, and a recursive walk
/// over a hostile, deeply nested value would be a stack overflow waiting to happen.
pub(crate) fn first_too_deep(value: &Value, max_depth: usize) -> Option<String> {
    let root = Children::of(value)?;
    if max_depth == 0 {
        return Some(String::new());
    }
    // `path` always holds one segment fewer than `stack`: the root has none.
    let mut path: Vec<String> = Vec::new();
    let mut stack = vec![root];
    while let Some(top) = stack.last_mut() {
        let Some((segment, next)) = top.next() else {
            stack.pop();
            path.pop();
            continue;
        };
        let Some(children) = Children::of(next) else { continue };
        path.push(segment);
        if stack.len() + 1 > max_depth {
            return Some(path.iter().map(|segment| format!("/{}", escape(segment))).collect());
        }
        stack.push(children);
    }
    None
}

/// Iterates over a container's children with their pointer segments.
enum Children<'a> {
    Object(serde_json::map::Iter<'a>),
    Array(std::iter::Enumerate<std::slice::Iter<'a, Value>>),
}

impl<'a> Children<'a> {
    fn of(value: &'a Value) -> Option<Self> {
        match value {
            Value::Object(members) => Some(Self::Object(members.iter())),
            Value::Array(items) => Some(Self::Array(items.iter().enumerate())),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<(String, &'a Value)> {
        match self {
            Self::Object(members) => members.next().map(|(name, value)| (name.clone(), value)),
            Self::Array(items) => items.next().map(|(index, value)| (index.to_string(), value)),
        }
    }
}

/// Length of `value` serialized as compact JSON, counted without building the text.
///
/// Serializing our own types and `Value`s cannot fail (all map keys are
/// strings); if it ever did, `usize::MAX` makes every size check fail closed.
pub(crate) fn serialized_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = ByteCounter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Counts the bytes serde writes, so size checks need no second copy of the document.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// JSON equality as RFC 6902 `test` defines it: numbers compare by value, so
/// `5`, `5.0` and `5e0` are equal (serde_json's `==` would say `5 != 5.0`).
///
/// Recursive, but only ever called after the document and the operation's
/// value passed the depth check.
pub(crate) fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => match (left.as_i64(), right.as_i64()) {
            (Some(left), Some(right)) => left == right,
            _ => match (left.as_u64(), right.as_u64()) {
                (Some(left), Some(right)) => left == right,
                _ => left.as_f64() == right.as_f64(),
            },
        },
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|(left, right)| json_equal(left, right))
        }
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len()
                && left.iter().all(|(name, value)| right.get(name).is_some_and(|other| json_equal(value, other)))
        }
        _ => left == right,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn depth_counts_containers_and_points_at_the_first_too_deep_one() {
        assert_eq!(first_too_deep(&json!(1), 0), None);
        assert_eq!(first_too_deep(&json!({}), 0), Some(String::new()));
        assert_eq!(first_too_deep(&json!({"a": {"b": [1]}}), 3), None);
        assert_eq!(first_too_deep(&json!({"a": {"b": [1]}}), 2), Some("/a/b".to_owned()));
        assert_eq!(first_too_deep(&json!({"x": 1, "a/b": [[{}]]}), 3), Some("/a~1b/0/0".to_owned()));
    }

    #[test]
    fn depth_walk_survives_very_deep_values() {
        let mut value = json!(0);
        for _ in 0..100_000 {
            value = Value::Array(vec![value]);
        }
        assert_eq!(first_too_deep(&value, 32).map(|path| path.len()), Some(32 * 2));
        // Dropping a 100 000-level value recurses in serde_json; unwind it by hand.
        while let Value::Array(mut items) = value {
            value = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_equal(&json!({"a": [5]}), &json!({"a": [5.0]})));
        assert!(json_equal(&json!(-3), &json!(-3.0)));
        assert!(!json_equal(&json!(5), &json!("5")));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(json_equal(&json!(u64::MAX), &json!(u64::MAX)));
    }
}
