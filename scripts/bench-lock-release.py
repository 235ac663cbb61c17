#!/usr/bin/env python3
"""What releasing a uniqueness lock costs Redis, per lock, at least.

docs/benchmarks.md ("Flow control on the drain path") quotes this. It
creates N lock keys shaped like jobqueue's (`<prefix>:{q}:unique:<sha1>`,
holding a job id, with a TTL), then releases them in random order in
script calls of 60 (a completion batch), two ways:

* compare-and-delete, as ack.lua does: one MGET, compare, one DEL;
* an unconditional DEL: the cheapest release any design could do.

and prints Redis's own time per lock (`INFO commandstats`), for both the
whole script and the inner commands. Run it against a private Redis: it
resets the server's command statistics.

    scripts/bench-lock-release.py redis://127.0.0.1:6390 [N]
"""

import hashlib
import random
import sys
import uuid

import redis

HOLDER = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
BATCH = 60

COMPARE_AND_DELETE = """
local holders = redis.call('MGET', unpack(KEYS))
local locks = {}
for i = 1, #KEYS do
  if holders[i] == ARGV[1] then locks[#locks + 1] = KEYS[i] end
end
if #locks > 0 then return redis.call('DEL', unpack(locks)) end
return 0
"""
DELETE_ONLY = "return redis.call('DEL', unpack(KEYS))"


def create_locks(r, prefix, n):
    keys = [f"{prefix}:{{q}}:unique:" + hashlib.sha1(str(i).encode()).hexdigest() for i in range(n)]
    pipe = r.pipeline(transaction=False)
    for i, key in enumerate(keys):
        pipe.set(key, HOLDER, px=3_600_000)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    random.shuffle(keys)
    return keys


def release_all(r, script, keys):
    r.config_resetstat()
    for i in range(0, len(keys), BATCH):
        script(keys=keys[i : i + BATCH], args=[HOLDER])
    stats = r.info("commandstats")
    per_lock = {
        name.removeprefix("cmdstat_"): round(stats[name]["usec"] / len(keys), 2)
        for name in ("cmdstat_evalsha", "cmdstat_mget", "cmdstat_del")
        if name in stats
    }
    return per_lock


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    r = redis.Redis.from_url(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    prefix = f"lockbench-{uuid.uuid4().hex[:8]}"
    for name, source in (("compare-and-delete", COMPARE_AND_DELETE), ("DEL only", DELETE_ONLY)):
        keys = create_locks(r, prefix, n)
        per_lock = release_all(r, r.register_script(source), keys)
        print(f"{name}: Redis µs per lock {per_lock} (evalsha = the whole script)")


if __name__ == "__main__":
    main()
