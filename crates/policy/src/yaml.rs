//! The only module that touches YAML libraries.
//!
//! Two readers are used, each for what it does well:
//! - `yaml-rust2` (pure safe Rust, maintained) delivers parser events with a position
//!   for every node. [`parse_tree`] turns them into a [`Node`] tree that keeps every
//!   key (including duplicates) and its line:column, so validation can report *all*
//!   problems with positions.
//! - `serde_yaml` (the design's choice; deprecated upstream) builds the typed
//!   [`Config`](crate::Config) once the tree has been validated ([`deserialize`]).
//!   It is also asked first for syntax-error messages, which libyaml words well.
//!
//! Replacing `serde_yaml` with a maintained fork only touches this file.

use serde::de::DeserializeOwned;
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn from_marker(m: Marker) -> Pos {
        Pos {
            line: m.line().max(1),
            column: m.col() + 1,
        }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub kind: Kind,
    /// A YAML tag (`!foo`, `!!str`) written on the node, if any.
    pub tag: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Every key/value pair in document order, duplicates included.
    Map(Vec<(Node, Node)>),
}

/// The value of a scalar under the YAML 1.2 core schema (what `serde_yaml` applies).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    /// An integer; `None` when it does not fit in an `i128`.
    Int(Option<i128>),
    Float,
    Str(&'a str),
}

impl Node {
    /// The resolved scalar value, or `None` for sequences and mappings.
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.kind {
            Kind::Scalar { value, plain: true } => Some(resolve_plain(value)),
            Kind::Scalar {
                value,
                plain: false,
            } => Some(Scalar::Str(value)),
            _ => None,
        }
    }

    /// The scalar's text, whatever its resolved type (`None` for collections).
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// "a mapping", "a list", "an integer (25)", ... for error messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Seq(_) => "a list".to_string(),
            Kind::Map(_) => "a mapping".to_string(),
            Kind::Scalar { value, .. } => match self.scalar() {
                Some(Scalar::Null) => "nothing (null)".to_string(),
                Some(Scalar::Bool(_)) => format!("a boolean ({value})"),
                Some(Scalar::Int(_)) => format!("an integer ({value})"),
                Some(Scalar::Float) => format!("a number ({value})"),
                _ => format!("a string ({})", shorten(value)),
            },
        }
    }

    fn count(&self) -> usize {
        match &self.kind {
            Kind::Scalar { .. } => 1,
            Kind::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Kind::Map(pairs) => {
                1 + pairs
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }

    fn relocate(&mut self, pos: Pos) {
        self.pos = pos;
        match &mut self.kind {
            Kind::Scalar { .. } => {}
            Kind::Seq(items) => items.iter_mut().for_each(|n| n.relocate(pos)),
            Kind::Map(pairs) => pairs.iter_mut().for_each(|(k, v)| {
                k.relocate(pos);
                v.relocate(pos);
            }),
        }
    }
}

/// Quotes `s` for a message, cutting very long values.
pub fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        format!("`{s}`")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("`{cut}...`")
    }
}

fn resolve_plain(v: &str) -> Scalar<'_> {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Scalar::Float,
        _ => {}
    }
    let (neg, digits) = match v.as_bytes()[0] {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    let parsed = if let Some(hex) = digits.strip_prefix("0x") {
        int_digits(hex, 16)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        int_digits(oct, 8)
    } else if digits.len() > 1 && digits.starts_with('0') {
        // serde_yaml reads `025` as a string (not octal, not 25); agree with it.
        None
    } else {
        int_digits(digits, 10)
    };
    if let Some(value) = parsed {
        return Scalar::Int(value.map(|n| if neg { -n } else { n }));
    }
    if is_float(digits) {
        return Scalar::Float;
    }
    Scalar::Str(v)
}

/// `Some(Some(n))` for a valid integer, `Some(None)` when it overflows, `None` when not digits.
fn int_digits(s: &str, radix: u32) -> Option<Option<i128>> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(i128::from_str_radix(s, radix).ok())
}

fn is_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits_ok = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits_ok(int_part) && digits_ok(f) && !(int_part.is_empty() && f.is_empty()),
        None => !int_part.is_empty() && digits_ok(int_part),
    };
    let exp_ok = match exp {
        None => frac.is_some(),
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits_ok(e)
        }
    };
    mantissa_ok && exp_ok
}

/// A problem found while reading YAML: a position and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError {
    pub pos: Pos,
    pub message: String,
}

