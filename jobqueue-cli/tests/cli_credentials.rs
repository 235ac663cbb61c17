//! `--redis-password-file` (and `--redis-username`): the CLI and `jobqueue
//! serve` log in with the password a file holds (a rotated mounted secret
//! or IAM token), read at every connect, so a dashboard whose connections
//! are dropped after a rotation comes back with the new password.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use jobqueue_testing::TestRedis;

const TOKEN: &str = "a-bearer-token-of-32-characters!";

/// The binary run as ACL user `user` with the password in `file`.
fn jobqueue(t: &TestRedis, user: &str, file: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobqueue"));
    command
        .args(["--redis-username", user, "--redis-password-file"])
        .arg(file)
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env_remove("JOBQUEUE_CONFIG")
        .env_remove("JOBQUEUE_REDIS_USERNAME")
        .stdin(Stdio::null());
    command
}

fn run(t: &TestRedis, user: &str, file: &Path, args: &[&str]) -> Output {
    jobqueue(t, user, file)
        .args(args)
        .output()
        .expect("run jobqueue")
}

async fn admin(t: &TestRedis, args: &[&str]) {
    let mut conn = t.connection().await.expect("connect");
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    let _: redis::Value = cmd.query_async(&mut conn).await.expect("admin command");
}

/// `GET /api/v1/queues` from the dashboard on `port`: the status code, or
/// `None` when nothing answers.
async fn queues_status(port: u16) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!(
        "GET /api/v1/queues HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

async fn wait_for_status(port: u16, want: u16, within: Duration) -> Option<u16> {
    let deadline = Instant::now() + within;
    let mut last = None;
    while Instant::now() < deadline {
        last = queues_status(port).await;
        if last == Some(want) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_dashboard_log_in_with_a_rotated_password_file() {
    let t = TestRedis::named("cli-creds")
        .await
        .expect("connect to the test Redis");
    let user = format!("{}-user", t.prefix());
    let keys = format!("~{}*", t.prefix());
    let channels = format!("&{}*", t.prefix());
    admin(
        &t,
        &[
            "ACL",
            "SETUSER",
            &user,
            "on",
            ">first-pass",
            &keys,
            &channels,
            "+@all",
        ],
    )
    .await;
    let file = std::env::temp_dir().join(format!("jq-cli-creds-{}", t.prefix()));
    std::fs::write(&file, "first-pass\n").expect("write the secret");

    let listed = run(&t, &user, &file, &["queues", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let wrong = std::env::temp_dir().join(format!("jq-cli-creds-wrong-{}", t.prefix()));
    std::fs::write(&wrong, "not-the-password\n").expect("write");
    let refused = run(&t, &user, &wrong, &["queues", "--json"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr).to_lowercase();
    assert!(
        stderr.contains("wrongpass") || stderr.contains("auth"),
        "a readable error: {stderr}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let served = Served(
        jobqueue(&t, &user, &file)
            .args(["--redis-password-refresh", "1", "serve", "--token", TOKEN])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run jobqueue serve"),
    );
    assert_eq!(
        wait_for_status(port, 200, Duration::from_secs(20)).await,
        Some(200),
        "the dashboard answers"
    );

    // Rotate: the old password stops working, the file holds the new one,
    // and every connection of the user is dropped.
    admin(&t, &["ACL", "SETUSER", &user, "resetpass", ">second-pass"]).await;
    std::fs::write(&file, "second-pass\n").expect("rotate the secret");
    admin(&t, &["CLIENT", "KILL", "USER", &user]).await;
    assert_eq!(
        wait_for_status(port, 200, Duration::from_secs(20)).await,
        Some(200),
        "the dashboard logged in again with the new password"
    );
    let listed = run(&t, &user, &file, &["queues", "--json"]);
    assert!(listed.status.success());
    drop(served);
    admin(&t, &["ACL", "DELUSER", &user]).await;
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&wrong);
}
