//! Encoding a job with its options into a [`PreparedJob`]: every option is
//! checked here, before anything is sent.

use chrono::Utc;
use uuid::Uuid;

use crate::client::handle::{Client, MAX_PRIORITY};
use crate::client::options::{Expiry, JobOptions, RunAt};
use crate::client::prepared::{Destination, PreparedJob, PreparedUnique};
use crate::client::unique::{key_digest, ttl_ms};
use crate::error::Error;
use crate::job::stateful::StatefulJob;
use crate::job::validate_job_type;
use crate::store::ScheduleAt;
use crate::wire::payload_codec::PayloadCodec;
use crate::wire::record::{Envelope, encode_job_record, encode_record, split_record};

impl Client {
    /// Encodes a job with options into a [`PreparedJob`].
    pub(crate) fn prepare<J: StatefulJob>(
        &self,
        job: &J,
        options: &JobOptions,
    ) -> Result<PreparedJob, Error> {
        self.prepare_in(job, options, None)
    }

    /// Encodes a job with options into a [`PreparedJob`] whose envelope
    /// names `batch` (the batch it joins), when given.
    pub(crate) fn prepare_in<J: StatefulJob>(
        &self,
        job: &J,
        options: &JobOptions,
        batch: Option<Uuid>,
    ) -> Result<PreparedJob, Error> {
        let queue = check_options::<J>(options)?;
        let mut envelope = envelope_for(job, options)?;
        envelope.batch = batch;
        let (record, payload_len, unique) = encode(job, &mut envelope, options)?;
        let identified = options.id.is_some() || options.idempotency.is_some();
        let record = encode_payload(self.config().codec(), &mut envelope, record, identified)?;
        let limit = self.config().max_payload_bytes;
        if payload_len > limit {
            return Err(Error::PayloadTooLarge {
                op: OP,
                job_type: J::NAME.to_owned(),
                size: payload_len,
                limit,
            });
        }
        let destination = destination_of(options, &envelope, unique.is_some())?;
        let idempotency = options.idempotency.as_ref().map(|key| {
            crate::client::idempotency::prepare_key(
                key,
                J::NAME,
                &record,
                envelope.digest.as_deref(),
            )
        });
        Ok(PreparedJob {
            id: envelope.id,
            queue: queue.to_owned(),
            record,
            destination,
            unique,
            dependents: options.dependents,
            after: crate::client::after::distinct_parents(&options.after),
            on_parent_failure: options.on_parent_failure,
            given_id: options.id.is_some(),
            idempotency,
            track: envelope.track,
        })
    }
}

/// The operation enqueue errors name.
const OP: &str = "enqueue";

/// Checks the options that need no encoding; returns the job's queue.
fn check_options<J: StatefulJob>(options: &JobOptions) -> Result<&str, Error> {
    validate_job_type(J::NAME)?;
    if options.priority.abs() > MAX_PRIORITY {
        return Err(Error::invalid(
            OP,
            format!(
                "priority {} is outside -{MAX_PRIORITY}..={MAX_PRIORITY}",
                options.priority
            ),
        ));
    }
    if options.max_attempts == Some(0) {
        return Err(Error::invalid(OP, "max_attempts must be at least 1"));
    }
    let queue = options.queue.as_deref().unwrap_or(J::QUEUE);
    crate::store::keys::validate_queue_name(queue)?;
    crate::client::after::validate_parents(options)?;
    if let Some(id) = options.id {
        validate_given_id(id, options)?;
    }
    if let Some(key) = &options.idempotency {
        crate::client::idempotency::validate(key, options)?;
    }
    Ok(queue)
}

/// The envelope of a job with `options`: only what differs from the job
/// type's defaults is written (smaller records).
fn envelope_for<J: StatefulJob>(job: &J, options: &JobOptions) -> Result<Envelope, Error> {
    let mut envelope = Envelope::new(J::NAME);
    if let Some(id) = options.id {
        envelope.id = id;
    }
    envelope.max_attempts = options
        .max_attempts
        .filter(|&attempts| attempts != J::MAX_ATTEMPTS);
    envelope.priority = options.priority;
    envelope.backoff = options.backoff.clone();
    envelope.timeout_ms = match options.timeout {
        Some(timeout) if timeout != J::TIMEOUT => {
            Some(timeout.map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)))
        }
        _ => None,
    };
    envelope.version = J::VERSION;
    envelope.track = options.track || J::TRACK;
    envelope.dependents = options.dependents;
    envelope.flow = options.flow_key.clone().or_else(|| job.flow_key());
    if let Some(key) = &envelope.flow {
        crate::job::flow_key::validate_flow_key(key)?;
    }
    envelope.expires_at = options.expires.map(|expiry| match expiry {
        Expiry::In(ttl) => Utc::now()
            .timestamp_millis()
            .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)),
        Expiry::At(at) => at.timestamp_millis(),
    });
    envelope.tags = crate::job::tags::validate_tags(&options.tags)?;
    envelope.traceparent = match &options.traceparent {
        Some(given) => Some(crate::wire::trace_context::validate(given)?.to_owned()),
        None => crate::wire::trace_context::current(),
    };
    Ok(envelope)
}

