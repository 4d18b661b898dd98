//! Which IP addresses are globally reachable, after the IANA special-purpose address registries.
//!
//! One table per family mirrors the registry row for row (name and "Globally Reachable" column,
//! a row marked N/A counting as not global), plus the few ranges the special-purpose registries
//! leave to other registries (IPv4 multicast; IPv6 outside global unicast `2000::/3`). The most
//! specific row containing an address decides. IPv6 forms that carry an IPv4 address to the
//! network (NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are global only when the IPv4 address is.
//!
//! Registries: <https://www.iana.org/assignments/iana-ipv4-special-registry/> and
//! <https://www.iana.org/assignments/iana-ipv6-special-registry/>.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One row: a prefix, its registry name, and whether it is globally reachable.
#[derive(Debug, Clone, Copy)]
pub struct Block<A> {
    /// The first address of the prefix, as an integer.
    pub first: A,
    /// The prefix length.
    pub len: u8,
    /// The registry's name of the block.
    pub name: &'static str,
    /// The registry's "Globally Reachable" (N/A counts as `false`).
    pub global: bool,
}

const fn v4(a: [u8; 4], len: u8, name: &'static str, global: bool) -> Block<u32> {
    Block {
        first: Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_bits(),
        len,
        name,
        global,
    }
}

const fn v6(s: [u16; 8], len: u8, name: &'static str, global: bool) -> Block<u128> {
    Block {
        first: Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]).to_bits(),
        len,
        name,
        global,
    }
}

/// The IPv4 special-purpose registry, and IPv4 multicast.
pub const V4: &[Block<u32>] = &[
    v4([0, 0, 0, 0], 8, "This network", false),
    v4([0, 0, 0, 0], 32, "This host on this network", false),
    v4([10, 0, 0, 0], 8, "Private-Use", false),
    v4([100, 64, 0, 0], 10, "Shared Address Space", false),
    v4([127, 0, 0, 0], 8, "Loopback", false),
    v4([169, 254, 0, 0], 16, "Link Local", false),
    v4([172, 16, 0, 0], 12, "Private-Use", false),
    v4([192, 0, 0, 0], 24, "IETF Protocol Assignments", false),
    v4([192, 0, 0, 0], 29, "IPv4 Service Continuity Prefix", false),
    v4([192, 0, 0, 8], 32, "IPv4 dummy address", false),
    v4([192, 0, 0, 9], 32, "Port Control Protocol Anycast", true),
    v4(
        [192, 0, 0, 10],
        32,
        "Traversal Using Relays around NAT Anycast",
        true,
    ),
    v4([192, 0, 0, 170], 32, "NAT64/DNS64 Discovery", false),
    v4([192, 0, 0, 171], 32, "NAT64/DNS64 Discovery", false),
    v4([192, 0, 2, 0], 24, "Documentation (TEST-NET-1)", false),
    v4([192, 31, 196, 0], 24, "AS112-v4", true),
    v4([192, 52, 193, 0], 24, "AMT", true),
    v4(
        [192, 88, 99, 0],
        24,
        "Deprecated (6to4 Relay Anycast)",
        false,
    ),
    v4([192, 88, 99, 2], 32, "6a44-relay anycast address", false),
    v4([192, 168, 0, 0], 16, "Private-Use", false),
    v4(
        [192, 175, 48, 0],
        24,
        "Direct Delegation AS112 Service",
        true,
    ),
    v4([198, 18, 0, 0], 15, "Benchmarking", false),
    v4([198, 51, 100, 0], 24, "Documentation (TEST-NET-2)", false),
    v4([203, 0, 113, 0], 24, "Documentation (TEST-NET-3)", false),
    v4(
        [224, 0, 0, 0],
        4,
        "Multicast (IPv4 multicast registry)",
        false,
    ),
    v4([240, 0, 0, 0], 4, "Reserved", false),
    v4([255, 255, 255, 255], 32, "Limited Broadcast", false),
];

/// The NAT64 well-known prefix `64:ff9b::/96`, whose last 32 bits are the IPv4 address reached.
const NAT64_WELL_KNOWN: (u128, u8) = (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0).to_bits(), 96);
/// 6to4 `2002::/16`, whose bits 16 to 47 are the IPv4 address of the relay.
const SIX_TO_FOUR: (u128, u8) = (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0).to_bits(), 16);

