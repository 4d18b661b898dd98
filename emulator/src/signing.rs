//! Standard Webhooks signing: secrets, keys and `webhook-signature` values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of every signing secret.
const SECRET_PREFIX: &str = "whsec_";

/// A prepared HMAC-SHA256 key; cloning it skips re-deriving the key for every signature.
#[derive(Clone)]
pub struct SigningKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for SigningKey {
    // The key is a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// The key of a `whsec_` secret (the prefix is optional): the base64-decoded rest.
    pub fn from_secret(secret: &str) -> Option<Self> {
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let bytes = STANDARD.decode(encoded).ok()?;
        let mac = Hmac::<Sha256>::new_from_slice(&bytes).ok()?;
        Some(Self { mac })
    }

    /// A key to be replaced before use (an empty HMAC key), for records whose real key is
    /// rebuilt from their secret.
    pub fn placeholder() -> Self {
        Self {
            mac: <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()),
        }
    }

    /// The `webhook-signature` value `v1,<base64 HMAC>` of `"{msg_id}.{timestamp}.{body}"`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The operating system's random generator failed, so no secret could be made. Secrets are never
/// made from a weaker source: the request that needed one fails instead.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random generator failed: {0}")]
pub struct SecretError(getrandom::Error);

impl From<SecretError> for crate::error::ApiError {
    fn from(err: SecretError) -> Self {
        tracing::error!(%err, "cannot generate a signing secret");
        crate::error::ApiError::internal()
    }
}

/// A fresh secret: `whsec_` and the base64 of 32 bytes from the operating system's generator.
pub fn new_secret() -> Result<String, SecretError> {
    secret_from(getrandom::getrandom)
}

fn secret_from(
    fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<String, SecretError> {
    let mut bytes = [0u8; 32];
    fill(&mut bytes).map_err(SecretError)?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_vector() {
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = key.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_32_bytes() {
        let secret = new_secret().unwrap();
        let decoded = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(decoded.len(), 32);
        assert_ne!(secret, new_secret().unwrap());
        assert!(SigningKey::from_secret(&secret).is_some());
    }

    #[test]
    fn a_failing_os_generator_fails_the_secret() {
        let err = secret_from(|_| Err(getrandom::Error::UNSUPPORTED)).unwrap_err();
        assert!(err.to_string().contains("random generator failed"), "{err}");
        let api: crate::error::ApiError = err.into();
        assert_eq!(api, crate::error::ApiError::internal());
    }
}
