//! Hostile clients against the real serve loop on a real TCP listener:
//! slowloris heads and trickled bodies are cut off, deep JSON and oversized
//! bodies are refused with our JSON errors, and a flood of idle connections
//! does not keep a normal request from being served. Short limits keep the
//! tests fast. The store is SQLite only: what is tested is the connection
//! handling in front of it, which is the same for both backends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use yuanjiang_server::listen::{ServeLimits, serve_with};
use yuanjiang_server::{AppState, app};
use yuanjiang_store::testing::sqlite_store;

/// A server on 127.0.0.1:0 running the real serve loop.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(limits: ServeLimits) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = sqlite_store(dir.path()).await.expect("store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let router = app(AppState::new(store));
        let task = tokio::spawn(serve_with(
            listener,
            router,
            async move {
                let _ = stopped.await;
            },
            limits,
        ));
        Server {
            addr,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// Stops the server and checks the serve loop ended cleanly and soon.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let ended = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("serve loop ends after shutdown")
            .expect("serve task");
        assert!(ended.is_ok(), "serve loop: {ended:?}");
    }
}

fn short_limits() -> ServeLimits {
    ServeLimits {
        header_read_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(1),
        max_connections: 64,
        drain_timeout: Duration::from_secs(2),
    }
}

/// Reads until the server closes (or `within` passes); what came, and
/// whether the server closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

/// Sends one raw request (with `Connection: close`) and returns the status
/// and the JSON body of the answer.
async fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    // The server may answer (and close) before the whole body is sent.
    let _ = stream.write_all(body).await;
    let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(closed, "server did not finish the answer: {text}");
    parse_answer(&text)
}

fn parse_answer(text: &str) -> (u16, Value) {
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn healthz(addr: SocketAddr) -> (u16, Value) {
    exchange(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await
}

fn post_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn assert_bilingual(body: &Value) {
    let message = &body["error"]["message"];
    assert!(
        message["zh-CN"].as_str().is_some_and(|m| !m.is_empty())
            && message["en"].as_str().is_some_and(|m| !m.is_empty()),
        "not a bilingual error: {body}"
    );
}

/// A client that sends its request head one header line at a time, forever,
/// is cut off once the header-read timeout passes.
#[tokio::test]
async fn slowloris_head_is_cut_off() {
    let server = Server::start(short_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .expect("first line");
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for i in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer
                .write_all(format!("X-Slow-{i}: x\r\n").as_bytes())
                .await
                .is_err()
            {
                return i;
            }
        }
        100
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    assert!(closed.is_ok(), "the slow head was not cut off within 5 s");
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(2),
        "cut off after {elapsed:?}, want about the 500 ms header timeout"
    );
    trickle.abort();
    // The server is still there for everyone else.
    assert_eq!(healthz(server.addr).await.0, 200);
    server.stop().await;
}

/// A connection that sends nothing at all is closed by the same timeout.
#[tokio::test]
async fn silent_connection_is_closed() {
    let server = Server::start(short_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let started = Instant::now();
    let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "a silent connection stayed open");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!text.contains("200 OK"), "{text}");
    server.stop().await;
}

/// A body trickled one byte at a time is cut off by the request timeout
/// with a JSON 408.
#[tokio::test]
async fn trickled_body_is_cut_off() {
    let server = Server::start(short_limits()).await;
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    writer
        .write_all(post_head("/api/v1/projects", 100_000).as_bytes())
        .await
        .expect("head");
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if writer.write_all(b"[").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(read.is_ok(), "the trickled body was not cut off within 5 s");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "cut off after {elapsed:?}, want about the 1 s request timeout"
    );
    let (status, body) = parse_answer(&String::from_utf8_lossy(&got));
    assert_eq!(status, 408, "{body}");
    assert_eq!(error_code(&body), "request_timeout");
    assert_bilingual(&body);
    server.stop().await;
}

/// JSON nested 100 000 deep is refused by serde_json's recursion limit as a
/// 400, without a stack overflow, and the server keeps answering.
#[tokio::test]
async fn deep_json_is_refused() {
    let server = Server::start(ServeLimits::default()).await;
    let depth = 100_000;
    let mut body = "[".repeat(depth);
    body.push_str(&"]".repeat(depth));
    for path in ["/api/v1/projects", "/api/v1/projects/X/transactions"] {
        let (status, answer) =
            exchange(server.addr, &post_head(path, body.len()), body.as_bytes()).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(error_code(&answer), "invalid_body", "{path}: {answer}");
        assert_bilingual(&answer);
    }
    let deep_object = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
    let deep_field = format!("{{\"code\":{body}}}");
    for hostile in [deep_object, deep_field] {
        let (status, answer) = exchange(
            server.addr,
            &post_head("/api/v1/projects", hostile.len()),
            hostile.as_bytes(),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(error_code(&answer), "invalid_body", "{answer}");
    }
    let (status, health) = healthz(server.addr).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    server.stop().await;
}

/// Our JSON extractor on a body type that takes any JSON (as a future
/// endpoint might): serde_json's recursion limit (128) refuses 100 000
/// levels as a 400 instead of overflowing the stack.
#[tokio::test]
async fn deep_json_into_any_value_hits_the_recursion_limit() {
    use axum::extract::FromRequest;
    use yuanjiang_server::api::writes::Body;
    let depth = 100_000;
    let text = "[".repeat(depth) + &"]".repeat(depth);
    let request = axum::http::Request::post("/")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(text))
        .expect("request");
    let refused = Body::<Value>::from_request(request, &())
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, axum::http::StatusCode::BAD_REQUEST);
    assert_eq!(refused.code, "invalid_body");
    assert!(refused.en.contains("recursion limit"), "{}", refused.en);
}

