//! Reading script and command replies: integers, arrays, text.

use redis::Value;

use crate::error::Error;

/// Reads an integer from a script reply.
pub(crate) fn int_reply(value: &Value, op: &'static str) -> Result<i64, Error> {
    match value {
        Value::Int(n) => Ok(*n),
        Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::protocol(op, "expected an integer")),
        other => Err(Error::protocol(
            op,
            format!("expected an integer, got {other:?}"),
        )),
    }
}

/// Reads an array from a script reply.
pub(crate) fn array_reply(value: Value, op: &'static str) -> Result<Vec<Value>, Error> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        other => Err(Error::protocol(
            op,
            format!("expected an array, got {other:?}"),
        )),
    }
}

/// A status or bulk-string reply as text; `None` for nil / false.
pub(crate) fn text_reply(value: &Value) -> Option<String> {
    text_bytes(value).map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

/// The bytes of a string reply (bulk, simple or verbatim), in place.
pub(crate) fn text_bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes()),
        _ => None,
    }
}

/// A non-negative count from a reply (negative counts read as 0).
pub(crate) fn count_reply(value: &Value, op: &'static str) -> Result<u64, Error> {
    Ok(u64::try_from(int_reply(value, op)?).unwrap_or(0))
}

/// The error of a script that refused a job id another record holds
/// (`ERR jobqueue: duplicate job id <id> …`, from schedule.lua or
/// enqueue_waiting.lua), as [`Error::DuplicateId`] on `queue`; any other
/// error unchanged.
pub(crate) fn refused_id(err: Error, queue_of: impl Fn(uuid::Uuid) -> Option<String>) -> Error {
    const MARK: &str = "jobqueue: duplicate job id ";
    let Error::Redis { op, source } = &err else {
        return err;
    };
    let text = source.to_string();
    let Some(id) = text
        .find(MARK)
        .and_then(|at| text.get(at + MARK.len()..at + MARK.len() + 36))
        .and_then(|id| id.parse::<uuid::Uuid>().ok())
    else {
        return err;
    };
    Error::DuplicateId {
        op,
        queue: queue_of(id).unwrap_or_default(),
        id,
    }
}
