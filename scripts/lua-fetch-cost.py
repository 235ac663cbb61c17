#!/usr/bin/env python3
"""Redis time per job of fetch.lua, rebuilt piece by piece (docs/benchmarks.md,
"Redis time per job").

Each variant is the include prelude fetch.lua runs with, then a body; each
is called 400 times on 60 fresh records of 168 bytes (the w1 record), and
`INFO commandstats` gives the EVALSHA time per job. Runs against a private
Redis you start first (it is flushed):

    redis-server --port 6394 --save "" --appendonly no --daemonize yes
    pip install redis
    scripts/lua-fetch-cost.py [--port 6394] [variant ...]
"""
import argparse
import pathlib
import uuid

import redis

LUA = pathlib.Path(__file__).resolve().parent.parent / "jobqueue-core/src/lua"
KEYS = ["p:{q}:ready", "p:{q}:priority", "p:{q}:active:w", "p:{q}:leases", "p:{q}:paused"]
BATCH = 60
ROUNDS = 400


def source(includes, body=None, name="fetch"):
    text = "".join((LUA / "include" / f"{i}.lua").read_text() for i in includes)
    return text + (body if body is not None else (LUA / f"{name}.lua").read_text())


PRELUDE = ["lib", "keys", "records", "observe"]
VARIANTS = {
    "fetch.lua": source(PRELUDE),
    "lpop+return": source(PRELUDE, "return redis.call('LPOP', KEYS[1], 60)"),
    "+ids+hset": source(PRELUDE, """
local p = redis.call('LPOP', KEYS[1], 60)
local f = {}
for i = 1, #p do f[2 * i - 1] = record_id(p[i]); f[2 * i] = p[i] end
redis.call('HSET', KEYS[3], unpack(f))
return p"""),
    "+ids+hmget+hset": source(PRELUDE, """
local p = redis.call('LPOP', KEYS[1], 60)
local ids, f = {}, {}
for i = 1, #p do local id = record_id(p[i]); ids[i] = id; f[2 * i - 1] = id; f[2 * i] = p[i] end
redis.call('HMGET', KEYS[3], unpack(ids))
redis.call('HSET', KEYS[3], unpack(f))
return p"""),
}


def cost(r, text, records):
    r.flushall()
    r.zadd(KEYS[3], {"w": 9e15})
    sha = r.script_load(text)
    r.config_resetstat()
    for i in range(ROUNDS):
        pipe = r.pipeline(transaction=False)
        pipe.rpush(KEYS[0], *records[i * BATCH:(i + 1) * BATCH])
        pipe.evalsha(sha, len(KEYS), *KEYS, "w", str(BATCH))
        pipe.delete(KEYS[2])
        pipe.execute()
    return r.info("commandstats")["cmdstat_evalsha"]["usec"] / ROUNDS / BATCH


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6394)
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    r = redis.Redis(port=args.port)
    payload = '{"n":1,"pad":"' + "x" * 85 + '"}'
    records = [f'{{"id":"{uuid.uuid4()}","type":"bench"}}\n{payload}' for _ in range(BATCH * ROUNDS)]
    for name in args.variants:
        runs = " ".join(f"{cost(r, VARIANTS[name], records):.2f}" for _ in range(3))
        print(f"{name:18} {runs} µs per job")


if __name__ == "__main__":
    main()
