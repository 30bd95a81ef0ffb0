//! The typed configuration model (DESIGN.md "Configuration (contract)").
//!
//! These types are what `serde_yaml` fills after validation, what the JSON Schema in
//! `configs/op25b.schema.json` is derived from, and what [`Tables`](crate::Tables) are
//! compiled from. Unknown keys are rejected everywhere (`deny_unknown_fields`).

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The only format version this release reads.
pub const CONFIG_VERSION: u32 = 1;
/// `blocked_ports` when the key is absent.
pub const DEFAULT_BLOCKED_PORTS: [u16; 1] = [25];
/// `reply.rate_per_sec` when absent: replies per second per worker. Matches the design's
/// example; one worker at this rate answers every blocked SYN of a few thousand busy
/// infected hosts while keeping reply traffic below 20 kpps (~1.2 MB/s of RSTs).
pub const DEFAULT_REPLY_RATE_PER_SEC: u32 = 20_000;
/// Highest accepted `reply.rate_per_sec`; beyond it a rate limit is no limit.
pub const MAX_REPLY_RATE_PER_SEC: u32 = 1_000_000;
/// Ports that must never be blocked: submission (RFC 5068) and submissions (RFC 8314).
pub const NEVER_BLOCKED_PORTS: [u16; 2] = [587, 465];

/// An op25b configuration (format version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "op25b configuration")]
pub struct Config {
    /// Format version; must be 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// TCP destination ports under the policy (source ports for the inbound rule).
    /// 587 and 465 are never allowed here (RFC 5068, RFC 8314).
    #[serde(default = "default_blocked_ports")]
    #[schemars(schema_with = "blocked_ports_schema")]
    pub blocked_ports: Vec<u16>,
    /// What an enforced pool does to a blocked connection unless the pool overrides it.
    #[serde(default)]
    pub default_action: Action,
    /// Source prefixes on the access side. The longest matching prefix over all pools
    /// (IPv4 and IPv6) decides which pool a subscriber belongs to.
    #[schemars(length(min = 1))]
    pub pools: Vec<Pool>,
    /// Destinations that enforced and monitored pools may reach on blocked ports.
    /// Absent or empty: no relay (port 25 is blocked toward every destination).
    #[serde(default)]
    pub relays: Vec<NamedPrefixes>,
    /// When present, blocking applies only toward these destinations (staged rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<NamedPrefixes>", length(min = 1))]
    pub scope: Option<Vec<NamedPrefixes>>,
    /// The inbound (anti-triangular-routing) rule; disabled by default.
    #[serde(default)]
    pub inbound: Inbound,
    /// Reply rate limiting.
    #[serde(default)]
    pub reply: Reply,
}

fn default_blocked_ports() -> Vec<u16> {
    DEFAULT_BLOCKED_PORTS.to_vec()
}

fn blocked_ports_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "minItems": 1,
        "uniqueItems": true,
        "default": DEFAULT_BLOCKED_PORTS,
        "items": {
            "type": "integer",
            "minimum": 1,
            "maximum": 65535,
            "not": { "enum": NEVER_BLOCKED_PORTS }
        }
    })
}

/// A pool of subscriber source prefixes sharing one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// Unique pool name (letters, digits, `-`, `_`, `.`; at most 64 characters).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    pub mode: Mode,
    /// Per-pool override of `default_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Action")]
    pub action: Option<Action>,
    /// IPv4 and/or IPv6 prefixes, host bits clear. A prefix may appear in one pool only.
    #[schemars(length(min = 1))]
    pub prefixes: Vec<Prefix>,
}

/// A named list of destination prefixes (a relay or scope entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedPrefixes {
    /// Unique name within its list (letters, digits, `-`, `_`, `.`; at most 64 characters).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// IPv4 and/or IPv6 prefixes, host bits clear.
    #[schemars(length(min = 1))]
    pub prefixes: Vec<Prefix>,
}

/// The inbound rule: toward dynamic pools, TCP *from* a blocked port that does not come
/// from an allowed relay is blocked too (counters triangular routing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    #[serde(default)]
    pub enabled: bool,
}

/// Reply settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Replies per second per worker; replies over the rate become plain drops (counted).
    #[serde(default = "default_rate")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub rate_per_sec: u32,
}

fn default_rate() -> u32 {
    DEFAULT_REPLY_RATE_PER_SEC
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            rate_per_sec: DEFAULT_REPLY_RATE_PER_SEC,
        }
    }
}