/// A JSON body over 1 MB, and any body declared over 64 MB, answer 413 with
/// our bilingual JSON error (not the layers' plain text).
#[tokio::test]
async fn oversized_bodies_are_413_json() {
    let server = Server::start(ServeLimits::default()).await;
    let name = "援".repeat(400_000);
    let body = format!("{{\"name\":\"{name}\"}}");
    assert!(body.len() > yuanjiang_server::MAX_BODY_BYTES);
    let (status, answer) = exchange(
        server.addr,
        &post_head("/api/v1/projects", body.len()),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(error_code(&answer), "request_too_large");
    assert_bilingual(&answer);

    // Declared over the upload limit: refused from the head alone.
    let declared = yuanjiang_server::MAX_UPLOAD_BYTES + 1;
    let (status, answer) =
        exchange(server.addr, &post_head("/api/v1/projects", declared), b"{").await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(error_code(&answer), "request_too_large");
    assert_bilingual(&answer);
    let zh = answer["error"]["message"]["zh-CN"]
        .as_str()
        .unwrap_or_default();
    assert!(zh.contains("64 MB") && zh.contains("1 MB"), "{zh}");

    // A chunked body has no length to check up front; the limit still holds.
    let mut chunked = String::from(
        "POST /api/v1/projects HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    for _ in 0..20 {
        chunked.push_str(&format!("{:x}\r\n{}\r\n", 100_000, " ".repeat(100_000)));
    }
    chunked.push_str("0\r\n\r\n");
    let (status, answer) = exchange(server.addr, &chunked, b"").await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(error_code(&answer), "request_too_large");
    server.stop().await;
}

/// Idle connections beyond the connection limit wait in the backlog and are
/// cut off by the header timeout, so a normal request is still served soon.
#[tokio::test]
async fn idle_flood_does_not_block_a_normal_request() {
    let limits = ServeLimits {
        max_connections: 16,
        ..short_limits()
    };
    let server = Server::start(limits).await;
    let mut idle = Vec::new();
    for _ in 0..48 {
        idle.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    let started = Instant::now();
    let (status, health) = tokio::time::timeout(Duration::from_secs(8), healthz(server.addr))
        .await
        .expect("a normal request is served despite the idle flood");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    // Three rounds of 16 idle connections at 0.5 s each, then ours.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The idle ones were closed by the server, not left to hold slots.
    let (_, closed) = read_until_closed(&mut idle[0], Duration::from_secs(2)).await;
    assert!(closed, "an idle connection is still open");
    drop(idle);

    // Under the default limits 200 idle connections cost a normal request
    // nothing.
    let server2 = Server::start(ServeLimits::default()).await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(server2.addr).await.expect("connect"));
    }
    let started = Instant::now();
    assert_eq!(healthz(server2.addr).await.0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    drop(idle);
    server.stop().await;
    server2.stop().await;
}

/// Shutdown lets a request in flight finish: a slow body that completes
/// after the shutdown signal still gets its answer.
#[tokio::test]
async fn shutdown_drains_a_request_in_flight() {
    let mut server = Server::start(ServeLimits {
        request_timeout: Duration::from_secs(5),
        ..short_limits()
    })
    .await;
    let body = "[1]";
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(post_head("/api/v1/projects", body.len()).as_bytes())
        .await
        .expect("head");
    stream.write_all(b"[").await.expect("first byte");
    tokio::time::sleep(Duration::from_millis(200)).await;
    if let Some(stop) = server.stop.take() {
        let _ = stop.send(());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are refused once the listener is gone.
    assert!(TcpStream::connect(server.addr).await.is_err());
    stream.write_all(b"1]").await.expect("rest of the body");
    let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed);
    let (status, answer) = parse_answer(&text);
    // The body is not a project: the point is that it was answered at all.
    assert_eq!(status, 400, "{answer}");
    assert_eq!(error_code(&answer), "invalid_body");
    server.stop().await;
}