/// The IPv6 special-purpose registry, and the address space outside global unicast.
pub const V6: &[Block<u128>] = &[
    v6([0; 8], 0, "Not global unicast (outside 2000::/3)", false),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "Loopback Address", false),
    v6([0; 8], 128, "Unspecified Address", false),
    v6(
        [0x64, 0xff9b, 0, 0, 0, 0, 0, 0],
        96,
        "IPv4-IPv6 Translat.",
        true,
    ),
    v6(
        [0, 0, 0, 0, 0, 0xffff, 0, 0],
        96,
        "IPv4-mapped Address",
        false,
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "IPv4-IPv6 Translat.",
        false,
    ),
    v6(
        [0x100, 0, 0, 0, 0, 0, 0, 0],
        64,
        "Discard-Only Address Block",
        false,
    ),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, "Dummy IPv6 Prefix", false),
    v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, "Global Unicast", true),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF Protocol Assignments",
        false,
    ),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "TEREDO", false),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 1],
        128,
        "Port Control Protocol Anycast",
        true,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 2],
        128,
        "Traversal Using Relays around NAT Anycast",
        true,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 3],
        128,
        "DNS-SD Service Registration Protocol Anycast",
        true,
    ),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "Benchmarking", false),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, "AMT", true),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, "AS112-v6", true),
    v6(
        [0x2001, 0x10, 0, 0, 0, 0, 0, 0],
        28,
        "Deprecated (previously ORCHID)",
        false,
    ),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, "ORCHIDv2", true),
    v6(
        [0x2001, 0x30, 0, 0, 0, 0, 0, 0],
        28,
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
        true,
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "Documentation",
        false,
    ),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4", false),
    v6(
        [0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0],
        48,
        "Direct Delegation AS112 Service",
        true,
    ),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "Documentation", false),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "Segment Routing (SRv6) SIDs",
        false,
    ),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "Unique-Local", false),
    v6(
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Link-Local Unicast",
        false,
    ),
];

macro_rules! lookup {
    ($name:ident, $bits:ty, $width:expr) => {
        /// The most specific row containing `address`.
        fn $name(table: &[Block<$bits>], address: $bits) -> Option<usize> {
            table
                .iter()
                .enumerate()
                .filter(|(_, b)| {
                    b.len == 0 || (address ^ b.first) >> ($width - u32::from(b.len)) == 0
                })
                .max_by_key(|(_, b)| b.len)
                .map(|(i, _)| i)
        }
    };
}

lookup!(row_v4, u32, 32);
lookup!(row_v6, u128, 128);

/// The registry name of the block that makes `ip` not globally reachable, if any: `None` means a
/// datagram to `ip` may be forwarded beyond any administrative domain, so a server may be asked to
/// connect to it without reaching into a private network.
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let block = &V4[row_v4(V4, ip.to_bits())?];
    (!block.global).then_some(block.name)
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = ip.to_bits();
    // The catch-all `::/0` row always matches.
    let block = &V6[row_v6(V6, bits).unwrap_or(0)];
    match (block.first, block.len) {
        NAT64_WELL_KNOWN => special_v4(Ipv4Addr::from_bits(bits as u32)),
        SIX_TO_FOUR => special_v4(Ipv4Addr::from_bits((bits >> 80) as u32)),
        _ => (!block.global).then_some(block.name),
    }
}

