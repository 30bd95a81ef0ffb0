//! op25b policy: the configuration contract of `DESIGN.md` ("Configuration").
//!
//! This crate is the one place that turns YAML into the [`Tables`] the workers read:
//!
//! 1. [`load_file`] / [`load_str`] read bytes (UTF-8 required), parse them with
//!    positions, validate every key and rule, and report *all* problems at once as
//!    [`ConfigErrors`] (`FILE:LINE:COL: key.path: message`). A rejected config yields
//!    no tables.
//! 2. A valid config becomes a typed [`Config`] (serde, unknown keys rejected) and is
//!    compiled into immutable [`Tables`]: longest-prefix match of sources to pools over
//!    IPv4 and IPv6, relay and scope sets, modes and actions, the blocked-port bitmap
//!    and a content hash identifying the generation.
//! 3. [`Tables::decide`] is the verdict model (rules 2-5 and the inbound rule);
//!    [`Tables::explain`], [`Tables::summary`] and [`Tables::impact`] answer what
//!    operators and support desks ask.
//!
//! No DPDK here.

mod decide;
mod error;
mod model;
mod report;
#[doc(hidden)]
pub mod synth;
mod tables;
mod validate;
mod yaml;

pub use decide::{Decision, Direction, Explanation, NamedMatch, PoolMatch, Reason, ScopeMatch};
pub use error::{ConfigError, ConfigErrors};
pub use model::{
    Action, Config, Inbound, Mode, NamedPrefixes, Pool, Prefix, PrefixParseError, Reply,
    CONFIG_VERSION, DEFAULT_BLOCKED_PORTS, DEFAULT_REPLY_RATE_PER_SEC, MAX_REPLY_RATE_PER_SEC,
    NEVER_BLOCKED_PORTS,
};
pub use report::{
    Counts, Destination, Impact, ImpactCell, ImpactRow, ListSummary, ModeSummary, PoolSummary,
    Summary,
};
pub use tables::{CompileError, PoolId, PoolInfo, PortSet, Tables};

use std::path::Path;

/// A validated configuration and its compiled tables.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub tables: Tables,
    /// Things that are valid but probably not what the operator meant (same shape as
    /// errors). They never reject a config.
    pub warnings: Vec<ConfigError>,
}

/// Reads, validates and compiles a config file. Errors are reported with the path as
/// given; an unreadable file is one error without a position.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => load_str(&name, &bytes),
        Err(e) => Err(ConfigErrors(vec![ConfigError {
            file: name,
            line: 0,
            column: 0,
            path: String::new(),
            message: format!("cannot read the file: {e}"),
        }])),
    }
}

/// Validates and compiles a config given as bytes; `file_name` is used in messages.
pub fn load_str(file_name: &str, yaml: &[u8]) -> Result<Loaded, ConfigErrors> {
    let one = |line: usize, column: usize, path: &str, message: String| {
        ConfigErrors(vec![ConfigError {
            file: file_name.to_string(),
            line,
            column,
            path: path.to_string(),
            message,
        }])
    };
    let text = match std::str::from_utf8(yaml) {
        Ok(t) => t,
        Err(e) => {
            let good = &yaml[..e.valid_up_to()];
            let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            // `good` is valid UTF-8, so this cannot fail; count characters for the column.
            let column =
                1 + std::str::from_utf8(&good[line_start..]).map_or(0, |s| s.chars().count());
            let byte = yaml.get(e.valid_up_to()).copied().unwrap_or(0);
            return Err(one(
                line,
                column,
                "",
                format!(
                    "the file is not valid UTF-8 (byte 0x{byte:02X}); op25b configs are UTF-8 text"
                ),
            ));
        }
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if let Some((line, column, c)) = first_non_yaml_char(text) {
        return Err(one(
            line,
            column,
            "",
            format!(
                "control character U+{:04X} is not allowed in YAML (YAML 1.2 §5.1); \
                 remove it or write it as an escape inside a double-quoted string",
                u32::from(c)
            ),
        ));
    }
    const EMPTY: &str =
        "the file is empty: expected a YAML mapping with at least `version` and `pools`";
    if text.trim().is_empty() {
        return Err(one(1, 1, "", EMPTY.to_string()));
    }
    let tree = match yaml::parse_tree(text) {
        Ok(Some(tree)) => tree,
        Ok(None) => {
            return Err(one(
                1,
                1,
                "",
                format!("{EMPTY} (it has only comments or null)"),
            ))
        }
        Err(e) => return Err(one(e.pos.line, e.pos.column, "", e.message)),
    };
    let findings = validate::check(file_name, &tree);
    if !findings.errors.is_empty() {
        return Err(ConfigErrors(findings.errors));
    }
    drop(tree);
    let config: Config = yaml::deserialize(text).map_err(|e| {
        // A syntax error only the stricter reader sees is the author's to fix.
        if let Some(syntax) = yaml::stricter_syntax_error(text) {
            return one(syntax.pos.line, syntax.pos.column, "", syntax.message);
        }
        one(
            e.pos.line,
            e.pos.column,
            "",
            format!(
                "{} (the YAML readers disagree; please report this config)",
                e.message
            ),
        )
    })?;
    let tables = Tables::compile(&config).map_err(|e| one(1, 1, &e.path, e.message))?;
    Ok(Loaded {
        config,
        tables,
        warnings: findings.warnings,
    })
}

/// The first character YAML does not allow in a stream (YAML 1.2 §5.1: tab,
/// line feed, carriage return, printable ASCII, NEL and the printable Unicode
/// planes), with its 1-based line and column. Both YAML readers reject these,
/// the span-aware one only outside comments, so the check comes first.
fn first_non_yaml_char(text: &str) -> Option<(usize, usize, char)> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}')
            || matches!(c, '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    };
    let (mut line, mut column) = (1, 1);
    for c in text.chars() {
        if !allowed(c) {
            return Some((line, column, c));
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    None
}

/// The JSON Schema of the config format, derived from [`Config`]
/// (`configs/op25b.schema.json` is this, pretty-printed).
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Config).to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".to_string(),
            serde_json::Value::String("https://example.invalid/op25b/op25b.schema.json".into()),
        );
    }
    schema
}

/// [`json_schema`] as the exact text committed in `configs/op25b.schema.json`.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}
