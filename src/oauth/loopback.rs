//! The redirect catcher: when the `redirect_uri` is a loopback URL
//! (`http://127.0.0.1:PORT/path`, `http://[::1]:PORT/path`, `http://localhost:PORT/path`;
//! RFC 8252 §7.3), listen there, answer the browser with a small page, and hand back the
//! authorization response the bank redirected with. The CLI (`authorize --listen`) and
//! the app share it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tokio::sync::{Mutex, oneshot};

use crate::checks::{Finding, Severity};
use crate::oauth::redirect::{self, AuthorizationResponse};

/// How long a code may wait before it is redeemed (FAPI 2.0 SP §5.3.2.1: the AS keeps
/// codes at most 60 s).
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// Why listening for the redirect failed.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// The redirect_uri is not a loopback URL with a port.
    #[error(
        "the redirect_uri {0:?} is not a loopback URL with a port (http://127.0.0.1:PORT/path, http://[::1]:PORT/path or http://localhost:PORT/path): paste the redirect instead"
    )]
    NotLoopback(String),
    /// The port could not be bound.
    #[error(
        "cannot listen on {addr} for the redirect: {reason} (is another program using the port?)"
    )]
    Bind {
        /// Where.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// No redirect came in time.
    #[error(
        "no redirect reached {0} in time: finish the login at the bank, or raise --listen-timeout"
    )]
    Timeout(String),
    /// The listener stopped.
    #[error("the redirect listener stopped: {0}")]
    Stopped(String),
}

/// Where a loopback redirect_uri listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopbackTarget {
    /// The socket address to bind.
    pub addr: SocketAddr,
    /// The path the bank redirects to.
    pub path: String,
}

/// The loopback address of a redirect_uri, or `None` for any other URL.
pub fn loopback_target(redirect_uri: &str) -> Option<LoopbackTarget> {
    let url = url::Url::parse(redirect_uri.trim()).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let ip = match url.host()? {
        url::Host::Ipv4(ip) if ip.is_loopback() => IpAddr::V4(ip),
        url::Host::Ipv6(ip) if ip.is_loopback() => IpAddr::V6(ip),
        url::Host::Domain("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => return None,
    };
    let port = url.port()?;
    Some(LoopbackTarget {
        addr: SocketAddr::new(ip, port),
        path: url.path().to_owned(),
    })
}

/// What came back on the loopback address.
#[derive(Clone, Debug)]
pub struct CaughtRedirect {
    /// The whole URL the browser was sent to.
    pub url: String,
    /// It, read.
    pub response: AuthorizationResponse,
    /// When it arrived.
    pub received: Instant,
}

/// What the listener shares with its handler: where to send the redirect once, the
/// path it arrives on, and the `state` it must carry (set when the authorization
/// started).
struct Listening {
    slot: Mutex<Option<oneshot::Sender<String>>>,
    path: String,
    /// A plain mutex: set before the wait begins, read without awaiting.
    expected_state: std::sync::Mutex<Option<String>>,
}

/// A listener on the redirect_uri, bound before the browser is sent to the bank.
pub struct RedirectCatcher {
    target: LoopbackTarget,
    redirect_uri: String,
    received: oneshot::Receiver<String>,
    shutdown: Option<oneshot::Sender<()>>,
    listening: Arc<Listening>,
}

impl RedirectCatcher {
    /// Binds the redirect_uri's address.
    pub async fn bind(redirect_uri: &str) -> Result<Self, LoopbackError> {
        let target = loopback_target(redirect_uri)
            .ok_or_else(|| LoopbackError::NotLoopback(redirect_uri.to_owned()))?;
        let listener = tokio::net::TcpListener::bind(target.addr)
            .await
            .map_err(|e| LoopbackError::Bind {
                addr: target.addr,
                reason: e.to_string(),
            })?;
        let (tx, received) = oneshot::channel();
        let listening = Arc::new(Listening {
            slot: Mutex::new(Some(tx)),
            path: target.path.clone(),
            expected_state: std::sync::Mutex::new(None),
        });
        let app = axum::Router::new()
            .fallback(catch)
            .with_state(listening.clone());
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await;
        });
        Ok(Self {
            target,
            redirect_uri: redirect_uri.trim().to_owned(),
            received,
            shutdown: Some(shutdown),
            listening,
        })
    }

    /// The address listened on.
    pub fn target(&self) -> &LoopbackTarget {
        &self.target
    }

    /// Takes only a redirect that carries `state` from now on: call it as soon as the
    /// authorization's state is known, before the browser goes to the bank.
    pub fn expect_state(&self, state: &str) {
        if let Ok(mut slot) = self.listening.expected_state.lock() {
            *slot = Some(state.to_owned());
        }
    }

    /// Waits (at most `timeout`) for the redirect that carries `expected_state`, the
    /// `state` of the authorization this client started, then stops listening. Any other
    /// request on the path (another process, a web page guessing the port, a forged
    /// code) is answered 400 and the wait goes on (RFC 6749 §10.12, RFC 8252 §8.9).
    pub async fn wait(
        mut self,
        timeout: Duration,
        expected_state: &str,
    ) -> Result<CaughtRedirect, LoopbackError> {
        self.expect_state(expected_state);
        let outcome = tokio::time::timeout(timeout, &mut self.received).await;
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        let url = match outcome {
            Ok(Ok(url)) => url,
            Ok(Err(e)) => return Err(LoopbackError::Stopped(e.to_string())),
            Err(_) => return Err(LoopbackError::Timeout(self.redirect_uri.clone())),
        };
        // The URL as the browser was sent to it: the redirect_uri's own host (localhost
        // stays localhost), with the path and query received.
        let full = match url::Url::parse(&self.redirect_uri) {
            Ok(base) => format!("{}{url}", base.origin().ascii_serialization()),
            Err(_) => format!("http://{}{url}", self.target.addr),
        };
        let response = redirect::parse_authorization_response(&full)
            .map_err(|e| LoopbackError::Stopped(e.to_string()))?;
        Ok(CaughtRedirect {
            url: full,
            response,
            received: Instant::now(),
        })
    }
}

