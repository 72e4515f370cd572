// figment::Jail fixes the closure error type (figment::Error); its size is not ours to choose.
#![allow(clippy::result_large_err)]

use super::*;
use std::time::Duration;

use figment::Jail;

/// A secret as `openssl rand -hex 32` makes one.
const STRONG_SECRET: &str = "7c029c598b6cc7a0dc8e02c95a0e8a9ba67f7e9b82230ad504817a7e2e309c7a";

fn production() -> Settings {
    Settings {
        mode: Mode::Production,
        auth: AuthSettings { jwt_secret: STRONG_SECRET.into(), ..AuthSettings::default() },
        ..Settings::default()
    }
}

#[test]
fn defaults_are_a_loopback_dev_server() {
    Jail::expect_with(|_jail| {
        let settings = Settings::load(&Overrides::default()).unwrap();
        assert_eq!(settings.mode, Mode::Dev);
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.data_dir, PathBuf::from("./data"));
        assert!(settings.dev_login_enabled());
        assert!(settings.seed_demo_enabled());
        assert_eq!(settings.http.max_json_depth, 32);
        assert!(settings.effective_database_url().ends_with("agentdeck.sqlite?mode=rwc"));
        Ok(())
    });
}

#[test]
fn file_then_environment_then_flags() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "agentdeck.toml",
            "bind = \"127.0.0.1:9000\"\ndata_dir = \"/from/file\"\n[http]\nmax_body_bytes = 1000\nmax_json_depth = 8\n",
        )?;
        jail.set_env("AGENTDECK_DATA_DIR", "/from/env");
        jail.set_env("AGENTDECK_HTTP__MAX_BODY_BYTES", "2000");
        jail.set_env("AGENTDECK_TEST_SOMETHING", "not a setting");
        jail.set_env("AGENTDECK_AUTH__JWT_SECRET", "from-the-environment");
        jail.set_env("AGENTDECK_HTTP__ALLOWED_ORIGINS", "[\"https://a.example\"]");
        let overrides = Overrides {
            config_file: Some("agentdeck.toml".into()),
            bind: Some("127.0.0.1:9100".parse().unwrap()),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        assert_eq!(settings.bind.port(), 9100, "flag wins");
        assert_eq!(settings.data_dir, PathBuf::from("/from/env"), "environment beats file");
        assert_eq!(settings.http.max_body_bytes, 2000);
        assert_eq!(settings.http.max_json_depth, 8, "file beats default");
        assert_eq!(settings.auth.jwt_secret, "from-the-environment");
        assert_eq!(settings.http.allowed_origins, ["https://a.example"]);
        Ok(())
    });
}

#[test]
fn unknown_setting_in_file_is_an_error() {
    Jail::expect_with(|jail| {
        jail.create_file("agentdeck.toml", "[http]\nmax_body_byte = 1\n")?;
        let overrides = Overrides { config_file: Some("agentdeck.toml".into()), ..Overrides::default() };
        let error = Settings::load(&overrides).unwrap_err().to_string();
        assert!(error.contains("max_body_byte"), "{error}");
        Ok(())
    });
}

#[test]
fn missing_config_file_is_an_error() {
    let overrides = Overrides { config_file: Some("/nonexistent/agentdeck.toml".into()), ..Overrides::default() };
    assert!(matches!(Settings::load(&overrides), Err(ConfigError::MissingFile(_))));
}

#[test]
fn production_without_a_key_names_the_setting() {
    let mut settings = production();
    settings.auth.jwt_secret.clear();
    let message = settings.check_production().unwrap_err().to_string();
    assert!(message.contains("AGENTDECK_AUTH__JWT_SECRET"), "{message}");
}

#[test]
fn production_refuses_a_long_but_low_entropy_secret() {
    for placeholder in ["x".repeat(32), "changeme".repeat(6)] {
        let mut settings = production();
        settings.auth.jwt_secret = placeholder.clone();
        let message = settings.check_production().unwrap_err().to_string();
        assert!(message.contains("AGENTDECK_AUTH__JWT_SECRET") && message.contains("placeholder"), "{message}");
    }
    assert!(production().check_production().is_ok(), "a generated secret is accepted");
}

