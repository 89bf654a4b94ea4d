//! Which IP addresses a webhook may reach: the one table of refused blocks, taken from the
//! IANA IPv4 and IPv6 Special-Purpose Address Registries and the IPv6 Address Space
//! registry, and the rules for IPv6 addresses that carry an IPv4 address inside them.
//!
//! No maintained crate carries these registries completely (`std`'s `is_global` is
//! unstable; `ip_network`'s predates several entries and accepts IPv4-mapped loopback), so
//! the blocks are listed here once, as [`ipnet`] networks, each with its registry name.
//!
//! - IPv4: public unless inside a refused block.
//! - IPv6: public only inside global unicast `2000::/3` and outside every refused block,
//!   except the forms that embed an IPv4 address, which are judged by that address (all of
//!   them, for Teredo): IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`, 6to4
//!   `2002::/16`, Teredo `2001::/32` (server and obfuscated client). Every other form is
//!   outside `2000::/3` or in a refused block: IPv4-compatible `::/96` and IPv4-translated
//!   `::ffff:0:0:0/96` (deprecated), local-use NAT64 `64:ff9b:1::/48`, site-local
//!   `fec0::/10`, unique-local, link-local, multicast.
//!
//! Where the registry marks a small block inside a refused one globally reachable, the
//! whole block is refused all the same: those are anycast service addresses (PCP, TURN,
//! DNS-SD, which reach the nearest such server: often the local network's), AMT relays,
//! AS112 sinks and ORCHID identifiers — never a webhook receiver.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The registry block it falls in (for an embedding form: the block of the embedded
    /// IPv4 address).
    pub block: IpNet,
    /// What the registry calls that block.
    pub name: &'static str,
    /// The embedded IPv4 address the verdict is about, if any.
    pub embedded: Option<Ipv4Addr>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(embedded) = self.embedded {
            write!(f, "it embeds {embedded}, ")?;
        }
        write!(f, "in {} ({})", self.block, self.name)
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// IPv4 blocks never called: the Special-Purpose Registry's entries that are not globally
/// reachable (or deprecated), multicast and the reserved class E.
const V4_REFUSED: &[(Ipv4Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\", RFC 791"),
    (v4(10, 0, 0, 0, 8), "private use, RFC 1918"),
    (v4(100, 64, 0, 0, 10), "shared address space (CGNAT), RFC 6598"),
    (v4(127, 0, 0, 0, 8), "loopback, RFC 1122"),
    (v4(169, 254, 0, 0, 16), "link local (cloud metadata), RFC 3927"),
    (v4(172, 16, 0, 0, 12), "private use, RFC 1918"),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignments, RFC 6890"),
    (v4(192, 0, 2, 0, 24), "documentation (TEST-NET-1), RFC 5737"),
    (v4(192, 88, 99, 0, 24), "deprecated 6to4 relay anycast, RFC 7526"),
    (v4(192, 168, 0, 0, 16), "private use, RFC 1918"),
    (v4(198, 18, 0, 0, 15), "benchmarking, RFC 2544"),
    (v4(198, 51, 100, 0, 24), "documentation (TEST-NET-2), RFC 5737"),
    (v4(203, 0, 113, 0, 24), "documentation (TEST-NET-3), RFC 5737"),
    (v4(224, 0, 0, 0, 4), "multicast, RFC 5771"),
    (v4(240, 0, 0, 0, 4), "reserved and limited broadcast, RFC 1112 and RFC 919"),
];

