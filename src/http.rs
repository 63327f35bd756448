//! JSON over HTTPS for the ticket trackers and the Azure and Google Cloud REST APIs: one client,
//! bounded retries on rate limits and server errors (honouring `Retry-After` and
//! `X-RateLimit-Reset`), the server's clock from `Date`, `Link` pagination, and error messages
//! that name the service and call, never the token.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::error::{Error, Result};

const ATTEMPTS: u32 = 4;

/// Percent-encoding for one path segment or query value: everything but RFC 3986's unreserved
/// characters (so `/` in an object name is encoded too).
pub const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Longer waits than this (a rate limit resetting in ten minutes) fail instead: a CI step should
/// not hang.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub struct Client {
    pub inner: reqwest::Client,
}

pub struct Answer {
    pub body: Value,
    /// The body as received, for [`Client::bytes_or_missing`] (empty otherwise).
    pub raw: Vec<u8>,
    pub headers: HeaderMap,
    pub date: Option<Timestamp>,
}

impl Client {
    /// `who` names the services in set-up errors (`ticket trackers`, `Azure`).
    pub fn new(who: &str) -> Result<Self> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("driftgate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::new(who, format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client { inner })
    }

    /// Sends the request made by `make` (again on retry) and parses the JSON answer.
    /// `what` names the tracker and call in errors (`github:o/r GET /repos/o/r/issues`).
    pub async fn json(
        &self,
        what: &str,
        hint: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Answer> {
        let answer = self.send(what, hint, true, false, false, make).await?;
        // Trackers answer 404 for what the token may not see (a private project or repository).
        answer.ok_or_else(|| Error::new(what, format!("HTTP 404: not found ({hint})")))
    }

    /// A download (a state file): the body as bytes, `None` on 404.
    pub async fn bytes_or_missing(
        &self,
        what: &str,
        hint: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Option<Vec<u8>>> {
        let answer = self.send(what, hint, true, true, true, make).await?;
        Ok(answer.map(|a| a.raw))
    }

    /// Like [`Client::json`], but a 404 answer is `None`: reading a cloud object that was
    /// deleted. (Only 404: a 403 may hide an existing object, which must not look deleted.)
    pub async fn json_or_missing(
        &self,
        what: &str,
        hint: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Option<Answer>> {
        self.send(what, hint, true, true, false, make).await
    }

    /// A request that creates something: retried only when the server surely did not act on it
    /// (rate limits, refused connections), never after a server error or a timeout.
    pub async fn create(
        &self,
        what: &str,
        hint: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Answer> {
        let answer = self.send(what, hint, false, false, false, make).await?;
        answer.ok_or_else(|| Error::new(what, "HTTP 404: not found"))
    }

    /// Like [`Client::create`] for an answer that is not JSON (an upload): the raw body.
    pub async fn create_raw(
        &self,
        what: &str,
        hint: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Answer> {
        let answer = self.send(what, hint, false, false, true, make).await?;
        answer.ok_or_else(|| Error::new(what, "HTTP 404: not found"))
    }

    async fn send(
        &self,
        what: &str,
        hint: &str,
        idempotent: bool,
        missing_ok: bool,
        raw: bool,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Option<Answer>> {
        let mut attempt = 0;
        let mut delays = backoff();
        loop {
            attempt += 1;
            let sent = make().send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e)
                    if attempt < ATTEMPTS && (e.is_connect() || (idempotent && e.is_timeout())) =>
                {
                    tokio::time::sleep(delays.next().unwrap_or(MAX_DELAY)).await;
                    continue;
                }
                Err(e) => {
                    let why = if e.is_timeout() {
                        "timed out"
                    } else {
                        "cannot connect"
                    };
                    return Err(Error::new(
                        what,
                        format!("{why} after {attempt} attempt(s): {}", without_url(&e)),
                    ));
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let date = headers
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(http_date);
            if status.is_success() && raw {
                let bytes = resp.bytes().await.map_err(|e| {
                    Error::new(
                        what,
                        format!("reading the answer failed: {}", without_url(&e)),
                    )
                })?;
                return Ok(Some(Answer {
                    body: Value::Null,
                    raw: bytes.to_vec(),
                    headers,
                    date,
                }));
            }
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                let body = serde_json::from_str(&text).map_err(|e| {
                    Error::new(
                        what,
                        format!(
                            "the answer is not the JSON expected ({e}): {}",
                            excerpt(&text)
                        ),
                    )
                })?;
                return Ok(Some(Answer {
                    body,
                    raw: Vec::new(),
                    headers,
                    date,
                }));
            }
            if missing_ok && status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            // GitHub signals its primary limit with 403 + `X-RateLimit-Remaining: 0`, its
            // secondary limits with 403 + `Retry-After`.
            let remaining = headers
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok());
            let limited = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::FORBIDDEN
                    && (remaining == Some("0") || headers.contains_key("retry-after")));
            let retryable = limited || (idempotent && status.is_server_error());
            if retryable && attempt < ATTEMPTS {
                let next = delays.next().unwrap_or(MAX_DELAY);
                if let Some(wait) = wait_for(&headers, date, next) {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let kind = if limited {
                format!(
                    "rate limited (HTTP {}) after {attempt} attempt(s)",
                    status.as_u16()
                )
            } else {
                format!("HTTP {}", status.as_u16())
            };
            let auth_hint =
                if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) && !limited {
                    format!(" ({hint})")
                } else {
                    String::new()
                };
            return Err(Error::new(
                what,
                format!("{kind}: {}{auth_hint}", excerpt(&text)),
            ));
        }
    }
}

impl Client {
    /// Walks a paginated list (a JSON array per page, `Link: rel="next"` to the next one, as GitHub
    /// and GitLab do), calling `each` on every item until it answers `true`. Returns whether it
    /// did, and the server's clock from the last page.
    pub async fn each_in_pages(
        &self,
        what: &str,
        hint: &str,
        first: String,
        make: impl Fn(&str) -> RequestBuilder,
        mut each: impl FnMut(&Value) -> std::result::Result<bool, String>,
    ) -> Result<(bool, Option<Timestamp>)> {
        let origin = origin_of(&first);
        let mut seen = std::collections::HashSet::new();
        let mut next = Some(first);
        let mut date = None;
        while let Some(page) = next.take() {
            // A tracker that links a page to itself (or in a circle) would be read forever, and
            // one that links to another host would receive the token.
            if !seen.insert(page.clone()) {
                return Err(Error::new(
                    what,
                    "the `Link: rel=\"next\"` pages run in a circle (a page links back to one \
                     already read)",
                ));
            }
            if seen.len() > MAX_PAGES {
                return Err(Error::new(
                    what,
                    format!("more than {MAX_PAGES} pages: stopped (narrow the label or query)"),
                ));
            }
            if origin_of(&page) != origin {
                return Err(Error::new(
                    what,
                    "a `Link: rel=\"next\"` page is on another host than the tracker: not \
                     followed (the token is sent only to the host it was configured for)",
                ));
            }
            let answer = self.json(what, hint, || make(&page)).await?;
            date = answer.date.or(date);
            let items = answer
                .body
                .as_array()
                .ok_or_else(|| Error::new(what, "the answer is not a list"))?;
            for item in items {
                if each(item).map_err(|e| Error::new(what, e))? {
                    return Ok((true, date));
                }
            }
            next = next_link(&answer.headers);
        }
        Ok((false, date))
    }
}

/// The most pages one list may have (100 items a page: 100,000 tickets).
const MAX_PAGES: usize = 1000;

/// `scheme://host:port` of a URL, lower-case; `None` when it is not an absolute URL.
fn origin_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        parsed.scheme(),
        parsed.host_str()?.to_ascii_lowercase(),
        parsed.port_or_known_default()?
    ))
}

/// An HTTP date (`Date`, `Retry-After`: `Wed, 02 Dec 2026 10:00:12 GMT`).
fn http_date(v: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(v)
        .ok()
}

/// The longest delay of the schedule between attempts.
const MAX_DELAY: Duration = Duration::from_secs(8);

/// The delays between attempts when the server does not say: 0.5 s, 1 s, 2 s…, each with a
/// random jitter of up to its own length, so that concurrent reads do not retry in step.
fn backoff() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(500))
        .with_factor(2.0)
        .with_max_delay(MAX_DELAY)
        .with_max_times(ATTEMPTS as usize)
        .with_jitter()
        .build()
}

