//! What the emulator's benches share: the API key they start the emulator with, and a POST to its
//! API that fails the bench on anything but success.

use serde_json::Value;

/// The API key every bench gives the emulator.
pub const KEY: &str = "bench_key";

/// POSTs `body` to `{base}{path}` with the bench key and returns the JSON answer; panics with the
/// path and status on anything but success (a bench on a failing setup measures nothing).
pub async fn post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}
