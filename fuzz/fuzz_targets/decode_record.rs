//! Any bytes a worker may read from Redis as a job record: the decoders
//! must return an error, never panic, and whatever decodes must survive a
//! re-encode unchanged (the worker re-encodes records to add errors).

#![no_main]

use jobqueue_core::wire::record::{
    decode_head, decode_record, encode_record, record_id, record_id_bytes, split_record,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let id = record_id(data);
    if let Some(id) = id {
        assert_eq!(record_id_bytes(data).map(<[u8]>::len), Some(36));
        assert_eq!(id.to_string().len(), 36);
    }
    if let Some((header, payload)) = split_record(data) {
        assert_eq!(header.len() + 1 + payload.len(), data.len());
    }
    if let Ok((head, payload)) = decode_head(data) {
        assert!(payload.len() < data.len());
        let _ = head.job_type.len();
    }
    if let Ok((envelope, payload)) = decode_record(data) {
        let again = encode_record(&envelope, payload).expect("a decoded envelope encodes");
        let (envelope2, payload2) = decode_record(&again).expect("a re-encoded record decodes");
        assert_eq!(envelope, envelope2);
        assert_eq!(payload, payload2);
        assert_eq!(record_id(&again), Some(envelope.id));
    }
});
