//! Counts connection attempts to a port while Redis is down there: a
//! listener takes the port, accepts every connection and closes it at once
//! (the client sees the server go away again). The count proves workers
//! reconnect with backoff rather than in a tight loop.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A listener on a dead Redis's port, counting connection attempts.
pub struct ConnectionCounter {
    accepted: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConnectionCounter {
    /// Listens on 127.0.0.1:`port` until [`ConnectionCounter::stop`].
    pub fn listen(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot listen on the dead Redis's port {port}: {e}"));
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let accepted = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let thread = std::thread::spawn({
            let accepted = Arc::clone(&accepted);
            let running = Arc::clone(&running);
            move || {
                while running.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            drop(stream);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            }
        });
        Self {
            accepted,
            running,
            thread: Some(thread),
        }
    }

    /// Stops listening (frees the port) and returns the attempts counted.
    pub fn stop(mut self) -> u64 {
        self.shutdown();
        self.accepted.load(Ordering::Relaxed)
    }

    fn shutdown(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ConnectionCounter {
    fn drop(&mut self) {
        self.shutdown();
    }
}
