//! The HTTP API (`--api ADDR`), served from threads of the control core's
//! process; they reach the dataplane only through a [`Handle`].
//!
//! | method and path        | answer |
//! |------------------------|--------|
//! | `PUT /v1/config`       | YAML body: 200 `{generation, hash, ...}`; 422 `{errors: [{file,line,column,path,message}]}` and nothing changed; 413 over `--api-max-body` (before the body is read) |
//! | `GET /v1/config`       | `{generation, hash, loaded_at, summary, yaml}`; `?format=yaml`: the YAML itself |
//! | `GET /v1/stats`        | JSON counters, per pool, per worker, health |
//! | `GET /metrics`         | Prometheus text format |
//! | `GET /v1/blocked`      | `?limit=N` (default 100): recent blocked-flow samples, newest first |
//! | `GET /v1/top`          | `?n=N` (default 10): subscribers with the most blocked attempts in the window |
//! | `GET /healthz`         | 200 when every worker reported quiescence within the watchdog bound, else 503 |
//!
//! With a token (`--api-token-file`), every request needs
//! `Authorization: Bearer TOKEN`; others get 401 and change nothing.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::json;
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::controller::{Handle, PushError};
use crate::metrics;

/// Default `--api-max-body`: 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;
/// Default and largest `limit` of `GET /v1/blocked`.
pub const DEFAULT_BLOCKED_LIMIT: usize = 100;
/// Default and largest `n` of `GET /v1/top`.
pub const DEFAULT_TOP_N: usize = 10;
pub const MAX_TOP_N: usize = 10_000;
/// Threads answering requests (a slow client holds one).
pub const THREADS: usize = 4;

/// How the API is served.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    pub addr: SocketAddr,
    /// Bearer token every request must carry, if set.
    pub token: Option<String>,
    /// Largest accepted `PUT /v1/config` body in bytes.
    pub max_body: usize,
}

/// The running server; stops (and joins its threads) when dropped.
pub struct Api {
    server: Arc<Server>,
    threads: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

impl Api {
    /// Binds `opts.addr` and starts serving.
    pub fn start(opts: ApiOptions, handle: Handle) -> Result<Api, String> {
        let server = Server::http(opts.addr)
            .map_err(|e| format!("cannot listen on {} for the API: {e}", opts.addr))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("the API listener on {} has no IP address", opts.addr))?;
        let server = Arc::new(server);
        let opts = Arc::new(opts);
        let mut threads = Vec::new();
        for i in 0..THREADS {
            let (server, opts, handle) = (server.clone(), opts.clone(), handle.clone());
            let t = std::thread::Builder::new()
                .name(format!("op25b-api-{i}"))
                .spawn(move || {
                    while let Ok(req) = server.recv() {
                        serve(req, &opts, &handle);
                    }
                })
                .map_err(|e| format!("cannot start an API thread: {e}"))?;
            threads.push(t);
        }
        Ok(Api {
            server,
            threads,
            addr,
        })
    }

    /// The bound address (the port is chosen by the system for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        for _ in &self.threads {
            self.server.unblock();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    // Names and values here are ASCII constants or validated ASCII.
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|_| Header::from_bytes(&b"X-Invalid"[..], &b"1"[..]).expect("ASCII"))
}

type Reply = Response<std::io::Cursor<Vec<u8>>>;

fn json_reply(code: u16, body: &serde_json::Value) -> Reply {
    let mut text = serde_json::to_string_pretty(body).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    Response::from_data(text.into_bytes())
        .with_status_code(StatusCode(code))
        .with_header(header("Content-Type", "application/json"))
}

fn error_reply(code: u16, message: &str) -> Reply {
    json_reply(code, &json!({ "error": message }))
}

fn to_json<T: serde::Serialize>(code: u16, v: &T) -> Reply {
    match serde_json::to_value(v) {
        Ok(v) => json_reply(code, &v),
        Err(e) => error_reply(500, &format!("cannot serialize the answer: {e}")),
    }
}

/// Compares in time independent of where the first difference is.
fn same_token(given: &[u8], want: &[u8]) -> bool {
    let mut diff = given.len() ^ want.len();
    for (i, w) in want.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ w);
    }
    diff == 0
}

