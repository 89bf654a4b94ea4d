//! The client's address: the TCP peer, unless the peer is a trusted proxy — then the
//! address that proxy forwarded (`X-Forwarded-For`, else `Forwarded: for=`), walking back
//! from the nearest hop past every trusted proxy. Only what trusted proxies wrote is
//! believed: a client cannot pick its own address by sending the header itself.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;
use super::error::ApiError;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8,127.0.0.1` (single addresses are whole networks).
    pub fn parse(text: &str) -> Result<Self, String> {
        let nets = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{part}` is not an address or network"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_for(headers).into_iter().rev() {
            let Some(hop) = hop else { break };
            client = canonical(hop);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The forwarded chain, client first (`None` for an entry that is not an address):
/// every `X-Forwarded-For` header, else every `Forwarded` header's `for=`.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let xff: Vec<Option<IpAddr>> = values("x-forwarded-for")
        .flat_map(|value| value.split(','))
        .map(|hop| hop.trim().parse().ok())
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    values("forwarded")
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then(|| parse_forwarded_node(value))
            })
        })
        .collect()
}

/// `for=` node: `192.0.2.1`, `"[2001:db8::1]:4711"`, `"192.0.2.1:80"`.
fn parse_forwarded_node(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    value.parse().ok().or_else(|| value.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The request's client address (see the module).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no peer address")))?;
        Ok(Self(state.trusted_proxies.client(peer.ip(), &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, 10.1.2.3")]);
        let via = |peer: &str| proxies.client(peer.parse().unwrap(), &forwarded);
        assert_eq!(via("127.0.0.1"), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(via("198.51.100.7"), "198.51.100.7".parse::<IpAddr>().unwrap());
        // A forged first entry behind an untrusted hop stays unbelieved.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        let client = proxies.client("127.0.0.1".parse().unwrap(), &forged);
        assert_eq!(client, "198.51.100.7".parse::<IpAddr>().unwrap());
        let standard = headers(&[("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")]);
        let client = proxies.client("10.9.9.9".parse().unwrap(), &standard);
        assert_eq!(client, "2001:db8::7".parse::<IpAddr>().unwrap());
        assert!(TrustedProxies::parse("10.0.0.0/8,nope").is_err());
    }
}
