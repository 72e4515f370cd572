//! The Agent Card (`lf.a2a.v1.AgentCard`, a2a.md §2.6): who an agent is and how to reach it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Metadata, is_false};

/// `protocolBinding` of the JSON-RPC binding.
pub const PROTOCOL_BINDING_JSONRPC: &str = "JSONRPC";
/// `protocolBinding` of the HTTP+JSON (REST) binding.
pub const PROTOCOL_BINDING_HTTP_JSON: &str = "HTTP+JSON";

/// A self-description of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentCard {
    /// Human-readable name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Where and how to call it, preferred first.
    #[serde(default)]
    #[serde(alias = "supported_interfaces")]
    pub supported_interfaces: Vec<AgentInterface>,
    /// Who runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<AgentProvider>,
    /// The agent's version.
    pub version: String,
    /// Documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "documentation_url")]
    pub documentation_url: Option<String>,
    /// Optional protocol features it supports.
    #[serde(default)]
    pub capabilities: AgentCapabilities,
    /// Security schemes by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(alias = "security_schemes")]
    pub security_schemes: BTreeMap<String, SecurityScheme>,
    /// Which schemes a caller must satisfy (any one entry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(alias = "security_requirements")]
    pub security_requirements: Vec<SecurityRequirement>,
    /// Input media types.
    #[serde(default)]
    #[serde(alias = "default_input_modes")]
    pub default_input_modes: Vec<String>,
    /// Output media types.
    #[serde(default)]
    #[serde(alias = "default_output_modes")]
    pub default_output_modes: Vec<String>,
    /// What it can do.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// JWS signatures of the card.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<Value>,
    /// An icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "icon_url")]
    pub icon_url: Option<String>,
}

/// One way to reach an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInterface {
    /// Absolute URL.
    pub url: String,
    /// `JSONRPC`, `HTTP+JSON`, `GRPC` or a custom URI.
    #[serde(alias = "protocol_binding")]
    pub protocol_binding: String,
    /// Tenant to send in every request, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `1.0`.
    #[serde(alias = "protocol_version")]
    pub protocol_version: String,
}

/// The organisation behind an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentProvider {
    /// Its website.
    pub url: String,
    /// Its name.
    pub organization: String,
}

/// Optional protocol features.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentCapabilities {
    /// `SendStreamingMessage` and `SubscribeToTask` work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    /// Push notifications work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "push_notifications")]
    pub push_notifications: Option<bool>,
    /// Protocol extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<AgentExtension>,
    /// `GetExtendedAgentCard` works for authenticated callers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "extended_agent_card")]
    pub extended_agent_card: Option<bool>,
}

/// A protocol extension the agent supports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentExtension {
    /// Its URI.
    pub uri: String,
    /// How the agent uses it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Clients must understand it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Its configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Metadata>,
}

/// One ability of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSkill {
    /// Unique id.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Example requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Input media types, overriding the card's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(alias = "input_modes")]
    pub input_modes: Vec<String>,
    /// Output media types, overriding the card's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(alias = "output_modes")]
    pub output_modes: Vec<String>,
    /// Security for this skill.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(alias = "security_requirements")]
    pub security_requirements: Vec<SecurityRequirement>,
}

/// A list of strings (`lf.a2a.v1.StringList`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StringList {
    /// The strings.
    #[serde(default)]
    pub list: Vec<String>,
}

/// Scheme names mapped to the scopes required of each.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SecurityRequirement {
    /// Scheme name → scopes.
    #[serde(default)]
    pub schemes: BTreeMap<String, StringList>,
}

/// A security scheme (oneof, OpenAPI-shaped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SecurityScheme {
    /// An API key.
    ApiKeySecurityScheme(ApiKeySecurityScheme),
    /// HTTP auth (Bearer, Basic).
    HttpAuthSecurityScheme(HttpAuthSecurityScheme),
    /// OAuth 2.0, kept as sent.
    Oauth2SecurityScheme(Value),
    /// OpenID Connect.
    OpenIdConnectSecurityScheme(OpenIdConnectSecurityScheme),
    /// Mutual TLS.
    MtlsSecurityScheme(MutualTlsSecurityScheme),
}

/// An API key in a header, query parameter or cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeySecurityScheme {
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `header`, `query` or `cookie`.
    pub location: String,
    /// The parameter's name.
    pub name: String,
}

/// HTTP authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpAuthSecurityScheme {
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `Bearer`, `Basic`.
    pub scheme: String,
    /// Token format hint (`JWT`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[serde(alias = "bearer_format")]
    pub bearer_format: String,
}

/// OpenID Connect discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenIdConnectSecurityScheme {
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The discovery URL.
    #[serde(alias = "open_id_connect_url")]
    pub open_id_connect_url: String,
}

/// Mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsSecurityScheme {
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_card_writes_the_1_0_member_names() -> Result<(), serde_json::Error> {
        let card = AgentCard {
            name: "Navi".into(),
            description: "Project status".into(),
            supported_interfaces: vec![AgentInterface {
                url: "http://h/a2a/navi".into(),
                protocol_binding: PROTOCOL_BINDING_JSONRPC.into(),
                tenant: None,
                protocol_version: "1.0".into(),
            }],
            provider: None,
            version: "0.1.0".into(),
            documentation_url: None,
            capabilities: AgentCapabilities { streaming: Some(true), ..AgentCapabilities::default() },
            security_schemes: BTreeMap::from([(
                "bearer".to_owned(),
                SecurityScheme::HttpAuthSecurityScheme(HttpAuthSecurityScheme {
                    description: String::new(),
                    scheme: "Bearer".into(),
                    bearer_format: "JWT".into(),
                }),
            )]),
            security_requirements: vec![SecurityRequirement {
                schemes: BTreeMap::from([("bearer".to_owned(), StringList::default())]),
            }],
            default_input_modes: vec!["text/plain".into()],
            default_output_modes: vec!["application/json".into()],
            skills: vec![],
            signatures: vec![],
            icon_url: None,
        };
        let wire = serde_json::to_value(&card)?;
        assert_eq!(wire["supportedInterfaces"][0]["protocolBinding"], json!("JSONRPC"));
        assert_eq!(wire["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["bearerFormat"], json!("JWT"));
        assert_eq!(wire["securityRequirements"][0]["schemes"]["bearer"], json!({"list": []}));
        assert_eq!(wire["capabilities"], json!({"streaming": true}));
        assert!(wire.get("url").is_none(), "1.0 cards have no top-level url");
        assert_eq!(serde_json::from_value::<AgentCard>(wire)?, card);
        Ok(())
    }
}
