//! The Rust adapter's producer mode: each request becomes calls of the
//! real `jobqueue` client (`JobBuilder`, `enqueue_prepared_outcomes`,
//! `job_status_in`); each reply is one JSON value.

use std::time::Duration;

use jobqueue::{BackoffPolicy, Client, Error, ErrorKind, PreparedJob, StatefulJob, UniqueOutcome};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::protocol::{Backoff, JobSpec, Options, Request, error_kind};
use crate::rust_adapter::handlers::{Crash, Echo, Fail, Permanent, Record, Sleep};

/// An idempotency key's window when the request gives none (the Rust
/// client's id window, 1 h).
const DEFAULT_IDEMPOTENCY_WINDOW_MS: u64 = 3_600_000;

/// A refused request: its ADAPTER.md error kind and message.
#[derive(Debug)]
pub struct Refusal {
    kind: &'static str,
    message: String,
}

impl Refusal {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The reply line.
    pub fn reply(&self) -> Value {
        json!({"ok": false, "error": self.kind, "message": self.message})
    }
}

impl From<Error> for Refusal {
    fn from(err: Error) -> Self {
        let kind = match err.kind() {
            ErrorKind::InvalidArgument => error_kind::INVALID,
            ErrorKind::Conflict => error_kind::DUPLICATE,
            ErrorKind::Unavailable | ErrorKind::OutcomeUnknown => error_kind::REDIS,
            _ => error_kind::OTHER,
        };
        Self::new(kind, err.to_string())
    }
}

/// A deliberate protocol break, for the suite's test of itself only
/// (`JOBQUEUE_CONFORMANCE_BREAK`, ADAPTER.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliberateBreak {
    /// `priority`: jobs are enqueued without their priority.
    DropPriority,
}

impl DeliberateBreak {
    /// The break `JOBQUEUE_CONFORMANCE_BREAK` names, if this adapter has it.
    pub fn from_env() -> Option<Self> {
        match std::env::var(crate::adapters::ENV_BREAK).as_deref() {
            Ok("priority") => Some(Self::DropPriority),
            _ => None,
        }
    }

    fn apply(self, request: &mut Request) {
        let Self::DropPriority = self;
        let jobs: Vec<&mut Options> = match request {
            Request::Enqueue { options, .. } => vec![options],
            Request::EnqueueMany { jobs, .. } | Request::Chain { jobs, .. } => {
                jobs.iter_mut().map(|job| &mut job.options).collect()
            }
            Request::Status { .. } => Vec::new(),
        };
        for options in jobs {
            options.priority = None;
        }
    }
}

/// Answers one request line (with a deliberate break applied, when one is given).
pub async fn answer(client: &Client, line: &str, broken: Option<DeliberateBreak>) -> Value {
    let mut request: Request = match serde_json::from_str(line) {
        Ok(request) => request,
        Err(err) => {
            return Refusal::new(error_kind::INVALID, format!("unreadable request: {err}")).reply();
        }
    };
    if let Some(broken) = broken {
        broken.apply(&mut request);
    }
    match handle(client, request).await {
        Ok(reply) => reply,
        Err(refusal) => refusal.reply(),
    }
}

async fn handle(client: &Client, request: Request) -> Result<Value, Refusal> {
    match request {
        Request::Enqueue {
            queue,
            job_type,
            payload,
            options,
        } => {
            let job = prepare(
                client,
                &queue,
                &JobSpec {
                    job_type,
                    payload,
                    options,
                },
                None,
            )?;
            let outcome = single_outcome(client.enqueue_prepared_outcomes([job]).await?)?;
            Ok(match outcome {
                UniqueOutcome::Duplicate { existing } | UniqueOutcome::Debounced { existing } => {
                    json!({"ok": true, "id": existing.to_string(), "duplicate": true})
                }
                other => json!({"ok": true, "id": other.id().to_string()}),
            })
        }
        Request::EnqueueMany { queue, jobs } => {
            let prepared = jobs
                .iter()
                .map(|spec| prepare(client, &queue, spec, None))
                .collect::<Result<Vec<_>, _>>()?;
            let ids = client.enqueue_prepared(prepared).await?;
            Ok(json!({"ok": true, "ids": ids.iter().map(Uuid::to_string).collect::<Vec<_>>()}))
        }
        Request::Chain { queue, jobs } => {
            let mut prepared: Vec<PreparedJob> = Vec::with_capacity(jobs.len());
            for (index, spec) in jobs.iter().enumerate() {
                let parent = prepared.last().map(PreparedJob::id);
                let link = ChainLink {
                    parent,
                    has_child: index + 1 < jobs.len(),
                };
                prepared.push(prepare(client, &queue, spec, Some(link))?);
            }
            let ids = client.enqueue_prepared(prepared).await?;
            Ok(json!({"ok": true, "ids": ids.iter().map(Uuid::to_string).collect::<Vec<_>>()}))
        }
        Request::Status { queue, id } => {
            let id = parse_id(&id)?;
            let status = client.store().job_status_in(&queue, id).await?;
            Ok(match status {
                None => json!({"ok": true, "status": null}),
                Some(status) => json!({"ok": true, "status": {
                    "state": status.state.as_str(),
                    "result": status.result,
                    "error": status.error,
                }}),
            })
        }
    }
}

