//! Sending a signal to a durable job (`Admin::signal`): wakes a job parked
//! in `wait_for_signal`, or leaves the signal for it. Operator role;
//! audited.

use jobqueue_core::SignalOutcome;
use uuid::Uuid;

use crate::audit_log;
use crate::error::ApiError;
use crate::security::principal::Principal;
use crate::state::AppState;

/// Sends signal `name` with `payload` (JSON text) to job `id` of `queue`.
pub(crate) async fn send_signal(
    state: &AppState,
    who: &Principal,
    queue: &str,
    id: Uuid,
    name: &str,
    payload: &str,
) -> Result<SignalOutcome, ApiError> {
    who.require_operator()?;
    let outcome = state.admin.signal_json(queue, id, name, payload).await?;
    let target = format!("job {id} on queue {queue}: signal {name}");
    audit_log::action(state, who, "signal", &target, 1).await;
    Ok(outcome)
}
