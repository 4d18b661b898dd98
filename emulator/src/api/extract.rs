//! Request extractors that answer every failure with the error envelope.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::store::PageRequest;
use crate::wire::{parse_id, parse_time};

/// A JSON body: 415 unless declared as JSON, 422 unless it deserialises into `T`.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large()
                } else {
                    ApiError::invalid_payload()
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|_| ApiError::invalid_payload())
    }
}

/// `application/json`, with or without parameters, or any `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Path parameters; a path that does not fit is an unknown route (404).
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| ApiError::not_found("Not found"))
    }
}

/// The query string; each accessor answers 400 for a value of the wrong form.
pub struct Query(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        Ok(Query(
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

fn invalid(name: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid value for query parameter '{name}'"))
}

impl Query {
    /// A text parameter as given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter parsed with `FromStr`.
    pub fn parse<T: FromStr>(&self, name: &str) -> ApiResult<Option<T>> {
        self.text(name)
            .map(|v| v.trim().parse().map_err(|_| invalid(name)))
            .transpose()
    }

    /// `true` or `false`.
    pub fn flag(&self, name: &str) -> ApiResult<bool> {
        match self.text(name) {
            None => Ok(false),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(invalid(name)),
        }
    }

    /// An RFC 3339 date-time (a bare date is a 400).
    pub fn time(&self, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
        self.text(name)
            .map(|v| {
                parse_time(v).ok_or_else(|| {
                    ApiError::bad_request(format!("'{name}' must be an RFC 3339 date-time"))
                })
            })
            .transpose()
    }

    /// An id filter: `None` when absent, `Some(None)` when it is not a number (it matches nothing:
    /// the spec types ids as plain strings, so such a value is valid and simply names no resource).
    pub fn id_filter(&self, name: &str) -> Option<Option<i64>> {
        self.text(name).map(parse_id)
    }

    /// The page the parameters `limit` (default `default_limit`, clamped into `limits`) and
    /// `offset` (default 0, at least 0) of `names` ask for. Any integer is accepted, as the spec
    /// allows; the page echoes the values used.
    pub fn page(
        &self,
        names: PageParams,
        default_limit: i64,
        limits: RangeInclusive<i64>,
    ) -> ApiResult<PageRequest> {
        let limit = self.parse::<i64>(names.limit)?.unwrap_or(default_limit);
        let offset = self.parse::<i64>(names.offset)?.unwrap_or(0);
        Ok(PageRequest {
            limit: limit.clamp(*limits.start(), *limits.end()),
            offset: offset.max(0),
        })
    }
}

/// The names of a list operation's page parameters.
#[derive(Debug, Clone, Copy)]
pub struct PageParams {
    /// The page size.
    pub limit: &'static str,
    /// The rows skipped.
    pub offset: &'static str,
}

/// A 200 response with a JSON body.
pub struct JsonOk<T>(pub T);

impl<T: Serialize> IntoResponse for JsonOk<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => {
                let mut response = (StatusCode::OK, body).into_response();
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Err(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
                .into_response(),
        }
    }
}

/// The answer of every handler.
pub type Reply<T> = ApiResult<JsonOk<T>>;
