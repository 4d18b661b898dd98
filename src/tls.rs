//! The TLS of the built-in HTTP client, chosen by the crate's features; the crate docs' "Features"
//! section says why rustls uses *ring* and installs it as the process default when there is none.

use crate::Error;

#[cfg(feature = "rustls")]
pub(crate) fn configure(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    // Fails when a default is already installed, which is what the program chose: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|config| config.with_platform_verifier())
        .map_err(|err| Error::config(format!("cannot set up TLS (rustls): {err}")))?
        .with_no_client_auth();
    Ok(builder.tls_backend_preconfigured(config))
}

#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
pub(crate) fn configure(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
    Ok(builder.tls_backend_native())
}

/// No TLS: `ClientBuilder::build` refuses `https` base URLs before this is reached.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) fn configure(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use crate::{Client, ErrorKind};

    fn build(url: &str) -> Result<Client, crate::Error> {
        Client::builder().api_key("k").base_url(url).build()
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    #[test]
    fn without_tls_an_https_base_url_is_a_config_error() {
        let err = build("https://api.wacht.dev").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("`rustls`"), "{err}");
        assert!(err.to_string().contains("`native-tls`"), "{err}");
        // Plain http needs no TLS, and an HTTP client of the caller's brings its own.
        assert!(build("http://127.0.0.1:8787").is_ok());
        let own = Client::builder()
            .api_key("k")
            .base_url("https://api.wacht.dev")
            .http_client(reqwest::Client::new())
            .build();
        assert!(own.is_ok());
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[test]
    fn with_tls_an_https_base_url_builds() {
        assert!(build("https://api.wacht.dev").is_ok());
        let err = build("ftp://api.wacht.dev").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }
}
