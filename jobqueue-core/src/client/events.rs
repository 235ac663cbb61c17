//! [`Client::events`]: a queue's lifecycle events as a `Stream`, read
//! from its capped event stream (see [`crate::admin::events`]).
//!
//! The stream polls with one non-blocking `XRANGE` every
//! [`EVENT_POLL_INTERVAL`] while nothing new comes (at once again after a
//! full page), on the client's shared connection: a blocking `XREAD`
//! there would stall every other command of the process, and a
//! connection per reader would not scale to many dashboard viewers.
//! Events arrive within about that interval of happening.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::Stream;
use futures_util::stream;

use crate::admin::Admin;
use crate::admin::events::{EventStart, JobEvent};
use crate::client::handle::Client;
use crate::error::Error;

/// How long an event stream waits before reading again when the last read
/// found nothing new.
pub const EVENT_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Events read per poll.
const EVENT_PAGE: usize = 200;

struct Reader {
    admin: Admin,
    queue: String,
    start: EventStart,
    buffered: VecDeque<JobEvent>,
    poll_now: bool,
}

impl Reader {
    /// The next item: a buffered event, or a read (after a pause when the
    /// last one found nothing).
    async fn next(mut self) -> Option<(Result<JobEvent, Error>, Self)> {
        loop {
            if let Some(event) = self.buffered.pop_front() {
                return Some((Ok(event), self));
            }
            if !self.poll_now {
                tokio::time::sleep(EVENT_POLL_INTERVAL).await;
            }
            let page = match self
                .admin
                .events_after(&self.queue, self.start, EVENT_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    self.poll_now = false;
                    return Some((Err(error), self));
                }
            };
            let resumed_from = self.start;
            self.poll_now = page.events.len() >= EVENT_PAGE;
            self.start = page.next.map_or(EventStart::Oldest, EventStart::After);
            self.buffered.extend(page.events);
            if page.missed
                && let EventStart::After(after) = resumed_from
            {
                return Some((
                    Err(Error::EventsMissed {
                        queue: self.queue.clone(),
                        after: after.to_string(),
                    }),
                    self,
                ));
            }
        }
    }
}

impl Client {
    /// `queue`'s lifecycle events from now on, as they happen: enqueued,
    /// started, progress, succeeded, failed, retrying, snoozed, dead,
    /// cancelled, expired. The queue's event stream must be on
    /// ([`Admin::set_event_stream`], `jobqueue events enable`); while it
    /// is off the stream yields nothing.
    ///
    /// "Now" is when the stream is first polled (the stream is lazy). To
    /// miss nothing from an earlier moment, note the newest event's id
    /// then (`admin.events_after(queue, EventStart::Now, 1)`'s `next`) and
    /// use [`Client::events_from`] with it.
    ///
    /// The stream never ends by itself. A read that fails yields the
    /// error and the stream goes on; keep the last event's
    /// [`JobEvent::id`] and resume with [`Client::events_from`] after a
    /// restart. [`Error::EventsMissed`] says events were trimmed before
    /// they were read.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// # async fn demo(client: jobqueue_core::Client) -> Result<(), jobqueue_core::Error> {
    /// let mut events = std::pin::pin!(client.events("mail"));
    /// while let Some(event) = events.next().await {
    ///     let event = event?;
    ///     println!("{} {} {}", event.at, event.job_id, event.kind.name());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(
        &self,
        queue: &str,
    ) -> impl Stream<Item = Result<JobEvent, Error>> + Send + use<> {
        self.events_from(queue, EventStart::Now)
    }

    /// As [`Client::events`], from `start`: [`EventStart::After`] an event
    /// read before (resuming after a reconnect), or
    /// [`EventStart::Oldest`] for every event the stream still holds.
    pub fn events_from(
        &self,
        queue: &str,
        start: EventStart,
    ) -> impl Stream<Item = Result<JobEvent, Error>> + Send + use<> {
        event_stream(self.admin(), queue, start)
    }
}

/// The stream behind [`Client::events_from`], over an operator API handle
/// (the dashboard's Server-Sent Events use it).
pub fn event_stream(
    admin: Admin,
    queue: &str,
    start: EventStart,
) -> impl Stream<Item = Result<JobEvent, Error>> + Send + use<> {
    let reader = Reader {
        admin,
        queue: queue.to_owned(),
        start,
        buffered: VecDeque::new(),
        poll_now: true,
    };
    stream::unfold(reader, Reader::next)
}
