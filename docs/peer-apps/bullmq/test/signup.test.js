import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';

process.env.BULLMQ_PREFIX = `test-${process.pid}`;
process.env.ADMIN_PASSWORD ??= 'test';
const { app } = await import('../app.js');
const { queue } = await import('../jobs.js');

after(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

test('POST /signup enqueues the welcome e-mail', async () => {
  await request(app).post('/signup').type('form').send({ email: 'ada@example.com' }).expect(202);

  const [job] = await queue.getWaiting();
  assert.equal(job.name, 'welcome-email');
  assert.deepEqual(job.data, { email: 'ada@example.com' });
});
