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
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// A non-negative count from a reply (negative counts read as 0).
pub(crate) fn count_reply(value: &Value, op: &'static str) -> Result<u64, Error> {
    Ok(u64::try_from(int_reply(value, op)?).unwrap_or(0))
}
