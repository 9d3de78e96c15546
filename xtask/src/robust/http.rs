//! Raw HTTP/1.1 on a TCP stream, for what an HTTP client library hides: interim
//! answers (`100 Continue`), half-sent requests, and connections kept idle on purpose.

use anyhow::{Context, Result, bail};
use std::io::Read;

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one answer: its head byte by byte (so nothing after it is consumed), then a body
/// of `Content-Length` bytes, or up to the end of the stream without one. An interim
/// answer (1xx) has no body.
pub fn read_response(conn: &mut impl Read) -> Result<RawResponse> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = conn.read(&mut byte).context("reading the answer's head")?;
        if n == 0 {
            bail!(
                "the connection closed after {} bytes of the answer's head",
                head.len()
            );
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            bail!("an answer head over 64 KiB");
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = RawResponse {
        status,
        headers,
        body: Vec::new(),
    };
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(response);
    }
    match response.header("content-length") {
        Some(len) => {
            let len: usize = len.parse().context("Content-Length")?;
            let mut body = vec![0u8; len];
            conn.read_exact(&mut body).context("reading the body")?;
            response.body = body;
        }
        None => {
            conn.read_to_end(&mut response.body)
                .context("reading the body to the end")?;
        }
    }
    Ok(response)
}