impl Drop for RedirectCatcher {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// What the catcher does with one request on its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatcherAnswer {
    /// Not the redirect path (`/favicon.ico`): 404.
    NotFound,
    /// The path with no parameters: the answer is in the URL's fragment, which browsers
    /// keep to themselves; the relay page posts it back (see [`RELAY_SCRIPT`]).
    Relay,
    /// The path, without the expected `state`: a 400 page, and the wait goes on.
    NotThisAuthorization(String),
    /// The redirect: taken, and the browser gets this page.
    Taken(String),
}

/// Judges one GET (its path and query, as received) against the redirect path and the
/// `state` the authorization carries: the path with no query is answered with the relay
/// page (a fragment response); otherwise see [`answer_params`]. Pure, so it can be fuzzed.
pub fn answer_request(
    path: &str,
    expected_state: Option<&str>,
    path_and_query: &str,
) -> CatcherAnswer {
    let (got_path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if got_path != path {
        return CatcherAnswer::NotFound;
    }
    if query.is_empty() {
        return CatcherAnswer::Relay;
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    answer_params(expected_state, &pairs)
}

/// The `state` a response carries: its parameter, or inside a JARM response JWT (read
/// unverified here, to tell this authorization's answer from another; the JWT is verified
/// before anything is trusted). An encrypted JARM response cannot be read here: it is
/// taken on its form (five segments) and judged once decrypted.
fn carried_state(params: &[(String, String)]) -> Option<String> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    if let Some(state) = get("state") {
        return Some(state);
    }
    let jwt = get("response")?;
    let decoded = crate::jose::jwt::decode(&jwt).ok()?;
    decoded
        .unverified_claim("state")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// Judges a response's parameters (a query, a relayed fragment, a posted form) against
/// the `state` the authorization carries (compared in constant time): only the response
/// with that `state` is taken.
pub fn answer_params(expected_state: Option<&str>, params: &[(String, String)]) -> CatcherAnswer {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let encrypted_jarm =
        get("state").is_none() && get("response").is_some_and(|r| r.split('.').count() == 5);
    let state_matches = encrypted_jarm
        || match (expected_state, carried_state(params)) {
            (Some(expected), Some(state)) => aws_lc_rs::constant_time::verify_slices_are_equal(
                expected.as_bytes(),
                state.as_bytes(),
            )
            .is_ok(),
            _ => false,
        };
    if !state_matches {
        return CatcherAnswer::NotThisAuthorization(page(
            "Not this authorization",
            "This redirect does not carry the state of the authorization Token Inspector started, so it was not taken (a stale tab, another program, or a forged code). Token Inspector is still waiting for the bank's redirect.",
        ));
    }
    CatcherAnswer::Taken(match get("error") {
        Some(error) => page(
            "The bank did not authorize",
            &format!(
                "{}{}. Token Inspector has the details; you can close this tab.",
                html_escape(&error),
                get("error_description")
                    .map(|d| format!(": {}", html_escape(&d)))
                    .unwrap_or_default()
            ),
        ),
        None => page(
            "Authorized",
            "Token Inspector received the bank's answer and is checking it. You can close this tab.",
        ),
    })
}

/// The relay page's one script: it reads the fragment, takes it out of the address bar
/// and posts it to this same address, then shows what Token Inspector answered. Served
/// with a Content-Security-Policy that allows this script alone (by its hash) and
/// requests to this origin only.
pub const RELAY_SCRIPT: &str = "(function(){var m=document.getElementById('m');var h=location.hash.slice(1);if(!h){m.textContent='The bank sent nothing to this address (no query, no fragment). Token Inspector is still waiting for its redirect.';return;}history.replaceState(null,'',location.pathname);fetch(location.pathname,{method:'POST',headers:{'Content-Type':'application/x-www-form-urlencoded','X-Token-Inspector-Relay':'1'},body:h}).then(function(r){return r.text();}).then(function(t){m.textContent=t;}).catch(function(e){m.textContent='The relay to Token Inspector failed: '+e;});})();";

/// The relay page and its Content-Security-Policy.
pub fn relay_page() -> (String, String) {
    use base64::Engine as _;
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, RELAY_SCRIPT.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(hash.as_ref());
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><title>Token Inspector: relaying the bank's answer</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>Token Inspector</h1><p id=\"m\">The bank answered in the address's fragment, which only this page can read: relaying it to Token Inspector… (this needs JavaScript; without it, copy the whole address into Token Inspector).</p>\
         <script>{RELAY_SCRIPT}</script></body></html>"
    );
    (html, csp)
}

/// Answers the browser (see [`answer_request`]): a GET's query, or a posted form (the
/// relay page's fragment, a bank's `form_post`); the redirect taken goes to the waiter,
/// once.
async fn catch(
    State(listening): State<Arc<Listening>>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: axum::body::Bytes,
) -> Response {
    let expected = listening.expected_state.lock().ok().and_then(|s| s.clone());
    let (answer, taken) = if method == axum::http::Method::POST {
        if uri.path() != listening.path {
            return (StatusCode::NOT_FOUND, "not the redirect path").into_response();
        }
        let form = String::from_utf8_lossy(&body).into_owned();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        (
            answer_params(expected.as_deref(), &pairs),
            format!("{}?{form}", uri.path()),
        )
    } else {
        let received = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
        (
            answer_request(&listening.path, expected.as_deref(), &received),
            received,
        )
    };
    // The relay page's own request gets text for its page; a bank's form_post, a page.
    let relayed = headers.contains_key("x-token-inspector-relay");
    let reply = |status: StatusCode, html: String| {
        if relayed {
            (status, text_of(&html)).into_response()
        } else {
            (status, Html(html)).into_response()
        }
    };
    match answer {
        CatcherAnswer::NotFound => (StatusCode::NOT_FOUND, "not the redirect path").into_response(),
        CatcherAnswer::Relay => {
            let (html, csp) = relay_page();
            (
                StatusCode::OK,
                [
                    (axum::http::header::CONTENT_SECURITY_POLICY, csp),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
                    (
                        axum::http::header::REFERRER_POLICY,
                        "no-referrer".to_owned(),
                    ),
                ],
                Html(html),
            )
                .into_response()
        }
        CatcherAnswer::NotThisAuthorization(page) => reply(StatusCode::BAD_REQUEST, page),
        CatcherAnswer::Taken(page) => {
            if let Some(tx) = listening.slot.lock().await.take() {
                let _ = tx.send(taken);
            }
            reply(StatusCode::OK, page)
        }
    }
}

/// A page's title and text, for the relay page to show.
fn text_of(html: &str) -> String {
    let inner = |open: &str, close: &str| {
        html.split_once(open)
            .and_then(|(_, rest)| rest.split_once(close))
            .map(|(t, _)| t.to_owned())
            .unwrap_or_default()
    };
    format!("{}: {}", inner("<h1>", "</h1>"), inner("<p>", "</p>"))
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>"
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Findings on a caught redirect beyond `state` and `iss`: the code's age (FAPI 2.0 SP
/// §5.3.2.1), and `access_denied` explained (RFC 6749 §4.1.2.1).
pub fn redirect_findings(caught: &CaughtRedirect, started: Option<Instant>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(started) = started {
        let age = caught.received.saturating_duration_since(started);
        if age > CODE_LIFETIME {
            out.push(Finding::new(
                Severity::Info,
                "redirect.slow_login",
                format!(
                    "the redirect came {} s after the authorization started; the code itself is fresh, but a FAPI 2.0 server refuses codes older than 60 s, so it is exchanged at once",
                    age.as_secs()
                ),
                "FAPI 2.0 SP §5.3.2.1",
            ));
        }
    }
    if caught.response.error.as_deref() == Some("access_denied") {
        out.push(Finding::new(
            Severity::Error,
            "redirect.access_denied",
            "access_denied: the user declined or cancelled at the bank, or the bank refused the consent (in Brazil also when the logged-in user's CPF differs from the consent's loggedUser). Start a new authorization.",
            "RFC 6749 §4.1.2.1",
        ));
    }
    out
}

/// A free loopback port (for tests and for picking a redirect_uri).
pub fn free_port() -> Option<u16> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        let t = loopback_target("http://127.0.0.1:8123/cb").unwrap();
        assert_eq!(t.addr.port(), 8123);
        assert_eq!(t.path, "/cb");
        assert!(loopback_target("http://localhost:9000/x").is_some());
        assert!(
            loopback_target("http://[::1]:9000/x")
                .unwrap()
                .addr
                .is_ipv6()
        );
        assert!(loopback_target("https://127.0.0.1:8123/cb").is_none());
        assert!(
            loopback_target("http://127.0.0.1/cb").is_none(),
            "a port is needed"
        );
        assert!(loopback_target("http://client.example:80/cb").is_none());
    }

    #[tokio::test]
    async fn catches_the_redirect_and_answers_the_browser() {
        let port = free_port().unwrap();
        let uri = format!("http://127.0.0.1:{port}/callback");
        let catcher = RedirectCatcher::bind(&uri).await.unwrap();
        let browser = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let miss = client
                .get(format!("http://127.0.0.1:{port}/favicon.ico"))
                .send()
                .await
                .unwrap();
            assert_eq!(miss.status(), 404);
            client
                .get(format!(
                    "{uri}?code=c1&state=s1&iss=https%3A%2F%2Fas.example"
                ))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let caught = catcher.wait(Duration::from_secs(10), "s1").await.unwrap();
        assert_eq!(caught.response.code.as_deref(), Some("c1"));
        assert_eq!(caught.response.iss.as_deref(), Some("https://as.example"));
        let page = browser.await.unwrap();
        assert!(page.contains("close this tab"), "{page}");
    }

    #[tokio::test]
    async fn a_localhost_redirect_uri_keeps_its_host() {
        let port = free_port().unwrap();
        let uri = format!("http://localhost:{port}/cb");
        let catcher = RedirectCatcher::bind(&uri).await.unwrap();
        tokio::spawn(async move {
            let _ = reqwest::get(format!("http://127.0.0.1:{port}/cb?code=c&state=s")).await;
        });
        let caught = catcher.wait(Duration::from_secs(10), "s").await.unwrap();
        assert_eq!(
            caught.url,
            format!("http://localhost:{port}/cb?code=c&state=s")
        );
        let findings =
            redirect::check_authorization_response(&caught.response, Some("s"), None, Some(&uri));
        assert!(
            findings.iter().all(|f| f.code != "redirect.uri_mismatch"),
            "{findings:?}"
        );
    }

    #[tokio::test]
    async fn access_denied_is_explained_and_a_silent_bank_times_out() {
        let port = free_port().unwrap();
        let uri = format!("http://127.0.0.1:{port}/cb");
        let catcher = RedirectCatcher::bind(&uri).await.unwrap();
        tokio::spawn(async move {
            let _ = reqwest::get(format!("{uri}?error=access_denied&state=s")).await;
        });
        let caught = catcher.wait(Duration::from_secs(10), "s").await.unwrap();
        let codes: Vec<_> = redirect_findings(&caught, None)
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(codes, ["redirect.access_denied"]);

        let uri = format!("http://127.0.0.1:{}/cb", free_port().unwrap());
        let catcher = RedirectCatcher::bind(&uri).await.unwrap();
        let e = catcher
            .wait(Duration::from_millis(200), "s")
            .await
            .unwrap_err();
        assert!(matches!(e, LoopbackError::Timeout(_)), "{e}");
        assert!(matches!(
            RedirectCatcher::bind("https://client.example/cb").await,
            Err(LoopbackError::NotLoopback(_))
        ));
    }

    /// Another process (or a web page guessing the port) that hits the redirect path
    /// first with a forged code and no state, or another state, gets a 400 page; the
    /// catcher keeps waiting and takes the bank's redirect that carries the state sent.
    #[tokio::test]
    async fn a_redirect_with_another_state_is_not_taken() {
        let port = free_port().unwrap();
        let uri = format!("http://127.0.0.1:{port}/callback");
        let catcher = RedirectCatcher::bind(&uri).await.unwrap();
        let browser = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut statuses = Vec::new();
            for forged in [
                format!("{uri}?code=forged"),
                format!("{uri}?code=forged&state=guess"),
                format!("{uri}?code=forged&state=the-state-sent-but-longer"),
            ] {
                let r = client.get(forged).send().await.unwrap();
                statuses.push(r.status().as_u16());
                assert!(r.text().await.unwrap().contains("still waiting"));
            }
            let real = client
                .get(format!("{uri}?code=real&state=the-state-sent"))
                .send()
                .await
                .unwrap();
            statuses.push(real.status().as_u16());
            statuses
        });
        let caught = catcher
            .wait(Duration::from_secs(10), "the-state-sent")
            .await
            .unwrap();
        assert_eq!(caught.response.code.as_deref(), Some("real"));
        assert_eq!(browser.await.unwrap(), [400, 400, 400, 200]);
    }
}
