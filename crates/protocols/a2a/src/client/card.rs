//! Fetching a card and choosing how to talk to the agent.

use serde_json::{Value, json};

use super::lenient::camel_keys;
use crate::version::ProtocolVersion;
use crate::{AgentCard, AgentInterface, PROTOCOL_BINDING_HTTP_JSON, PROTOCOL_BINDING_JSONRPC};

/// The binding a client speaks to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// JSON-RPC 2.0.
    JsonRpc,
    /// HTTP+JSON (REST).
    Rest,
}

/// The interface a client uses: where, how, in which version, and the tenant to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The interface URL.
    pub url: String,
    /// The binding.
    pub binding: Binding,
    /// The protocol version the interface speaks.
    pub version: ProtocolVersion,
    /// The tenant the card asks for, if any.
    pub tenant: Option<String>,
}

/// Makes a 0.3 card readable as 1.0: `url` + `preferredTransport` +
/// `additionalInterfaces` become `supportedInterfaces`, and
/// `supportsAuthenticatedExtendedCard` becomes `capabilities.extendedAgentCard`.
pub(crate) fn normalize_card(card: Value) -> Value {
    let mut card = match camel_keys(card) {
        Value::Object(card) => card,
        other => return other,
    };
    let has_interfaces = card.get("supportedInterfaces").and_then(Value::as_array).is_some_and(|list| !list.is_empty());
    if !has_interfaces && let Some(url) = card.get("url").and_then(Value::as_str).map(str::to_owned) {
        let version = card.get("protocolVersion").and_then(Value::as_str).unwrap_or("0.3").to_owned();
        let preferred = card.get("preferredTransport").and_then(Value::as_str).unwrap_or("JSONRPC").to_owned();
        let mut interfaces = vec![json!({"url": url, "protocolBinding": preferred, "protocolVersion": version})];
        for extra in card.get("additionalInterfaces").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(url), Some(transport)) = (extra.get("url"), extra.get("transport")) {
                interfaces.push(json!({"url": url, "protocolBinding": transport, "protocolVersion": version}));
            }
        }
        card.insert("supportedInterfaces".into(), Value::Array(interfaces));
    }
    if let Some(flag) = card.remove("supportsAuthenticatedExtendedCard") {
        let capabilities = card.entry("capabilities").or_insert_with(|| json!({}));
        if let Value::Object(capabilities) = capabilities {
            capabilities.entry("extendedAgentCard").or_insert(flag);
        }
    }
    for required in ["description", "version"] {
        card.entry(required).or_insert_with(|| json!(""));
    }
    if let Some(Value::Object(schemes)) = card.get_mut("securitySchemes") {
        for scheme in schemes.values_mut() {
            *scheme = current_scheme(std::mem::take(scheme));
        }
    }
    current_requirements(&mut card);
    if let Some(Value::Array(skills)) = card.get_mut("skills") {
        for skill in skills.iter_mut().filter_map(Value::as_object_mut) {
            current_requirements(skill);
        }
    }
    Value::Object(card)
}

/// The 1.0 oneof member names of a security scheme.
const SCHEME_MEMBERS: [&str; 5] = [
    "apiKeySecurityScheme",
    "httpAuthSecurityScheme",
    "oauth2SecurityScheme",
    "openIdConnectSecurityScheme",
    "mtlsSecurityScheme",
];

/// A security scheme in 1.0 form: the oneof member alone when the scheme has
/// one (a dual card adds the 0.3 keys beside it), else made from the 0.3
/// OpenAPI form (`{"type": "http", "scheme": "bearer"}`).
fn current_scheme(scheme: Value) -> Value {
    let Value::Object(mut scheme) = scheme else {
        return scheme;
    };
    if let Some((name, member)) = SCHEME_MEMBERS.iter().find_map(|name| scheme.remove(*name).map(|m| (*name, m))) {
        return json!({ name: member });
    }
    let text = |key: &str| scheme.get(key).cloned().unwrap_or(json!(""));
    match scheme.get("type").and_then(Value::as_str) {
        Some("http") => json!({"httpAuthSecurityScheme": {"scheme": text("scheme"),
            "bearerFormat": text("bearerFormat"), "description": text("description")}}),
        Some("apiKey") => json!({"apiKeySecurityScheme": {"location": text("in"), "name": text("name"),
            "description": text("description")}}),
        Some("openIdConnect") => json!({"openIdConnectSecurityScheme": {"openIdConnectUrl": text("openIdConnectUrl"),
            "description": text("description")}}),
        Some("mutualTLS") => json!({"mtlsSecurityScheme": {"description": text("description")}}),
        _ => {
            scheme.remove("type");
            json!({"oauth2SecurityScheme": scheme})
        }
    }
}

/// 0.3 `security: [{"name": [scopes]}]` as 1.0 `securityRequirements`, when only the former is there.
fn current_requirements(object: &mut serde_json::Map<String, Value>) {
    let Some(Value::Array(alternatives)) = object.remove("security") else {
        return;
    };
    if object.contains_key("securityRequirements") {
        return;
    }
    let requirements: Vec<Value> = alternatives
        .into_iter()
        .filter_map(|alternative| match alternative {
            Value::Object(schemes) => Some(json!({"schemes": schemes.into_iter()
                .map(|(name, scopes)| (name, json!({"list": scopes})))
                .collect::<serde_json::Map<_, _>>()})),
            _ => None,
        })
        .collect();
    object.insert("securityRequirements".into(), Value::Array(requirements));
}

