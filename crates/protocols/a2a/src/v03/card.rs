//! The 0.3 fields of an agent card, and the dual card that carries both.
//!
//! A 0.3 client finds an agent by the card's top-level `url`,
//! `preferredTransport` and `additionalInterfaces`, reads
//! `supportsAuthenticatedExtendedCard`, and reads security in the OpenAPI
//! form (`{"type": "http", "scheme": "bearer"}`, `security: [{"bearer": []}]`).
//! A 1.0 client reads `supportedInterfaces` and ignores members it does not
//! know. The dual card is the 1.0 card with the 0.3 members merged in — as
//! the reference SDK serves it — so that either client can use it: new
//! members are added, and where both versions use the same member for an
//! object (a security scheme, the capabilities, a skill) the 0.3 keys are
//! added inside it.

use serde_json::{Map, Value, json};

use crate::version::{LEGACY_CARD_VERSION, ProtocolVersion};
use crate::{AgentCard, SecurityRequirement, SecurityScheme};

/// The 0.3 members of a card whose `supportedInterfaces` include 0.3 ones;
/// `None` when it offers no 0.3 interface.
pub fn legacy_members(card: &AgentCard) -> Option<Map<String, Value>> {
    let legacy: Vec<_> = card
        .supported_interfaces
        .iter()
        .filter(|interface| ProtocolVersion::of_card(&interface.protocol_version) == Some(ProtocolVersion::V0_3))
        .collect();
    let preferred = legacy.first()?;
    let mut members = Map::new();
    members.insert("url".into(), json!(preferred.url));
    members.insert("preferredTransport".into(), json!(preferred.protocol_binding));
    members.insert("protocolVersion".into(), json!(LEGACY_CARD_VERSION));
    let additional: Vec<Value> =
        legacy.iter().map(|i| json!({"url": i.url, "transport": i.protocol_binding})).collect();
    members.insert("additionalInterfaces".into(), Value::Array(additional));
    if let Some(extended) = card.capabilities.extended_agent_card {
        members.insert("supportsAuthenticatedExtendedCard".into(), json!(extended));
    }
    if !card.security_schemes.is_empty() {
        let schemes: Map<String, Value> =
            card.security_schemes.iter().map(|(name, scheme)| (name.clone(), legacy_scheme(scheme))).collect();
        members.insert("securitySchemes".into(), Value::Object(schemes));
    }
    if !card.security_requirements.is_empty() {
        members.insert("security".into(), legacy_requirements(&card.security_requirements));
    }
    let skills: Vec<Value> = card
        .skills
        .iter()
        .map(|skill| match skill.security_requirements.as_slice() {
            [] => json!({}),
            requirements => json!({"security": legacy_requirements(requirements)}),
        })
        .collect();
    members.insert("skills".into(), Value::Array(skills));
    Some(members)
}

/// The dual card: the 1.0 card as JSON with the 0.3 members merged in.
pub fn dual_card(card: &AgentCard) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(card)?;
    if let Some(legacy) = legacy_members(card) {
        merge(&mut value, Value::Object(legacy));
    }
    Ok(value)
}

/// Adds what `extra` has and `base` lacks, object by object and list item by list item.
fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(extra)) => {
            for (existing, value) in base.iter_mut().zip(extra) {
                merge(existing, value);
            }
        }
        _ => {}
    }
}

/// `[{"bearer": []}]`: scheme names to scopes, one map per alternative.
fn legacy_requirements(requirements: &[SecurityRequirement]) -> Value {
    let alternatives: Vec<Value> = requirements
        .iter()
        .map(|requirement| {
            let schemes: Map<String, Value> =
                requirement.schemes.iter().map(|(name, scopes)| (name.clone(), json!(scopes.list))).collect();
            Value::Object(schemes)
        })
        .collect();
    Value::Array(alternatives)
}

