import express from 'express';
import basicAuth from 'express-basic-auth';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { queue } from './jobs.js';

export const app = express();
app.use(express.urlencoded());

app.post('/signup', async (req, res) => {
  const { email } = req.body;
  if (!email) return res.status(422).json({ error: 'email is required' });
  // ... create the user ...
  await queue.add('welcome-email', { email });
  await queue.add('signup-reminder', { email }, { delay: 10_000 });
  res.status(202).json({ ok: true });
});

app.post('/reports', async (req, res) => {
  const job = await queue.add('report', { kind: req.body.kind ?? 'monthly' });
  res.status(202).location(`/reports/${job.id}`).json({ id: job.id });
});

app.get('/reports/:id', async (req, res) => {
  const job = await queue.getJob(req.params.id);
  if (job?.name !== 'report') return res.sendStatus(404);
  res.json({
    status: await job.getState(),
    progress: job.progress,
    result: job.returnvalue,
    error: job.failedReason,
  });
});

const board = new ExpressAdapter();
board.setBasePath('/admin/jobs');
createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: board });
const adminPassword = process.env.ADMIN_PASSWORD;
if (!adminPassword) throw new Error('set ADMIN_PASSWORD');
app.use('/admin/jobs', basicAuth({ users: { admin: adminPassword }, challenge: true }), board.getRouter());
