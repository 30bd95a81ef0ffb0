//! The verdict model: DESIGN.md rules 2-5 and the inbound rule, as a pure function.
//!
//! [`Tables::decide`] is the reference the classifier is tested against;
//! [`Tables::explain`] gives the same verdict with every fact behind it (for
//! `op25bctl explain` and the control plane).

use crate::model::{Action, Mode, Prefix};
use crate::tables::{longest_containing, PoolId, Tables};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// Which port a packet arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the access port (subscriber to the Internet): rules 2-5.
    Outbound,
    /// From the core port (toward subscribers): the inbound rule.
    Inbound,
}

/// Why a packet is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    /// Rule 2: the mail port (destination port outbound, source port inbound) is not
    /// in `blocked_ports`.
    PortNotBlocked,
    /// Rule 3: the subscriber address is in no pool.
    NoPool,
    /// Rule 3: the subscriber's pool is exempt.
    ExemptPool { pool: PoolId },
    /// Rule 4: the other end is an allowed relay.
    Relay,
    /// Rule 4: `scope` is configured and the other end is outside it.
    OutOfScope,
    /// Inbound traffic while the inbound rule is disabled.
    InboundDisabled,
}

/// The verdict for one TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Decision {
    Forward(Reason),
    /// Rule 5, monitor: forward, count, sample.
    Monitor {
        pool: PoolId,
    },
    /// Rule 5, enforce: apply `action`.
    Block {
        pool: PoolId,
        action: Action,
    },
}

impl Decision {
    pub fn is_forwarded(&self) -> bool {
        !matches!(self, Decision::Block { .. })
    }
}

impl Tables {
    /// The verdict for a TCP segment (rule 1, parsing, belongs to the classifier).
    ///
    /// Outbound (`src` is the subscriber): rule 2 `dport` in `blocked_ports`; rule 3
    /// longest-prefix pool of `src`, none or exempt forwards; rule 4 `dst` a relay, or
    /// outside a configured scope, forwards; rule 5 monitor or the pool's action.
    ///
    /// Inbound (`dst` is the subscriber): forwarded unless `inbound.enabled`, `sport`
    /// is in `blocked_ports`, `dst` is in an enforce/monitor pool, `src` is not a relay
    /// and is in scope; then rule 5.
    ///
    /// Each address is looked up in its own family, so mixed families (which no real
    /// packet has) still give a well-defined answer.
    pub fn decide(
        &self,
        dir: Direction,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> Decision {
        let (subscriber, peer, port) = match dir {
            Direction::Outbound => (src, dst, dport),
            Direction::Inbound => {
                if !self.inbound_enabled() {
                    return Decision::Forward(Reason::InboundDisabled);
                }
                (dst, src, sport)
            }
        };
        if !self.blocked_ports().contains(port) {
            return Decision::Forward(Reason::PortNotBlocked);
        }
        let Some(pool) = self.lookup_src(subscriber) else {
            return Decision::Forward(Reason::NoPool);
        };
        self.rule_4_5(pool, self.is_relay(peer), self.in_scope(peer))
    }

    /// Rules 3 (exempt) to 5 for a known pool and the facts about the other end.
    pub(crate) fn rule_4_5(&self, pool: PoolId, relay: bool, in_scope: bool) -> Decision {
        let info = self.pool(pool);
        if info.mode == Mode::Exempt {
            Decision::Forward(Reason::ExemptPool { pool })
        } else if relay {
            Decision::Forward(Reason::Relay)
        } else if !in_scope {
            Decision::Forward(Reason::OutOfScope)
        } else if info.mode == Mode::Monitor {
            Decision::Monitor { pool }
        } else {
            Decision::Block {
                pool,
                action: info.action,
            }
        }
    }

    /// [`decide`](Self::decide) plus every fact behind the verdict.
    pub fn explain(
        &self,
        dir: Direction,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> Explanation {
        let (subscriber, peer, port) = match dir {
            Direction::Outbound => (src, dst, dport),
            Direction::Inbound => (dst, src, sport),
        };
        let pool = self.lookup_src(subscriber).map(|id| {
            let info = self.pool(id);
            PoolMatch {
                id,
                name: info.name.clone(),
                mode: info.mode,
                action: info.action,
                prefix: longest_containing(self.pool_prefixes(id), subscriber),
            }
        });
        let relay = self.relays.matching(peer).map(|(e, p)| NamedMatch {
            name: e.name.clone(),
            prefix: p,
        });
        let scope = match &self.scope {
            None => ScopeMatch::NotConfigured,
            Some(s) => match s.matching(peer) {
                Some((e, p)) => ScopeMatch::Inside(NamedMatch {
                    name: e.name.clone(),
                    prefix: p,
                }),
                None => ScopeMatch::Outside,
            },
        };
        Explanation {
            direction: dir,
            decision: self.decide(dir, src, sport, dst, dport),
            src,
            sport,
            dst,
            dport,
            subscriber,
            peer,
            port,
            port_blocked: self.blocked_ports().contains(port),
            blocked_ports: self.blocked_ports().iter().collect(),
            inbound_enabled: self.inbound_enabled(),
            pool,
            relay,
            scope,
        }
    }
}

/// The pool a subscriber address fell in, and by which prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolMatch {
    pub id: PoolId,
    pub name: String,
    pub mode: Mode,
    pub action: Action,
    /// The longest prefix of the pool containing the address.
    pub prefix: Option<Prefix>,
}

/// A relay or scope entry hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedMatch {
    pub name: String,
    pub prefix: Prefix,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "entry")]
