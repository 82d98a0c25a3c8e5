//! Deployment secrets from SSM Parameter Store, read once when a function starts.
//!
//! Three SecureString parameters under one prefix (`FOLLOWUP_SECRETS_PREFIX`, e.g.
//! `/followup/prod/`): `meta-app-secret` and `meta-verify-token` (required) and
//! `llm-api-key` (optional). One `GetParameters` call with decryption fetches all three.
//! Errors and logs name parameters, never their values.

use aws_sdk_ssm::error::DisplayErrorContext;
use aws_sdk_ssm::types::ParameterType;
use followup_domain::Secret;

/// The SSM client, re-exported so callers need no direct dependency on `aws-sdk-ssm`.
pub use aws_sdk_ssm::Client as SsmClient;

/// Parameter names under the prefix.
pub const META_APP_SECRET: &str = "meta-app-secret";
pub const META_VERIFY_TOKEN: &str = "meta-verify-token";
pub const LLM_API_KEY: &str = "llm-api-key";

/// What a function needs from Parameter Store. `Debug` shows no value.
#[derive(Debug, Clone)]
pub struct DeploymentSecrets {
    /// Verifies `X-Hub-Signature-256` on webhook POSTs.
    pub meta_app_secret: Secret,
    /// Answers Meta's GET verification handshake.
    pub meta_verify_token: Secret,
    /// The LLM's API key; absent for keyless endpoints (a local model) or the offline judge.
    pub llm_api_key: Option<Secret>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The prefix would not produce the documented names.
    #[error(
        "secrets prefix {0:?} is a path but does not end with '/' \
         (parameters would be named {0}{META_APP_SECRET})"
    )]
    InvalidPrefix(String),
    /// Required parameters that do not exist (or are empty): their full names.
    #[error("required SSM parameter(s) missing: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// Parameter Store could not be read (permissions, KMS, network). For logs only.
    #[error("SSM Parameter Store unavailable: {0}")]
    Unavailable(String),
}

/// Reads the deployment's secrets with one `GetParameters` call (`WithDecryption`).
///
/// `prefix` is prepended as is (`/followup/prod/` gives `/followup/prod/meta-app-secret`);
/// a path prefix without its trailing `/` is refused rather than silently mis-joined.
pub async fn load_secrets(
    ssm: &SsmClient,
    prefix: &str,
) -> Result<DeploymentSecrets, SecretsError> {
    if prefix.starts_with('/') && !prefix.ends_with('/') {
        return Err(SecretsError::InvalidPrefix(prefix.to_owned()));
    }
    let app_secret_name = format!("{prefix}{META_APP_SECRET}");
    let verify_token_name = format!("{prefix}{META_VERIFY_TOKEN}");
    let llm_key_name = format!("{prefix}{LLM_API_KEY}");

    let output = ssm
        .get_parameters()
        .names(&app_secret_name)
        .names(&verify_token_name)
        .names(&llm_key_name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|error| {
            SecretsError::Unavailable(format!("GetParameters: {}", DisplayErrorContext(&error)))
        })?;

    let value = |name: &str| -> Option<Secret> {
        let parameter = output
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name))?;
        if parameter.r#type() != Some(&ParameterType::SecureString) {
            tracing::warn!(parameter = name, "secret parameter is not a SecureString");
        }
        parameter.value().filter(|v| !v.is_empty()).map(Secret::new)
    };

    let meta_app_secret = value(&app_secret_name);
    let meta_verify_token = value(&verify_token_name);
    let llm_api_key = value(&llm_key_name);

    let mut missing = Vec::new();
    if meta_app_secret.is_none() {
        missing.push(app_secret_name);
    }
    if meta_verify_token.is_none() {
        missing.push(verify_token_name);
    }
    let (Some(meta_app_secret), Some(meta_verify_token)) = (meta_app_secret, meta_verify_token)
    else {
        return Err(SecretsError::Missing(missing));
    };
    tracing::info!(
        llm_api_key = llm_api_key.is_some(),
        "deployment secrets loaded"
    );
    Ok(DeploymentSecrets {
        meta_app_secret,
        meta_verify_token,
        llm_api_key,
    })
}
