//! A minimal HTTP/1.1 client for op25bd's API: one request per connection,
//! `Expect: 100-continue` for bodies (so an oversized config is refused before
//! it is sent), timeouts on connect, read and write.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An answer from the daemon.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("the daemon's answer is not JSON ({e}): {}", self.text()))
    }
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

/// Where and how to reach the daemon.
#[derive(Debug, Clone)]
pub struct Client {
    pub api: String,
    pub token: Option<String>,
    pub timeout: Duration,
}

fn resolve(api: &str) -> Result<Vec<SocketAddr>, Unreachable> {
    let addrs: Vec<SocketAddr> = api
        .to_socket_addrs()
        .map_err(|e| Unreachable(format!("cannot resolve the API address `{api}`: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Unreachable(format!("`{api}` resolves to no address")));
    }
    Ok(addrs)
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed before an answer",
        ));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP status line: {:?}", line.trim_end()),
            )
        })?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok((status, headers))
}

fn read_chunked(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        line.clear();
        r.read_line(&mut line)?;
    }
}

impl Client {
    /// Sends one request and reads the answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Answer, Unreachable> {
        let addrs = resolve(&self.api)?;
        let mut last = None;
        let mut stream = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, self.timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(stream) = stream else {
            let why = last.map_or_else(String::new, |e| e.to_string());
            return Err(Unreachable(format!(
                "cannot connect to op25bd at {}: {why} (is op25bd running with --api {}?)",
                self.api, self.api
            )));
        };
        let fail =
            |e: std::io::Error| Unreachable(format!("talking to op25bd at {}: {e}", self.api));
        stream.set_read_timeout(Some(self.timeout)).map_err(fail)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(fail)?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: op25bctl/{}\r\nAccept: application/json\r\n",
            self.api,
            env!("CARGO_PKG_VERSION")
        );
        if let Some(t) = &self.token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Length: {}\r\nExpect: 100-continue\r\n",
                b.len()
            ));
        }
        head.push_str("\r\n");
        let mut w = stream.try_clone().map_err(fail)?;
        w.write_all(head.as_bytes()).map_err(fail)?;
        let mut r = BufReader::new(stream);
        let (mut status, mut headers) = read_head(&mut r).map_err(fail)?;
        if status == 100 {
            if let Some(b) = body {
                w.write_all(b).map_err(fail)?;
            }
            (status, headers) = read_head(&mut r).map_err(fail)?;
        }
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        let body = if chunked {
            read_chunked(&mut r).map_err(fail)?
        } else {
            let len = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<u64>().ok());
            let mut b = Vec::new();
            match len {
                Some(n) => r.take(n).read_to_end(&mut b).map_err(fail)?,
                None => r.read_to_end(&mut b).map_err(fail)?,
            };
            b
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}