fn single_outcome(
    mut outcomes: Vec<Result<UniqueOutcome, Error>>,
) -> Result<UniqueOutcome, Refusal> {
    match outcomes.pop() {
        Some(outcome) => Ok(outcome?),
        None => Err(Refusal::new(
            error_kind::OTHER,
            "the client returned no outcome",
        )),
    }
}

fn parse_id(id: &str) -> Result<Uuid, Refusal> {
    Uuid::parse_str(id)
        .map_err(|err| Refusal::new(error_kind::INVALID, format!("id {id:?}: {err}")))
}

/// Where a chain's job sits: after which job, and whether one follows it.
#[derive(Clone, Copy)]
struct ChainLink {
    parent: Option<Uuid>,
    has_child: bool,
}

/// Encodes one job with the real client, dispatching on its type name to
/// the conformance handlers' Rust types (the only ones this producer knows).
fn prepare(
    client: &Client,
    queue: &str,
    spec: &JobSpec,
    link: Option<ChainLink>,
) -> Result<PreparedJob, Refusal> {
    let payload = spec.payload.clone();
    let options = &spec.options;
    match spec.job_type.as_str() {
        <Echo as StatefulJob>::NAME => build(client, Echo(payload), queue, options, link),
        <Record as StatefulJob>::NAME => build(client, Record(payload), queue, options, link),
        <Fail as StatefulJob>::NAME => build(client, Fail(payload), queue, options, link),
        <Permanent as StatefulJob>::NAME => build(client, Permanent(payload), queue, options, link),
        <Sleep as StatefulJob>::NAME => build(client, Sleep(payload), queue, options, link),
        <Crash as StatefulJob>::NAME => build(client, Crash(payload), queue, options, link),
        other => Err(Refusal::new(
            match jobqueue::validate_job_type(other) {
                Err(_) => error_kind::INVALID,
                Ok(()) => error_kind::UNSUPPORTED,
            },
            format!("the Rust adapter produces only the conformance job types, not {other:?}"),
        )),
    }
}

fn build<J: StatefulJob>(
    client: &Client,
    job: J,
    queue: &str,
    options: &Options,
    link: Option<ChainLink>,
) -> Result<PreparedJob, Refusal> {
    let mut builder = client.job(job).queue(queue);
    if let Some(ms) = options.delay_ms.filter(|ms| *ms > 0) {
        builder = builder.delay(Duration::from_millis(ms));
    }
    if let Some(priority) = options.priority {
        let priority = i16::try_from(priority).map_err(|_| {
            Refusal::new(
                error_kind::INVALID,
                format!("priority {priority} is out of range"),
            )
        })?;
        builder = builder.priority(priority);
    }
    if let Some(attempts) = options.max_attempts {
        builder = builder.max_attempts(attempts);
    }
    if let Some(ms) = options.timeout_ms {
        builder = builder.timeout(Duration::from_millis(ms));
    }
    if let Some(backoff) = &options.backoff {
        builder = builder.backoff(match *backoff {
            Backoff::FixedMs(ms) => BackoffPolicy::fixed(Duration::from_millis(ms)),
            Backoff::Exponential {
                base_ms,
                factor,
                max_ms,
            } => BackoffPolicy::exponential(
                Duration::from_millis(base_ms),
                factor,
                Duration::from_millis(max_ms),
            )
            .with_jitter(0.0),
        });
    }
    if let Some(id) = &options.id {
        builder = builder.id(parse_id(id)?);
    }
    if let Some(tags) = &options.tags {
        builder = builder.tags(tags.iter().cloned());
    }
    if let Some(ms) = options.unique_for_ms {
        builder = builder.unique_for(Duration::from_millis(ms));
        if let Some(key) = &options.unique_key {
            builder = builder.unique_key(key.clone());
        }
    }
    if let Some(key) = &options.idempotency_key {
        let window = options
            .idempotency_window_ms
            .unwrap_or(DEFAULT_IDEMPOTENCY_WINDOW_MS);
        builder = builder.idempotency_key(key.clone(), Duration::from_millis(window));
    }
    if let Some(key) = &options.flow_key {
        builder = builder.flow_key(key.clone());
    }
    if options.track == Some(true) {
        builder = builder.track();
    }
    if let Some(ms) = options.expires_in_ms {
        builder = builder.expires_in(Duration::from_millis(ms));
    }
    if options.version.is_some_and(|version| version != 0) {
        return Err(Refusal::new(
            error_kind::UNSUPPORTED,
            "the Rust client writes a job type's own VERSION; a per-enqueue version is not offered",
        ));
    }
    if let Some(link) = link {
        if let Some(parent) = link.parent {
            builder = builder.after((queue, parent));
        }
        if link.has_child {
            builder = builder.with_dependents();
        }
    }
    Ok(builder.prepare()?)
}