/// A security scheme in the OpenAPI form of 0.3.
fn legacy_scheme(scheme: &SecurityScheme) -> Value {
    let mut object = match scheme {
        SecurityScheme::ApiKeySecurityScheme(key) => {
            json!({"type": "apiKey", "in": key.location, "name": key.name, "description": key.description})
        }
        SecurityScheme::HttpAuthSecurityScheme(http) => json!({"type": "http", "scheme": http.scheme,
            "bearerFormat": http.bearer_format, "description": http.description}),
        SecurityScheme::Oauth2SecurityScheme(oauth) => {
            let mut legacy = json!({"type": "oauth2", "flows": oauth.get("flows").cloned().unwrap_or(json!({}))});
            for key in ["description", "oauth2MetadataUrl"] {
                if let (Some(value), Value::Object(legacy)) = (oauth.get(key), &mut legacy) {
                    legacy.insert(key.into(), value.clone());
                }
            }
            legacy
        }
        SecurityScheme::OpenIdConnectSecurityScheme(oidc) => json!({"type": "openIdConnect",
            "openIdConnectUrl": oidc.open_id_connect_url, "description": oidc.description}),
        SecurityScheme::MtlsSecurityScheme(mtls) => json!({"type": "mutualTLS", "description": mtls.description}),
    };
    // Empty strings are absent values in 0.3 too.
    if let Value::Object(members) = &mut object {
        members.retain(|_, value| value.as_str() != Some(""));
    }
    object
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{
        AgentCapabilities, AgentInterface, AgentSkill, HttpAuthSecurityScheme, PROTOCOL_BINDING_HTTP_JSON,
        PROTOCOL_BINDING_JSONRPC, StringList,
    };

    fn interface(url: &str, binding: &str, version: &str) -> AgentInterface {
        AgentInterface {
            url: url.into(),
            protocol_binding: binding.into(),
            tenant: None,
            protocol_version: version.into(),
        }
    }

    fn card() -> AgentCard {
        let bearer = SecurityRequirement { schemes: BTreeMap::from([("bearer".to_owned(), StringList::default())]) };
        AgentCard {
            name: "Navi".into(),
            description: "d".into(),
            supported_interfaces: vec![
                interface("http://h/a2a/navi", PROTOCOL_BINDING_JSONRPC, "1.0"),
                interface("http://h/a2a/navi/rest", PROTOCOL_BINDING_HTTP_JSON, "1.0"),
                interface("http://h/a2a/navi", PROTOCOL_BINDING_JSONRPC, "0.3"),
                interface("http://h/a2a/navi/rest", PROTOCOL_BINDING_HTTP_JSON, "0.3"),
            ],
            provider: None,
            version: "1".into(),
            documentation_url: None,
            capabilities: AgentCapabilities {
                streaming: Some(true),
                extended_agent_card: Some(true),
                ..AgentCapabilities::default()
            },
            security_schemes: BTreeMap::from([(
                "bearer".to_owned(),
                SecurityScheme::HttpAuthSecurityScheme(HttpAuthSecurityScheme {
                    description: String::new(),
                    scheme: "Bearer".into(),
                    bearer_format: "JWT".into(),
                }),
            )]),
            security_requirements: vec![bearer.clone()],
            default_input_modes: vec!["text/plain".into()],
            default_output_modes: vec!["text/plain".into()],
            skills: vec![AgentSkill {
                id: "s".into(),
                name: "S".into(),
                description: "d".into(),
                tags: vec![],
                examples: vec![],
                input_modes: vec![],
                output_modes: vec![],
                security_requirements: vec![bearer],
            }],
            signatures: vec![],
            icon_url: None,
        }
    }

    #[test]
    fn the_dual_card_has_the_1_0_members_and_the_0_3_ones() -> Result<(), serde_json::Error> {
        let dual = dual_card(&card())?;
        assert_eq!(dual["url"], json!("http://h/a2a/navi"));
        assert_eq!(dual["preferredTransport"], json!("JSONRPC"));
        assert_eq!(dual["protocolVersion"], json!("0.3.0"));
        assert_eq!(dual["additionalInterfaces"][1], json!({"url": "http://h/a2a/navi/rest", "transport": "HTTP+JSON"}));
        assert_eq!(dual["supportsAuthenticatedExtendedCard"], json!(true));
        assert_eq!(dual["security"], json!([{"bearer": []}]));
        assert_eq!(dual["securityRequirements"], json!([{"schemes": {"bearer": {"list": []}}}]));
        assert_eq!(
            dual["securitySchemes"]["bearer"],
            json!({"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"},
                "type": "http", "scheme": "Bearer", "bearerFormat": "JWT"})
        );
        assert_eq!(dual["skills"][0]["security"], json!([{"bearer": []}]));
        assert_eq!(dual["supportedInterfaces"].as_array().map(Vec::len), Some(4));
        Ok(())
    }

    #[test]
    fn a_card_without_a_0_3_interface_gets_no_0_3_members() -> Result<(), serde_json::Error> {
        let mut current = card();
        current.supported_interfaces.truncate(2);
        assert_eq!(legacy_members(&current), None);
        assert!(dual_card(&current)?.get("url").is_none());
        Ok(())
    }
}
