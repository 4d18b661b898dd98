//! TLS for deliveries to `https` endpoints: rustls with the `ring` provider, trusting Mozilla's
//! roots, the system's roots and any extra CA the emulator was given.

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Mozilla's roots and the system's: loaded once per process (reading the system's store takes
/// a while, and tests start many emulators).
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // A machine without a system store (a slim container) still has Mozilla's roots.
        let native = rustls_native_certs::load_native_certs();
        let (_, ignored) = roots.add_parsable_certificates(native.certs);
        if ignored > 0 {
            tracing::debug!(ignored, "system CA certificates that could not be parsed");
        }
        roots
    })
}

/// The PEM certificates in `pem`; an error when there is none or one is malformed.
pub fn parse_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM certificate: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) found".into());
    }
    Ok(certs)
}

/// Makes `ring` the process's default rustls provider unless one is installed. The emulator's
/// own client does not need it, but enabling reqwest's rustls support (without a provider) for
/// the emulator makes every other reqwest client in the process need a default provider.
pub fn install_default_provider() {
    if CryptoProvider::get_default().is_none() {
        // Another thread may have installed one meanwhile: theirs stays, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The client configuration of deliveries, trusting `extra` besides the base roots.
pub fn client_config(extra: &[CertificateDer<'static>]) -> Result<ClientConfig, String> {
    let mut roots = base_roots().clone();
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| format!("unusable CA certificate: {e}"))?;
    }
    install_default_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
