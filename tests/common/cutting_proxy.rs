//! A fault-injecting loopback proxy in front of moto: it forwards every request unchanged and
//! spoils the answer of one operation: cut short with valid framing (the body ends just before its
//! last `<item>`, `Content-Length` matching), as a connection dropped at the wrong moment would
//! look, or the connection reset before any answer.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, PartialEq)]
pub enum Fault {
    Cut,
    Reset,
}

/// Starts the proxy; returns its URL. `operation` is the query-protocol `Action` to cut.
pub fn cutting_proxy(upstream: &str, operation: &'static str) -> String {
    faulty_proxy(upstream, operation, Fault::Cut)
}

/// Starts the proxy with `fault` on `operation`; returns its URL.
pub fn faulty_proxy(upstream: &str, operation: &'static str, fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten().take(200) {
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let _ = relay(client, &upstream, operation, fault);
            });
        }
    });
    url
}

/// Reads one HTTP/1.1 message (head, then a body of `Content-Length`).
fn read_message(reader: &mut impl BufRead) -> std::io::Result<(Vec<String>, Vec<u8>)> {
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
    let length = head
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((head, body))
}

fn write_message(out: &mut impl Write, head: &[String], body: &[u8]) -> std::io::Result<()> {
    for line in head {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length:") || lower.starts_with("connection:") {
            continue;
        }
        write!(out, "{line}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    out.flush()
}

fn relay(client: TcpStream, upstream: &str, operation: &str, fault: Fault) -> std::io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let (head, body) = read_message(&mut from_client)?;
    let targeted = String::from_utf8_lossy(&body).contains(&format!("Action={operation}"));
    if targeted && fault == Fault::Reset {
        // Closing with unread data makes the kernel send a reset.
        return client.shutdown(std::net::Shutdown::Both);
    }
    let cut = targeted && fault == Fault::Cut;
    let server = TcpStream::connect(upstream)?;
    write_message(&mut server.try_clone()?, &head, &body)?;
    let (answer_head, mut answer) = read_message(&mut BufReader::new(server))?;
    if cut {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some(i) = text.rfind("<item>") {
            answer.truncate(i);
        }
    }
    write_message(&mut &client, &answer_head, &answer)
}
