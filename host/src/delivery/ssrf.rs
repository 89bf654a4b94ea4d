//! Where webhooks may go. Targets must be `https` and resolve only to public addresses —
//! never loopback, private, link-local (cloud metadata included), CGNAT, multicast or
//! reserved ranges — checked at registration and again at connect time (a guarded DNS
//! resolver), so a name that later rebinds to an internal address is still refused.
//! `WINFACTOR_ALLOW_PRIVATE_WEBHOOK_TARGETS` lifts both rules (tests and the demo).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

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
    #[error("{0} is a loopback, private, link-local or reserved address")]
    Private(IpAddr),
    /// The host does not resolve.
    #[error("the host `{0}` does not resolve")]
    Unresolvable(String),
}

/// True for addresses a webhook may reach from the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7 (includes fd00:ec2::254)
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 64:ff9b::/96
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, cloud metadata
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Checks a URL for registration: scheme, and every address its host resolves to.
pub async fn check_target(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let parsed = Url::parse(url).map_err(|_| TargetError::Invalid)?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(TargetError::NotHttps),
    }
    let host = parsed.host_str().ok_or(TargetError::Invalid)?.to_owned();
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs = resolve(&host, port).await.map_err(|_| TargetError::Unresolvable(host.clone()))?;
    match addrs.iter().find(|addr| !is_public(addr.ip())) {
        Some(addr) => Err(TargetError::Private(addr.ip())),
        None if addrs.is_empty() => Err(TargetError::Unresolvable(host)),
        None => Ok(parsed),
    }
}

/// Connect-time check of an IP-literal host (literals never reach the resolver).
pub fn check_literal_host(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if allow_private {
        return Ok(());
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if is_public(ip) { Ok(()) } else { Err(TargetError::Private(ip)) }
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
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Let private addresses through (tests, demo).
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0).await?;
            let allowed: Vec<SocketAddr> =
                addrs.into_iter().filter(|addr| allow_private || is_public(addr.ip())).collect();
            if allowed.is_empty() {
                let refusal = TargetError::Private(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                let message = format!("{}: {refusal}", name.as_str());
                return Err(message.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn resolver_refuses_names_that_resolve_inside() {
        let guarded = GuardedResolver { allow_private: false };
        let name = || "localhost".parse::<Name>().unwrap();
        assert!(guarded.resolve(name()).await.is_err());
        let open = GuardedResolver { allow_private: true };
        assert!(open.resolve(name()).await.is_ok());
    }
}