#[test]
fn missing_key_file_names_the_setting_and_its_variable() {
    let data_dir = tempfile::tempdir().unwrap();
    let missing = data_dir.path().join("jwt.pub.pem");
    let mut settings = production();
    settings.auth.jwt_public_key = missing.display().to_string();
    let message = settings.token_keys().unwrap_err().to_string();
    assert!(message.contains("auth.jwt_public_key"), "{message}");
    assert!(message.contains("AGENTDECK_AUTH__JWT_PUBLIC_KEY"), "{message}");
    assert!(message.contains(&missing.display().to_string()), "{message}");

    std::fs::write(&missing, "not a key").unwrap();
    let message = settings.token_keys().unwrap_err().to_string();
    assert!(message.contains("AGENTDECK_AUTH__JWT_PUBLIC_KEY"), "an unusable key names it too: {message}");

    settings.auth.jwt_public_key.clear();
    settings.auth.jwt_private_key = missing.with_extension("missing").display().to_string();
    let message = settings.token_keys().unwrap_err().to_string();
    assert!(message.contains("AGENTDECK_AUTH__JWT_PRIVATE_KEY"), "{message}");
}

#[test]
fn environment_variable_names_follow_the_sections() {
    assert_eq!(env_var("auth.jwt_public_key"), "AGENTDECK_AUTH__JWT_PUBLIC_KEY");
    assert_eq!(env_var("data_dir"), "AGENTDECK_DATA_DIR");
}

#[test]
fn production_lists_every_insecure_setting() {
    let mut settings = production();
    settings.auth.jwt_secret = "short".into();
    settings.auth.dev_login = Some(true);
    settings.http.allowed_origins = vec!["*".into()];
    settings.bind = "0.0.0.0:8080".parse().unwrap();
    settings.a2a.push_allow_private_networks = Some(true);
    settings.a2a.faults.insert("navi".into(), AgentFault { delay_ms: 10, fail: false });
    let ConfigError::Insecure(problems) = settings.check_production().unwrap_err() else {
        panic!("expected an insecure-settings error");
    };
    assert_eq!(problems.len(), 6, "{problems:#?}");
    for needle in
        ["jwt_secret", "dev_login", "allowed_origins", "behind_proxy", "push_allow_private_networks", "a2a.faults"]
    {
        assert!(problems.iter().any(|problem| problem.contains(needle)), "{needle} missing from {problems:#?}");
    }
}

#[test]
fn production_behind_a_proxy_may_bind_publicly() {
    let mut settings = production();
    settings.bind = "0.0.0.0:8080".parse().unwrap();
    settings.http.behind_proxy = true;
    assert!(settings.check_production().is_ok());
    assert!(!settings.dev_login_enabled());
    assert!(!settings.seed_demo_enabled());
}

#[test]
fn dev_secret_is_created_once_and_kept() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: data_dir.path().to_owned(), ..Settings::default() };
    settings.token_keys().unwrap();
    let first = std::fs::read_to_string(data_dir.path().join(DEV_SECRET_FILE)).unwrap();
    settings.token_keys().unwrap();
    let second = std::fs::read_to_string(data_dir.path().join(DEV_SECRET_FILE)).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 64);
}

#[test]
fn production_never_generates_a_secret() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = Settings { mode: Mode::Production, data_dir: data_dir.path().to_owned(), ..Settings::default() };
    assert!(settings.token_keys().is_err());
    assert!(!data_dir.path().join(DEV_SECRET_FILE).exists());
}

#[test]
fn a2a_defaults_follow_the_mode() {
    let dev = Settings::default();
    assert!(dev.conformance_agent_enabled() && dev.push_private_networks_allowed());
    let production = production();
    assert!(!production.conformance_agent_enabled() && !production.push_private_networks_allowed());
    let mut opted_in = production;
    opted_in.a2a.conformance_agent = Some(true);
    assert!(opted_in.conformance_agent_enabled() && opted_in.check_production().is_ok());
}

