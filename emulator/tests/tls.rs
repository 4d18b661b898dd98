#![cfg(feature = "tls")]
//! Deliveries to `https` endpoints: a loopback receiver with a self-signed certificate is reached
//! when its certificate is trusted through `tls_root_certificate`, and refused otherwise.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use common::*;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use wacht_webhooks_emulator::StartError;

/// An https receiver on 127.0.0.1 with a fresh self-signed certificate.
struct TlsReceiver {
    url: String,
    cert_pem: String,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl TlsReceiver {
    async fn start() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
            .expect("a self-signed certificate");
        let cert_der: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = received.clone();
        let router = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let shared = shared.clone();
            async move {
                shared.lock().unwrap().push((headers, body));
                "ok"
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let service = TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to serve.
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            url,
            cert_pem: certified.cert.pem(),
            received,
        }
    }
}

#[tokio::test]
async fn a_delivery_to_an_https_receiver_with_a_trusted_ca_succeeds_and_is_signed() {
    let receiver = TlsReceiver::start().await;
    let (_emu, api) =
        start_with(builder().tls_root_certificate(receiver.cert_pem.as_bytes())).await;
    let app = api.app_with_events(&["order.created"]).await;
    api.endpoint(&app, &receiver.url, "order.created", json!({}))
        .await;
    let created = api
        .trigger(&app, "order.created", json!({"order": 7}))
        .await;
    let id = created["delivery_ids"][0].as_str().unwrap();
    let delivery = api.settled(&app, id).await;
    assert_eq!(delivery["status"], "success", "{delivery}");
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let secret = app["signing_secret"].as_str().unwrap();
    assert!(signature_valid(secret, headers, body));
    let envelope: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(envelope["data"]["order"], 7, "{envelope}");
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_attempt() {
    let receiver = TlsReceiver::start().await;
    let (_emu, api) = start().await;
    let app = api.app_with_events(&["order.created"]).await;
    api.endpoint(
        &app,
        &receiver.url,
        "order.created",
        json!({"max_retries": 1}),
    )
    .await;
    let created = api.trigger(&app, "order.created", json!({})).await;
    let id = created["delivery_ids"][0].as_str().unwrap();
    let delivery = api.settled(&app, id).await;
    assert_ne!(delivery["status"], "success", "{delivery}");
    assert!(receiver.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_pem_without_a_certificate_is_refused_at_start() {
    let error = builder()
        .tls_root_certificate("not a certificate")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(error, StartError::HttpClient(_)), "{error}");
    assert!(error.to_string().contains("PEM"), "{error}");
}