/// Encodes the record; for a unique job, its key's digest goes into the
/// envelope first (the default key hashes the payload, so the payload is
/// encoded first). Returns the record, the payload's size and the unique
/// settings.
fn encode<J: StatefulJob>(
    job: &J,
    envelope: &mut Envelope,
    options: &JobOptions,
) -> Result<(Vec<u8>, usize, Option<PreparedUnique>), Error> {
    let Some(settings) = &options.unique else {
        let (record, payload_len) = encode_job_record(envelope, job)?;
        return Ok((record, payload_len, None));
    };
    let payload = serde_json::to_vec(job).map_err(|source| Error::Encode {
        op: OP,
        job_type: J::NAME.to_owned(),
        source,
    })?;
    let digest = key_digest(J::NAME, settings.key.as_deref(), &payload);
    envelope.unique = Some(digest.clone());
    let unique = PreparedUnique {
        digest,
        ttl_ms: ttl_ms(settings.ttl)?,
        mode: settings.mode,
    };
    Ok((
        encode_record(envelope, &payload)?,
        payload.len(),
        Some(unique),
    ))
}

/// The record with its payload encoded by `codec` (compressed,
/// encrypted), or as it is when the codec leaves the payload plain. An
/// `identified` job (a given id or an idempotency key: its retried enqueue
/// is compared with the first) that gets encrypted carries the keyed
/// digest of its plain content in the envelope.
fn encode_payload(
    codec: &PayloadCodec,
    envelope: &mut Envelope,
    record: Vec<u8>,
    identified: bool,
) -> Result<Vec<u8>, Error> {
    if codec.is_plain() {
        return Ok(record);
    }
    let payload_error = |source| Error::Payload { op: OP, source };
    let payload = split_record(&record).map_or(&[][..], |(_, payload)| payload);
    let encoded = codec
        .encode(&envelope.job_type, payload)
        .map_err(payload_error)?;
    let Some(encoded) = encoded else {
        return Ok(record);
    };
    if identified {
        envelope.digest = codec
            .content_digest(&envelope.job_type, payload)
            .map_err(payload_error)?;
    }
    envelope.enc = Some(encoded.encoding);
    encode_record(envelope, &encoded.stored)
}

/// Where the job goes: ready (the bare `RPUSH`), the priority set (a
/// priority or a flow key), or scheduled.
fn destination_of(
    options: &JobOptions,
    envelope: &Envelope,
    unique: bool,
) -> Result<Destination, Error> {
    let destination = match options.run_at {
        // A tagged job takes the script too: its tags are indexed in the
        // same step (`lua/include/tags.lua`).
        RunAt::Now
            if options.priority != 0 || envelope.flow.is_some() || !envelope.tags.is_empty() =>
        {
            Destination::Priority
        }
        RunAt::Now => Destination::Ready,
        RunAt::In(delay) => Destination::Scheduled(ScheduleAt::In(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        )),
        RunAt::At(at) => Destination::Scheduled(ScheduleAt::At(at.timestamp_millis())),
    };
    if unique
        && let Destination::Scheduled(ScheduleAt::In(ms)) = destination
        && ms > crate::client::unique::MAX_UNIQUE_TTL_MS
    {
        return Err(Error::invalid(
            OP,
            format!(
                "a unique job's delay must be at most {} ms",
                crate::client::unique::MAX_UNIQUE_TTL_MS
            ),
        ));
    }
    Ok(destination)
}

/// Checks a producer-given job id and the options it comes with.
fn validate_given_id(id: Uuid, options: &JobOptions) -> Result<(), Error> {
    if id.get_version_num() != 7 {
        return Err(Error::invalid(
            OP,
            format!(
                "job id {id} is not a UUID v7: make it with Uuid::now_v7() once and keep it for \
                 the retries (its timestamp is the job's enqueue time, which orders it in its queue)"
            ),
        ));
    }
    if options.unique.is_some() {
        return Err(Error::invalid(
            OP,
            "a job with a given id (.id) cannot also be unique (.unique_for): a unique job is \
             deduplicated by its key, and a retried unique enqueue returns the job holding it",
        ));
    }
    Ok(())
}
