//! Delivery of one message to one channel: HTTP POSTs (webhook, Slack) and SMTP (email), with
//! retries — exponential backoff with full jitter, `Retry-After` honoured — on connection
//! errors, timeouts, HTTP 5xx and 429 and transient SMTP replies; a bounded number of attempts.
//!
//! Nothing here logs or returns a secret: URLs are left out of HTTP errors, SMTP credentials
//! never appear in lettre's errors.

use std::time::{Duration, SystemTime};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::{Channel, EmailTarget, RetryPolicy, StartTls, Target};
use super::message::Message;
use super::Observer;

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The message id (a webhook's `webhook-id`).
    pub id: String,
    /// Attempts made.
    pub attempts: u32,
    /// `None` when delivered; otherwise the last error.
    pub error: Option<String>,
}

/// The result of one attempt.
enum Attempt {
    Delivered,
    /// Worth another try, after at least this long when the server said so.
    Retry(String, Option<Duration>),
    /// Not worth another try (a 4xx, a permanent SMTP reply, a bad address).
    Fail(String),
}

/// The HTTP client every channel shares (rustls, the webpki roots).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("mcp-train/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))
}

/// The Standard Webhooks signature header value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// A message id: `msg_` and 24 random hex digits (the same for every attempt, so a receiver can
/// drop duplicates).
pub fn message_id() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

/// A random fraction in [0, 1) for the jitter.
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// The delay before attempt `n + 1` after `n` failed attempts: full jitter, a random time up to
/// `min(max_backoff, initial × 2^(n−1))`.
pub fn backoff(policy: &RetryPolicy, failed: u32) -> Duration {
    let exp = failed.saturating_sub(1).min(30);
    let ceiling = policy
        .initial_backoff
        .saturating_mul(1u32 << exp)
        .min(policy.max_backoff);
    ceiling.mul_f64(random_fraction())
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110), as a delay from now.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Delivers `message` to `channel`, retrying as `policy` says; reports every attempt's outcome
/// to `observer` (`delivered`, `retried`, `failed`).
pub async fn deliver(
    client: &reqwest::Client,
    channel: &Channel,
    message: &Message,
    policy: &RetryPolicy,
    observer: &dyn Observer,
) -> Outcome {
    let Some(target) = &channel.target else {
        return Outcome {
            id: String::new(),
            attempts: 0,
            error: Some(format!("channel {} is disabled", channel.name)),
        };
    };
    let id = message_id();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let attempt = match target {
            Target::Webhook { url, key } => {
                let key = base64::engine::general_purpose::STANDARD
                    .decode(key.expose())
                    .unwrap_or_default();
                let body = message.webhook_body();
                let timestamp = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let request = client
                    .post(url.expose())
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", sign(&key, &id, timestamp, &body))
                    .body(body);
                http_attempt(request).await
            }
            Target::Slack { url } => {
                let request = client
                    .post(url.expose())
                    .header("content-type", "application/json")
                    .body(message.slack_body());
                http_attempt(request).await
            }
            Target::Email(email) => smtp_attempt(email, message, policy.timeout).await,
        };
        let (error, wait) = match attempt {
            Attempt::Delivered => {
                observer.attempt(&channel.name, "delivered");
                return Outcome {
                    id,
                    attempts,
                    error: None,
                };
            }
            Attempt::Fail(e) => (e, None),
            Attempt::Retry(e, _) if attempts >= policy.max_attempts => (e, None),
            Attempt::Retry(e, Some(asked)) if asked > policy.max_retry_after => (
                format!(
                    "{e}; Retry-After {} s is longer than retry.max_retry_after_seconds ({} s)",
                    asked.as_secs(),
                    policy.max_retry_after.as_secs()
                ),
                None,
            ),
            Attempt::Retry(e, asked) => {
                (e, Some(asked.unwrap_or_else(|| backoff(policy, attempts))))
            }
        };
        match wait {
            Some(wait) => {
                observer.attempt(&channel.name, "retried");
                tracing::warn!(channel = %channel.name, attempt = attempts, error = %error, retry_in_ms = wait.as_millis() as u64, "notification not delivered; retrying");
                tokio::time::sleep(wait).await;
            }
            None => {
                observer.attempt(&channel.name, "failed");
                tracing::warn!(channel = %channel.name, attempts, error = %error, "notification failed");
                return Outcome {
                    id,
                    attempts,
                    error: Some(error),
                };
            }
        }
    }
}

