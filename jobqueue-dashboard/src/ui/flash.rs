//! The message a page shows after a form's action redirected back to it
//! (`?done=<action>&n=<count>`, see `forms/operator_form.rs`).

use crate::format::count;
use crate::params::Params;

/// The result message a form action redirected with (`?done=retry&n=3`).
pub(crate) fn flash(params: &Params) -> Option<String> {
    let action = params.get("done")?;
    let n = params.number("n", 0).unwrap_or(0);
    Some(match action {
        "retry" => format!("{} job(s) moved to ready.", count(n)),
        "run_now" => format!("{} job(s) will run now.", count(n)),
        "delete" => format!("{} job(s) deleted.", count(n)),
        "purge" => format!("{} ready job(s) purged.", count(n)),
        "pause" => "Queue paused.".to_owned(),
        "resume" => "Queue resumed.".to_owned(),
        "cancel" => "Job cancelled: it will not run (a running job is told to stop).".to_owned(),
        "cron_pause" => "Cron entry paused.".to_owned(),
        "cron_resume" => "Cron entry resumed.".to_owned(),
        "cron_run" => "Cron entry enqueued to run now.".to_owned(),
        "cron_remove" => "Cron entry removed.".to_owned(),
        "batch_retry_dead" => format!("{} dead job(s) of the batch moved to ready.", count(n)),
        "batch_cancel" => format!("Batch cancelled: {} waiting job(s) cancelled.", count(n)),
        "set_limits" => "Flow limits set.".to_owned(),
        "clear_limits" => "Flow limits cleared.".to_owned(),
        "set_key_limits" => "Key class limits set.".to_owned(),
        "clear_key_limits" => {
            "Key class limits cleared: its keys run one job at a time again.".to_owned()
        }
        "set_flow_weight" => "Flow weight set.".to_owned(),
        "clear_flow_weight" => {
            "Flow weight cleared: its keys weigh 1 again (or their class's weight).".to_owned()
        }
        _ => return None,
    })
}
