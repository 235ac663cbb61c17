//! `jobqueue keys status` and `jobqueue keys rotate` through the real
//! binary: status counts a queue's payloads per key; rotate re-encrypts the
//! ready, prioritised and scheduled records under the active key (in
//! batches), a second pass finds them current, and rotating without keys is
//! a usage error (exit 2).

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jobqueue_core::{Client, Job, JobContext, JobError, Keyring, PayloadCodec};
use jobqueue_testing::TestRedis;
use serde::{Deserialize, Serialize};

const K1: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const K2: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

#[derive(Debug, Serialize, Deserialize)]
struct Note {
    n: u64,
}

impl Job for Note {
    const NAME: &'static str = "note";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

fn run(t: &TestRedis, keys: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobqueue"));
    command
        .args(args)
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env_remove("JOBQUEUE_CONFIG")
        .env_remove("JOBQUEUE_PAYLOAD_KEYS")
        .stdin(Stdio::null());
    if let Some(keys) = keys {
        command.env("JOBQUEUE_PAYLOAD_KEYS", keys);
    }
    command.output().expect("run jobqueue")
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[tokio::test]
async fn keys_rotate_re_encrypts_every_stored_payload_and_status_counts_them() {
    let t = TestRedis::named("cli-payload-keys")
        .await
        .expect("test Redis");
    let k1 = PayloadCodec::plain().encrypt(Keyring::parse(K1).expect("k1"));
    let producer = Client::with_config(t.client_config().payload_codec(k1))
        .await
        .expect("client");
    let mut scheduled = Vec::new();
    for n in 0..60 {
        let job = producer.job(Note { n }).queue("default");
        let job = match n % 3 {
            0 => job,
            1 => job.priority(3),
            _ => job.delay(Duration::from_secs(3600)),
        };
        let id = job.enqueue().await.expect("enqueue");
        if n % 3 == 2 {
            scheduled.push((n, id));
        }
    }
    let status = json_of(&run(
        &t,
        None,
        &["keys", "status", "--queue", "default", "--json"],
    ));
    assert_eq!(status["by_key"]["k1"], 60, "{status}");

    let refused = run(&t, None, &["keys", "rotate", "--queue", "default"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("JOBQUEUE_PAYLOAD_KEYS"));

    let both = format!("{K2},{K1}");
    let args = [
        "keys", "rotate", "--queue", "default", "--batch", "7", "--json",
    ];
    let report = json_of(&run(&t, Some(&both), &args));
    assert_eq!(
        (
            &report["rotated"],
            &report["failed"],
            &report["moved"],
            &report["active_key"]
        ),
        (&60.into(), &0.into(), &0.into(), &"k2".into()),
        "{report}"
    );
    let status = json_of(&run(
        &t,
        None,
        &["keys", "status", "--queue", "default", "--json"],
    ));
    assert_eq!(status["by_key"], serde_json::json!({"k2": 60}), "{status}");
    let again = json_of(&run(&t, Some(&both), &args));
    assert_eq!(
        (&again["rotated"], &again["current"]),
        (&0.into(), &60.into())
    );

    // k2 alone reads them now; nothing else of the job changed.
    let k2_only = PayloadCodec::plain().encrypt(Keyring::parse(K2).expect("k2"));
    for (n, id) in scheduled {
        let mut job = t
            .client()
            .admin()
            .job("default", id)
            .await
            .expect("job")
            .expect("kept");
        job.reveal_payload(&k2_only).expect("k2 decrypts it");
        assert_eq!(job.payload, format!("{{\"n\":{n}}}"));
    }
    let info = t.client().admin().queue("default").await.expect("queue");
    assert_eq!((info.ready, info.scheduled), (40, 20));
}