/// At most this many nodes may be created by alias expansion ("billion laughs" guard).
const MAX_ALIAS_NODES: usize = 1_000_000;

/// Parses one YAML document into a positioned tree.
///
/// `Ok(None)`: the stream holds no document, or only a null one (an empty file).
pub fn parse_tree(text: &str) -> Result<Option<Node>, RawError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    let loaded = parser.load(&mut builder, true);
    if let Some(err) = builder.error {
        return Err(err);
    }
    if let Err(scan) = loaded {
        // Prefer libyaml's wording and position when it also rejects the text.
        let err = serde_syntax_error(text).unwrap_or_else(|| RawError {
            pos: Pos::from_marker(*scan.marker()),
            message: scan.info().to_string(),
        });
        return Err(with_tab_hint(text, err));
    }
    Ok(builder
        .root
        .filter(|root| root.scalar() != Some(Scalar::Null)))
}

/// Adds a hint when a syntax error is at, or on a line starting with, a tab.
fn with_tab_hint(text: &str, mut err: RawError) -> RawError {
    let line = text
        .lines()
        .nth(err.pos.line.saturating_sub(1))
        .unwrap_or("");
    let here = line.chars().nth(err.pos.column.saturating_sub(1));
    if here == Some('\t') || (line.starts_with('\t') && !err.message.contains("tab")) {
        err.message
            .push_str(" (a tab: YAML does not allow tabs for indentation; use spaces)");
    }
    err
}

/// The syntax error libyaml (`serde_yaml`) finds in `text` that `yaml-rust2`
/// let through, if any: libyaml is the stricter reader in places (a line
/// holding only a tab, for one), and the typed parse uses it. Called only
/// when the typed parse of a validated tree failed, so valid configs are not
/// read a third time.
pub fn stricter_syntax_error(text: &str) -> Option<RawError> {
    serde_syntax_error(text).map(|err| with_tab_hint(text, err))
}

