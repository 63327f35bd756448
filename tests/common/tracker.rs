//! A loopback HTTP server that answers like a REST API (ticket trackers, Azure Resource Manager,
//! Google Cloud): canned JSON bodies in the services' real shapes, with the headers that matter
//! (`Date` as the tracker's clock, `Link` for pagination, rate-limit headers, `Retry-After`), and
//! a log of the requests it received.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Answered after this long (a slow service).
    pub delay: std::time::Duration,
}

impl Reply {
    pub fn json(body: serde_json::Value) -> Self {
        Reply {
            status: 200,
            headers: vec![],
            body: body.to_string(),
            delay: std::time::Duration::ZERO,
        }
    }
    pub fn status(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![],
            body: body.to_string(),
            delay: std::time::Duration::ZERO,
        }
    }
    pub fn after(mut self, delay: std::time::Duration) -> Self {
        self.delay = delay;
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Server {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

/// `routes`: request path (without query, `PATH#NEEDLE`, or `PREFIX*`: see below) → replies, served in
/// order (the last one repeats).
/// Every reply carries `Date: {date}` unless it sets its own. `{base}` in header values and
/// bodies becomes the server's own URL (for `Link` pagination).
pub fn serve(date: &str, routes: Vec<(&str, Vec<Reply>)>) -> Server {
    let routes: Vec<(String, Mutex<VecDeque<Reply>>)> = routes
        .into_iter()
        .map(|(p, r)| (p.to_string(), Mutex::new(r.into())))
        .collect();
    serve_fn(date, move |sent| {
        let path = sent.target.split('?').next().unwrap_or("");
        // `PATH#NEEDLE`: the query or the form body also holds NEEDLE (`/#Action=X`, for
        // the AWS query protocol, where every operation posts to `/`).
        let matches = |p: &str| match p.split_once('#') {
            Some((p, needle)) => {
                p == path
                    && (sent.target.contains(needle) || sent.body.split('&').any(|kv| kv == needle))
            }
            // `PREFIX*`: any path under PREFIX (objects whose names are random).
            None => match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => p == path,
            },
        };
        routes
            .iter()
            .find(|(p, _)| matches(p))
            .map(|(_, replies)| {
                let mut q = replies.lock().unwrap();
                if q.len() > 1 {
                    q.pop_front().unwrap()
                } else {
                    q.front().cloned().unwrap()
                }
            })
            .unwrap_or_else(|| Reply::status(404, "{\"message\":\"Not Found\"}"))
    })
}

/// A server whose every answer `handler` makes from the request (services that answer by what
/// the body asks, such as AWS Config's JSON protocol). Logs and headers as [`serve`].
pub fn serve_fn(date: &str, handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let date = date.to_string();
    let base = url.clone();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let (log, handler, date, base) =
                (log.clone(), handler.clone(), date.clone(), base.clone());
            // One thread per connection: a slow reply (`Reply::after`) holds up only its own.
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let method = line.split_whitespace().next().unwrap_or("GET").to_string();
                let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        headers.push((k.trim().to_string(), v.trim().to_string()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
                let body = String::from_utf8_lossy(&body).into_owned();
                let sent = Request {
                    method,
                    target,
                    headers,
                    body,
                };
                log.lock().unwrap().push(sent.clone());
                let reply = handler(&sent);
                std::thread::sleep(reply.delay);
                let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
                // JSON unless the reply says otherwise (the EC2 query protocol answers XML).
                if !reply
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    head.push_str("Content-Type: application/json\r\n");
                }
                if !reply
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("date"))
                {
                    head.push_str(&format!("Date: {date}\r\n"));
                }
                for (k, v) in &reply.headers {
                    head.push_str(&format!("{k}: {}\r\n", v.replace("{base}", &base)));
                }
                let body = reply.body.replace("{base}", &base);
                head.push_str(&format!(
                    "Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                ));
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            });
        }
    });
    Server { url, requests }
}

impl Server {
    pub fn hits(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}