/// What happens to port-25 traffic from a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Block (the pool's action) unless toward a relay or outside the scope.
    Enforce,
    /// Forward, but count and sample what would be blocked.
    Monitor,
    /// Never touched (e.g. static-IP and business lines).
    Exempt,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Enforce, Mode::Monitor, Mode::Exempt];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Monitor => "monitor",
            Mode::Exempt => "exempt",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a blocked connection attempt is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A TCP reset: the client fails fast with "connection refused".
    #[default]
    Rst,
    /// ICMP administratively prohibited (IPv4 type 3 code 13, IPv6 type 1 code 1).
    Icmp,
    /// Silent drop: the client times out.
    Drop,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Rst, Action::Icmp, Action::Drop];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Rst => "rst",
            Action::Icmp => "icmp",
            Action::Drop => "drop",
        }
    }

    /// What the customer's mail client sees.
    pub fn client_effect(self) -> &'static str {
        match self {
            Action::Rst => "connection refused (TCP reset)",
            Action::Icmp => "destination administratively prohibited (ICMP)",
            Action::Drop => "connection times out (silently dropped)",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IPv4 or IPv6 prefix in CIDR notation (`198.51.100.0/24`, `2001:db8:100::/40`).
///
/// Parsing accepts host bits (validation reports them with the key path); use
/// [`Prefix::has_host_bits`] and [`Prefix::network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// A prefix; `None` if `len` exceeds the address width.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        (len <= max_len(addr)).then_some(Prefix { addr, len })
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length (0..=32 for IPv4, 0..=128 for IPv6).
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// The prefix with host bits cleared.
    pub fn network(&self) -> Prefix {
        let addr = match self.addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask4(self.len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask6(self.len))),
        };
        Prefix {
            addr,
            len: self.len,
        }
    }

    pub fn has_host_bits(&self) -> bool {
        self.network() != *self
    }

    /// True when `addr` is inside this prefix (different families never match).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                u32::from(a) & mask4(self.len) == u32::from(n) & mask4(self.len)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                u128::from(a) & mask6(self.len) == u128::from(n) & mask6(self.len)
            }
            _ => false,
        }
    }
}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

pub(crate) fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

pub(crate) fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Why a string is not a prefix; the message is written for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixParseError(pub String);

impl fmt::Display for PrefixParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrefixParseError {}

impl FromStr for Prefix {
    type Err = PrefixParseError;

    fn from_str(s: &str) -> Result<Prefix, PrefixParseError> {
        let shown = crate::yaml::shorten(s);
        let Some((addr_text, len_text)) = s.split_once('/') else {
            return Err(PrefixParseError(match s.parse::<IpAddr>() {
                Ok(a) => format!(
                    "missing prefix length in {shown}: write {a}/{} for one address",
                    max_len(a)
                ),
                Err(_) => format!("malformed prefix {shown}: expected ADDRESS/LENGTH"),
            }));
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            PrefixParseError(format!(
                "malformed prefix {shown}: {} is not an IPv4 or IPv6 address",
                crate::yaml::shorten(addr_text)
            ))
        })?;
        let max = max_len(addr);
        let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
        let len_ok = !len_text.is_empty()
            && len_text.len() <= 3
            && len_text.bytes().all(|b| b.is_ascii_digit());
        let len = len_text
            .parse::<u8>()
            .ok()
            .filter(|&l| len_ok && l <= max)
            .ok_or_else(|| {
                PrefixParseError(format!(
                    "malformed prefix {shown}: the length must be 0..{max} for {family}"
                ))
            })?;
        Ok(Prefix { addr, len })
    }
}

impl Serialize for Prefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Prefix, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Prefix {
    fn schema_name() -> Cow<'static, str> {
        "Prefix".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An IPv4 or IPv6 prefix in CIDR notation with host bits clear, e.g. 198.51.100.0/24 or 2001:db8:100::/40. Quote IPv6 prefixes in flow lists.",
            "pattern": r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_print() {
        let p: Prefix = "198.51.100.0/24".parse().unwrap();
        assert_eq!(p.to_string(), "198.51.100.0/24");
        assert!(p.is_ipv4() && !p.has_host_bits());
        let q: Prefix = "2001:DB8:100::/40".parse().unwrap();
        assert_eq!(q.to_string(), "2001:db8:100::/40");
        assert!(q.contains("2001:db8:1ff::1".parse().unwrap()));
        assert!(!q.contains("2001:db8:200::1".parse().unwrap()));
        assert!(!q.contains("198.51.100.1".parse().unwrap()));
        let h: Prefix = "198.51.100.1/24".parse().unwrap();
        assert!(h.has_host_bits());
        assert_eq!(h.network().to_string(), "198.51.100.0/24");
        assert_eq!("0.0.0.0/0".parse::<Prefix>().unwrap().prefix_len(), 0);
        assert_eq!(
            "::/0".parse::<Prefix>().unwrap().network().to_string(),
            "::/0"
        );
    }

    #[test]
    fn malformed_prefixes_say_what_is_wrong() {
        let e = |s: &str| s.parse::<Prefix>().unwrap_err().to_string();
        assert_eq!(
            e("203.0.113.25"),
            "missing prefix length in `203.0.113.25`: write 203.0.113.25/32 for one address"
        );
        assert_eq!(
            e("2001:db8::25"),
            "missing prefix length in `2001:db8::25`: write 2001:db8::25/128 for one address"
        );
        assert_eq!(
            e("198.51.100.0/33"),
            "malformed prefix `198.51.100.0/33`: the length must be 0..32 for IPv4"
        );
        assert_eq!(
            e("2001:db8::/129"),
            "malformed prefix `2001:db8::/129`: the length must be 0..128 for IPv6"
        );
        assert_eq!(
            e("198.51.100/24"),
            "malformed prefix `198.51.100/24`: `198.51.100` is not an IPv4 or IPv6 address"
        );
        assert_eq!(
            e("198.51.100.0/+4"),
            "malformed prefix `198.51.100.0/+4`: the length must be 0..32 for IPv4"
        );
        assert_eq!(
            e("mail"),
            "malformed prefix `mail`: expected ADDRESS/LENGTH"
        );
        assert!(e("198.51.100.0/").contains("length must be"));
        assert!(e("198.51.100.0/0024").contains("length must be"));
    }
}