fn header_value<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn authorized(req: &Request, token: &str) -> bool {
    match header_value(req, "Authorization") {
        Some(v) => {
            let v = v.trim();
            match v.split_once(' ') {
                Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => {
                    same_token(t.trim().as_bytes(), token.as_bytes())
                }
                _ => false,
            }
        }
        None => false,
    }
}

/// Query parameters of `url` (`a=1&b=2`); only the names in `known` are allowed.
fn query<'a>(url: &'a str, known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, String> {
    let Some((_, q)) = url.split_once('?') else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        if !known.contains(&k) {
            return Err(if known.is_empty() {
                format!("unknown query parameter `{k}`: this endpoint takes none")
            } else {
                format!(
                    "unknown query parameter `{k}`: this endpoint takes {}",
                    known.join(", ")
                )
            });
        }
        out.push((k, v));
    }
    Ok(out)
}

fn number_param(
    params: &[(&str, &str)],
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, String> {
    match params.iter().rev().find(|(k, _)| *k == name) {
        None => Ok(default),
        Some((_, v)) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "`{name}` must be a whole number from 1 to {max}, not `{v}`"
            )),
        },
    }
}

/// The name pushed configs carry in error messages: `X-Op25b-Config-Name`
/// (what `op25bctl push FILE` sends), else `push`.
fn config_name(req: &Request) -> String {
    header_value(req, "X-Op25b-Config-Name")
        .map(str::trim)
        .filter(|n| {
            !n.is_empty() && n.len() <= 256 && n.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        })
        .unwrap_or("push")
        .to_string()
}

fn serve(mut req: Request, opts: &ApiOptions, handle: &Handle) {
    let reply = route(&mut req, opts, handle);
    if let Err(e) = req.respond(reply) {
        tracing::debug!("API: cannot send the answer: {e}");
    }
}

fn route(req: &mut Request, opts: &ApiOptions, handle: &Handle) -> Reply {
    let url = req.url().to_string();
    let path = url.split_once('?').map_or(url.as_str(), |(p, _)| p);
    let method = req.method().clone();
    let allowed: &[Method] = match path {
        "/v1/config" => &[Method::Get, Method::Put],
        "/v1/stats" | "/metrics" | "/v1/blocked" | "/v1/top" | "/healthz" => &[Method::Get],
        _ => return error_reply(404, &format!("no such endpoint: {path}")),
    };
    if let Some(token) = &opts.token {
        if !authorized(req, token) {
            tracing::warn!(
                remote = ?req.remote_addr(),
                method = %method,
                path,
                "API request without a valid bearer token refused"
            );
            return error_reply(
                401,
                "a valid `Authorization: Bearer TOKEN` header is required",
            )
            .with_header(header("WWW-Authenticate", "Bearer realm=\"op25b\""));
        }
    }
    if !allowed.contains(&method) {
        let allow = allowed
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return error_reply(
            405,
            &format!("{method} is not allowed on {path}; use {allow}"),
        )
        .with_header(header("Allow", &allow));
    }
    let unavailable = |why: String| error_reply(503, &why);
    match (path, method) {
        ("/healthz", _) => {
            if let Err(e) = query(&url, &[]) {
                return error_reply(400, &e);
            }
            let h = handle.shared().health();
            to_json(if h.ok { 200 } else { 503 }, &h)
        }
        ("/v1/stats", _) => match query(&url, &[]) {
            Err(e) => error_reply(400, &e),
            Ok(_) => match handle.snapshot() {
                Ok(s) => to_json(200, &s),
                Err(e) => unavailable(e),
            },
        },
        ("/metrics", _) => match handle.snapshot() {
            Ok(s) => Response::from_data(metrics::render(&s).into_bytes())
                .with_header(header("Content-Type", metrics::CONTENT_TYPE)),
            Err(e) => unavailable(e),
        },
        ("/v1/blocked", _) => {
            let shared = handle.shared();
            let recent = shared.recent.lock().unwrap_or_else(|e| e.into_inner());
            let limit = query(&url, &["limit"])
                .and_then(|p| number_param(&p, "limit", DEFAULT_BLOCKED_LIMIT, recent.capacity()));
            match limit {
                Err(e) => error_reply(400, &e),
                Ok(n) => to_json(200, &recent.latest(n)),
            }
        }
        ("/v1/top", _) => {
            let n =
                query(&url, &["n"]).and_then(|p| number_param(&p, "n", DEFAULT_TOP_N, MAX_TOP_N));
            match n {
                Err(e) => error_reply(400, &e),
                Ok(n) => {
                    let shared = handle.shared();
                    let now = shared.now_ms();
                    let mut top = shared.top.lock().unwrap_or_else(|e| e.into_inner());
                    let window_s = top.window().as_secs();
                    to_json(
                        200,
                        &json!({ "window_s": window_s, "top": top.top(now, n) }),
                    )
                }
            }
        }
        ("/v1/config", Method::Get) => {
            let yaml = match query(&url, &["format"]) {
                Err(e) => return error_reply(400, &e),
                Ok(p) => match p.iter().rev().find(|(k, _)| *k == "format") {
                    None | Some((_, "json")) => false,
                    Some((_, "yaml")) => true,
                    Some((_, other)) => {
                        return error_reply(
                            400,
                            &format!("`format` is json or yaml, not `{other}`"),
                        )
                    }
                },
            };
            match handle.config() {
                Err(e) => unavailable(e),
                Ok(c) if yaml => Response::from_data(c.yaml.into_bytes())
                    .with_header(header("Content-Type", "application/yaml"))
                    .with_header(header("X-Op25b-Generation", &c.generation.to_string()))
                    .with_header(header("X-Op25b-Hash", &c.hash)),
                Ok(c) => to_json(200, &c),
            }
        }
        ("/v1/config", Method::Put) => put_config(req, opts, handle),
        _ => error_reply(404, &format!("no such endpoint: {path}")),
    }
}