/// Global unicast (IANA IPv6 Address Space): no other IPv6 address is called, apart from
/// the IPv4 embeddings.
const V6_GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// IPv6 blocks never called, for the refusal's name: the Special-Purpose Registry's
/// entries that are not globally reachable (inside `2000::/3` these decide; outside it they
/// only name what the global-unicast rule refuses anyway), and the deprecated forms.
const V6_REFUSED: &[(Ipv6Net, &str)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "unspecified, RFC 4291"),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "loopback, RFC 4291"),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 96), "IPv4-compatible (deprecated), RFC 4291"),
    (v6([0, 0, 0, 0, 0xffff, 0, 0, 0], 96), "IPv4-translated (deprecated), RFC 2765"),
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), "local-use IPv4/IPv6 translation, RFC 8215"),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), "discard-only, RFC 6666"),
    (v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64), "dummy IPv6 prefix, RFC 9780"),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), "IETF protocol assignments, RFC 2928"),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), "documentation, RFC 3849"),
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), "documentation, RFC 9637"),
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), "segment routing (SRv6) SIDs, RFC 9602"),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), "unique local, RFC 4193"),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "link-local unicast, RFC 4291"),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), "site-local (deprecated), RFC 3879"),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast, RFC 4291"),
];

const V4_MAPPED: Ipv6Net = v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96);
const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);
const TEREDO: Ipv6Net = v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32);

/// `Ok` for an address a webhook may reach from the public internet; otherwise the block
/// that rules it out.
pub fn classify(ip: IpAddr) -> Result<(), Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Result<(), Refusal> {
    match V4_REFUSED.iter().find(|(block, _)| block.contains(&ip)) {
        Some(&(block, name)) => Err(Refusal { block: block.into(), name, embedded: None }),
        None => Ok(()),
    }
}

fn classify_v6(ip: Ipv6Addr) -> Result<(), Refusal> {
    let embedded = embedded_v4(ip);
    if !embedded.is_empty() {
        for v4 in embedded {
            classify_v4(v4).map_err(|refusal| Refusal { embedded: Some(v4), ..refusal })?;
        }
        return Ok(());
    }
    if let Some(&(block, name)) = V6_REFUSED.iter().find(|(block, _)| block.contains(&ip)) {
        return Err(Refusal { block: block.into(), name, embedded: None });
    }
    if !V6_GLOBAL_UNICAST.contains(&ip) {
        let name = "not global unicast, IANA IPv6 address space";
        return Err(Refusal { block: V6_GLOBAL_UNICAST.into(), name, embedded: None });
    }
    Ok(())
}

