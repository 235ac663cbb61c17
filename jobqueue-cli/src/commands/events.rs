//! `jobqueue events --queue <q>`: a queue's lifecycle events, one line
//! each (`--json`: one JSON object per line), from its live event stream;
//! `--follow` keeps printing as they happen. `--enable [--cap N]` and
//! `--disable` switch the stream (written to the audit log).

use clap::Args;
use futures_util::StreamExt;
use jobqueue_core::admin::{EventId, EventStart, JobEvent, JobEventKind, escape_hidden};
use jobqueue_core::{Client, ErrorKind};
use jobqueue_dashboard::actions::watch::{WatchView, apply_watch};

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_USAGE};
use super::known_queue::known_queue;

/// Options of `jobqueue events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The queue.
    #[arg(long)]
    pub queue: String,
    /// Keep printing events as they happen (from now, unless --from says).
    #[arg(long)]
    pub follow: bool,
    /// Where to start: `oldest` (every event kept), `now`, or an event id
    /// printed before (resume after it). Default: oldest, or now with
    /// --follow.
    #[arg(long)]
    pub from: Option<String>,
    /// Turn the queue's event stream on (keeping --cap entries).
    #[arg(long, conflicts_with_all = ["disable", "follow", "from"])]
    pub enable: bool,
    /// Entries kept with --enable (one per script call, which may hold
    /// many jobs' events).
    #[arg(long, default_value_t = jobqueue_core::store::commands::observe::DEFAULT_EVENT_STREAM_CAP, requires = "enable")]
    pub cap: u64,
    /// Turn the queue's event stream off (and delete it).
    #[arg(long, conflicts_with_all = ["follow", "from"])]
    pub disable: bool,
}

fn start(args: &EventsArgs) -> Result<EventStart, CliError> {
    match args.from.as_deref() {
        None if args.follow => Ok(EventStart::Now),
        None | Some("oldest") => Ok(EventStart::Oldest),
        Some("now") => Ok(EventStart::Now),
        Some(id) => id.parse::<EventId>().map(EventStart::After).map_err(|_| {
            CliError::new(
                EXIT_USAGE,
                format!(
                    "--from takes oldest, now or an event id like 1733500000000-0.3, not {id:?}"
                ),
            )
        }),
    }
}

/// One event as a line: id, time, kind, job, and what the kind carries.
fn line(event: &JobEvent) -> String {
    let extra = match &event.kind {
        JobEventKind::Progress { percent, message } => {
            format!(" {percent}% {}", escape_hidden(message, false))
        }
        JobEventKind::Retrying { run_at } | JobEventKind::Snoozed { run_at } => {
            format!(" due {}", jobqueue_core::json_time::format(run_at))
        }
        JobEventKind::Failed { will_retry } => {
            if *will_retry {
                " (will retry)".to_owned()
            } else {
                " (no retry left)".to_owned()
            }
        }
        _ => String::new(),
    };
    format!(
        "{}  {}  {:<9} {}{extra}",
        event.id,
        jobqueue_core::json_time::format(&event.at),
        event.kind.name(),
        event.job_id
    )
}

/// `jobqueue events`.
pub(crate) async fn events(client: &Client, args: &EventsArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    if args.enable || args.disable {
        let mut view = WatchView::from(&admin.watch_settings(&args.queue).await?);
        view.events_cap = args.enable.then_some(args.cap);
        let (action, now) = apply_watch(&admin, &args.queue, view).await?;
        audit(
            client,
            action,
            &format!("{} {}", args.queue, now.describe()),
            0,
        )
        .await;
        println!("{}: {}", args.queue, now.describe());
        return Ok(());
    }
    if admin
        .watch_settings(&args.queue)
        .await?
        .events_cap
        .is_none()
    {
        eprintln!(
            "note: the event stream of {} is off; `jobqueue events --queue {} --enable` turns it on",
            args.queue, args.queue
        );
    }
    let mut start = start(args)?;
    if !args.follow {
        loop {
            let page = admin.events_after(&args.queue, start, 1000).await?;
            if page.missed {
                eprintln!(
                    "note: events after the one asked for were trimmed; printing from the oldest kept"
                );
            }
            if page.events.is_empty() {
                return Ok(());
            }
            for event in &page.events {
                print_event(event, as_json)?;
            }
            start = page.next.map_or(EventStart::Oldest, EventStart::After);
        }
    }
    let mut stream = std::pin::pin!(client.events_from(&args.queue, start));
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => print_event(&event, as_json)?,
            Err(err) if err.kind() == ErrorKind::NotFound => eprintln!("note: {err}"),
            Err(err) => eprintln!("note: reading events failed, retrying: {err}"),
        }
    }
    Ok(())
}

fn print_event(event: &JobEvent, as_json: bool) -> CliResult {
    if as_json {
        let text = serde_json::to_string(event)
            .map_err(|err| CliError::new(super::exit::EXIT_ERROR, err.to_string()))?;
        println!("{text}");
    } else {
        println!("{}", line(event));
    }
    Ok(())
}