async fn http_attempt(request: reqwest::RequestBuilder) -> Attempt {
    let response = match request.send().await {
        Ok(r) => r,
        // Connection refused or reset, DNS, TLS, timeouts: worth another try. The URL (which
        // may hold a token) is left out.
        Err(e) => return Attempt::Retry(error_chain(&e.without_url()), None),
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Delivered;
    }
    let asked = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, SystemTime::now()));
    let body = response.text().await.unwrap_or_default();
    let body: String = body.trim().chars().take(200).collect();
    let error = if body.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {body}")
    };
    if status.as_u16() == 429 || status.is_server_error() {
        Attempt::Retry(error, asked)
    } else {
        Attempt::Fail(error)
    }
}

async fn smtp_attempt(target: &EmailTarget, message: &Message, timeout: Duration) -> Attempt {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

    let (subject, body) = message.email();
    let mut builder = lettre::Message::builder().subject(subject);
    match target.from.parse() {
        Ok(from) => builder = builder.from(from),
        Err(e) => return Attempt::Fail(format!("from: {e}")),
    }
    for to in &target.to {
        match to.parse() {
            Ok(to) => builder = builder.to(to),
            Err(e) => return Attempt::Fail(format!("to {to:?}: {e}")),
        }
    }
    let email = match builder
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(body)
    {
        Ok(m) => m,
        Err(e) => return Attempt::Fail(format!("cannot build the email: {e}")),
    };
    let tls = match target.starttls {
        StartTls::None => Tls::None,
        mode => {
            let mut params = TlsParameters::builder(target.host.clone());
            if let Some(path) = &target.ca_file {
                let pem = match std::fs::read(path) {
                    Ok(p) => p,
                    Err(e) => return Attempt::Fail(format!("cannot read {}: {e}", path.display())),
                };
                match Certificate::from_pem(&pem) {
                    Ok(c) => params = params.add_root_certificate(c),
                    Err(e) => {
                        return Attempt::Fail(format!(
                            "{}: not a PEM certificate: {e}",
                            path.display()
                        ))
                    }
                }
            }
            let params = match params.build_rustls() {
                Ok(p) => p,
                Err(e) => return Attempt::Fail(format!("TLS settings: {e}")),
            };
            if mode == StartTls::Required {
                Tls::Required(params)
            } else {
                Tls::Opportunistic(params)
            }
        }
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(target.host.clone())
            .port(target.port)
            .tls(tls)
            .timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&target.username, &target.password) {
        transport = transport.credentials(Credentials::new(
            user.expose().to_owned(),
            password.expose().to_owned(),
        ));
    }
    match transport.build().send(email).await {
        Ok(_) => Attempt::Delivered,
        Err(e) if e.is_permanent() => Attempt::Fail(format!("SMTP: {}", error_chain(&e))),
        Err(e) => Attempt::Retry(format!("SMTP: {}", error_chain(&e)), None),
    }
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("base64");
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(90)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_ceiling() {
        let policy = RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        };
        for (failed, ceiling) in [(1, 100), (2, 200), (3, 350), (10, 350)] {
            let waits: Vec<Duration> = (0..200).map(|_| backoff(&policy, failed)).collect();
            assert!(
                waits.iter().all(|w| *w < Duration::from_millis(ceiling)),
                "{failed}"
            );
            // Spread over the range, not a fixed delay.
            assert!(waits
                .iter()
                .any(|w| *w < Duration::from_millis(ceiling / 3)));
            assert!(waits
                .iter()
                .any(|w| *w > Duration::from_millis(ceiling * 2 / 3)));
        }
    }
}
