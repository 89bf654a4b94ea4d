//! Where webhooks may go. Targets must be `https` and resolve only to public addresses
//! ([`addresses`]: never loopback, private, link-local (cloud metadata included), CGNAT,
//! multicast, reserved, documentation, deprecated, nor an IPv6 form that embeds such an
//! IPv4 address) — checked at registration and again on every delivery:
//!
//! - directly (the default): the client's resolver is [`GuardedResolver`], which drops
//!   non-public answers at connect time, so a name that rebinds to an internal address
//!   after registration is still refused; IP literals never reach a resolver and are
//!   checked by [`check_literal_host`]. The client never uses a proxy from the environment
//!   (`HTTPS_PROXY` and friends), which would resolve names itself, past the guard.
//! - through the configured `webhook_proxy_url`: the proxy resolves the target itself, so
//!   [`check_host`] resolves it here first and refuses the delivery unless every answer is
//!   public. The proxy's own lookup comes later and may get another answer: a name that
//!   answers differently to the two lookups (DNS rebinding with a zero TTL) can still
//!   steer the proxy inside. The proxy's own egress rules must close that window.
//!
//! `WINFACTOR_ALLOW_PRIVATE_WEBHOOK_TARGETS` lifts the address rules and allows `http`
//! (tests and the demo).
//!
//! [`addresses`]: super::addresses

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::addresses::{self, Refusal};

/// Why a target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL.
    #[error("not a valid URL")]
    Invalid,
    /// `http` (or another scheme) where `https` is required.
    #[error("webhook URLs must use https")]
    NotHttps,
    /// Resolves to an address the platform will not call.
    #[error("{0} is not a public address: {1}")]
    Private(IpAddr, Refusal),
    /// The host does not resolve.
    #[error("the host `{0}` does not resolve")]
    Unresolvable(String),
}

/// True for addresses a webhook may reach from the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    addresses::classify(ip).is_ok()
}

fn check_ip(ip: IpAddr) -> Result<(), TargetError> {
    addresses::classify(ip).map_err(|refusal| TargetError::Private(ip, refusal))
}

/// Checks a URL for registration: scheme, and every address its host resolves to.
pub async fn check_target(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let parsed = Url::parse(url).map_err(|_| TargetError::Invalid)?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(TargetError::NotHttps),
    }
    check_host(&parsed, allow_private).await?;
    Ok(parsed)
}

/// Resolves the URL's host (or takes its IP literal) and refuses it unless every address
/// is public: at registration, and before a delivery is handed to a proxy.
pub async fn check_host(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    let host = url.host_str().ok_or(TargetError::Invalid)?;
    if allow_private {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs =
        resolve(host, port).await.map_err(|_| TargetError::Unresolvable(host.to_owned()))?;
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable(host.to_owned()));
    }
    addrs.iter().try_for_each(|addr| check_ip(addr.ip()))
}

/// Connect-time check of an IP-literal host (literals never reach the resolver).
pub fn check_literal_host(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if allow_private {
        return Ok(());
    }
    match url.host() {
        Some(url::Host::Ipv4(v4)) => check_ip(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => check_ip(IpAddr::V6(v6)),
        _ => Ok(()),
    }
}

async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    // `Url` keeps IPv6 literals bracketed; strip them for the resolver.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<Ipv6Addr>() {
        return Ok(vec![SocketAddr::new(IpAddr::V6(ip), port)]);
    }
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

/// A DNS resolver for the delivery client that drops non-public addresses, so a name that
/// rebinds to an internal address after registration is refused at connect time.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    /// Let private addresses through (tests, demo).
    pub allow_private: bool,
    /// The configured proxy's host name: the one name resolved unfiltered (the operator
    /// chose it, and it commonly sits on a private network).
    pub proxy_host: Option<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let unfiltered = self.allow_private || self.proxy_host.as_deref() == Some(name.as_str());
        Box::pin(async move {
            let mut allowed = Vec::new();
            let mut refused = None;
            for addr in resolve(name.as_str(), 0).await? {
                match check_ip(addr.ip()) {
                    Err(err) if !unfiltered => refused = Some(err),
                    _ => allowed.push(addr),
                }
            }
            if allowed.is_empty() {
                let reason = refused.map_or_else(|| "no address".to_owned(), |r| r.to_string());
                return Err(format!("{}: {reason}", name.as_str()).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolver_refuses_names_that_resolve_inside() {
        let guarded = GuardedResolver::default();
        let name = || "localhost".parse::<Name>().unwrap();
        let refusal = guarded.resolve(name()).await.err().unwrap().to_string();
        assert!(refusal.contains("is not a public address"), "{refusal}");
        let open = GuardedResolver { allow_private: true, proxy_host: None };
        assert!(open.resolve(name()).await.is_ok());
        let proxy = GuardedResolver { allow_private: false, proxy_host: Some("localhost".into()) };
        assert!(proxy.resolve(name()).await.is_ok(), "the configured proxy resolves");
    }

    #[tokio::test]
    async fn registration_refuses_the_embedding_literals() {
        for url in [
            "https://[::127.0.0.1]/hook",
            "https://[::ffff:0:7f00:1]/hook",
            "https://[2002:7f00:1::]/hook",
            "https://[fec0::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
        ] {
            let err = check_target(url, false).await.unwrap_err();
            assert!(matches!(err, TargetError::Private(..)), "{url}: {err}");
        }
        assert!(check_target("https://[2606:4700:4700::1111]/hook", false).await.is_ok());
    }
}
