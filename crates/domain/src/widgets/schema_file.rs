//! Generating `schema/widgets.schema.json` from the Rust types, and embedding
//! the committed copy.
//!
//! schemars' draft 2020-12 output needs three touch-ups to be the schema we
//! want; each is a [`Transform`] below:
//!
//! - `Option<T>` becomes `T | null`: optional fields here are *absent*, never
//!   `null`, so the `null` alternatives are removed ([`forbid_null`]).
//! - Unit enums with documented variants become `oneOf` of `const`s: they are
//!   folded into one `enum`, with the variant docs kept in the description
//!   ([`consts_to_enum`]), so a bad value reads "must be one of …".
//! - Numbers carry non-standard formats (`uint32`, `double`) that strict
//!   validators (Ajv) reject: only the formats draft 2020-12 defines are kept.

use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::{RestrictFormats, Transform, transform_subschemas};
use serde_json::{Map, Value};

use super::types::Widget;

/// The committed schema, as served at `GET /api/schema/widgets.json`.
pub const SCHEMA_JSON: &str = include_str!("../../../../schema/widgets.schema.json");

/// The schema file's path relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/widgets.schema.json";

/// Generates the widget schema from the Rust types.
pub fn generate_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with_transform(RecursiveFn(forbid_null))
        .with_transform(RecursiveFn(consts_to_enum))
        .with_transform(RestrictFormats::default())
        .into_generator();
    generator.into_root_schema_for::<Widget>().to_value()
}

/// Generates the schema file's text: pretty-printed JSON with sorted keys and
/// a trailing newline.
pub fn generate_schema_text() -> String {
    // Sorted explicitly: with serde_json's `preserve_order` (which any crate in
    // a build may switch on) maps keep insertion order, and the file must not
    // depend on which packages happen to be compiled together.
    let sorted = sort_keys(generate_schema());
    // Serializing a `Value` cannot fail (all keys are strings).
    let mut text = serde_json::to_string_pretty(&sorted).unwrap_or_default();
    text.push('\n');
    text
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// Applies a one-schema fix to a schema and all its subschemas.
#[derive(Clone)]
struct RecursiveFn(fn(&mut Map<String, Value>));

impl Transform for RecursiveFn {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(object) = schema.as_object_mut() {
            (self.0)(object);
        }
        transform_subschemas(self, schema);
    }
}

/// Removes the `null` alternative schemars adds for `Option<T>`.
fn forbid_null(schema: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [single] = types.as_slice() {
            let single = single.clone();
            schema.insert("type".into(), single);
        }
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    // `Option<Struct>` is `anyOf: [{"$ref": …}, {"type": "null"}]`: keep the ref.
    if let Some(Value::Array(branches)) = schema.get_mut("anyOf") {
        branches.retain(|branch| branch.get("type").is_none_or(|t| t != "null"));
        if let [Value::Object(only)] = branches.as_slice() {
            let only = only.clone();
            schema.remove("anyOf");
            for (key, value) in only {
                schema.entry(key).or_insert(value);
            }
        }
    }
}

/// Turns `oneOf: [{const: "a", description: "…"}, …]` into `enum: ["a", …]`.
fn consts_to_enum(schema: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = schema.get("oneOf") else {
        return;
    };
    let mut values = Vec::new();
    let mut notes = Vec::new();
    for branch in branches {
        let Some(Value::String(value)) = branch.get("const") else {
            return;
        };
        if let Some(Value::String(doc)) = branch.get("description") {
            notes.push(format!("`{value}`: {}", lower_first(doc.trim_end_matches('.'))));
        }
        values.push(Value::String(value.clone()));
    }
    schema.remove("oneOf");
    schema.insert("type".into(), "string".into());
    schema.insert("enum".into(), Value::Array(values));
    if !notes.is_empty() {
        let intro = schema.get("description").and_then(Value::as_str).unwrap_or_default();
        let description = format!("{intro} {}.", notes.join("; ")).trim().to_owned();
        schema.insert("description".into(), description.into());
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}
