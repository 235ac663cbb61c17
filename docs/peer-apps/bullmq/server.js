import { app } from './app.js';
import { queue, scheduleJobs, startWorker } from './jobs.js';

// The worker runs in the web process; start it alone (startWorker) to scale it apart.
const worker = startWorker();
await scheduleJobs();
const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => console.log(`listening on http://127.0.0.1:${port}`));

process.on('SIGTERM', async () => {
  server.close();
  await worker.close(); // waits for running jobs to finish
  await queue.close();
  process.exit(0);
});
