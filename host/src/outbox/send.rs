//! Sending one signed webhook request: the [`Sender`] (the service's one outgoing HTTP
//! client, behind the SSRF guard), its headers, and what the receiver answered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, InvalidHeaderValue};
use reqwest::redirect::Policy;

use super::endpoints::Endpoint;
use super::{DeliveryConfig, signing, ssrf};
use crate::clock::now_ms;
use crate::urls::SecretUrl;

/// `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("WinFactor-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Bytes of a receiver's response body kept in the attempt log.
pub const SNIPPET_BYTES: usize = 1024;

/// What a receiver answered to one request.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// HTTP status, if one arrived.
    pub status: Option<u16>,
    /// Connection, timeout or refusal error.
    pub error: Option<String>,
    /// The first [`SNIPPET_BYTES`] of the body.
    pub snippet: Option<String>,
    /// `Retry-After` in seconds, on 429/503.
    pub retry_after: Option<Duration>,
    /// Round trip.
    pub duration: Duration,
}

impl Response {
    /// 2xx?
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends signed webhook requests; shared by the worker and the API's test endpoint.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    /// Deliveries go through the configured proxy, which resolves targets itself.
    proxied: bool,
}

impl Sender {
    /// The one HTTP client the service calls out with: the SSRF-guarded resolver, no
    /// redirects, `timeout`, and no proxy but the configured one — `HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` in the environment are ignored.
    pub fn new(config: &DeliveryConfig) -> Self {
        let proxy = config.proxy.as_ref().map(|url| {
            reqwest::Proxy::all(url.expose()).expect("webhook_proxy_url is validated at start")
        });
        let resolver = ssrf::GuardedResolver {
            allow_private: config.allow_private_targets,
            proxy_host: proxy_host(config.proxy.as_ref()),
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(Policy::none())
            .timeout(config.timeout)
            .dns_resolver(Arc::new(resolver))
            .pool_max_idle_per_host(64)
            .no_proxy();
        if let Some(proxy) = proxy {
            builder = builder.proxy(proxy);
        }
        let client = builder.build().expect("the delivery HTTP client builds");
        Self {
            client,
            allow_private: config.allow_private_targets,
            proxied: config.proxy.is_some(),
        }
    }

    /// POSTs `payload` of event `event_id` to `endpoint`, signed with its active secrets.
    pub async fn send(
        &self,
        endpoint: &Endpoint,
        event_type: &str,
        event_id: &str,
        payload: &Bytes,
        timeout: Option<Duration>,
    ) -> Response {
        let started = Instant::now();
        let mut response = self.try_send(endpoint, event_type, event_id, payload, timeout).await;
        response.duration = started.elapsed();
        response
    }

    async fn try_send(
        &self,
        endpoint: &Endpoint,
        event_type: &str,
        event_id: &str,
        payload: &Bytes,
        timeout: Option<Duration>,
    ) -> Response {
        let refused = |error: String| Response { error: Some(error), ..Response::default() };
        let url = match endpoint.target() {
            Ok(url) => url.clone(),
            Err(err) => return refused(format!("invalid URL: {err}")),
        };
        // Through a proxy the resolver never sees the target's name: check it here.
        let checked = if self.proxied {
            ssrf::check_host(&url, self.allow_private).await
        } else {
            ssrf::check_literal_host(&url, self.allow_private)
        };
        if let Err(err) = checked {
            return refused(format!("refused: {err}"));
        }
        let timestamp = now_ms() / 1000;
        let signatures =
            signing::sign(&endpoint.signing_secrets(now_ms()), event_id, timestamp, payload);
        let headers = match request_headers(event_type, event_id, &signatures) {
            Ok(headers) => headers,
            Err(err) => return refused(format!("invalid header value: {err}")),
        };
        // Built directly rather than through `RequestBuilder`, which merges the headers
        // into an empty map one by one: this is the hot path of every delivery.
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        *request.headers_mut() = headers;
        *request.body_mut() = Some(reqwest::Body::from(payload.clone()));
        *request.timeout_mut() = timeout;
        match self.client.execute(request).await {
            Ok(mut answer) => {
                let status = answer.status().as_u16();
                let retry_after = matches!(status, 429 | 503)
                    .then(|| {
                        answer.headers().get("retry-after")?.to_str().ok()?.trim().parse().ok()
                    })
                    .flatten()
                    .map(Duration::from_secs);
                let mut body = Vec::new();
                while body.len() < SNIPPET_BYTES {
                    match answer.chunk().await {
                        Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                body.truncate(SNIPPET_BYTES);
                let snippet =
                    (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
                Response { status: Some(status), snippet, retry_after, ..Response::default() }
            }
            Err(err) => refused(describe(&err)),
        }
    }
}

/// The proxy URL's host name, for the resolver to let through (an IP literal never reaches
/// the resolver).
fn proxy_host(proxy: Option<&SecretUrl>) -> Option<String> {
    let url = Url::parse(proxy?.expose()).ok()?;
    match url.host()? {
        url::Host::Domain(name) => Some(name.to_owned()),
        _ => None,
    }
}

/// The headers of one delivery attempt (the client adds `User-Agent` and `Host`).
fn request_headers(
    event_type: &str,
    event_id: &str,
    signatures: &signing::SignatureHeaders,
) -> Result<HeaderMap, InvalidHeaderValue> {
    const EVENT: HeaderName = HeaderName::from_static("x-winfactor-event");
    const DELIVERY: HeaderName = HeaderName::from_static("x-winfactor-delivery");
    const SIGNATURE: HeaderName = HeaderName::from_static("x-winfactor-signature");
    const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
    const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
    const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");
    let id = HeaderValue::from_str(event_id)?;
    let mut headers = HeaderMap::with_capacity(10);
    headers.insert(EVENT, HeaderValue::from_str(event_type)?);
    headers.insert(DELIVERY, id.clone());
    headers.insert(SIGNATURE, HeaderValue::from_str(&signatures.winfactor)?);
    headers.insert(WEBHOOK_ID, id);
    headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from_str(&signatures.timestamp)?);
    headers.insert(WEBHOOK_SIGNATURE, HeaderValue::from_str(&signatures.standard)?);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(headers)
}

/// A short, useful description of a request failure.
fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    if detail.is_empty() { kind.to_owned() } else { format!("{kind}: {detail}") }
}
