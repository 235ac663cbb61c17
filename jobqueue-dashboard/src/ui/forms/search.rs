//! The search page's bulk form: retry, delete or cancel the jobs of the
//! page shown (the search's `by`, `q` and `cursor` come back as hidden
//! fields), then back to the search.

use axum::response::Redirect;
use jobqueue_core::admin::SearchAction;

use super::operator_form::{FormInput, OperatorForm, PathSegments};
use crate::actions::search::{act_on_search, search_action};
use crate::error::ApiError;
use crate::params::{Params, SearchParams};
use crate::ui::links::search_path;

/// The fields of the bulk form: `action`, and the search.
pub(crate) struct SearchBulkForm {
    action: SearchAction,
    search: SearchParams,
}

impl FormInput for SearchBulkForm {
    fn parse(_: &PathSegments, fields: &Params) -> Result<Self, ApiError> {
        let action = search_action(fields.get("action").unwrap_or(""))?;
        let search = fields.search()?;
        Ok(Self { action, search })
    }
}

/// `POST /queues/{queue}/search/bulk`: back to the search.
pub(crate) async fn bulk(form: OperatorForm<SearchBulkForm>) -> Result<Redirect, ApiError> {
    let SearchBulkForm { action, search } = &form.input;
    let report = act_on_search(&form.state, &form.who, &form.queue, search, *action).await?;
    let (by, text) = &search.field;
    let to = search_path(&form.queue, by, text);
    Ok(form.back(&to, action.as_str(), report.changed))
}
