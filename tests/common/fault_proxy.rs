//! A fault-injecting loopback proxy in front of moto. It forwards every request unchanged and
//! spoils the answers of one AWS operation, named as the report's `summary.api_calls` names it
//! (`ec2` `DescribeSecurityGroups`, `s3` `GetBucketEncryption`, `kms` `GetKeyRotationStatus`):
//!
//! - `Cut`: the body ends just before its last element (XML) or halfway (JSON), with framing that
//!   matches (`Content-Length`), as a connection dropped at the wrong moment would look;
//! - `Empty`: a 200 whose document holds only its root element (XML) or `{}` (JSON): well formed,
//!   without the fields the operation always returns;
//! - `Reset`: the connection reset before any answer;
//! - `Throttle(n)`: the service's own throttling error for the first `n` requests, then the real
//!   answer (a transient fault: the verdict must be the one without faults);
//! - `StallOnce`: the first request answered after `stall`, later ones at once (a timeout that a
//!   retry recovers from).
//!
//! The operation of a request is read the way each AWS protocol names it: `Action=` in a query
//! protocol body (EC2, IAM, RDS, STS), `X-Amz-Target` (KMS), the subresource of a REST path (S3,
//! S3 Control). `hits` counts the requests of the operation the proxy saw, so a test can tell an
//! operation it failed to recognise from one that shrugged the fault off.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Fault {
    Cut,
    Empty,
    Reset,
    Throttle(usize),
    StallOnce(Duration),
}

pub struct Proxy {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
}

/// Starts the proxy with `fault` on `service` `operation`.
pub fn fault_proxy(upstream: &str, service: &str, operation: &str, fault: Fault) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    let hits = Arc::new(AtomicUsize::new(0));
    let target = (service.to_string(), operation.to_string());
    let counter = hits.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten().take(2000) {
            let (upstream, target, hits) = (upstream.clone(), target.clone(), counter.clone());
            std::thread::spawn(move || {
                let _ = relay(client, &upstream, &target, fault, &hits);
            });
        }
    });
    Proxy { url, hits }
}

/// The proxy of the first tests: `Cut` on an EC2 operation.
pub fn cutting_proxy(upstream: &str, operation: &str) -> String {
    fault_proxy(upstream, "ec2", operation, Fault::Cut).url
}

