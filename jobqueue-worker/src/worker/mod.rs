//! The worker process: [`Worker`] and [`WorkerBuilder`] (what it runs,
//! `builder.rs`), starting it (`start.rs`), the [`RunningWorker`] handle
//! (`running.rs`) and the graceful shutdown sequence (`shutdown.rs`).

mod builder;
mod running;
mod served_queues;
mod shutdown;
mod start;

pub use builder::{Worker, WorkerBuilder};
pub use running::RunningWorker;
pub use shutdown::WorkerReport;