#[test]
fn printing_redacts_secrets() {
    let mut settings = production();
    settings.a2a.push_signing_secret = "push-secret-value".into();
    settings.database_url = "postgres://app:hunter2@db:5432/agentdeck".into();
    let printed = toml::to_string(&settings.redacted()).unwrap();
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(!printed.contains(STRONG_SECRET), "{printed}");
    assert!(!printed.contains("push-secret-value"), "{printed}");
    assert!(printed.contains("postgres://app:<redacted>@db:5432/agentdeck"));
}

#[test]
fn state_settings_have_defaults_and_come_from_the_environment() {
    Jail::expect_with(|jail| {
        let settings = Settings::load(&Overrides::default()).unwrap();
        assert_eq!(settings.state, StateSettings::default());
        assert_eq!(settings.state.max_document_bytes, 1024 * 1024);
        assert_eq!(settings.state.compression_threshold_bytes, 8 * 1024);
        assert_eq!(settings.state.history_len, 256);
        assert_eq!(settings.state.ttl(), Duration::from_secs(30 * 24 * 60 * 60));
        assert_eq!(settings.redis_url, "");

        jail.create_file("agentdeck.toml", "[state]\nhistory_len = 16\nttl_days = 2\n")?;
        jail.set_env("AGENTDECK_STATE__MAX_DOCUMENT_BYTES", "4096");
        jail.set_env("AGENTDECK_REDIS_URL", "redis://:hunter2@cache:6379");
        let overrides = Overrides { config_file: Some("agentdeck.toml".into()), ..Overrides::default() };
        let settings = Settings::load(&overrides).unwrap();
        assert_eq!(settings.state.max_document_bytes, 4096);
        assert_eq!(settings.state.history_len, 16);
        assert_eq!(settings.state.ttl(), Duration::from_secs(2 * 24 * 60 * 60));
        assert_eq!(settings.redis_url, "redis://:hunter2@cache:6379");
        assert!(!format!("{:?}", settings.redacted()).contains("hunter2"));
        Ok(())
    });
}

#[test]
fn cluster_mode_requires_redis_and_names_the_setting() {
    let embedded = Settings::default();
    assert!(embedded.check_cluster().is_ok(), "embedded mode keeps state in SQLite");
    let mut cluster = Settings { database_url: "postgres://db/agentdeck".into(), ..Settings::default() };
    let message = cluster.check_cluster().unwrap_err().to_string();
    assert!(message.contains("redis_url") && message.contains("AGENTDECK_REDIS_URL"), "{message}");
    cluster.redis_url = "redis://127.0.0.1:6379".into();
    assert!(cluster.check_cluster().is_ok());
}

#[test]
fn an_unusable_ca_file_is_an_error_naming_the_setting_and_its_variable() {
    Jail::expect_with(|jail| {
        assert!(
            Settings::load(&Overrides::default()).map_err(|e| e.to_string())?.outbound_http().is_ok(),
            "no CA file: Mozilla's roots only"
        );
        jail.set_env("AGENTDECK_HTTP_CLIENT__CA_FILE", "/nonexistent/ca.pem");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.http_client.ca_file, "/nonexistent/ca.pem");
        let missing = settings.outbound_http().map(|_| ()).map_err(|e| e.to_string());
        assert!(
            missing.as_ref().is_err_and(|e| e.contains("http_client.ca_file (AGENTDECK_HTTP_CLIENT__CA_FILE)")),
            "{missing:?}"
        );
        jail.create_file("not-a-ca.pem", "just text")?;
        jail.set_env("AGENTDECK_HTTP_CLIENT__CA_FILE", "not-a-ca.pem");
        let invalid = Settings::load(&Overrides::default())
            .map_err(|e| e.to_string())?
            .outbound_http()
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(invalid.as_ref().is_err_and(|e| e.contains("holds no PEM certificate")), "{invalid:?}");
        Ok(())
    });
}