fn too_large(max: usize) -> Reply {
    error_reply(
        413,
        &format!("the config is larger than the limit of {max} bytes (--api-max-body)"),
    )
    .with_header(header("Connection", "close"))
}

fn put_config(req: &mut Request, opts: &ApiOptions, handle: &Handle) -> Reply {
    if let Err(e) = query(req.url(), &[]) {
        return error_reply(400, &e);
    }
    // Refused before a byte of the body is read (and before `100 Continue`).
    if req.body_length().is_some_and(|n| n > opts.max_body) {
        tracing::warn!(
            remote = ?req.remote_addr(),
            length = req.body_length(),
            max = opts.max_body,
            "config push refused: over the size limit"
        );
        return too_large(opts.max_body);
    }
    let name = config_name(req);
    let mut body = Vec::new();
    let limit = opts.max_body as u64 + 1;
    if let Err(e) = req.as_reader().take(limit).read_to_end(&mut body) {
        return error_reply(400, &format!("cannot read the request body: {e}"));
    }
    if body.len() > opts.max_body {
        tracing::warn!(remote = ?req.remote_addr(), max = opts.max_body, "config push refused: over the size limit");
        return too_large(opts.max_body);
    }
    match handle.push(&name, &body) {
        Ok(ok) => to_json(200, &ok),
        Err(PushError::Rejected(errors)) => json_reply(422, &json!({ "errors": errors })),
        Err(PushError::Unavailable(why)) => error_reply(503, &why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token(b"s3cret", b"s3cret"));
        assert!(!same_token(b"s3cre", b"s3cret"));
        assert!(!same_token(b"s3cretX", b"s3cret"));
        assert!(!same_token(b"S3cret", b"s3cret"));
        assert!(!same_token(b"", b"s3cret"));
    }

    #[test]
    fn query_parameters_are_checked() {
        assert_eq!(query("/v1/top", &["n"]).unwrap(), []);
        assert_eq!(query("/v1/top?n=5", &["n"]).unwrap(), [("n", "5")]);
        assert!(query("/v1/top?x=5", &["n"]).unwrap_err().contains("`x`"));
        let p = query("/v1/top?n=0", &["n"]).unwrap();
        assert!(number_param(&p, "n", 10, 100).is_err());
        let p = query("/v1/top?n=abc", &["n"]).unwrap();
        assert!(number_param(&p, "n", 10, 100).unwrap_err().contains("abc"));
        let p = query("/v1/top?n=101", &["n"]).unwrap();
        assert!(number_param(&p, "n", 10, 100).is_err());
        assert_eq!(number_param(&[], "n", 10, 100), Ok(10));
    }
}
