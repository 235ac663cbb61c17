"""The scripts exist once: the package's copy must equal jobqueue-core/src/lua
byte for byte, and its include sets must equal docs/protocol.md's table
(which a Rust test keeps equal to the Rust registry)."""

from __future__ import annotations

import re
import unittest
from pathlib import Path

import redis

from jobqueue_client.scripts import INCLUDES, Scripts, lua_dir
from support import REDIS_URL

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "jobqueue-core" / "src" / "lua"


@unittest.skipUnless(SOURCE.is_dir(), "needs the jobqueue repository")
class ScriptCopyTests(unittest.TestCase):
    def test_the_packaged_scripts_are_byte_identical_to_the_repository(self) -> None:
        packaged = lua_dir()
        names = sorted(p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*.lua"))
        copies = sorted(p.relative_to(packaged).as_posix() for p in packaged.rglob("*.lua"))
        self.assertEqual(copies, names, f"{packaged} lists other scripts than {SOURCE}")
        drifted = [n for n in names if (packaged / n).read_bytes() != (SOURCE / n).read_bytes()]
        self.assertEqual(drifted, [], f"copies in {packaged} differ: reinstall clients/python")

    def test_the_include_sets_are_the_ones_docs_protocol_md_lists(self) -> None:
        doc = (REPO / "docs" / "protocol.md").read_text()
        table = doc.split("| includes | scripts |", 1)[1].splitlines()[2:]
        documented = {}
        for row in table:
            if not row.startswith("|"):
                break
            includes_cell, scripts_cell = row.strip("|").split("|")[:2]
            includes = tuple(re.findall(r"`(\w+)\.lua`", includes_cell))
            for script in re.findall(r"`(\w+)`", scripts_cell):
                documented[script] = includes
        for name, includes in INCLUDES.items():
            self.assertEqual(documented.get(name), includes, name)

    def test_redis_computes_the_same_sha(self) -> None:
        client = redis.Redis.from_url(REDIS_URL)
        for script in Scripts().all():
            self.assertEqual(client.script_load(script.source), script.sha, script.name)
        client.close()


if __name__ == "__main__":
    unittest.main()
