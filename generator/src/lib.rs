//! Loads, lints and generates the Wacht Webhooks client from its OpenAPI document.
