//! Operator-facing views of compiled tables: the `check` summary and the customer
//! impact table ISPs publish. The control plane serves the same structures.

use crate::decide::{Decision, Reason};
use crate::model::{Action, Mode, Prefix, NEVER_BLOCKED_PORTS};
use crate::tables::{PoolId, Tables};
use serde::Serialize;
use std::fmt;

/// Prefix counts per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    pub ipv4: usize,
    pub ipv6: usize,
}

impl Counts {
    fn of(prefixes: &[Prefix]) -> Counts {
        let ipv4 = prefixes.iter().filter(|p| p.is_ipv4()).count();
        Counts {
            ipv4,
            ipv6: prefixes.len() - ipv4,
        }
    }

    fn add(&mut self, other: Counts) {
        self.ipv4 += other.ipv4;
        self.ipv6 += other.ipv6;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolSummary {
    pub id: PoolId,
    pub name: String,
    pub mode: Mode,
    pub action: Action,
    pub prefixes: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeSummary {
    pub mode: Mode,
    pub pools: usize,
    pub prefixes: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListSummary {
    pub name: String,
    pub prefixes: Counts,
}

/// What `op25bctl check` prints for an accepted config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub hash: String,
    pub blocked_ports: Vec<u16>,
    pub default_action: Action,
    pub inbound_enabled: bool,
    pub reply_rate_per_sec: u32,
    pub pools: Vec<PoolSummary>,
    pub by_mode: Vec<ModeSummary>,
    pub relays: Vec<ListSummary>,
    /// `None`: no scope, blocking applies toward every destination.
    pub scope: Option<Vec<ListSummary>>,
}

fn lists<'a>(entries: impl Iterator<Item = (&'a str, &'a [Prefix])>) -> Vec<ListSummary> {
    entries
        .map(|(name, prefixes)| ListSummary {
            name: name.to_string(),
            prefixes: Counts::of(prefixes),
        })
        .collect()
}

impl Tables {
    pub fn summary(&self) -> Summary {
        let pools: Vec<PoolSummary> = self
            .pools()
            .iter()
            .enumerate()
            .map(|(i, info)| {
                let id = PoolId::try_from(i).unwrap_or(PoolId::MAX);
                PoolSummary {
                    id,
                    name: info.name.clone(),
                    mode: info.mode,
                    action: info.action,
                    prefixes: Counts::of(self.pool_prefixes(id)),
                }
            })
            .collect();
        let by_mode = Mode::ALL
            .iter()
            .map(|&mode| {
                let mut prefixes = Counts::default();
                let mut n = 0;
                for p in pools.iter().filter(|p| p.mode == mode) {
                    n += 1;
                    prefixes.add(p.prefixes);
                }
                ModeSummary {
                    mode,
                    pools: n,
                    prefixes,
                }
            })
            .collect();
        Summary {
            hash: self.hash().to_string(),
            blocked_ports: self.blocked_ports().iter().collect(),
            default_action: self.default_action(),
            inbound_enabled: self.inbound_enabled(),
            reply_rate_per_sec: self.reply_rate_per_sec(),
            pools,
            by_mode,
            relays: lists(self.relay_entries()),
            scope: self.has_scope().then(|| lists(self.scope_entries())),
        }
    }
}

fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy hash:    {}", self.hash)?;
        writeln!(f, "blocked ports:  {}", ports_text(&self.blocked_ports))?;
        writeln!(f, "default action: {}", self.default_action)?;
        writeln!(
            f,
            "inbound rule:   {}",
            if self.inbound_enabled {
                "enabled"
            } else {
                "disabled"
            }
        )?;
        writeln!(
            f,
            "reply rate:     {} per second per worker",
            self.reply_rate_per_sec
        )?;
        let width = self
            .pools
            .iter()
            .map(|p| p.name.len())
            .chain(self.relays.iter().map(|r| r.name.len()))
            .chain(self.scope.iter().flatten().map(|s| s.name.len()))
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(f, "pools ({}):", self.pools.len())?;
        writeln!(
            f,
            "  {:<width$}  {:<7}  {:<6}  {:>9}  {:>9}",
            "name", "mode", "action", "IPv4", "IPv6"
        )?;
        for p in &self.pools {
            writeln!(
                f,
                "  {:<width$}  {:<7}  {:<6}  {:>9}  {:>9}",
                p.name,
                p.mode.as_str(),
                p.action.as_str(),
                p.prefixes.ipv4,
                p.prefixes.ipv6
            )?;
        }
        writeln!(f, "prefixes by mode:")?;
        for m in &self.by_mode {
            writeln!(
                f,
                "  {:<7}  {} pool{}, {} IPv4, {} IPv6",
                m.mode.as_str(),
                m.pools,
                if m.pools == 1 { "" } else { "s" },
                m.prefixes.ipv4,
                m.prefixes.ipv6
            )?;
        }
        if self.relays.is_empty() {
            writeln!(
                f,
                "relays (0):     none: blocked ports are blocked toward every mail server"
            )?;
        } else {
            writeln!(f, "relays ({}):", self.relays.len())?;
            for r in &self.relays {
                writeln!(
                    f,
                    "  {:<width$}  {} IPv4, {} IPv6",
                    r.name, r.prefixes.ipv4, r.prefixes.ipv6
                )?;
            }
        }
        match &self.scope {
            None => writeln!(
                f,
                "scope:          none: blocking applies toward every destination"
            ),
            Some(scope) => {
                writeln!(f, "scope ({}): blocking applies only toward:", scope.len())?;
                for s in scope {
                    writeln!(
                        f,
                        "  {:<width$}  {} IPv4, {} IPv6",
                        s.name, s.prefixes.ipv4, s.prefixes.ipv6
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Kinds of destination in the impact table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// One of the configured relays.
    Relay,
    /// Any other mail server (no scope configured).
    OtherServer,
    /// Another mail server inside the scope.
    OtherInScope,
    /// Another mail server outside the scope.
    OtherOutsideScope,
}

/// Whether a customer can connect, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactCell {
    pub port: u16,
    pub can_send: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactRow {
    pub pool: String,
    pub mode: Mode,
    pub destination: Destination,
    /// Human label of the destination column.
    pub destination_label: String,
    pub cells: Vec<ImpactCell>,
}

/// The customer-facing impact table: each pool x destination kind x port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub hash: String,
    /// Column ports: the blocked ports, then 587 and 465.
    pub ports: Vec<u16>,
    pub rows: Vec<ImpactRow>,
    pub relays: Vec<String>,
    pub scope: Option<Vec<String>>,
    pub inbound_enabled: bool,
}

fn port_label(port: u16) -> String {
    match port {
        25 => "TCP 25 (SMTP)".to_string(),
        587 => "TCP 587 (submission)".to_string(),
        465 => "TCP 465 (submission, TLS)".to_string(),
        p => format!("TCP {p}"),
    }
}

impl Tables {
    /// Computes the impact table with the same rule code as [`Tables::decide`].
    pub fn impact(&self) -> Impact {
        let mut ports: Vec<u16> = self.blocked_ports().iter().collect();
        ports.extend(NEVER_BLOCKED_PORTS);
        let relays: Vec<String> = self.relay_entries().map(|(n, _)| n.to_string()).collect();
        let scope: Option<Vec<String>> = self
            .has_scope()
            .then(|| self.scope_entries().map(|(n, _)| n.to_string()).collect());
        let mut destinations = Vec::new();
        if !relays.is_empty() {
            destinations.push((
                Destination::Relay,
                format!("allowed relay ({})", relays.join(", ")),
                true,
                true,
            ));
        }
        let other = if relays.is_empty() {
            "any mail server (no relay is allowed)"
        } else {
            "other mail servers"
        };
        match &scope {
            None => destinations.push((Destination::OtherServer, other.to_string(), false, true)),
            Some(names) => {
                destinations.push((
                    Destination::OtherInScope,
                    format!("{other} in scope ({})", names.join(", ")),
                    false,
                    true,
                ));
                destinations.push((
                    Destination::OtherOutsideScope,
                    format!("{other} outside the scope"),
                    false,
                    false,
                ));
            }
        }
        let mut rows = Vec::new();
        for (i, info) in self.pools().iter().enumerate() {
            let id = PoolId::try_from(i).unwrap_or(PoolId::MAX);
            for (dest, label, relay, in_scope) in &destinations {
                let cells = ports
                    .iter()
                    .map(|&port| self.impact_cell(id, port, *relay, *in_scope))
                    .collect();
                rows.push(ImpactRow {
                    pool: info.name.clone(),
                    mode: info.mode,
                    destination: *dest,
                    destination_label: label.clone(),
                    cells,
                });
            }
        }
        Impact {
            hash: self.hash().to_string(),
            ports,
            rows,
            relays,
            scope,
            inbound_enabled: self.inbound_enabled(),
        }
    }

    fn impact_cell(&self, pool: PoolId, port: u16, relay: bool, in_scope: bool) -> ImpactCell {
        let (can_send, reason) = if !self.blocked_ports().contains(port) {
            let why = match port {
                587 => "never blocked (RFC 5068)".to_string(),
                465 => "never blocked (RFC 8314)".to_string(),
                _ => "not a blocked port".to_string(),
            };
            (true, why)
        } else {
            match self.rule_4_5(pool, relay, in_scope) {
                Decision::Forward(Reason::ExemptPool { .. }) => (true, "exempt pool".to_string()),
                Decision::Forward(Reason::Relay) => (true, "allowed relay".to_string()),
                Decision::Forward(Reason::OutOfScope) => {
                    (true, "outside the blocking scope".to_string())
                }
                Decision::Forward(other) => (true, format!("{other:?}")),
                Decision::Monitor { .. } => (true, "monitored, not blocked".to_string()),
                Decision::Block { action, .. } => (false, action.client_effect().to_string()),
            }
        };
        ImpactCell {
            port,
            can_send,
            reason,
        }
    }
}

impl Impact {
    /// The table as Markdown, ready to paste into a customer notice.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("# Outbound Port 25 Blocking: what customers can send\n\n");
        let short = self.hash.get(..12).unwrap_or(&self.hash);
        out.push_str(&format!("Policy `{short}`.\n\n"));
        out.push_str("| Customer pool | Mode | Destination |");
        for p in &self.ports {
            out.push_str(&format!(" {} |", port_label(*p)));
        }
        out.push_str("\n| --- | --- | --- |");
        for _ in &self.ports {
            out.push_str(" --- |");
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} |",
                row.pool, row.mode, row.destination_label
            ));
            for c in &row.cells {
                if c.can_send {
                    out.push_str(&format!(" Yes: {} |", c.reason));
                } else {
                    out.push_str(&format!(" **No**: {} |", c.reason));
                }
            }
            out.push('\n');
        }
        out.push_str("\nNotes:\n\n");
        out.push_str(
            "- Ports 587 (submission, RFC 5068) and 465 (submission over TLS, RFC 8314) are \
             never blocked: configure your mail client to use one of them with SMTP AUTH.\n",
        );
        if self.relays.is_empty() {
            out.push_str(
                "- No mail server is reachable on port 25 from enforced pools, the provider's \
                 own included: use port 587 or 465.\n",
            );
        }
        if let Some(scope) = &self.scope {
            out.push_str(&format!(
                "- Blocking currently applies only toward: {} (staged rollout).\n",
                scope.join(", ")
            ));
        }
        if self.rows.iter().any(|r| r.mode == Mode::Monitor) {
            out.push_str(
                "- Monitor pools: connections that would be blocked are counted but delivered.\n",
            );
        }
        if self.inbound_enabled {
            out.push_str(
                "- Connections to enforced and monitored pools that come *from* a blocked port \
                 of a server that is not an allowed relay are treated the same way.\n",
            );
        }
        out.push_str("- Addresses outside every pool are not affected.\n");
        out
    }
}
