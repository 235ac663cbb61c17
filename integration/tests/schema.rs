//! The schema version and the migrator.

use jobqueue_core::ErrorKind;
use jobqueue_core::store::schema::{Migrator, SCHEMA_VERSION};
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::TestRedis;

async fn set_schema(env: &TestRedis, version: u32) {
    let mut conn = env.connection().await.unwrap();
    redis::cmd("SET")
        .arg(format!("{}:schema", env.prefix()))
        .arg(version)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_is_initialised_by_the_first_worker() {
    let env = test_redis("schema-fresh").await;
    let migrator = Migrator::new(env.client().store().clone());
    assert_eq!(migrator.current_version().await.unwrap(), None);
    let worker = test_worker(&env).start().await.unwrap();
    worker.shutdown().await;
    assert_eq!(
        migrator.current_version().await.unwrap(),
        Some(SCHEMA_VERSION)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_refuses_a_newer_schema_with_a_clear_message() {
    let env = test_redis("schema-newer").await;
    set_schema(&env, SCHEMA_VERSION + 1).await;
    let Err(err) = test_worker(&env).start().await else {
        panic!("the worker must refuse to start");
    };
    let message = err.to_string();
    assert!(message.contains("newer than this build"), "{message}");
    assert!(message.contains("upgrade jobqueue"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_schema_needs_an_explicit_migration_which_is_idempotent() {
    let env = test_redis("schema-older").await;
    env.client().enqueue(env.test_job()).await.unwrap();
    set_schema(&env, 0).await;
    let Err(err) = test_worker(&env).start().await else {
        panic!("the worker must refuse to start");
    };
    assert!(err.to_string().contains("jobqueue migrate"), "{err}");

    let migrator = Migrator::new(env.client().store().clone());
    assert_eq!(
        migrator.pending().await.unwrap().len(),
        SCHEMA_VERSION as usize
    );
    let report = migrator.run().await.unwrap();
    assert_eq!(report.from_version, 0);
    assert_eq!(report.to_version, SCHEMA_VERSION);
    assert_eq!(report.queues, 1);
    let again = migrator.run().await.unwrap();
    assert!(again.applied.is_empty(), "nothing pending the second time");
    assert_eq!(
        env.client().admin().queue("default").await.unwrap().ready,
        1,
        "data untouched"
    );

    set_schema(&env, 0).await;
    let worker = test_worker(&env)
        .migrate_on_start(true)
        .start()
        .await
        .unwrap();
    worker.shutdown().await;
    assert_eq!(
        migrator.current_version().await.unwrap(),
        Some(SCHEMA_VERSION)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_never_run_twice_at_once() {
    let env = test_redis("schema-lock").await;
    let mut conn = env.connection().await.unwrap();
    redis::cmd("SET")
        .arg(format!("{}:migrate:lock", env.prefix()))
        .arg("someone-else")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let err = Migrator::new(env.client().store().clone())
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("already running"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_starting_together_on_a_fresh_database_all_start() {
    // One of them initialises the layout under the migration lock; the
    // others wait for it instead of failing with "migration locked".
    let env = test_redis("schema-together").await;
    let mut lock = env.connection().await.unwrap();
    // Hold the lock as a slow first initialiser would, then finish its job.
    redis::cmd("SET")
        .arg(format!("{}:migrate:lock", env.prefix()))
        .arg("another-process")
        .query_async::<()>(&mut lock)
        .await
        .unwrap();
    let starts: Vec<_> = (0..4)
        .map(|_| tokio::spawn(test_worker(&env).start()))
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        starts.iter().all(|start| !start.is_finished()),
        "they wait for the lock holder"
    );
    set_schema(&env, SCHEMA_VERSION).await;
    for start in starts {
        let worker = start.await.unwrap().expect("every worker starts");
        worker.shutdown().await;
    }
}
