//! The operator API's view of a stored record (what the dashboard, CLI and
//! JSON API show): any bytes must give a `JobInfo`, never a panic.

#![no_main]

use jobqueue_core::{JobInfo, JobState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let info = JobInfo::from_record("q", JobState::Dead, data, Some(i64::from(data.len() as u32)));
    assert_eq!(info.queue, "q");
    let _ = serde_json_len(&info);
});

fn serde_json_len(info: &JobInfo) -> usize {
    format!("{info:?}").len()
}