/// How long to wait before the next attempt: what the server asks (`Retry-After` in seconds or
/// as an HTTP date, GitHub's `X-RateLimit-Reset`), else `scheduled`; `None` when the server asks
/// for too long. Dates are read against the server's own clock (`Date`) when it sent one.
fn wait_for(headers: &HeaderMap, date: Option<Timestamp>, scheduled: Duration) -> Option<Duration> {
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    let until = |at: Timestamp| {
        let now = date.unwrap_or_else(Timestamp::now);
        Duration::from_secs(u64::try_from(at.as_second() - now.as_second()).unwrap_or(0))
    };
    let retry_after = header("retry-after");
    let wait = if let Some(secs) = retry_after.and_then(|v| v.parse::<u64>().ok()) {
        Duration::from_secs(secs)
    } else if let Some(at) = retry_after.and_then(http_date) {
        until(at)
    } else if let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok()) {
        until(Timestamp::from_second(reset).ok()?)
    } else {
        scheduled
    };
    (wait <= MAX_WAIT).then_some(wait)
}

/// The `rel="next"` URL of a `Link` header (GitHub, GitLab).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// reqwest's errors print the URL, which may carry a query; the tracker is named already.
fn without_url(e: &reqwest::Error) -> String {
    let mut e_text = e.to_string();
    if let Some(url) = e.url() {
        e_text = e_text.replace(url.as_str(), "<url>");
    }
    e_text
}

