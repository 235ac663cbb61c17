import { Queue, Worker } from 'bullmq';

const connection = { host: process.env.REDIS_HOST ?? '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) };
const prefix = process.env.BULLMQ_PREFIX ?? 'bull';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const queue = new Queue('default', {
  connection,
  prefix,
  defaultJobOptions: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
});

const processors = {
  async 'welcome-email'(job) {
    console.log(`sending welcome e-mail to ${job.data.email}`);
  },
  async 'signup-reminder'(job) {
    console.log(`reminding ${job.data.email} to finish their profile`);
  },
  async report(job) {
    for (let step = 1; step <= 10; step++) {
      await sleep(500);
      await job.updateProgress(step * 10);
    }
    return { kind: job.data.kind, rows: 1234, url: `/files/report-${job.id}.csv` };
  },
  async cleanup() {
    console.log('cleaning up expired sessions');
  },
  async flaky(job) {
    if (job.attemptsMade < 2) throw new Error(`flaky failure on attempt ${job.attemptsMade + 1}`);
  },
  async 'always-fails'() {
    throw new Error('this job always fails');
  },
};

export function startWorker() {
  const worker = new Worker('default', (job) => processors[job.name](job), {
    connection,
    prefix,
    concurrency: 5,
  });
  worker.on('failed', (job, err) => console.error(`${job?.name} ${job?.id} failed: ${err.message}`));
  return worker;
}

export async function scheduleJobs() {
  await queue.upsertJobScheduler('cleanup', { pattern: '* * * * *' }, { name: 'cleanup' });
  // A retried job and a dead one, for the dashboard.
  await queue.add('flaky', {});
  await queue.add('always-fails', {});
}