/// Whether `ip` is a loopback address: `127.0.0.0/8`, `::1`, or loopback in IPv4-mapped form.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_global(ip: IpAddr) -> bool {
        special_purpose(ip).is_none()
    }

    /// The registries' rows as published (prefix, globally reachable; N/A written `false`), plus
    /// the ranges taken from other registries, typed independently of the tables above.
    const V4_REGISTRY: &[(&str, bool)] = &[
        ("0.0.0.0/8", false),
        ("0.0.0.0/32", false),
        ("10.0.0.0/8", false),
        ("100.64.0.0/10", false),
        ("127.0.0.0/8", false),
        ("169.254.0.0/16", false),
        ("172.16.0.0/12", false),
        ("192.0.0.0/24", false),
        ("192.0.0.0/29", false),
        ("192.0.0.8/32", false),
        ("192.0.0.9/32", true),
        ("192.0.0.10/32", true),
        ("192.0.0.170/32", false),
        ("192.0.0.171/32", false),
        ("192.0.2.0/24", false),
        ("192.31.196.0/24", true),
        ("192.52.193.0/24", true),
        ("192.88.99.0/24", false),
        ("192.88.99.2/32", false),
        ("192.168.0.0/16", false),
        ("192.175.48.0/24", true),
        ("198.18.0.0/15", false),
        ("198.51.100.0/24", false),
        ("203.0.113.0/24", false),
        ("224.0.0.0/4", false),
        ("240.0.0.0/4", false),
        ("255.255.255.255/32", false),
    ];

    const V6_REGISTRY: &[(&str, bool)] = &[
        ("::/0", false),
        ("::1/128", false),
        ("::/128", false),
        ("64:ff9b::/96", true),
        ("::ffff:0:0/96", false),
        ("64:ff9b:1::/48", false),
        ("100::/64", false),
        ("100:0:0:1::/64", false),
        ("2000::/3", true),
        ("2001::/23", false),
        ("2001::/32", false),
        ("2001:1::1/128", true),
        ("2001:1::2/128", true),
        ("2001:1::3/128", true),
        ("2001:2::/48", false),
        ("2001:3::/32", true),
        ("2001:4:112::/48", true),
        ("2001:10::/28", false),
        ("2001:20::/28", true),
        ("2001:30::/28", true),
        ("2001:db8::/32", false),
        ("2002::/16", false),
        ("2620:4f:8000::/48", true),
        ("3fff::/20", false),
        ("5f00::/16", false),
        ("fc00::/7", false),
        ("fe80::/10", false),
    ];

    fn split(cidr: &str) -> (IpAddr, u8) {
        let (ip, len) = cidr.split_once('/').unwrap();
        (ip.parse().unwrap(), len.parse().unwrap())
    }

    #[test]
    fn tables_match_the_registries_row_for_row() {
        assert_eq!(V4.len(), V4_REGISTRY.len());
        for (block, (cidr, global)) in V4.iter().zip(V4_REGISTRY) {
            let (ip, len) = split(cidr);
            assert_eq!(IpAddr::V4(Ipv4Addr::from_bits(block.first)), ip, "{cidr}");
            assert_eq!((block.len, block.global), (len, *global), "{cidr}");
        }
        assert_eq!(V6.len(), V6_REGISTRY.len());
        for (block, (cidr, global)) in V6.iter().zip(V6_REGISTRY) {
            let (ip, len) = split(cidr);
            assert_eq!(IpAddr::V6(Ipv6Addr::from_bits(block.first)), ip, "{cidr}");
            assert_eq!((block.len, block.global), (len, *global), "{cidr}");
        }
    }

    /// What the registry rows say about one address: the most specific row decides; outside every
    /// row an IPv4 address is global.
    fn expected_v4(bits: u32) -> bool {
        V4_REGISTRY
            .iter()
            .map(|(cidr, global)| (split(cidr), *global))
            .filter(|((ip, len), _)| {
                let IpAddr::V4(first) = ip else {
                    unreachable!()
                };
                *len == 0 || (bits ^ first.to_bits()) >> (32 - u32::from(*len)) == 0
            })
            .max_by_key(|((_, len), _)| *len)
            .is_none_or(|(_, global)| global)
    }

    fn expected_v6(bits: u128) -> bool {
        let ((first, len), global) = V6_REGISTRY
            .iter()
            .map(|(cidr, global)| (split(cidr), *global))
            .filter(|((ip, len), _)| {
                let IpAddr::V6(first) = ip else {
                    unreachable!()
                };
                *len == 0 || (bits ^ first.to_bits()) >> (128 - u32::from(*len)) == 0
            })
            .max_by_key(|((_, len), _)| *len)
            .unwrap();
        match (first.to_string().as_str(), len) {
            ("64:ff9b::", 96) => expected_v4(bits as u32),
            ("2002::", 16) => expected_v4((bits >> 80) as u32),
            _ => global,
        }
    }

    #[test]
    fn every_block_boundary_and_its_neighbours() {
        for (cidr, _) in V4_REGISTRY {
            let (IpAddr::V4(first), len) = split(cidr) else {
                unreachable!()
            };
            let first = first.to_bits();
            let last = first | (u32::MAX.checked_shr(u32::from(len)).unwrap_or(0));
            let middle = first + (last - first) / 2;
            for bits in [
                Some(first),
                Some(last),
                Some(middle),
                first.checked_sub(1),
                last.checked_add(1),
            ]
            .into_iter()
            .flatten()
            {
                let ip = IpAddr::V4(Ipv4Addr::from_bits(bits));
                assert_eq!(is_global(ip), expected_v4(bits), "{ip} (around {cidr})");
                // The same address in the IPv6 forms that carry IPv4.
                let mapped = IpAddr::V6(Ipv4Addr::from_bits(bits).to_ipv6_mapped());
                assert!(!is_global(mapped), "{mapped}");
                let nat64 = IpAddr::V6(Ipv6Addr::from_bits(
                    (0x64_ff9b_u128 << 96) | u128::from(bits),
                ));
                assert_eq!(is_global(nat64), expected_v4(bits), "{nat64}");
                let six_to_four = IpAddr::V6(Ipv6Addr::from_bits(
                    (0x2002_u128 << 112) | (u128::from(bits) << 80) | 1,
                ));
                assert_eq!(is_global(six_to_four), expected_v4(bits), "{six_to_four}");
            }
        }
        for (cidr, _) in V6_REGISTRY {
            let (IpAddr::V6(first), len) = split(cidr) else {
                unreachable!()
            };
            let first = first.to_bits();
            let last = first | (u128::MAX.checked_shr(u32::from(len)).unwrap_or(0));
            let middle = first + (last - first) / 2;
            for bits in [
                Some(first),
                Some(last),
                Some(middle),
                first.checked_sub(1),
                last.checked_add(1),
            ]
            .into_iter()
            .flatten()
            {
                let ip = IpAddr::V6(Ipv6Addr::from_bits(bits));
                assert_eq!(is_global(ip), expected_v6(bits), "{ip} (around {cidr})");
            }
        }
    }

    #[test]
    fn addresses_that_once_slipped_through() {
        for ip in [
            "::7f00:1",
            "::ffff:0:7f00:1",
            "2002:7f00:1::1",
            "64:ff9b:1::a00:1",
            "fec0::1",
            "100::1",
            "192.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_global(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn loopback_in_every_form() {
        for ip in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "::7f00:1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
        ] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
