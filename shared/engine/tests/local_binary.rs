//! The `followup-local` binary as a person runs it: starts on a fresh data directory,
//! says where it listens and how to authenticate, serves, and stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the engine");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn when_started_on_a_fresh_machine_then_it_serves_and_stops_cleanly_on_ctrl_c() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_followup-local"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env_remove("FOLLOWUP_API_TOKENS")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn followup-local");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let addr = loop {
        let line = lines.next().expect("banner line").expect("utf-8");
        banner.push(line.clone());
        if let Some(rest) = line.strip_prefix("Follow-up service listening on http://") {
            break rest.trim().to_owned();
        }
    };
    for _ in 0..5 {
        banner.push(lines.next().expect("banner line").expect("utf-8"));
    }
    let banner = banner.join("\n");
    let token_path = data.path().join("local-api-token");
    let token = std::fs::read_to_string(&token_path).expect("token file was generated");
    assert!(token.len() >= 32);
    assert!(banner.contains("local-api-token"), "{banner}");
    assert!(
        !banner.contains(&token),
        "the banner points at the token, never prints it"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "token file is private to its owner");
    }

    assert!(http_get(&addr, "/v1/health", None).starts_with("HTTP/1.1 200"));
    assert!(http_get(&addr, "/v1/chatbots/demo/follow-ups", None).starts_with("HTTP/1.1 401"));
    assert!(
        http_get(&addr, "/v1/chatbots/demo/follow-ups", Some(&token)).starts_with("HTTP/1.1 200")
    );

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "did not stop within 10 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit after Ctrl-C, got {exit}");
}
