//! Enqueueing many jobs in one round trip: each queue's jobs grouped into
//! as few commands and script calls as their kinds allow, each job with
//! its own outcome.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use uuid::Uuid;

use crate::client::handle::Client;
use crate::client::idempotency::{key_outcome, keyed_enqueue};
use crate::client::options::JobOptions;
use crate::client::prepared::{Destination, PreparedJob};
use crate::client::send::{id_enqueue, id_outcome, unique_enqueue};
use crate::client::unique::UniqueOutcome;
use crate::error::{Error, ErrorKind};
use crate::job::stateful::StatefulJob;
use crate::store::enqueue::EnqueueCall;
use crate::store::keys::QueueKeys;
use crate::store::ops::enqueue_idempotent::{KeyOutcome, KeyedEnqueue, parse_idempotent_replies};
use crate::store::ops::enqueue_unique::{MAX_UNIQUE_PER_CALL, UniqueEnqueue, parse_unique_replies};
use crate::store::ops::enqueue_with_id::{
    IdEnqueue, IdOutcome, MAX_WITH_ID_PER_CALL, parse_with_id_replies,
};
use crate::store::scripts::MAX_RECORDS_PER_CALL;

impl Client {
    /// Enqueues many jobs of one type with their type's defaults, in one
    /// round trip (batches of up to 1000 records per script call, all
    /// pipelined). Returns the ids in order.
    pub async fn enqueue_bulk<J, I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        J: StatefulJob,
        I: IntoIterator<Item = J>,
    {
        let options = JobOptions::default();
        let prepared = jobs
            .into_iter()
            .map(|job| self.prepare(&job, &options))
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue_prepared(prepared).await
    }

    /// Enqueues prepared jobs (any types, queues and options) in one round
    /// trip. Jobs for the same queue keep their order. Returns their ids;
    /// fails with the first job's error when a job was refused (a job id
    /// another job holds, see [`JobBuilder::id`](crate::JobBuilder::id)) — the others were
    /// enqueued, and retrying the same jobs with their ids is safe. Use
    /// [`Client::enqueue_prepared_outcomes`] for each job's own outcome.
    ///
    /// Two jobs of one call sharing a generated id (a [`PreparedJob`] sent
    /// twice) are refused with [`Error::DuplicateId`] before anything is
    /// sent.
    pub async fn enqueue_prepared<I>(&self, jobs: I) -> Result<Vec<Uuid>, Error>
    where
        I: IntoIterator<Item = PreparedJob>,
    {
        self.enqueue_prepared_outcomes(jobs)
            .await?
            .into_iter()
            .map(|outcome| outcome.map(|outcome| outcome.id()))
            .collect()
    }

    /// Enqueues prepared jobs as [`Client::enqueue_prepared`] does and says
    /// what happened to each, in order: what uniqueness or a given id did
    /// ([`UniqueOutcome`]), or the job's own refusal (a given id another
    /// job holds: [`Error::DuplicateId`]; a parent that does not exist).
    /// The outer error is the call's: Redis failed (see
    /// [`Error::outcome_unknown`] for whether jobs may have been stored).
    /// Each script call is atomic: jobs with given ids are checked and
    /// enqueued together, up to 200 per call.
    pub async fn enqueue_prepared_outcomes<I>(
        &self,
        jobs: I,
    ) -> Result<Vec<Result<UniqueOutcome, Error>>, Error>
    where
        I: IntoIterator<Item = PreparedJob>,
    {
        let jobs: Vec<PreparedJob> = jobs.into_iter().collect();
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        refuse_repeated_ids(&jobs)?;
        let mut queue_keys: Vec<Arc<QueueKeys>> = Vec::new();
        for job in &jobs {
            if !queue_keys.iter().any(|q| q.name() == job.queue) {
                queue_keys.push(self.queue_keys(&job.queue).await?);
            }
        }
        self.write_initial_statuses(&jobs).await?;
        self.note_enqueuing(&jobs).await;
        let plan = BulkPlan::new(&jobs, &queue_keys);
        let window_ms = self.idempotency_window_ms()?;
        let replies = self
            .store()
            .enqueue_pipelined(&plan.calls, window_ms)
            .await
            .map_err(|err| self.write_error(err))?;
        for queue in &queue_keys {
            self.confirm_replicated(queue).await?;
        }
        let mut outcomes = plan.outcomes(&jobs, replies)?;
        // Jobs with parents go one by one after the others (their parents
        // may be among them).
        for index in plan.waiting {
            outcomes[index] = match self.send_waiting(&jobs[index]).await {
                Ok(outcome) => Ok(outcome),
                // The job's own refusal; the others stay enqueued.
                Err(err)
                    if matches!(err.kind(), ErrorKind::Conflict | ErrorKind::InvalidArgument) =>
                {
                    Err(err)
                }
                Err(err) => return Err(self.write_error(err)),
            };
        }
        for (job, outcome) in jobs.iter().zip(&outcomes) {
            if let Ok(outcome) = outcome {
                self.drop_unused_status(job, outcome).await;
            }
        }
        let stored: Vec<(&PreparedJob, &UniqueOutcome)> = jobs
            .iter()
            .zip(&outcomes)
            .filter_map(|(job, outcome)| Some((job, outcome.as_ref().ok()?)))
            .collect();
        self.note_enqueued(&stored).await;
        Ok(outcomes)
    }
}

