"""Handlers for the command-line worker test: a job that outlives the grace period."""

import asyncio


async def slow(payload, ctx):
    await asyncio.sleep(600)


def register(worker):
    worker.shutdown_grace_s = 0.3
    worker.register("slow", slow)
