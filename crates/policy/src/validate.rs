//! Validation of the positioned YAML tree against the configuration contract.
//!
//! One walk collects *every* problem (structure, types, values, and rules spanning
//! several entries), each with its line:column and key path. Only a tree without
//! errors goes on to the typed parse and compilation.

use crate::error::ConfigError;
use crate::model::{
    Action, Mode, Prefix, CONFIG_VERSION, MAX_REPLY_RATE_PER_SEC, NEVER_BLOCKED_PORTS,
};
use crate::yaml::{shorten, Kind, Node, Pos, Scalar};
use std::collections::HashMap;
use std::fmt;

/// Pool ids, relay ids and scope ids are `u16`.
pub(crate) const MAX_ENTRIES: usize = u16::MAX as usize;
/// Longest accepted name (names appear in metrics labels, logs and CLI output).
pub(crate) const MAX_NAME_LEN: usize = 64;

const ROOT_KEYS: &[&str] = &[
    "version",
    "blocked_ports",
    "default_action",
    "pools",
    "relays",
    "scope",
    "inbound",
    "reply",
];
const POOL_KEYS: &[&str] = &["name", "mode", "action", "prefixes"];
const LIST_KEYS: &[&str] = &["name", "prefixes"];
const INBOUND_KEYS: &[&str] = &["enabled"];
const REPLY_KEYS: &[&str] = &["rate_per_sec"];

/// Errors and warnings found in one file.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<ConfigError>,
}

/// A key path, built on the stack and formatted only when a problem is reported.
#[derive(Clone, Copy)]
enum P<'a> {
    Root,
    Key(&'a P<'a>, &'a str),
    Idx(&'a P<'a>, usize),
}

impl fmt::Display for P<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            P::Root => Ok(()),
            P::Key(P::Root, k) => write!(f, "{k}"),
            P::Key(parent, k) => write!(f, "{parent}.{k}"),
            P::Idx(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Checks a parsed document; see the module docs.
pub(crate) fn check(file: &str, root: &Node) -> Findings {
    let mut c = Checker {
        file,
        out: Findings::default(),
    };
    c.root(root);
    let by_pos = |e: &ConfigError| (e.line, e.column);
    c.out.errors.sort_by_key(by_pos);
    c.out.warnings.sort_by_key(by_pos);
    c.out
}

struct Checker<'f> {
    file: &'f str,
    out: Findings,
}

/// The first occurrence of each allowed key of a mapping.
struct Fields<'n> {
    pos: Pos,
    entries: Vec<(&'n str, &'n Node)>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

/// Where a prefix was first seen, for "already in ..." messages.
#[derive(Clone, Copy)]
struct Seen {
    entry: usize,
    index: usize,
    pos: Pos,
}

impl<'f> Checker<'f> {
    fn push(list: &mut Vec<ConfigError>, file: &str, pos: Pos, path: &P, message: String) {
        list.push(ConfigError {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            path: path.to_string(),
            message,
        });
    }

    fn err(&mut self, pos: Pos, path: &P, message: impl Into<String>) {
        Self::push(&mut self.out.errors, self.file, pos, path, message.into());
    }

    fn warn(&mut self, pos: Pos, path: &P, message: impl Into<String>) {
        Self::push(&mut self.out.warnings, self.file, pos, path, message.into());
    }