/// Reads one HTTP/1.1 message (head, then a body of `Content-Length`; none for the answer to a
/// `HEAD`).
fn read_message(
    reader: &mut impl BufRead,
    bodiless: bool,
) -> std::io::Result<(Vec<String>, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let length = match bodiless {
        true => 0,
        false => header(&head, "content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0),
    };
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((head, body))
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn write_message(
    out: &mut impl Write,
    head: &[String],
    body: &[u8],
    bodiless: bool,
) -> std::io::Result<()> {
    for line in head {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") || (!bodiless && lower.starts_with("content-length:")) {
            continue;
        }
        write!(out, "{line}\r\n")?;
    }
    if bodiless {
        write!(out, "Connection: close\r\n\r\n")?;
        return out.flush();
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    out.flush()
}

/// (service, operation) of a request, as `summary.api_calls` names them.
fn operation(head: &[String], body: &[u8]) -> Option<(String, String)> {
    let request_line = head.first()?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // The signing scope names the service: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
    let signed = header(head, "authorization")?
        .split("Credential=")
        .nth(1)?
        .split('/')
        .nth(3)?
        .to_string();
    // Signing names that differ from the SDK's service names.
    let signed = match signed.as_str() {
        "elasticloadbalancing" => "elbv2".to_string(),
        _ => signed,
    };
    if let Some(t) = header(head, "x-amz-target") {
        return Some((signed, t.rsplit('.').next()?.to_string()));
    }
    let form = String::from_utf8_lossy(body);
    if let Some(action) = form.split('&').find_map(|p| p.strip_prefix("Action=")) {
        return Some((signed, action.to_string()));
    }
    // Lambda's REST paths: `/2015-03-31/functions/` lists, `.../functions/NAME/configuration`
    // reads one.
    if signed == "lambda" {
        let rest = path.strip_prefix("/2015-03-31/functions")?;
        return match rest.trim_end_matches('/') {
            "" => Some((signed, "ListFunctions".into())),
            r if r.ends_with("/configuration") => Some((signed, "GetFunctionConfiguration".into())),
            _ => None,
        };
    }
    if signed != "s3" {
        return None;
    }
    if path.starts_with("/v20180820/configuration/publicAccessBlock") {
        return Some((
            "s3control".into(),
            format!("{}PublicAccessBlock", verb(method)),
        ));
    }
    let keys: Vec<&str> = query
        .split('&')
        .map(|p| p.split('=').next().unwrap_or(""))
        .collect();
    if let Some(id) = query.split('&').find_map(|p| p.strip_prefix("x-id=")) {
        return Some(("s3".into(), id.to_string()));
    }
    let sub = [
        ("publicAccessBlock", "PublicAccessBlock"),
        ("encryption", "BucketEncryption"),
        ("policyStatus", "BucketPolicyStatus"),
        ("policy", "BucketPolicy"),
        ("acl", "BucketAcl"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("versioning", "BucketVersioning"),
        ("logging", "BucketLogging"),
        ("location", "BucketLocation"),
    ];
    for (key, name) in sub {
        if keys.contains(&key) {
            return Some(("s3".into(), format!("{}{name}", verb(method))));
        }
    }
    match method {
        "HEAD" => Some(("s3".into(), "HeadBucket".into())),
        "GET" if keys.contains(&"list-type") => Some(("s3".into(), "ListObjectsV2".into())),
        _ => None,
    }
}

fn verb(method: &str) -> &'static str {
    match method {
        "PUT" => "Put",
        "DELETE" => "Delete",
        _ => "Get",
    }
}

/// The throttling error each protocol answers with.
fn throttled(service: &str) -> (String, Vec<u8>, &'static str) {
    match service {
        "ec2" => (
            "HTTP/1.1 503 Service Unavailable".into(),
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault</RequestID></Response>".to_vec(),
            "text/xml",
        ),
        "kms" => (
            "HTTP/1.1 400 Bad Request".into(),
            b"{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}".to_vec(),
            "application/x-amz-json-1.1",
        ),
        // restJson1 (Lambda): status 429, the error type in `X-Amzn-ErrorType` (added by the
        // caller), as the Lambda API Reference documents TooManyRequestsException.
        "lambda" => (
            "HTTP/1.1 429 Too Many Requests".into(),
            b"{\"Type\":\"User\",\"message\":\"Rate Exceeded.\",\"Reason\":\"CallerRateLimitExceeded\"}".to_vec(),
            "application/json",
        ),
        "s3" | "s3control" => (
            "HTTP/1.1 503 Slow Down".into(),
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>".to_vec(),
            "application/xml",
        ),
        _ => (
            "HTTP/1.1 400 Bad Request".into(),
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>".to_vec(),
            "text/xml",
        ),
    }
}

/// The answer cut just before its last element (XML) or halfway (JSON).
fn cut(body: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(body).into_owned();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        body.truncate(body.len() / 2);
        return;
    }
    // The last opening tag: `<` followed by a name, not `</`, `<?` or `<!`.
    let last_open = text.match_indices('<').map(|(i, _)| i).rfind(|&i| {
        text[i + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    });
    match last_open {
        Some(i) if i > 0 => body.truncate(i),
        _ => body.truncate(body.len() / 2),
    }
}

/// The same document with nothing but its root element (XML), or `{}` (JSON).
fn empty(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.is_empty() {
        return b"{}".to_vec();
    }
    let mut rest = trimmed;
    let mut prolog = String::new();
    while let Some(after) = rest.strip_prefix("<?") {
        let (decl, tail) = after.split_once("?>").unwrap_or((after, ""));
        prolog = format!("<?{decl}?>\n");
        rest = tail.trim_start();
    }
    let open_end = rest.find('>').unwrap_or(rest.len());
    let open = rest[..open_end].trim_end_matches('/');
    let name = open
        .trim_start_matches('<')
        .split_whitespace()
        .next()
        .unwrap_or("Response");
    format!("{prolog}{open}></{name}>").into_bytes()
}

fn relay(
    client: TcpStream,
    upstream: &str,
    target: &(String, String),
    fault: Fault,
    hits: &AtomicUsize,
) -> std::io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let (head, body) = read_message(&mut from_client, false)?;
    let head_request = head.first().is_some_and(|l| l.starts_with("HEAD "));
    let targeted = operation(&head, &body).as_ref() == Some(target);
    let nth = if targeted {
        hits.fetch_add(1, Ordering::SeqCst)
    } else {
        0
    };
    if targeted {
        match fault {
            // Closing with unread data makes the kernel send a reset.
            Fault::Reset => return client.shutdown(std::net::Shutdown::Both),
            Fault::Throttle(n) if nth < n => {
                let (status, body, content_type) = throttled(&target.0);
                let mut head = vec![status, format!("Content-Type: {content_type}")];
                if target.0 == "lambda" {
                    head.push("X-Amzn-ErrorType: TooManyRequestsException".into());
                }
                return write_message(&mut &client, &head, &body, false);
            }
            Fault::StallOnce(stall) if nth == 0 => std::thread::sleep(stall),
            _ => {}
        }
    }
    let server = TcpStream::connect(upstream)?;
    write_message(&mut server.try_clone()?, &head, &body, false)?;
    let (answer_head, mut answer) = read_message(&mut BufReader::new(server), head_request)?;
    let success = answer_head
        .first()
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("200"));
    if targeted && success {
        match fault {
            Fault::Cut => cut(&mut answer),
            Fault::Empty => answer = empty(&answer),
            _ => {}
        }
    }
    write_message(&mut &client, &answer_head, &answer, head_request)
}