/// Refuses a call in which two jobs without given ids share one (a
/// [`PreparedJob`] sent twice): their plain enqueue could not tell.
/// Generated ids are UUID v7, so a batch's ids are nearly sorted already.
fn refuse_repeated_ids(jobs: &[PreparedJob]) -> Result<(), Error> {
    let mut ids: Vec<u128> = jobs
        .iter()
        .filter(|job| !job.given_id)
        .map(|job| job.id.as_u128())
        .collect();
    ids.sort_unstable();
    match ids.windows(2).find(|pair| pair[0] == pair[1]) {
        None => Ok(()),
        Some(pair) => {
            let id = Uuid::from_u128(pair[0]);
            let queue = jobs
                .iter()
                .find(|job| job.id == id)
                .map(|job| job.queue.clone())
                .unwrap_or_default();
            Err(Error::DuplicateId {
                op: "enqueue",
                queue,
                id,
            })
        }
    }
}

/// Appends a job with a given id to the last call when that is an
/// `enqueue_with_id.lua` call for the same queue with room; otherwise
/// starts a new call. Returns the job's place in its call.
fn push_with_id_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: IdEnqueue<'a>,
) -> usize {
    if let Some(EnqueueCall::WithId(q, jobs)) = calls.last_mut()
        && std::ptr::eq(*q, queue)
        && jobs.len() < MAX_WITH_ID_PER_CALL
    {
        jobs.push(job);
        return jobs.len() - 1;
    }
    calls.push(EnqueueCall::WithId(queue, vec![job]));
    0
}

/// Appends a job with an idempotency key to the last call when that is an
/// idempotent call for the same queue with room; otherwise starts a new
/// call. Returns the job's place in its call.
fn push_keyed_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: KeyedEnqueue<'a>,
) -> usize {
    if let Some(EnqueueCall::Idempotent(q, jobs)) = calls.last_mut()
        && std::ptr::eq(*q, queue)
        && jobs.len() < MAX_WITH_ID_PER_CALL
    {
        jobs.push(job);
        return jobs.len() - 1;
    }
    calls.push(EnqueueCall::Idempotent(queue, vec![job]));
    0
}

/// Appends a unique job to the last call when that is a unique call for
/// the same queue with room; otherwise starts a new call. Returns the job's
/// place in its call.
fn push_unique_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: UniqueEnqueue<'a>,
) -> usize {
    if let Some(EnqueueCall::Unique(q, jobs)) = calls.last_mut()
        && std::ptr::eq(*q, queue)
        && jobs.len() < MAX_UNIQUE_PER_CALL
    {
        jobs.push(job);
        return jobs.len() - 1;
    }
    calls.push(EnqueueCall::Unique(queue, vec![job]));
    0
}

/// Appends `job` to the last call when it goes to the same queue and
/// script and the call has room; otherwise starts a new call.
fn push_into_calls<'a>(
    calls: &mut Vec<EnqueueCall<'a>>,
    queue: &'a QueueKeys,
    job: &'a PreparedJob,
) {
    let same_queue = |q: &QueueKeys| std::ptr::eq(q, queue);
    match (calls.last_mut(), job.destination) {
        (Some(EnqueueCall::Ready(q, records)), Destination::Ready)
            if same_queue(q) && records.len() < MAX_RECORDS_PER_CALL =>
        {
            records.push(&job.record);
        }
        (Some(EnqueueCall::Priority(q, records)), Destination::Priority)
            if same_queue(q) && records.len() < MAX_RECORDS_PER_CALL =>
        {
            records.push(&job.record);
        }
        (Some(EnqueueCall::Scheduled(q, items)), Destination::Scheduled(at))
            if same_queue(q) && items.len() < MAX_RECORDS_PER_CALL =>
        {
            items.push((&job.record, at));
        }
        (_, Destination::Ready) => calls.push(EnqueueCall::Ready(queue, vec![&job.record])),
        (_, Destination::Priority) => calls.push(EnqueueCall::Priority(queue, vec![&job.record])),
        (_, Destination::Scheduled(at)) => {
            calls.push(EnqueueCall::Scheduled(queue, vec![(&job.record, at)]));
        }
    }
}