pub enum ScopeMatch {
    /// No `scope` section: blocking applies toward every destination.
    NotConfigured,
    Inside(NamedMatch),
    Outside,
}

/// A verdict with its reasons (see [`Tables::explain`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub direction: Direction,
    pub decision: Decision,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    /// The address on the access side (source outbound, destination inbound).
    pub subscriber: IpAddr,
    /// The other end.
    pub peer: IpAddr,
    /// The port the policy looks at (destination port outbound, source port inbound).
    pub port: u16,
    pub port_blocked: bool,
    pub blocked_ports: Vec<u16>,
    pub inbound_enabled: bool,
    pub pool: Option<PoolMatch>,
    pub relay: Option<NamedMatch>,
    pub scope: ScopeMatch,
}

impl Explanation {
    /// One line for the verdict: `BLOCK (rst: connection refused (TCP reset))`.
    pub fn verdict_line(&self) -> String {
        match self.decision {
            Decision::Forward(_) => "FORWARD".to_string(),
            Decision::Monitor { .. } => "MONITOR (forwarded, counted and sampled)".to_string(),
            Decision::Block { action, .. } => {
                format!("BLOCK ({action}: {})", action.client_effect())
            }
        }
    }
}

impl fmt::Display for Explanation {
    /// The support-desk view: the verdict, then each rule in order up to the deciding one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            Direction::Outbound => "outbound (from the access side)",
            Direction::Inbound => "inbound (from the core side)",
        };
        writeln!(f, "verdict: {}", self.verdict_line())?;
        writeln!(
            f,
            "packet:  TCP {} port {} -> {} port {}, {dir}",
            self.src, self.sport, self.dst, self.dport
        )?;
        if self.direction == Direction::Inbound {
            if !self.inbound_enabled {
                return writeln!(
                    f,
                    "inbound rule: disabled (`inbound.enabled` is false): forwarded"
                );
            }
            writeln!(
                f,
                "inbound rule: enabled; the subscriber is the destination"
            )?;
        }
        let which = match self.direction {
            Direction::Outbound => "destination",
            Direction::Inbound => "source",
        };
        let ports: Vec<String> = self.blocked_ports.iter().map(u16::to_string).collect();
        let ports = ports.join(", ");
        if !self.port_blocked {
            return writeln!(
                f,
                "rule 2:  {which} port {} is not in blocked_ports [{ports}]: forwarded",
                self.port
            );
        }
        writeln!(
            f,
            "rule 2:  {which} port {} is in blocked_ports [{ports}]",
            self.port
        )?;
        let Some(pool) = &self.pool else {
            return writeln!(
                f,
                "rule 3:  subscriber {} is in no pool: forwarded",
                self.subscriber
            );
        };
        let by = pool
            .prefix
            .map(|p| format!(" by prefix {p}"))
            .unwrap_or_default();
        writeln!(
            f,
            "rule 3:  subscriber {} is in pool `{}`{by} (mode {}, action {})",
            self.subscriber, pool.name, pool.mode, pool.action
        )?;
        if pool.mode == Mode::Exempt {
            return writeln!(f, "rule 3:  pool `{}` is exempt: forwarded", pool.name);
        }
        if let Some(r) = &self.relay {
            return writeln!(
                f,
                "rule 4:  {} is relay `{}` (prefix {}): forwarded",
                self.peer, r.name, r.prefix
            );
        }
        writeln!(f, "rule 4:  {} is not an allowed relay", self.peer)?;
        match &self.scope {
            ScopeMatch::NotConfigured => writeln!(
                f,
                "rule 4:  no scope configured: blocking applies toward every destination"
            )?,
            ScopeMatch::Outside => {
                return writeln!(f, "rule 4:  {} is outside the scope: forwarded", self.peer)
            }
            ScopeMatch::Inside(s) => writeln!(
                f,
                "rule 4:  {} is in scope `{}` (prefix {})",
                self.peer, s.name, s.prefix
            )?,
        }
        match self.decision {
            Decision::Monitor { .. } => writeln!(
                f,
                "rule 5:  pool `{}` is in monitor mode: forwarded, counted and sampled",
                pool.name
            ),
            Decision::Block { action, .. } => writeln!(
                f,
                "rule 5:  pool `{}` is enforced: action {action} ({})",
                pool.name,
                action.client_effect()
            ),
            Decision::Forward(_) => writeln!(f, "rule 5:  forwarded"),
        }
    }
}
