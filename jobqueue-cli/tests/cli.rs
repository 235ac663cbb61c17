//! The `jobqueue` binary against real Redis (`JOBQUEUE_TEST_REDIS_URL`,
//! default redis://127.0.0.1:6379), under a fresh key prefix: tables,
//! `--json`, actions, and exit codes that mean something.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jobqueue_core::{Client, Job, JobContext, JobError};
use jobqueue_testing::TestRedis;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Ping {
    n: u64,
}

impl Job for Ping {
    const NAME: &'static str = "ping";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// The binary run under one test's slice of the test Redis.
struct Cli {
    t: TestRedis,
}

impl Cli {
    async fn new(test: &str) -> Self {
        let t = TestRedis::named(&format!("cli-{test}"))
            .await
            .expect("connect to the test Redis");
        Self { t }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jobqueue"))
            .args(args)
            .env("JOBQUEUE_REDIS_URL", self.t.url())
            .env("JOBQUEUE_PREFIX", self.t.prefix())
            .env_remove("JOBQUEUE_CONFIG")
            .env_remove("JOBQUEUE_SCALING")
            .stdin(Stdio::null())
            .output()
            .expect("run jobqueue")
    }

    /// Starts `jobqueue serve` with `args` on a free loopback port; the
    /// child (stderr piped) and the port.
    fn serve(&self, args: &[&str]) -> (std::process::Child, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_jobqueue"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("JOBQUEUE_REDIS_URL", self.t.url())
            .env("JOBQUEUE_PREFIX", self.t.prefix())
            .env_remove("JOBQUEUE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run jobqueue serve");
        (child, port)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    fn client(&self) -> Client {
        self.t.client()
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_prints_the_desired_workers_of_each_queue() {
    let cli = Cli::new("scaling").await;
    let client = cli.client();
    client
        .enqueue_bulk((0..3).map(|n| Ping { n }))
        .await
        .unwrap();
    client
        .enqueue_in(Duration::from_secs(30), Ping { n: 3 })
        .await
        .unwrap();
    // 3 ready + 1 due within the lead time, 1 job per slot-second, every
    // job started within 1 s, one slot per worker: 4 workers.
    let targets = "* latency_target=1 concurrency=1 default_throughput=1";
    let signals = cli.json(&[
        "scaling",
        "--queue",
        "default",
        "--sample-seconds",
        "0",
        "--scaling",
        targets,
        "--json",
    ]);
    assert_eq!(signals[0]["queue"], "default");
    assert_eq!(signals[0]["pending"], 4);
    assert_eq!(signals[0]["desired_workers"], 4);
    let table = cli.run(&["scaling", "--sample-seconds", "0", "--scaling", targets]);
    assert_eq!(code(&table), 0);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("QUEUE"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("default") && l.split_whitespace().nth(1) == Some("4")),
        "{text}"
    );
    assert_eq!(
        code(&cli.run(&["scaling", "--queue", "nope", "--sample-seconds", "0"])),
        3
    );
    let bad = cli.run(&["scaling", "--scaling", "* max=lots"]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("max"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_print_tables_and_json_and_act() {
    let cli = Cli::new("act").await;
    let client = cli.client();
    client
        .enqueue_bulk((0..3).map(|n| Ping { n }))
        .await
        .unwrap();
    let later = client
        .enqueue_in(Duration::from_secs(3600), Ping { n: 9 })
        .await
        .unwrap();

    let queues = cli.run(&["queues"]);
    assert_eq!(code(&queues), 0);
    let table = String::from_utf8_lossy(&queues.stdout);
    assert!(table.starts_with("QUEUE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("default") && l.contains(" 3 ")),
        "{table}"
    );

    let stats = cli.json(&["stats", "--json"]);
    assert_eq!(stats["queues"][0]["ready"], 3);
    assert_eq!(stats["queues"][0]["scheduled"], 1);

    let page = cli.json(&["jobs", "ready", "--limit", "2", "--json"]);
    assert_eq!(page["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_cursor"], 2);
    let job = cli.json(&["job", &later.to_string(), "--json"]);
    assert_eq!(job["state"], "scheduled");

    // Run the scheduled job now; it is audited.
    let ran = cli.json(&["retry", "--all-scheduled", "--json"]);
    assert_eq!(ran["count"], 1);
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 4);

    assert_eq!(code(&cli.run(&["pause", "default"])), 0);
    assert!(client.admin().queue("default").await.unwrap().paused);
    assert_eq!(code(&cli.run(&["resume", "default"])), 0);
    // Purge asks first; without a terminal it needs --yes.
    assert_eq!(code(&cli.run(&["purge", "default"])), 5);
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 4);
    let purged = cli.json(&["purge", "default", "--yes", "--json"]);
    assert_eq!(purged["count"], 4);
    let audit: Vec<String> = client
        .admin()
        .audit_log(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert_eq!(audit, ["purge", "resume", "pause", "retry"]);
    assert!(
        client.admin().audit_log(None, 1).await.unwrap()[0]
            .actor
            .starts_with("cli:")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_mean_something() {
    let cli = Cli::new("codes").await;
    cli.client().enqueue(Ping { n: 1 }).await.unwrap();
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(code(&cli.run(&["job", &unknown])), 3, "not found");
    assert_eq!(code(&cli.run(&["retry", &unknown])), 3, "not found");
    assert_eq!(
        code(&cli.run(&["pause", "no-such-queue"])),
        3,
        "unknown queue"
    );
    assert_eq!(code(&cli.run(&["jobs", "hibernating"])), 2, "bad state");
    assert_eq!(
        code(&cli.run(&["jobs", "ready", "--queue", "bad name"])),
        2,
        "bad queue name"
    );
    assert_eq!(code(&cli.run(&["jobs", "ready", "--limit", "0"])), 2);
    assert_eq!(code(&cli.run(&["retry"])), 2, "clap: id or --all-*");
    let refused = cli.run(&["serve", "--bind", "0.0.0.0:0"]);
    assert_eq!(code(&refused), 5);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--insecure-no-auth"));
    let down = Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .args(["--redis-url", "redis://127.0.0.1:1", "stats"])
        .env_remove("JOBQUEUE_REDIS_URL")
        .output()
        .unwrap();
    assert_eq!(code(&down), 4, "{}", String::from_utf8_lossy(&down.stderr));
    let help = cli.run(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_supplies_unset_settings() {
    let cli = Cli::new("config").await;
    cli.client().enqueue(Ping { n: 1 }).await.unwrap();
    let dir = std::env::temp_dir().join(format!("jq-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jobqueue.env");
    std::fs::write(
        &file,
        format!("# test\nJOBQUEUE_PREFIX={}\n", cli.t.prefix()),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .args(["--config", file.to_str().unwrap(), "queues", "--json"])
        .env("JOBQUEUE_REDIS_URL", cli.t.url())
        .env_remove("JOBQUEUE_PREFIX")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queues: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(queues[0]["ready"], 1, "the prefix came from the file");
    std::fs::write(&file, "PATH=/tmp\n").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .args(["--config", file.to_str().unwrap(), "queues"])
        .output()
        .unwrap();
    assert_eq!(code(&bad), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_cancel_and_limits_commands() {
    let cli = Cli::new("flow").await;
    let client = cli.client();
    let admin = client.admin();
    // A cron entry as a worker registers it (definition stored in Redis).
    jobqueue_core::cron::CronEntry::new("nightly", "0 0 3 * * *", &Ping { n: 0 })
        .unwrap()
        .time_zone("Europe/Paris")
        .unwrap()
        .register(admin.store())
        .await
        .unwrap();

    let entries = cli.json(&["cron", "list", "--json"]);
    assert_eq!(entries[0]["name"], "nightly");
    assert_eq!(entries[0]["time_zone"], "Europe/Paris");
    let table = cli.run(&["cron", "list"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.starts_with("QUEUE") && table.contains("0 0 3 * * *"),
        "{table}"
    );
    assert_eq!(code(&cli.run(&["cron", "pause", "nightly"])), 0);
    assert!(
        admin
            .cron_entry("default", "nightly")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_some()
    );
    assert_eq!(
        code(&cli.run(&["cron", "resume", "nightly", "-q", "default"])),
        0
    );
    let ran = cli.json(&["cron", "run", "nightly", "--json"]);
    let run_id: uuid::Uuid = ran["job_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        admin
            .cron_entry("default", "nightly")
            .await
            .unwrap()
            .unwrap()
            .last_enqueued_id,
        Some(run_id)
    );
    assert_eq!(
        code(&cli.run(&["cron", "pause", "nope"])),
        3,
        "unknown entry"
    );
    assert_eq!(
        code(&cli.run(&["cron", "pause", "bad name!"])),
        2,
        "bad name"
    );
    assert_eq!(code(&cli.run(&["cron", "remove", "nightly"])), 0);
    assert_eq!(code(&cli.run(&["cron", "remove", "nightly"])), 3);
    assert_eq!(cli.json(&["cron", "list", "--json"]), serde_json::json!([]));

    // Cancel a waiting job; it is then listed as cancelled.
    let later = client
        .enqueue_in(Duration::from_secs(3600), Ping { n: 1 })
        .await
        .unwrap();
    let cancelled = cli.json(&["cancel", &later.to_string(), "--json"]);
    assert_eq!(cancelled["from"], "scheduled");
    assert_eq!(code(&cli.run(&["cancel", &later.to_string()])), 3);
    assert_eq!(
        code(&cli.run(&["cancel", &later.to_string(), "-q", "nope"])),
        3
    );
    let listed = cli.json(&["jobs", "cancelled", "--json"]);
    assert_eq!(listed["jobs"][0]["id"], later.to_string());
    assert_eq!(
        cli.json(&["job", &later.to_string(), "--json"])["state"],
        "cancelled"
    );
    assert_eq!(
        code(&cli.run(&["retry", &later.to_string()])),
        5,
        "not retryable"
    );
    assert_eq!(cli.json(&["queues", "--json"])[0]["cancelled"], 1);

    // Queue limits: show, set, refuse bad values, clear.
    let none = cli.json(&["queues", "limits", "default", "--json"]);
    assert_eq!(
        none,
        serde_json::json!({ "max_running": null, "rate": null })
    );
    let set = cli.json(&[
        "queues",
        "limits",
        "default",
        "--max-running",
        "4",
        "--rate",
        "50/1s",
        "--json",
    ]);
    assert_eq!(set["max_running"], 4);
    assert_eq!(
        set["rate"],
        serde_json::json!({ "limit": 50, "per_ms": 1000, "mode": "bucket" })
    );
    let shown = cli.run(&["queues", "limits", "default"]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).trim(),
        "default: at most 4 running · 50 per 1s"
    );
    let strict = cli.json(&[
        "queues",
        "limits",
        "default",
        "--max-running",
        "4",
        "--rate",
        "50/1s strict",
        "--json",
    ]);
    assert_eq!(strict["rate"]["mode"], "strict");
    assert_eq!(
        admin.queue_limits("default").await.unwrap().rate,
        Some(jobqueue_core::RateLimit::strict(
            50,
            std::time::Duration::from_secs(1)
        ))
    );
    let shown = cli.run(&["queues", "limits", "default"]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).trim(),
        "default: at most 4 running · 50 per 1s (strict)"
    );
    for bad in [
        &["queues", "limits", "default", "--rate", "fast"][..],
        &["queues", "limits", "default", "--max-running", "0"],
        &[
            "queues",
            "limits",
            "default",
            "--clear",
            "--max-running",
            "2",
        ],
    ] {
        assert_eq!(code(&cli.run(bad)), 2, "{bad:?}");
    }
    assert_eq!(code(&cli.run(&["queues", "limits", "nope"])), 3);
    assert_eq!(
        admin.queue_limits("default").await.unwrap().max_running,
        Some(4)
    );
    let cleared = cli.json(&["queues", "limits", "default", "--clear", "--json"]);
    assert_eq!(
        cleared,
        serde_json::json!({ "max_running": null, "rate": null })
    );
    assert!(admin.queue_limits("default").await.unwrap().is_unlimited());

    let audit: Vec<String> = admin
        .audit_log(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert_eq!(
        audit,
        [
            "clear_limits",
            "set_limits",
            "set_limits",
            "cancel",
            "cron_remove",
            "cron_run",
            "cron_resume",
            "cron_pause",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_limits_command_shows_sets_and_clears_key_classes() {
    let cli = Cli::new("keys").await;
    let client = cli.client();
    let admin = client.admin();
    client
        .job(Ping { n: 1 })
        .flow_key("customer:7")
        .enqueue()
        .await
        .unwrap();

    let none = cli.json(&["queues", "key-limits", "default", "--json"]);
    assert_eq!(
        none,
        serde_json::json!({ "default": { "max_running": 1, "rate": null }, "classes": [] })
    );
    let default = cli.json(&["queues", "key-limits", "default", "customer", "--json"]);
    assert_eq!(default["configured"], false);
    assert_eq!(default["max_running"], 1);

    let set = cli.json(&[
        "queues",
        "key-limits",
        "default",
        "customer",
        "--max-running",
        "2",
        "--rate",
        "10/1s",
        "--json",
    ]);
    assert_eq!(
        set,
        serde_json::json!({
            "class": "customer",
            "configured": true,
            "max_running": 2,
            "rate": { "limit": 10, "per_ms": 1000, "mode": "bucket" },
        })
    );
    let stored = admin.key_limits("default").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].limits.max_running, Some(2));
    assert_eq!(
        stored[0].limits.rate.map(|r| (r.limit, r.per)),
        Some((10, Duration::from_secs(1)))
    );
    let shown = cli.run(&["queues", "key-limits", "default", "customer"]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).trim(),
        "default customer: at most 2 running · 10 per 1s"
    );
    let unlimited = cli.run(&["queues", "key-limits", "default", "type", "--unlimited"]);
    assert_eq!(
        String::from_utf8_lossy(&unlimited.stdout).trim(),
        "default type: no limits"
    );
    let listed = cli.run(&["queues", "key-limits", "default"]);
    let table = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CLASS"), "{table}");
    assert!(
        lines[1].starts_with("customer") && lines[1].contains("10/1s"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("type") && lines[2].contains("no limit"),
        "{table}"
    );
    assert!(lines[3].starts_with("(any other)"), "{table}");

    // Bad usage (2), unknown queue or class (3); nothing changes.
    let key_limits = |rest: &[&'static str]| {
        let mut args = vec!["queues", "key-limits"];
        args.extend_from_slice(rest);
        args
    };
    for (args, want) in [
        (key_limits(&["default", "customer", "--rate", "fast"]), 2),
        (
            key_limits(&["default", "customer", "--max-running", "0"]),
            2,
        ),
        (
            key_limits(&["default", "customer", "--clear", "--max-running", "2"]),
            2,
        ),
        (
            key_limits(&["default", "customer", "--unlimited", "--rate", "1/1s"]),
            2,
        ),
        (key_limits(&["default", "--max-running", "2"]), 2),
        (key_limits(&["default", "a:b", "--max-running", "2"]), 2),
        (key_limits(&["default", "a:b"]), 2),
        (key_limits(&["nope", "customer", "--max-running", "2"]), 3),
        (key_limits(&["default", "never-set", "--clear"]), 3),
    ] {
        let out = cli.run(&args);
        assert_eq!(
            code(&out),
            want,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
    let colon = cli.run(&key_limits(&["default", "a:b", "--max-running", "2"]));
    assert!(
        String::from_utf8_lossy(&colon.stderr).contains("must not contain ':'"),
        "{}",
        String::from_utf8_lossy(&colon.stderr)
    );
    assert_eq!(admin.key_limits("default").await.unwrap().len(), 2);

    let cleared = cli.json(&[
        "queues",
        "key-limits",
        "default",
        "customer",
        "--clear",
        "--json",
    ]);
    assert_eq!(
        cleared,
        serde_json::json!({ "class": "customer", "configured": false, "max_running": 1, "rate": null })
    );
    let left = admin.key_limits("default").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].class, "type");

    let audit: Vec<String> = admin
        .audit_log(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.action, e.target))
        .collect();
    assert_eq!(
        audit,
        [
            "clear_key_limits default customer",
            "set_key_limits default type no limits",
            "set_key_limits default customer at most 2 running · 10 per 1s",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_command_lists_sets_and_clears_flow_weights() {
    let cli = Cli::new("weights").await;
    let client = cli.client();
    let admin = client.admin();
    client
        .job(Ping { n: 1 })
        .flow_key("gold:7")
        .enqueue()
        .await
        .unwrap();

    let none = cli.json(&["queues", "weights", "default", "--json"]);
    assert_eq!(
        none,
        serde_json::json!({ "default": 1, "max": 1000, "weights": [] })
    );
    let default = cli.json(&["queues", "weights", "default", "gold", "--json"]);
    assert_eq!(
        default,
        serde_json::json!({ "name": "gold", "configured": false, "weight": 1 })
    );

    let set = cli.json(&[
        "queues", "weights", "default", "gold", "--weight", "3", "--json",
    ]);
    assert_eq!(
        set,
        serde_json::json!({ "name": "gold", "configured": true, "weight": 3 })
    );
    let key = cli.run(&["queues", "weights", "default", "free:4711", "--weight", "2"]);
    assert_eq!(
        String::from_utf8_lossy(&key.stdout).trim(),
        "default free:4711: weight 2"
    );
    let weights: Vec<(String, u32)> = admin
        .flow_weights("default")
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.name, w.weight))
        .collect();
    assert_eq!(
        weights,
        [("free:4711".to_owned(), 2), ("gold".to_owned(), 3)]
    );
    // A key without a weight of its own weighs its class's.
    let inherited = cli.run(&["queues", "weights", "default", "gold:7"]);
    assert_eq!(
        String::from_utf8_lossy(&inherited.stdout).trim(),
        "default gold:7: as class gold (weight 3)"
    );
    let listed = cli.run(&["queues", "weights", "default"]);
    let table = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CLASS OR KEY"), "{table}");
    assert!(
        lines[1].starts_with("free:4711") && lines[1].ends_with('2'),
        "{table}"
    );
    assert!(
        lines[2].starts_with("gold") && lines[2].ends_with('3'),
        "{table}"
    );
    assert!(lines[3].starts_with("(any other)"), "{table}");

    // Bad usage (2), unknown queue or weight (3); nothing changes.
    let weights_cmd = |rest: &[&'static str]| {
        let mut args = vec!["queues", "weights"];
        args.extend_from_slice(rest);
        args
    };
    for (args, want) in [
        (weights_cmd(&["default", "gold", "--weight", "0"]), 2),
        (weights_cmd(&["default", "gold", "--weight", "1001"]), 2),
        (weights_cmd(&["default", "gold", "--weight", "many"]), 2),
        (
            weights_cmd(&["default", "gold", "--clear", "--weight", "2"]),
            2,
        ),
        (weights_cmd(&["default", "--weight", "2"]), 2),
        (weights_cmd(&["default", "--clear"]), 2),
        (weights_cmd(&["default", "a\"b", "--weight", "2"]), 2),
        (weights_cmd(&["default", "a\"b"]), 2),
        (weights_cmd(&["nope", "gold", "--weight", "2"]), 3),
        (weights_cmd(&["default", "never-set", "--clear"]), 3),
    ] {
        let out = cli.run(&args);
        assert_eq!(
            code(&out),
            want,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
    assert_eq!(admin.flow_weights("default").await.unwrap().len(), 2);

    let cleared = cli.json(&["queues", "weights", "default", "gold", "--clear", "--json"]);
    assert_eq!(
        cleared,
        serde_json::json!({ "name": "gold", "configured": false, "weight": 1 })
    );
    let left = admin.flow_weights("default").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].name, "free:4711");

    let audit: Vec<String> = admin
        .audit_log(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.action, e.target))
        .collect();
    assert_eq!(
        audit,
        [
            "clear_flow_weight default gold",
            "set_flow_weight default free:4711 weight 2",
            "set_flow_weight default gold weight 3",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_waits_command_shows_the_waits_of_the_busiest_keys() {
    let cli = Cli::new("key-waits").await;
    let client = cli.client();
    // A queue no job was enqueued to is unknown (3).
    let unknown = cli.run(&["queues", "key-waits", "default"]);
    assert_eq!(code(&unknown), 3);

    // 12 keys of 1-12 jobs, run inline (through fetch_limited.lua, which
    // samples the waits).
    let mut total = 0u64;
    for i in 0..12u64 {
        for n in 0..=i {
            client
                .job(Ping { n })
                .flow_key(format!("t:k{i:02}"))
                .enqueue()
                .await
                .unwrap();
            total += 1;
        }
    }
    let empty = cli.run(&["queues", "key-waits", "default"]);
    assert_eq!(
        String::from_utf8_lossy(&empty.stdout).trim(),
        "default: no keyed job started yet"
    );
    let report = cli
        .t
        .drain(cli.t.worker().register::<Ping>())
        .await
        .unwrap();
    assert_eq!(report.succeeded() as u64, total);

    let waits = cli.json(&["queues", "key-waits", "default", "--json"]);
    assert_eq!(waits["samples"], total, "{waits}");
    let keys = waits["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 10, "{waits}");
    assert_eq!(keys[0]["key"], "t:k11", "{waits}");
    assert_eq!(keys[0]["starts"], 12, "{waits}");
    // The two quietest keys (1 and 2 starts) are "other".
    assert_eq!(waits["other"]["key"], "other", "{waits}");
    assert_eq!(waits["other"]["starts"], 3, "{waits}");

    let shown = cli.run(&["queues", "key-waits", "default"]);
    let table = String::from_utf8_lossy(&shown.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("KEY") && lines[0].contains("P99 MS"),
        "{table}"
    );
    assert!(lines[1].starts_with("t:k11"), "{table}");
    assert!(lines[11].starts_with("(other keys)"), "{table}");
    assert_eq!(
        lines[12],
        format!("over the latest {total} starts"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_keyed_lists_jobs_waiting_in_their_flow_keys() {
    let cli = Cli::new("keyed").await;
    let client = cli.client();
    let mut keyed = Vec::new();
    for n in 0..3 {
        keyed.push(
            client
                .job(Ping { n })
                .flow_key("customer:7")
                .enqueue()
                .await
                .unwrap(),
        );
    }
    let plain = client.enqueue(Ping { n: 9 }).await.unwrap();

    let page = cli.json(&["jobs", "keyed", "--limit", "2", "--json"]);
    let ids: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [keyed[0].to_string(), keyed[1].to_string()]);
    assert_eq!(page["jobs"][0]["flow_key"], "customer:7");
    assert_eq!(page["total"], 3);
    assert_eq!(page["next_cursor"], 2);
    let rest = cli.json(&["jobs", "keyed", "--cursor", "2", "--json"]);
    assert_eq!(rest["jobs"][0]["id"], keyed[2].to_string());

    let out = cli.run(&["jobs", "keyed"]);
    assert_eq!(code(&out), 0);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("ID") && table.contains("KEY"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&keyed[0].to_string()) && l.contains("customer:7")),
        "{table}"
    );
    assert!(!table.contains(&plain.to_string()), "{table}");
    // The plain ready listing has no KEY column.
    let ready = cli.run(&["jobs", "ready"]);
    assert!(!String::from_utf8_lossy(&ready.stdout).contains("KEY"));
    // A keyed job is found by id, with its key.
    let shown = cli.run(&["job", &keyed[1].to_string()]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("flow key  customer:7"),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );

    // Keyed jobs are deleted, one by id or all; retrying them is refused.
    assert_eq!(code(&cli.run(&["retry", &keyed[0].to_string()])), 5);
    assert_eq!(code(&cli.run(&["retry", "--all-keyed"])), 5);
    let one = cli.json(&["delete", &keyed[0].to_string(), "--json"]);
    assert_eq!(one["count"], 1, "{one}");
    let all = cli.json(&["delete", "--all-keyed", "--json"]);
    assert_eq!(all["count"], 2, "{all}");
    let left = cli.json(&["jobs", "keyed", "--json"]);
    assert_eq!(left["total"], 0, "{left}");
    let ready = cli.json(&["jobs", "ready", "--json"]);
    assert_eq!(
        ready["jobs"][0]["id"],
        plain.to_string(),
        "the plain job stays"
    );
}

/// Issue 12, point 5: basic-auth passwords need the strength of a token
/// (16+ characters); `serve` refuses to start with a weaker one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_weak_basic_auth_passwords() {
    let cli = Cli::new("weak-basic").await;
    let (mut serve, _) = cli.serve(&["--basic-auth", "ops:hunter2"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = serve.kill();
            let _ = serve.wait();
            panic!("serve started with a 7-character basic-auth password");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at least 16 characters"), "{stderr}");
}

/// The keys of `pattern` (SCAN, as the command does).
async fn keys_matching(t: &TestRedis, pattern: &str) -> Vec<String> {
    let mut conn = t.connection().await.unwrap();
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(page);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_all_keys_removes_only_its_own_prefix() {
    let cli = Cli::new("purge-all").await;
    let other = Cli::new("purge-other").await;
    let (mine, theirs) = (cli.t.prefix().to_owned(), other.t.prefix().to_owned());
    for c in [&cli, &other] {
        c.client().enqueue(Ping { n: 1 }).await.unwrap();
        c.client()
            .enqueue_in(Duration::from_secs(3600), Ping { n: 2 })
            .await
            .unwrap();
    }
    // More keys than one SCAN page, and a key that only starts with the
    // same text (not under `<prefix>:`).
    let mut conn = cli.t.connection().await.unwrap();
    let mut pipe = redis::pipe();
    for i in 0..2500 {
        pipe.cmd("SET")
            .arg(format!("{mine}:junk:{i}"))
            .arg(i)
            .ignore();
    }
    pipe.cmd("SET")
        .arg(format!("{mine}x:sibling"))
        .arg(1)
        .ignore();
    pipe.query_async::<()>(&mut conn).await.unwrap();
    let before = keys_matching(&cli.t, &format!("{mine}:*")).await.len();
    let theirs_before = keys_matching(&other.t, &format!("{theirs}:*")).await;
    assert!(before > 2500, "{before}");
    assert!(!theirs_before.is_empty());

    // Without a terminal and without --yes: refused, nothing removed.
    let refused = cli.run(&["purge", "--all-keys"]);
    assert_eq!(code(&refused), 5);
    let said = String::from_utf8_lossy(&refused.stderr);
    let shown = format!(
        "{},{:03} key(s) under '{mine}:'",
        before / 1000,
        before % 1000
    );
    assert!(said.contains(&shown), "{said}");
    assert_eq!(
        keys_matching(&cli.t, &format!("{mine}:*")).await.len(),
        before
    );
    // A queue and --all-keys together make no sense.
    assert_eq!(
        code(&cli.run(&["purge", "default", "--all-keys", "--yes"])),
        2
    );

    let purged = cli.json(&["purge", "--all-keys", "--yes", "--json"]);
    assert_eq!(purged["count"], before as u64);
    assert_eq!(purged["prefix"], mine.as_str());
    assert!(keys_matching(&cli.t, &format!("{mine}:*")).await.is_empty());
    let mut sibling: Option<String> = redis::cmd("GET")
        .arg(format!("{mine}x:sibling"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(sibling.take().as_deref(), Some("1"));
    let _: () = redis::cmd("DEL")
        .arg(format!("{mine}x:sibling"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut theirs_after = keys_matching(&other.t, &format!("{theirs}:*")).await;
    let mut theirs_before = theirs_before;
    theirs_before.sort();
    theirs_after.sort();
    assert_eq!(
        theirs_after, theirs_before,
        "another prefix's keys were touched"
    );
}

/// A probe opened `jobqueue serve --base-path /jobs`'s printed address in
/// a browser and was redirected to `/jobs/login?next=…` over and over:
/// the dashboard answered only at the root. It answers under the base path
/// now, and at the root still (behind a proxy that strips the path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_under_its_base_path_and_at_the_root() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cli = Cli::new("serve-base-path").await;
    let credentials = ["--basic-auth", "ops:a-password-of-16-chars"];
    let (mut serve, port) = cli.serve(&[&["--base-path", "/jobs"][..], &credentials].concat());
    let get = |path: &'static str| async move {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        Some(response)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while get("/jobs/login").await.is_none() {
        assert!(std::time::Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = |response: &str| response.split(' ').nth(1).unwrap_or_default().to_owned();
    let direct = get("/jobs/login").await.unwrap();
    let stripped = get("/login").await.unwrap();
    let page = get("/jobs/").await.unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(status(&direct), "200", "{direct}");
    assert_eq!(status(&stripped), "200", "{stripped}");
    assert_eq!(status(&page), "303", "{page}");
    assert!(
        page.contains("location: /jobs/login?next=")
            || page.contains("Location: /jobs/login?next="),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_and_workflow_commands_list_show_refuse_and_cancel() {
    let cli = Cli::new("workflows").await;
    let client = cli.client();
    let id = client
        .workflow("nightly <import>")
        .node("a", client.job(Ping { n: 1 }))
        .node("b", client.job(Ping { n: 2 }).queue("other"))
        .edge("a", "b")
        .enqueue()
        .await
        .unwrap();
    let id_text = id.to_string();
    let listed = cli.json(&["workflows", "--json"]);
    assert_eq!(listed[0]["id"], id_text.as_str());
    assert_eq!(listed[0]["state"], "running");
    assert_eq!(listed[0]["counts"]["pending"], 2);
    let table = cli.run(&["workflows", "--name", "import"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("nightly <import>") && text.contains("running"),
        "{text}"
    );
    let shown = cli.json(&["workflow", &id_text, "--json"]);
    assert_eq!(shown["nodes"][1]["name"], "b");
    assert_eq!(shown["nodes"][1]["state"], "waiting");
    // Only a failed node can be retried: a conflict, nothing changes.
    let refused = cli.run(&["workflow", &id_text, "--retry-from", "a"]);
    assert_eq!(
        code(&refused),
        6,
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(code(&cli.run(&["workflows", "--state", "bogus"])), 2);
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(code(&cli.run(&["workflow", &unknown])), 3);
    let cancelled = cli.json(&["workflow", &id_text, "--cancel", "--json"]);
    assert_eq!(cancelled["cancelled"], 2);
    let listed = cli.json(&["workflows", "--state", "cancelled", "--json"]);
    assert_eq!(listed[0]["id"], id_text.as_str());
    let audit = client.admin().audit_log(None, 10).await.unwrap();
    assert!(
        audit.iter().any(|entry| entry.action == "workflow_cancel"),
        "written to the audit log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_commands_list_show_and_cancel() {
    let cli = Cli::new("batches").await;
    let client = cli.client();
    let batch = client
        .batch()
        .description("nightly \u{202e}import")
        .on_complete(Ping { n: 0 })
        .enqueue((1..=3).map(|n| Ping { n }))
        .await
        .unwrap();
    let id = batch.id().to_string();

    let listed = cli.json(&["batches", "--json"]);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["total"], 3);
    assert_eq!(listed[0]["state"], "open");
    let table = cli.run(&["batches"]);
    let table = String::from_utf8_lossy(&table.stdout);
    // The hidden bidi control is shown escaped, never raw.
    assert!(table.contains("nightly \\u{202E}import"), "{table}");

    let shown = cli.json(&["batch", &id, "--json"]);
    assert_eq!(shown["pending"], 3);
    assert_eq!(shown["callbacks"][0]["kind"], "complete");
    let cancelled = cli.json(&["batch", &id, "--cancel", "--json"]);
    assert_eq!(cancelled["action"], "batch_cancel");
    assert_eq!(cancelled["jobs"], 3);
    let shown = cli.json(&["batch", &id, "--json"]);
    assert_eq!(
        (shown["state"].as_str(), shown["cancelled"].as_u64()),
        (Some("cancelled"), Some(3))
    );
    assert_eq!(
        cli.json(&["batches", "--state", "open", "--json"]),
        serde_json::json!([])
    );

    assert_eq!(
        code(&cli.run(&["batch", &uuid::Uuid::now_v7().to_string()])),
        3
    );
    assert_eq!(code(&cli.run(&["batches", "--state", "weird"])), 2);

    // Nested: the parent lists its child with its state there, the child
    // names its parent.
    let parent = client.batch().create().await.unwrap();
    let child = parent.child().create().await.unwrap();
    let (parent_id, child_id) = (parent.id().to_string(), child.id().to_string());
    let shown = cli.json(&["batch", &parent_id, "--json"]);
    assert_eq!(shown["children"][0]["id"], child_id.as_str());
    assert_eq!(shown["children"][0]["state"], "pending");
    assert_eq!(shown["total"], 1);
    let shown = cli.json(&["batch", &child_id, "--json"]);
    assert_eq!(shown["parent"]["id"], parent_id.as_str());
    let text = cli.run(&["batch", &parent_id]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("child batch") && text.contains(&child_id),
        "{text}"
    );
}