fn excerpt(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        "empty answer".into()
    } else {
        t
    }
}

/// Reads a tracker's base URL from the environment, without a trailing slash.
pub fn base_url(var: &str, default: Option<&str>) -> Option<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| default.map(str::to_string))
        .map(|v| v.trim().trim_end_matches('/').to_string())
}

pub fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// Parses a tracker timestamp: RFC 3339 (GitHub, GitLab) or Jira's `2024-01-15T10:30:00.000+0000`.
pub fn timestamp(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>().ok().or_else(|| {
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
            .ok()?
            .to_timestamp()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_of_all_trackers() {
        let want: Timestamp = "2024-01-15T10:30:00Z".parse().unwrap();
        assert_eq!(timestamp("2024-01-15T10:30:00Z"), Some(want));
        assert_eq!(timestamp("2024-01-15T10:30:00.000Z"), Some(want));
        assert_eq!(timestamp("2024-01-15T12:30:00.000+0200"), Some(want));
        assert_eq!(timestamp("yesterday"), None);
    }

    #[test]
    fn link_header() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            "<https://api.github.com/repositories/1/issues?page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        h.insert(
            reqwest::header::LINK,
            "<https://x/?page=1>; rel=\"prev\"".parse().unwrap(),
        );
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn retry_after_in_both_forms() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        let server: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let scheduled = Duration::from_millis(700);
        let wait = |h: &HeaderMap| wait_for(h, Some(server), scheduled);
        assert_eq!(
            wait(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        // RFC 9110's HTTP-date, read against the server's clock, not the runner's.
        assert_eq!(
            wait(&headers(&[(
                "retry-after",
                "Wed, 02 Dec 2026 10:00:12 GMT"
            )])),
            Some(Duration::from_secs(12))
        );
        // A date already past: retry at once.
        assert_eq!(
            wait(&headers(&[(
                "retry-after",
                "Wed, 02 Dec 2026 09:59:00 GMT"
            )])),
            Some(Duration::ZERO)
        );
        // Asking for longer than a CI step should hang: fail instead.
        assert_eq!(wait(&headers(&[("retry-after", "3600")])), None);
        assert_eq!(
            wait(&headers(&[(
                "retry-after",
                "Wed, 02 Dec 2026 11:00:00 GMT"
            )])),
            None
        );
        let reset = (server.as_second() + 20).to_string();
        assert_eq!(
            wait(&headers(&[("x-ratelimit-reset", reset.as_str())])),
            Some(Duration::from_secs(20))
        );
        // Nothing said, or nonsense: the schedule.
        assert_eq!(wait(&headers(&[])), Some(scheduled));
        assert_eq!(wait(&headers(&[("retry-after", "soon")])), Some(scheduled));
    }

    #[test]
    fn the_schedule_grows_with_jitter_and_is_bounded() {
        let a: Vec<Duration> = backoff().collect();
        assert_eq!(a.len(), ATTEMPTS as usize);
        for (i, d) in a.iter().enumerate() {
            let base = Duration::from_millis(500 * 2u64.pow(i as u32)).min(MAX_DELAY);
            assert!(
                *d >= base && *d <= base * 2,
                "delay {i}: {d:?} against {base:?}"
            );
        }
        // Randomized: two schedules of several delays are not the same.
        let runs: std::collections::BTreeSet<Vec<Duration>> =
            (0..5).map(|_| backoff().collect()).collect();
        assert!(runs.len() > 1);
    }
}
