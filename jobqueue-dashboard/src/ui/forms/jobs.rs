//! The job forms: the bulk form of a job list, a dead-job group's buttons,
//! a job page's retry and delete, and cancel (from the job page and from
//! the inline details of ready and running jobs).

use axum::response::Redirect;
use jobqueue_core::{BrowseState, BulkAction, JobFilter};
use uuid::Uuid;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::jobs::{self, Selection};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::ui::links::{job_path, jobs_path, url};

/// A job list's bulk form: `action` (retry, run, delete), and either
/// `all_matching=1` with the list's filter or the ticked `ids`.
pub(crate) struct BulkForm {
    list: BrowseState,
    action: BulkAction,
    selection: Selection,
}

impl FormInput for BulkForm {
    fn parse(path: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let list = params::state(path.get("state"))?;
        let action = jobs::bulk_action(fields.get("action").unwrap_or(""))?;
        let selection = if fields.get("all_matching") == Some("1") {
            Selection::AllMatching(fields.filter()?)
        } else {
            let ids = fields
                .all("ids")
                .map(params::job_id)
                .collect::<Result<Vec<_>, _>>()?;
            if ids.is_empty() {
                return Err(ApiError::bad_request(
                    "select at least one job, or tick \"all matching\"",
                ));
            }
            Selection::Ids(ids)
        };
        Ok(Self {
            list,
            action,
            selection,
        })
    }
}

/// `POST /queues/{queue}/jobs/{state}/bulk`: back to the list.
pub(crate) async fn bulk(form: OperatorForm<BulkForm>) -> Result<Redirect, ApiError> {
    let BulkForm {
        list,
        action,
        selection,
    } = &form.input;
    let outcome = jobs::jobs_action(
        &form.state,
        &form.who,
        &form.queue,
        *list,
        *action,
        selection,
    )
    .await?;
    let to = jobs_path(&form.queue, list.as_str());
    Ok(form.back(&to, &outcome.action, outcome.count))
}

/// A dead-job group's buttons: `{action}` (retry, delete) on every dead
/// job with error fingerprint `{fingerprint}`.
pub(crate) struct GroupForm {
    action: BulkAction,
    group: Selection,
}

impl FormInput for GroupForm {
    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        let action = jobs::bulk_action(path.get("action"))?;
        let fingerprint = path.get("fingerprint");
        if fingerprint.len() != 16 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::bad_request(
                "an error fingerprint is 16 hex digits",
            ));
        }
        let group = Selection::AllMatching(JobFilter {
            fingerprint: Some(fingerprint.to_owned()),
            ..JobFilter::default()
        });
        Ok(Self { action, group })
    }
}

/// `POST /queues/{queue}/groups/{fingerprint}/{retry|delete}`: back to the groups.
pub(crate) async fn group(form: OperatorForm<GroupForm>) -> Result<Redirect, ApiError> {
    let GroupForm { action, group } = &form.input;
    let (state, who, queue) = (&form.state, &form.who, &form.queue);
    let outcome = jobs::jobs_action(state, who, queue, BrowseState::Dead, *action, group).await?;
    let to = format!("/queues/{}/groups", url(queue));
    Ok(form.back(&to, &outcome.action, outcome.count))
}

/// A job page's buttons: `{action}` (retry, run, delete) on job `{id}`.
pub(crate) struct JobForm {
    id: Uuid,
    action: BulkAction,
}

impl FormInput for JobForm {
    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        let id = params::job_id(path.get("id"))?;
        let action = jobs::bulk_action(path.get("action"))?;
        Ok(Self { id, action })
    }
}

/// `POST /queues/{queue}/job/{id}/{retry|run|delete}`: back to the list
/// the job was in.
pub(crate) async fn one_job(form: OperatorForm<JobForm>) -> Result<Redirect, ApiError> {
    let JobForm { id, action } = form.input;
    let (list, outcome) = jobs::job_action(&form.state, &form.who, &form.queue, id, action).await?;
    let to = jobs_path(&form.queue, list.as_str());
    Ok(form.back(&to, &outcome.action, outcome.count))
}

/// Cancel job `{id}`.
pub(crate) struct CancelForm {
    id: Uuid,
}

impl FormInput for CancelForm {
    fn parse(path: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        let id = params::job_id(path.get("id"))?;
        Ok(Self { id })
    }
}

/// `POST /queues/{queue}/job/{id}/cancel`: back to the job's page, which
/// then shows it cancelled.
pub(crate) async fn cancel(form: OperatorForm<CancelForm>) -> Result<Redirect, ApiError> {
    let id = form.input.id;
    let outcome = jobs::cancel_job(&form.state, &form.who, &form.queue, id).await?;
    Ok(form.back(&job_path(&form.queue, id), outcome.action, outcome.count))
}