/// The interface to use: one that speaks 1.0 if the card offers any, else
/// one that speaks 0.3, over a binding we have — the preferred binding when
/// given, else the first in the card's order of preference.
pub fn choose_endpoint(card: &AgentCard, prefer: Option<Binding>) -> Option<Endpoint> {
    let usable = |interface: &AgentInterface| {
        let binding = match interface.protocol_binding.as_str() {
            PROTOCOL_BINDING_JSONRPC => Binding::JsonRpc,
            PROTOCOL_BINDING_HTTP_JSON => Binding::Rest,
            _ => return None,
        };
        Some(Endpoint {
            url: interface.url.trim_end_matches('/').to_owned(),
            binding,
            version: ProtocolVersion::of_card(&interface.protocol_version)?,
            tenant: interface.tenant.clone().filter(|t| !t.is_empty()),
        })
    };
    let all: Vec<Endpoint> = card.supported_interfaces.iter().filter_map(usable).collect();
    let newest = if all.iter().any(|e| e.version == ProtocolVersion::V1_0) {
        ProtocolVersion::V1_0
    } else {
        ProtocolVersion::V0_3
    };
    let candidates: Vec<Endpoint> = all.into_iter().filter(|e| e.version == newest).collect();
    let preferred = prefer.and_then(|binding| candidates.iter().find(|e| e.binding == binding).cloned());
    preferred.or_else(|| candidates.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_0_3_card_reads_with_its_interfaces_and_is_called_in_0_3() -> Result<(), serde_json::Error> {
        let old = json!({"name": "Old", "description": "d", "version": "1", "url": "http://h/rpc",
            "preferredTransport": "JSONRPC", "protocolVersion": "0.3.0", "supportsAuthenticatedExtendedCard": true,
            "additionalInterfaces": [{"url": "http://h/rest", "transport": "HTTP+JSON"}],
            "capabilities": {}, "defaultInputModes": [], "defaultOutputModes": [], "skills": []});
        let mut card: AgentCard = serde_json::from_value(normalize_card(old))?;
        assert_eq!(card.supported_interfaces.len(), 2);
        assert_eq!(card.capabilities.extended_agent_card, Some(true));
        let chosen = choose_endpoint(&card, None).map(|e| (e.url, e.binding, e.version));
        assert_eq!(chosen, Some(("http://h/rpc".to_owned(), Binding::JsonRpc, ProtocolVersion::V0_3)));
        let rest = choose_endpoint(&card, Some(Binding::Rest)).map(|e| (e.url, e.version));
        assert_eq!(rest, Some(("http://h/rest".to_owned(), ProtocolVersion::V0_3)));
        card.supported_interfaces.push(AgentInterface {
            url: "http://h/v1".into(),
            protocol_binding: PROTOCOL_BINDING_JSONRPC.into(),
            tenant: None,
            protocol_version: "1.0".into(),
        });
        let newest = choose_endpoint(&card, Some(Binding::Rest)).map(|e| (e.url, e.version));
        assert_eq!(newest, Some(("http://h/v1".to_owned(), ProtocolVersion::V1_0)), "1.0 wins over 0.3");
        card.supported_interfaces[0].protocol_version = "2.0".into();
        card.supported_interfaces.truncate(1);
        assert_eq!(choose_endpoint(&card, None), None, "no version we speak");
        Ok(())
    }

    #[test]
    fn a_dual_card_and_a_0_3_card_read_their_security_in_1_0_form() -> Result<(), serde_json::Error> {
        let dual = json!({"name": "N", "description": "d", "version": "1", "capabilities": {},
            "supportedInterfaces": [{"url": "http://h/a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
            "url": "http://h/a", "protocolVersion": "0.3.0",
            "securitySchemes": {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}, "type": "http", "scheme": "Bearer"}},
            "securityRequirements": [{"schemes": {"bearer": {"list": []}}}], "security": [{"bearer": []}],
            "defaultInputModes": [], "defaultOutputModes": [], "skills": []});
        let legacy = json!({"name": "O", "description": "d", "version": "1", "capabilities": {}, "url": "http://h/o",
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "security": [{"bearer": []}], "defaultInputModes": [], "defaultOutputModes": [],
            "skills": [{"id": "s", "name": "S", "description": "d", "tags": [], "security": [{"bearer": ["read"]}]}]});
        for (card, scheme) in [(dual, "Bearer"), (legacy, "bearer")] {
            let card: AgentCard = serde_json::from_value(normalize_card(card))?;
            let Some(crate::SecurityScheme::HttpAuthSecurityScheme(http)) = card.security_schemes.get("bearer") else {
                panic!("no bearer scheme: {card:?}");
            };
            assert_eq!(http.scheme, scheme);
            assert_eq!(card.security_requirements[0].schemes.keys().collect::<Vec<_>>(), ["bearer"]);
        }
        Ok(())
    }

    #[test]
    fn the_preferred_binding_is_picked_when_offered() -> Result<(), serde_json::Error> {
        let card = json!({"name": "N", "description": "d", "version": "1", "capabilities": {},
            "supportedInterfaces": [
                {"url": "http://h/a/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
                {"url": "http://h/a/rest", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0", "tenant": "t1"}],
            "defaultInputModes": [], "defaultOutputModes": [], "skills": []});
        let card: AgentCard = serde_json::from_value(normalize_card(card))?;
        let first = choose_endpoint(&card, None);
        assert_eq!(first.map(|e| (e.url, e.binding)), Some(("http://h/a".to_owned(), Binding::JsonRpc)));
        let rest = choose_endpoint(&card, Some(Binding::Rest));
        assert_eq!(rest.map(|e| (e.binding, e.tenant)), Some((Binding::Rest, Some("t1".to_owned()))));
        Ok(())
    }
}