/// How a bulk enqueue sends its jobs: the calls, and where each job's
/// outcome will be in their replies.
struct BulkPlan<'a> {
    calls: Vec<EnqueueCall<'a>>,
    /// (job index, call index, place in the call) of each unique job: its
    /// call's reply holds its outcome.
    unique_jobs: Vec<(usize, usize, usize)>,
    /// The same for each job with a given id.
    id_jobs: Vec<(usize, usize, usize)>,
    /// The same for each job with an idempotency key.
    keyed_jobs: Vec<(usize, usize, usize)>,
    /// Jobs with parents, sent one by one afterwards.
    waiting: Vec<usize>,
}

impl<'a> BulkPlan<'a> {
    fn new(jobs: &'a [PreparedJob], queue_keys: &'a [Arc<QueueKeys>]) -> Self {
        let mut plan = BulkPlan {
            calls: Vec::new(),
            unique_jobs: Vec::new(),
            id_jobs: Vec::new(),
            keyed_jobs: Vec::new(),
            waiting: Vec::new(),
        };
        for (index, job) in jobs.iter().enumerate() {
            let Some(queue) = queue_keys.iter().find(|q| q.name() == job.queue) else {
                continue;
            };
            if !job.after.is_empty() {
                plan.waiting.push(index);
                continue;
            }
            let calls = &mut plan.calls;
            if job.dependents {
                calls.push(EnqueueCall::OpenParent(
                    queue,
                    job.id,
                    crate::client::after::delay_ms(job.destination),
                ));
            }
            if let Some(unique) = &job.unique {
                let place = push_unique_into_calls(calls, queue, unique_enqueue(job, unique));
                plan.unique_jobs.push((index, calls.len() - 1, place));
            } else if let Some(key) = &job.idempotency {
                let place = push_keyed_into_calls(calls, queue, keyed_enqueue(job, key));
                plan.keyed_jobs.push((index, calls.len() - 1, place));
            } else if job.given_id {
                let place = push_with_id_into_calls(calls, queue, id_enqueue(job));
                plan.id_jobs.push((index, calls.len() - 1, place));
            } else {
                push_into_calls(calls, queue, job);
            }
        }
        plan
    }

    /// Each job's outcome from the calls' replies (jobs with parents are
    /// filled in later).
    fn outcomes(
        &self,
        jobs: &[PreparedJob],
        mut replies: Vec<redis::Value>,
    ) -> Result<Vec<Result<UniqueOutcome, Error>>, Error> {
        let mut outcomes: Vec<Result<UniqueOutcome, Error>> = jobs
            .iter()
            .map(|job| Ok(UniqueOutcome::Enqueued { id: job.id }))
            .collect();
        let mut unique_replies: HashMap<usize, Vec<UniqueOutcome>> = HashMap::new();
        for &(job_index, call_index, place) in &self.unique_jobs {
            if let Entry::Vacant(slot) = unique_replies.entry(call_index) {
                let reply = std::mem::replace(&mut replies[call_index], redis::Value::Nil);
                slot.insert(parse_unique_replies(reply)?);
            }
            outcomes[job_index] = Ok(*unique_replies
                .get(&call_index)
                .and_then(|call| call.get(place))
                .ok_or_else(|| Error::protocol("enqueue_bulk", "no outcome for a unique job"))?);
        }
        let mut id_replies: HashMap<usize, Vec<IdOutcome>> = HashMap::new();
        for &(job_index, call_index, place) in &self.id_jobs {
            if let Entry::Vacant(slot) = id_replies.entry(call_index) {
                let reply = std::mem::replace(&mut replies[call_index], redis::Value::Nil);
                slot.insert(parse_with_id_replies(reply)?);
            }
            let outcome = id_replies
                .get(&call_index)
                .and_then(|call| call.get(place))
                .ok_or_else(|| {
                    Error::protocol("enqueue_bulk", "no outcome for a job with an id")
                })?;
            outcomes[job_index] = id_outcome(*outcome, &jobs[job_index].queue);
        }
        self.keyed_outcomes(jobs, &mut replies, &mut outcomes)?;
        Ok(outcomes)
    }

    /// The outcomes of the jobs with idempotency keys.
    fn keyed_outcomes(
        &self,
        jobs: &[PreparedJob],
        replies: &mut [redis::Value],
        outcomes: &mut [Result<UniqueOutcome, Error>],
    ) -> Result<(), Error> {
        let mut keyed_replies: HashMap<usize, Vec<KeyOutcome>> = HashMap::new();
        for &(job_index, call_index, place) in &self.keyed_jobs {
            if let Entry::Vacant(slot) = keyed_replies.entry(call_index) {
                let reply = std::mem::replace(&mut replies[call_index], redis::Value::Nil);
                slot.insert(parse_idempotent_replies(reply)?);
            }
            let outcome = keyed_replies
                .get(&call_index)
                .and_then(|call| call.get(place))
                .ok_or_else(|| {
                    Error::protocol(
                        "enqueue_bulk",
                        "no outcome for a job with an idempotency key",
                    )
                })?;
            outcomes[job_index] = key_outcome(*outcome, &jobs[job_index].queue);
        }
        Ok(())
    }
}