    /// Tags are not part of the format; report them instead of silently ignoring them.
    fn untagged(&mut self, node: &Node, path: &P) -> bool {
        match &node.tag {
            None => true,
            Some(tag) => {
                self.err(
                    node.pos,
                    path,
                    format!(
                        "YAML tags ({}) are not supported in op25b configs",
                        shorten(tag)
                    ),
                );
                false
            }
        }
    }

    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        path: &P,
        what: &str,
        allowed: &[&'static str],
    ) -> Option<Fields<'n>> {
        if !self.untagged(node, path) {
            return None;
        }
        let Kind::Map(pairs) = &node.kind else {
            self.err(
                node.pos,
                path,
                format!("expected {what}, found {}", node.describe()),
            );
            return None;
        };
        let mut fields = Fields {
            pos: node.pos,
            entries: Vec::with_capacity(pairs.len()),
        };
        let mut first_line: HashMap<&str, usize> = HashMap::new();
        for (key, value) in pairs {
            let Some(name) = key.text().filter(|_| key.tag.is_none()) else {
                self.err(
                    key.pos,
                    path,
                    format!("keys must be plain names, found {}", key.describe()),
                );
                continue;
            };
            let key_path = P::Key(path, name);
            if name == "<<" && matches!(key.kind, Kind::Scalar { plain: true, .. }) {
                self.err(
                    key.pos,
                    &key_path,
                    "merge keys (`<<`) are not supported: write the keys out in full",
                );
                continue;
            }
            if !allowed.contains(&name) {
                let hint = suggest(name, allowed)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.err(
                    key.pos,
                    &key_path,
                    format!(
                        "unknown key {}{hint}; expected one of: {}",
                        shorten(name),
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            if let Some(line) = first_line.get(name) {
                self.err(
                    key.pos,
                    &key_path,
                    format!("duplicate key `{name}` (first at line {line})"),
                );
                continue;
            }
            first_line.insert(name, key.pos.line);
            fields.entries.push((name, value));
        }
        Some(fields)
    }

    fn missing(&mut self, fields: &Fields, path: &P, key: &str, hint: &str) {
        self.err(fields.pos, path, format!("missing key `{key}`{hint}"));
    }

    fn seq<'n>(&mut self, node: &'n Node, path: &P, what: &str) -> Option<&'n [Node]> {
        if !self.untagged(node, path) {
            return None;
        }
        match &node.kind {
            Kind::Seq(items) => Some(items),
            _ => {
                self.err(
                    node.pos,
                    path,
                    format!("expected {what}, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn int(&mut self, node: &Node, path: &P, what: &str) -> Option<i128> {
        if !self.untagged(node, path) {
            return None;
        }
        match node.scalar() {
            Some(Scalar::Int(Some(n))) => Some(n),
            Some(Scalar::Int(None)) => {
                self.err(
                    node.pos,
                    path,
                    format!("{} is out of range", node.describe()),
                );
                None
            }
            _ => {
                self.err(
                    node.pos,
                    path,
                    format!("expected {what}, found {}", node.describe()),
                );
                None
            }
        }
    }

    /// Any non-null scalar is text (serde_yaml reads `2024` as "2024" for a string).
    fn text<'n>(&mut self, node: &'n Node, path: &P, what: &str) -> Option<&'n str> {
        if !self.untagged(node, path) {
            return None;
        }
        match node.scalar() {
            Some(Scalar::Null) | None => {
                self.err(
                    node.pos,
                    path,
                    format!("expected {what}, found {}", node.describe()),
                );
                None
            }
            Some(_) => node.text(),
        }
    }

    fn choice<T: Copy>(
        &mut self,
        node: &Node,
        path: &P,
        kind: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let list = join_or(&names);
        let text = self.text(node, path, &format!("{kind} ({list})"))?;
        if let Some((_, v)) = options.iter().find(|(n, _)| *n == text) {
            return Some(*v);
        }
        let hint = if names.contains(&text.to_ascii_lowercase().as_str()) {
            " (write it in lowercase)".to_string()
        } else {
            suggest(text, &names)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default()
        };
        self.err(
            node.pos,
            path,
            format!("unknown {kind} {}{hint}; expected {list}", shorten(text)),
        );
        None
    }

    fn mode(&mut self, node: &Node, path: &P) -> Option<Mode> {
        let options: Vec<(&str, Mode)> = Mode::ALL.iter().map(|m| (m.as_str(), *m)).collect();
        self.choice(node, path, "mode", &options)
    }

    fn action(&mut self, node: &Node, path: &P) -> Option<Action> {
        let options: Vec<(&str, Action)> = Action::ALL.iter().map(|a| (a.as_str(), *a)).collect();
        self.choice(node, path, "action", &options)
    }

    fn boolean(&mut self, node: &Node, path: &P) -> Option<bool> {
        if !self.untagged(node, path) {
            return None;
        }
        match node.scalar() {
            Some(Scalar::Bool(b)) => Some(b),
            _ => {
                let yaml11 = matches!(
                    node.text().map(str::to_ascii_lowercase).as_deref(),
                    Some("yes" | "no" | "on" | "off" | "y" | "n")
                );
                let hint = if yaml11 {
                    " (YAML 1.2: write true or false)"
                } else {
                    ""
                };
                self.err(
                    node.pos,
                    path,
                    format!("expected true or false, found {}{hint}", node.describe()),
                );
                None
            }
        }
    }

    fn name<'n>(&mut self, node: &'n Node, path: &P) -> Option<&'n str> {
        let name = self.text(node, path, "a name")?;
        let problem = if name.is_empty() {
            Some("name is empty".to_string())
        } else if name.chars().count() > MAX_NAME_LEN {
            Some(format!(
                "name {} is longer than {MAX_NAME_LEN} characters",
                shorten(name)
            ))
        } else if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            Some(format!(
                "name {} may contain only letters, digits, `-`, `_` and `.`",
                shorten(name)
            ))
        } else {
            None
        };
        match problem {
            Some(message) => {
                self.err(node.pos, path, message);
                None
            }
            None => Some(name),
        }
    }

    fn prefix(&mut self, node: &Node, path: &P) -> Option<Prefix> {
        let text = self.text(node, path, "a prefix like 198.51.100.0/24")?;
        match text.parse::<Prefix>() {
            Err(e) => {
                self.err(node.pos, path, e.to_string());
                None
            }
            Ok(p) if p.has_host_bits() => {
                self.err(
                    node.pos,
                    path,
                    format!("host bits set in {p} (the network is {})", p.network()),
                );
                None
            }
            Ok(p) => {
                if let std::net::IpAddr::V6(a) = p.addr() {
                    if p.prefix_len() >= 96 && a.to_ipv4_mapped().is_some() {
                        let v4 = std::net::Ipv4Addr::from(u128::from(a) as u32);
                        self.warn(
                            node.pos,
                            path,
                            format!(
                                "{p} is an IPv4-mapped IPv6 prefix and never matches: IPv4 \
                                 packets are matched as IPv4 (write {v4}/{})",
                                p.prefix_len() - 96
                            ),
                        );
                    }
                }
                Some(p)
            }
        }
    }

    /// A non-empty prefix list; duplicates inside it are errors at the second occurrence.
    fn prefix_list(&mut self, node: &Node, path: &P) -> Vec<(Prefix, usize, Pos)> {
        let Some(items) = self.seq(node, path, "a list of prefixes") else {
            return Vec::new();
        };
        if items.is_empty() {
            self.err(
                node.pos,
                path,
                "the prefix list is empty: list at least one prefix",
            );
        }
        let mut out = Vec::with_capacity(items.len());
        let mut first: HashMap<Prefix, Pos> = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = P::Idx(path, i);
            let Some(prefix) = self.prefix(item, &p) else {
                continue;
            };
            if let Some(at) = first.get(&prefix) {
                self.err(
                    item.pos,
                    &p,
                    format!(
                        "duplicate prefix {prefix} in this list (first at line {})",
                        at.line
                    ),
                );
                continue;
            }
            first.insert(prefix, item.pos);
            out.push((prefix, i, item.pos));
        }
        out
    }

    fn root(&mut self, node: &Node) {
        let root = P::Root;
        let Some(f) = self.mapping(
            node,
            &root,
            "a mapping with `version`, `pools` and optional settings",
            ROOT_KEYS,
        ) else {
            return;
        };
        match f.get("version") {
            None => self.missing(&f, &root, "version", " (write `version: 1`)"),
            Some(v) => {
                let path = P::Key(&root, "version");
                if let Some(n) = self.int(v, &path, "the format version (an integer)") {
                    if n != i128::from(CONFIG_VERSION) {
                        self.err(
                            v.pos,
                            &path,
                            format!(
                                "unsupported version {n}: this op25b reads version {CONFIG_VERSION}"
                            ),
                        );
                    }
                }
            }
        }
        if let Some(v) = f.get("blocked_ports") {
            self.ports(v, &P::Key(&root, "blocked_ports"));
        }
        if let Some(v) = f.get("default_action") {
            self.action(v, &P::Key(&root, "default_action"));
        }
        match f.get("pools") {
            None => self.missing(&f, &root, "pools", " (the subscriber source prefixes)"),
            Some(v) => self.pools(v, &P::Key(&root, "pools")),
        }
        if let Some(v) = f.get("relays") {
            self.named_lists(v, &P::Key(&root, "relays"), "relays");
        }
        if let Some(v) = f.get("scope") {
            self.named_lists(v, &P::Key(&root, "scope"), "scope");
        }
        if let Some(v) = f.get("inbound") {
            let path = P::Key(&root, "inbound");
            if let Some(f) = self.mapping(v, &path, "a mapping (`enabled: true`)", INBOUND_KEYS) {
                if let Some(e) = f.get("enabled") {
                    self.boolean(e, &P::Key(&path, "enabled"));
                }
            }
        }
        if let Some(v) = f.get("reply") {
            let path = P::Key(&root, "reply");
            if let Some(f) = self.mapping(v, &path, "a mapping (`rate_per_sec: N`)", REPLY_KEYS) {
                if let Some(r) = f.get("rate_per_sec") {
                    self.rate(r, &P::Key(&path, "rate_per_sec"));
                }
            }
        }
    }

    fn ports(&mut self, node: &Node, path: &P) {
        let Some(items) = self.seq(node, path, "a list of TCP ports") else {
            return;
        };
        if items.is_empty() {
            self.err(
                node.pos,
                path,
                "blocked_ports is empty: list at least one port, or remove the key for the \
                 default [25]; to stop blocking, set the pools to `monitor` or `exempt`",
            );
        }
        let mut first: HashMap<i128, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let p = P::Idx(path, i);
            let Some(port) = self.int(item, &p, "a TCP port number (1..65535)") else {
                continue;
            };
            if !(1..=65535).contains(&port) {
                self.err(item.pos, &p, format!("port {port} is outside 1..65535"));
                continue;
            }
            if port == i128::from(NEVER_BLOCKED_PORTS[0]) {
                self.err(
                    item.pos,
                    &p,
                    "port 587 (mail submission) must never be blocked: RFC 5068 says access \
                     providers MUST NOT block it",
                );
                continue;
            }
            if port == i128::from(NEVER_BLOCKED_PORTS[1]) {
                self.err(
                    item.pos,
                    &p,
                    "port 465 (submission over implicit TLS) must never be blocked: RFC 8314 \
                     makes it the submission port for implicit TLS",
                );
                continue;
            }
            if let Some(line) = first.get(&port) {
                self.err(
                    item.pos,
                    &p,
                    format!("duplicate port {port} (first at line {line})"),
                );
                continue;
            }
            first.insert(port, item.pos.line);
        }
    }

    fn rate(&mut self, node: &Node, path: &P) {
        let Some(rate) = self.int(node, path, "replies per second (an integer)") else {
            return;
        };
        if rate == 0 {
            self.err(
                node.pos,
                path,
                "rate_per_sec 0 would turn every reply into a drop; use `default_action: drop` \
                 for silent drops",
            );
        } else if rate < 0 || rate > i128::from(MAX_REPLY_RATE_PER_SEC) {
            self.err(
                node.pos,
                path,
                format!(
                    "rate_per_sec {rate} is outside 1..{MAX_REPLY_RATE_PER_SEC} (replies per \
                     second per worker)"
                ),
            );
        }
    }

    fn pools(&mut self, node: &Node, path: &P) {
        let Some(items) = self.seq(node, path, "a list of pools") else {
            return;
        };
        if items.is_empty() {
            self.err(node.pos, path, "no pools: at least one pool is required");
            return;
        }
        if items.len() > MAX_ENTRIES {
            self.err(
                items[MAX_ENTRIES].pos,
                &P::Idx(path, MAX_ENTRIES),
                format!("too many pools: at most {MAX_ENTRIES}"),
            );
        }
        let mut names: HashMap<&str, (usize, Pos)> = HashMap::new();
        let mut pool_names: Vec<Option<&str>> = Vec::with_capacity(items.len());
        let mut seen: HashMap<Prefix, Seen> = HashMap::new();
        let mut modes: Vec<Mode> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = P::Idx(path, i);
            let Some(f) = self.mapping(item, &p, "a pool (a mapping)", POOL_KEYS) else {
                pool_names.push(None);
                continue;
            };
            let name = match f.get("name") {
                None => {
                    self.missing(&f, &p, "name", "");
                    None
                }
                Some(v) => {
                    let np = P::Key(&p, "name");
                    let name = self.name(v, &np);
                    if let Some(n) = name {
                        if let Some((first, at)) = names.get(n) {
                            self.err(
                                v.pos,
                                &np,
                                format!(
                                    "duplicate pool name `{n}` (first at pools[{first}], line {})",
                                    at.line
                                ),
                            );
                        } else {
                            names.insert(n, (i, v.pos));
                        }
                    }
                    name
                }
            };
            pool_names.push(name);
            let mode = match f.get("mode") {
                None => {
                    self.missing(&f, &p, "mode", " (enforce, monitor or exempt)");
                    None
                }
                Some(v) => self.mode(v, &P::Key(&p, "mode")),
            };
            if let Some(m) = mode {
                modes.push(m);
            }
            if let Some(v) = f.get("action") {
                let ap = P::Key(&p, "action");
                if self.action(v, &ap).is_some() && mode == Some(Mode::Exempt) {
                    self.warn(
                        v.pos,
                        &ap,
                        "action has no effect: the pool is exempt and is never blocked",
                    );
                }
            }
            let prefixes = match f.get("prefixes") {
                None => {
                    self.missing(&f, &p, "prefixes", "");
                    continue;
                }
                Some(v) => self.prefix_list(v, &P::Key(&p, "prefixes")),
            };
            for (prefix, j, pos) in prefixes {
                match seen.get(&prefix) {
                    Some(first) if first.entry != i => {
                        let owner = pool_names
                            .get(first.entry)
                            .copied()
                            .flatten()
                            .map(|n| format!(" `{n}`"))
                            .unwrap_or_default();
                        let pp = P::Key(&p, "prefixes");
                        self.err(
                            pos,
                            &P::Idx(&pp, j),
                            format!(
                                "prefix {prefix} is already in pool{owner} \
                                 (pools[{}].prefixes[{}], line {}); a prefix may belong to one \
                                 pool only",
                                first.entry, first.index, first.pos.line
                            ),
                        );
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(
                            prefix,
                            Seen {
                                entry: i,
                                index: j,
                                pos,
                            },
                        );
                    }
                }
            }
        }
        if modes.len() == items.len() && !modes.iter().any(|m| *m != Mode::Exempt) {
            self.warn(
                node.pos,
                path,
                "every pool is exempt: this config blocks and monitors nothing",
            );
        }
    }

    /// `relays` or `scope`: named prefix lists whose prefixes are unique across the section.
    fn named_lists(&mut self, node: &Node, path: &P, section: &str) {
        let is_scope = section == "scope";
        let empty = match &node.kind {
            Kind::Seq(items) => items.is_empty(),
            Kind::Scalar { .. } => node.scalar() == Some(Scalar::Null),
            Kind::Map(_) => false,
        };
        if empty && node.tag.is_none() {
            if is_scope {
                self.err(
                    node.pos,
                    path,
                    "scope is empty: remove `scope` to block toward every destination, or list \
                     the destinations",
                );
            } else if !matches!(node.kind, Kind::Seq(_)) {
                self.err(
                    node.pos,
                    path,
                    "expected a list of relays, found nothing (null); write `relays: []` for no \
                     relay",
                );
            }
            return;
        }
        let what = if is_scope {
            "a list of scope entries (name and prefixes)"
        } else {
            "a list of relays (name and prefixes)"
        };
        let Some(items) = self.seq(node, path, what) else {
            return;
        };
        if items.len() > MAX_ENTRIES {
            self.err(
                items[MAX_ENTRIES].pos,
                &P::Idx(path, MAX_ENTRIES),
                format!("too many {section} entries: at most {MAX_ENTRIES}"),
            );
        }
        let mut names: HashMap<&str, (usize, Pos)> = HashMap::new();
        let mut entry_names: Vec<Option<&str>> = Vec::with_capacity(items.len());
        let mut seen: HashMap<Prefix, Seen> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let p = P::Idx(path, i);
            let Some(f) = self.mapping(item, &p, "a mapping with `name` and `prefixes`", LIST_KEYS)
            else {
                entry_names.push(None);
                continue;
            };
            let name = match f.get("name") {
                None => {
                    self.missing(&f, &p, "name", "");
                    None
                }
                Some(v) => {
                    let np = P::Key(&p, "name");
                    let name = self.name(v, &np);
                    if let Some(n) = name {
                        if let Some((first, at)) = names.get(n) {
                            self.err(
                                v.pos,
                                &np,
                                format!(
                                    "duplicate {section} name `{n}` (first at {section}[{first}], line {})",
                                    at.line
                                ),
                            );
                        } else {
                            names.insert(n, (i, v.pos));
                        }
                    }
                    name
                }
            };
            entry_names.push(name);
            let Some(list) = f.get("prefixes") else {
                self.missing(&f, &p, "prefixes", "");
                continue;
            };
            let pp = P::Key(&p, "prefixes");
            for (prefix, j, pos) in self.prefix_list(list, &pp) {
                if let Some(first) = seen.get(&prefix) {
                    if first.entry != i {
                        let owner = entry_names
                            .get(first.entry)
                            .copied()
                            .flatten()
                            .map(|n| format!(" `{n}`"))
                            .unwrap_or_default();
                        self.err(
                            pos,
                            &P::Idx(&pp, j),
                            format!(
                                "prefix {prefix} is already listed in {section}[{}]{owner} \
                                 (line {})",
                                first.entry, first.pos.line
                            ),
                        );
                    }
                    continue;
                }
                seen.insert(
                    prefix,
                    Seen {
                        entry: i,
                        index: j,
                        pos,
                    },
                );
                if prefix.prefix_len() == 0 && !is_scope {
                    let family = if prefix.is_ipv4() { "IPv4" } else { "IPv6" };
                    self.warn(
                        pos,
                        &P::Idx(&pp, j),
                        format!(
                            "{prefix} makes every {family} destination a relay: nothing is \
                             blocked over {family}"
                        ),
                    );
                }
            }
        }
    }
}

fn join_or(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The allowed word closest to `word`, if it is plausibly a typo.
fn suggest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| (edit_distance(&lower, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4) && *d < a.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggest("prefix", POOL_KEYS), Some("prefixes"));
        assert_eq!(suggest("Mode", POOL_KEYS), Some("mode"));
        assert_eq!(suggest("blocked_port", ROOT_KEYS), Some("blocked_ports"));
        assert_eq!(suggest("relay", ROOT_KEYS), Some("relays"));
        assert_eq!(suggest("zzzz", POOL_KEYS), None);
        assert_eq!(
            suggest("enforced", &["enforce", "monitor", "exempt"]),
            Some("enforce")
        );
    }

    #[test]
    fn or_lists_read_naturally() {
        assert_eq!(join_or(&["a"]), "a");
        assert_eq!(join_or(&["a", "b", "c"]), "a, b or c");
    }
}