/// The syntax error `serde_yaml` reports for `text`, if any.
fn serde_syntax_error(text: &str) -> Option<RawError> {
    let err = serde_yaml::from_str::<serde_yaml::Value>(text).err()?;
    let pos = err
        .location()
        .map(|l| Pos {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or(Pos { line: 1, column: 1 });
    Some(RawError {
        pos,
        message: strip_locations(&err.to_string()),
    })
}

/// Removes libyaml's " at line N column M" fragments (the position is reported separately).
fn strip_locations(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let skip_num = |s: &str| {
            s.trim_start_matches(|c: char| c.is_ascii_digit())
                .to_string()
        };
        let after_line = skip_num(after);
        match after_line.strip_prefix(" column ") {
            Some(col) => {
                let tail = skip_num(col);
                let consumed = rest.len() - tail.len();
                rest = &rest[consumed..];
            }
            None => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Builds the typed model with `serde_yaml`. Call only after validation passed; a
/// failure here means the two YAML readers disagree and is reported with a position.
pub fn deserialize<T: DeserializeOwned>(text: &str) -> Result<T, RawError> {
    serde_yaml::from_str(text).map_err(|err| RawError {
        pos: err
            .location()
            .map(|l| Pos {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or(Pos { line: 1, column: 1 }),
        message: strip_locations(&err.to_string()),
    })
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        tag: Option<String>,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        tag: Option<String>,
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    alias_nodes: usize,
    error: Option<RawError>,
}

fn tag_text(tag: Option<yaml_rust2::parser::Tag>) -> Option<String> {
    tag.map(|t| match t.handle.as_str() {
        // Show the standard tags the way they are written: `!!str`.
        "tag:yaml.org,2002:" => format!("!!{}", t.suffix),
        _ => format!("{}{}", t.handle, t.suffix),
    })
}

impl Builder {
    fn fail(&mut self, pos: Pos, message: String) {
        if self.error.is_none() {
            self.error = Some(RawError { pos, message });
        }
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                pos, pairs, key, ..
            }) => match key.take() {
                None => {
                    // Block mappings report their start after the first key: use the key.
                    if pairs.is_empty() && node.pos < *pos {
                        *pos = node.pos;
                    }
                    *key = Some(node);
                }
                Some(k) => {
                    let mut node = node;
                    // An empty value (`key:`) is reported by the parser at the next token,
                    // often on a later line: point at its key instead.
                    if matches!(&node.kind, Kind::Scalar { value, plain: true } if value.is_empty())
                    {
                        node.pos = k.pos;
                    }
                    pairs.push((k, node));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = Pos::from_marker(mark);
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(
                        pos,
                        "a config file holds exactly one YAML document; found a second one"
                            .to_string(),
                    );
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let node = Node {
                    pos,
                    kind: Kind::Scalar {
                        value,
                        plain: style == TScalarStyle::Plain,
                    },
                    tag: tag_text(tag),
                };
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => self.stack.push(Frame::Seq {
                pos,
                anchor,
                tag: tag_text(tag),
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, tag) => self.stack.push(Frame::Map {
                pos,
                anchor,
                tag: tag_text(tag),
                pairs: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        pos,
                        anchor,
                        tag,
                        items,
                    }) => (
                        Node {
                            pos,
                            kind: Kind::Seq(items),
                            tag,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        pos,
                        anchor,
                        tag,
                        pairs,
                        ..
                    }) => (
                        Node {
                            pos,
                            kind: Kind::Map(pairs),
                            tag,
                        },
                        anchor,
                    ),
                    None => {
                        self.fail(pos, "unbalanced YAML collection".to_string());
                        return;
                    }
                };
                self.finish(node, anchor);
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    self.fail(pos, "alias refers to an unknown anchor".to_string());
                    return;
                };
                self.alias_nodes += target.count();
                if self.alias_nodes > MAX_ALIAS_NODES {
                    self.fail(
                        pos,
                        format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to expand"
                        ),
                    );
                    return;
                }
                let mut copy = target.clone();
                // Errors inside an alias point at the place it is used.
                copy.relocate(pos);
                self.finish(copy, 0);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_like_the_yaml_1_2_core_schema() {
        assert_eq!(resolve_plain("25"), Scalar::Int(Some(25)));
        assert_eq!(resolve_plain("+25"), Scalar::Int(Some(25)));
        assert_eq!(resolve_plain("-3"), Scalar::Int(Some(-3)));
        assert_eq!(resolve_plain("0x19"), Scalar::Int(Some(25)));
        assert_eq!(resolve_plain("0o31"), Scalar::Int(Some(25)));
        assert_eq!(resolve_plain("1.5"), Scalar::Float);
        assert_eq!(resolve_plain("1e3"), Scalar::Float);
        assert_eq!(resolve_plain(".inf"), Scalar::Float);
        assert_eq!(resolve_plain("~"), Scalar::Null);
        assert_eq!(resolve_plain("True"), Scalar::Bool(true));
        assert_eq!(resolve_plain("yes"), Scalar::Str("yes"));
        assert_eq!(resolve_plain("1_000"), Scalar::Str("1_000"));
        assert_eq!(resolve_plain("025"), Scalar::Str("025"));
        assert_eq!(resolve_plain("0"), Scalar::Int(Some(0)));
        assert_eq!(
            resolve_plain("198.51.100.0/24"),
            Scalar::Str("198.51.100.0/24")
        );
        assert_eq!(
            resolve_plain("99999999999999999999999999999999999999999"),
            Scalar::Int(None)
        );
        assert_eq!(resolve_plain("."), Scalar::Str("."));
        assert_eq!(resolve_plain("-"), Scalar::Str("-"));
    }

    #[test]
    fn libyaml_locations_are_stripped_from_messages() {
        assert_eq!(
            strip_locations("found a tab at line 2 column 1, while scanning at line 1 column 4"),
            "found a tab, while scanning"
        );
        assert_eq!(strip_locations("at line x"), "at line x");
    }

    #[test]
    fn block_mapping_positions_are_their_first_key() {
        let tree = parse_tree("a: 1\npools:\n  - name: x\n").unwrap().unwrap();
        assert_eq!(tree.pos, Pos { line: 1, column: 1 });
        let Kind::Map(pairs) = &tree.kind else {
            panic!("not a map")
        };
        let Kind::Seq(items) = &pairs[1].1.kind else {
            panic!("not a seq")
        };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
    }

    #[test]
    fn aliases_expand_at_the_place_of_use() {
        let tree = parse_tree("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        let Kind::Map(pairs) = &tree.kind else {
            panic!("not a map")
        };
        assert_eq!(pairs[1].1.pos, Pos { line: 2, column: 4 });
        assert!(matches!(&pairs[1].1.kind, Kind::Seq(items) if items.len() == 2));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_tree(&text).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
    }
}
