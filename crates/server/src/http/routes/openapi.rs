//! What every operation of the OpenAPI document shares, added once here
//! instead of repeated (and forgotten) on each route.
//!
//! The routes' `#[utoipa::path]` annotations say what is particular to each
//! one. The answers that come from the shared machinery are added by
//! [`complete`] after the routers are merged, derived from the same facts that
//! make the server give them:
//!
//! | the operation…                       | so it may answer                                   | made by |
//! |--------------------------------------|----------------------------------------------------|---------|
//! | declares the `bearer` scheme         | 401; 403 for an API token without the route's scope or a disabled workspace; 503 when the workspace cannot be looked up | [`Caller`](crate::http::extract::Caller) |
//! | has a path parameter                 | 400 when it is not a UUID                           | [`IdPath`](crate::http::extract::IdPath) |
//! | has query parameters                 | 422 for an unknown or malformed one                  | [`ApiQuery`](crate::http::extract::ApiQuery) |
//! | takes a JSON body                    | 400, 413, 415, 422                                  | [`ApiJson`](crate::http::extract::ApiJson) |
//! | is rate limited ([`ratelimit::classify`](crate::http::ratelimit::classify)) | 429 | the rate-limit layer |
//!
//! An answer a route documents itself keeps its own description; every error
//! answer without a body gets the shared [`ErrorBody`](crate::http::error::ErrorBody).
//! The formats of the parameters several routes share (`cursor`, `If-Match`,
//! `If-None-Match`, `Idempotency-Key`) are set here too, from the parsers'
//! own patterns, so the document and the parsers cannot drift apart.
//!
//! Checked by `tests/api/openapi.rs`: the facts of the document, and a
//! schema-based fuzzer (schemathesis) run over the whole API.

use agentdeck_domain::dashboard::version::PRECONDITION_PATTERN;
use agentdeck_domain::page::CURSOR_PATTERN;
use axum::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

use crate::http::extract::MAX_IDEMPOTENCY_KEY_CHARS;
use crate::http::ratelimit;

/// Declares the `bearer` and `session` security schemes the routes refer to.
pub(super) struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or API token")
                    .description(Some(
                        "A JWT, or an API token (adk_pat_… or adk_svc_…) holding the scope the route needs",
                    ))
                    .build(),
            ),
        );
        // Dev mode names the cookie `agentdeck_session` (plain HTTP cannot hold a `__Host-` cookie).
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::http::session::SECURE_COOKIE,
                "The session cookie of POST /api/auth/login; writes also need X-CSRF-Token and a trusted Origin",
            ))),
        );
    }
}

/// Adds the shared answers and parameter formats to every operation of `openapi`.
pub(super) fn complete(openapi: &mut OpenApi) {
    let idempotency_key = idempotency_key_pattern();
    let query_text = agentdeck_domain::records::wire_schema::text_pattern();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let operations = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            add_shared_answers(operation, ratelimit::classify(&method, path).is_some());
            set_parameter_formats(operation, &idempotency_key, &query_text);
        }
    }
}

fn add_shared_answers(operation: &mut Operation, rate_limited: bool) {
    let secured = operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty());
    let parameters = operation.parameters.iter().flatten().filter_map(|parameter| match parameter {
        RefOr::T(parameter) => Some(&parameter.parameter_in),
        RefOr::Ref(_) => None,
    });
    let (mut in_path, mut in_query) = (false, false);
    for location in parameters {
        in_path |= matches!(location, ParameterIn::Path);
        in_query |= matches!(location, ParameterIn::Query);
    }
    let json_body = operation.request_body.as_ref().is_some_and(|body| match body {
        RefOr::T(body) => body.content.keys().any(|media_type| media_type.ends_with("json")),
        RefOr::Ref(_) => true,
    });
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if secured {
        answers.push(("401", "Missing, invalid or expired bearer token, or its workspace no longer exists"));
        answers.push((
            "403",
            "The API token lacks the scope this route needs (read, write or agents), or the workspace is disabled",
        ));
        answers.push(("503", "The database is unavailable; retry shortly"));
    }
    if in_path {
        answers.push(("400", "A path parameter is not a record id (a UUID)"));
    }
    if in_query {
        answers.push(("422", "A query parameter is unknown or malformed; details list them"));
    }
    if json_body {
        answers.push(("400", "The body is not JSON (invalid_json), nests too deep (json_too_deep) or cannot be read"));
        answers.push(("413", "The body is larger than the server accepts"));
        answers.push(("415", "The body is not sent as JSON"));
        answers.push(("422", "The body breaks a rule; details list the failing paths"));
    }
    if rate_limited {
        answers.push(("429", "Too many requests; see Retry-After"));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in answers {
        responses.entry(status.to_owned()).or_insert_with(|| ResponseBuilder::new().description(description).into());
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(response) = response
            && is_error
            && response.content.is_empty()
        {
            let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            response.content.insert("application/json".to_owned(), body.into());
        }
    }
}

/// `Idempotency-Key`: 1 to [`MAX_IDEMPOTENCY_KEY_CHARS`] visible ASCII
/// characters once the spaces and tabs around them are trimmed.
fn idempotency_key_pattern() -> String {
    let inner = MAX_IDEMPOTENCY_KEY_CHARS - 2;
    format!(r"^[ \t]*[!-~]([\t -~]{{0,{inner}}}[!-~])?[ \t]*$")
}

fn set_parameter_formats(operation: &mut Operation, idempotency_key: &str, query_text: &str) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else { continue };
        let (pattern, example) = match (&parameter.parameter_in, parameter.name.as_str()) {
            (ParameterIn::Query, "cursor") => (CURSOR_PATTERN, "0000018f2b3c4d5e0190a1b2c3d4e5f60718293a4b5c6d7e"),
            (ParameterIn::Header, "If-Match" | "If-None-Match") => (PRECONDITION_PATTERN, "\"k7gq3mj5vx2ab.4\""),
            (ParameterIn::Header, "Idempotency-Key") => (idempotency_key, "3f2c9a1e-retry-1"),
            (ParameterIn::Query, _) => {
                // ApiQuery refuses a control character in any query parameter (422),
                // so every free-text one says so; typed ones (ids, times, numbers) already do.
                if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut()
                    && is_free_text(schema)
                {
                    schema.pattern = Some(query_text.to_owned());
                }
                continue;
            }
            _ => continue,
        };
        if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
            // An optional header is left out, never sent as `null`: the type is a string.
            schema.schema_type = Type::String.into();
            schema.pattern = Some(pattern.to_owned());
            schema.examples = vec![serde_json::Value::from(example)];
        }
    }
}

/// A string schema with no format, pattern or enumeration of its own.
fn is_free_text(schema: &utoipa::openapi::schema::Object) -> bool {
    let is_string = matches!(&schema.schema_type, SchemaType::Type(Type::String))
        || matches!(&schema.schema_type, SchemaType::Array(types) if types.contains(&Type::String));
    is_string && schema.format.is_none() && schema.pattern.is_none() && schema.enum_values.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotency_key_pattern_is_the_header_rule() {
        let schema = serde_json::json!({"type": "string", "pattern": idempotency_key_pattern()});
        let pattern = jsonschema::validator_for(&schema).expect("a valid pattern");
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        let too_long = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1);
        let cases = [
            ("k", true),
            (" k\t", true),
            ("a b", true),
            (longest.as_str(), true),
            (too_long.as_str(), false),
            ("", false),
            (" \t ", false),
        ];
        for (key, expected) in cases {
            assert_eq!(pattern.is_valid(&serde_json::json!(key)), expected, "{key:?}");
        }
    }
}