/// The IPv4 addresses an IPv6 address stands for, when it is one of the forms that reach
/// an IPv4 host: IPv4-mapped and NAT64 (the last 32 bits), 6to4 (bits 16–47), Teredo (the
/// server in bits 32–63 and the client, bit-inverted, in the last 32 bits).
fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from(bits as u32);
    if V4_MAPPED.contains(&ip) || NAT64.contains(&ip) {
        vec![low]
    } else if SIX_TO_FOUR.contains(&ip) {
        vec![Ipv4Addr::from((bits >> 80) as u32)]
    } else if TEREDO.contains(&ip) {
        vec![Ipv4Addr::from((bits >> 64) as u32), Ipv4Addr::from(!(bits as u32))]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form the guard must refuse, with the block it must name.
    const REFUSED: &[(&str, &str)] = &[
        // IPv4 special-purpose registry.
        ("0.0.0.0", "0.0.0.0/8"),
        ("0.1.2.3", "0.0.0.0/8"),
        ("10.1.2.3", "10.0.0.0/8"),
        ("100.64.0.1", "100.64.0.0/10"),
        ("100.127.255.254", "100.64.0.0/10"),
        ("127.0.0.1", "127.0.0.0/8"),
        ("127.255.255.254", "127.0.0.0/8"),
        ("169.254.169.254", "169.254.0.0/16"),
        ("172.16.0.1", "172.16.0.0/12"),
        ("172.31.255.254", "172.16.0.0/12"),
        ("192.0.0.8", "192.0.0.0/24"),
        ("192.0.0.9", "192.0.0.0/24"),
        ("192.0.0.170", "192.0.0.0/24"),
        ("192.0.2.1", "192.0.2.0/24"),
        ("192.88.99.1", "192.88.99.0/24"),
        ("192.168.1.1", "192.168.0.0/16"),
        ("198.18.0.1", "198.18.0.0/15"),
        ("198.19.255.254", "198.18.0.0/15"),
        ("198.51.100.7", "198.51.100.0/24"),
        ("203.0.113.9", "203.0.113.0/24"),
        ("224.0.0.1", "224.0.0.0/4"),
        ("239.255.255.250", "224.0.0.0/4"),
        ("240.0.0.1", "240.0.0.0/4"),
        ("255.255.255.255", "240.0.0.0/4"),
        // IPv6 special-purpose registry and deprecated ranges.
        ("::", "::/128"),
        ("::1", "::1/128"),
        ("100::1", "100::/64"),
        ("100:0:0:1::1", "100:0:0:1::/64"),
        ("2001:1::1", "2001::/23"),
        ("2001:2::1", "2001::/23"),
        ("2001:10::1", "2001::/23"),
        ("2001:db8::1", "2001:db8::/32"),
        ("3fff::1", "3fff::/20"),
        ("5f00::1", "5f00::/16"),
        ("fc00::1", "fc00::/7"),
        ("fd00:ec2::254", "fc00::/7"),
        ("fe80::1", "fe80::/10"),
        ("fec0::1", "fec0::/10"),
        ("ff02::1", "ff00::/8"),
        ("ff0e::1", "ff00::/8"),
        ("4000::1", "2000::/3"),
        ("1000::1", "2000::/3"),
        // IPv4-compatible and IPv4-translated: deprecated whatever they embed.
        ("::127.0.0.1", "::/96"),
        ("::8.8.8.8", "::/96"),
        ("::ffff:0:7f00:1", "::ffff:0:0:0/96"),
        ("::ffff:0:808:808", "::ffff:0:0:0/96"),
        // Local-use NAT64: where the IPv4 address sits is the network's own choice.
        ("64:ff9b:1::808:808", "64:ff9b:1::/48"),
        // Embeddings judged by the IPv4 address inside.
        ("::ffff:127.0.0.1", "127.0.0.0/8"),
        ("::ffff:10.0.0.1", "10.0.0.0/8"),
        ("::ffff:169.254.169.254", "169.254.0.0/16"),
        ("64:ff9b::127.0.0.1", "127.0.0.0/8"),
        ("64:ff9b::a00:1", "10.0.0.0/8"),
        ("2002:7f00:1::", "127.0.0.0/8"),
        ("2002:a9fe:a9fe::1", "169.254.0.0/16"),
        ("2002:c0a8:101::1", "192.168.0.0/16"),
        // Teredo: server 65.54.227.120, client 192.0.2.45 (RFC 4380's example)...
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.0/24"),
        // ...client 127.0.0.1 behind a public server, and a private server.
        ("2001:0:4136:e378::80ff:fffe", "127.0.0.0/8"),
        ("2001:0:a00:1::f7f7:f7f7", "10.0.0.0/8"),
    ];

    const PUBLIC: &[&str] = &[
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "100.63.255.255",
        "100.128.0.1",
        "172.32.0.1",
        "192.0.1.1",
        "192.31.196.1",
        "198.17.255.255",
        "198.20.0.1",
        "223.255.255.254",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "2620:4f:8000::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
    ];

    #[test]
    fn every_special_form_is_refused_with_its_block() {
        for &(address, block) in REFUSED {
            let ip: IpAddr = address.parse().unwrap();
            let refusal = classify(ip).expect_err(address);
            assert_eq!(refusal.block.to_string(), block, "{address}: {refusal}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in PUBLIC {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(classify(ip), Ok(()), "{address}");
        }
    }

    #[test]
    fn refusals_name_the_embedded_address() {
        let refusal = classify("::ffff:127.0.0.1".parse().unwrap()).unwrap_err();
        assert_eq!(refusal.to_string(), "it embeds 127.0.0.1, in 127.0.0.0/8 (loopback, RFC 1122)");
    }
}
