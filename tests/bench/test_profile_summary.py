"""bench.profile_summary charges a profile's samples to the layer that did the work."""

from __future__ import annotations

from bench.profile_summary import IDLE, read

# py-spy's collapsed stacks, shaped as they come from `printcloud serve`.
ROUTE = "app (fastapi/routing.py:301)"
SNAPSHOT = "SessionTransaction._take_snapshot (sqlalchemy/orm/session.py:1184)"
LINES = [
    # A greenlet's stack (rooted at SQLAlchemy) whose innermost frame is the stdlib.
    f"Session.execute (sqlalchemy/orm/session.py:2555);{SNAPSHOT};"
    "WeakKeyDictionary.__init__ (weakref.py:367) 5",
    # Our driver running SQLite: the database's own work.
    f"{ROUTE};add (printcloud/server/jobs/repository.py:80);"
    "Cursor.execute (printcloud/server/db/sqlite_inline.py:120) 3",
    # Our code, then json called by it.
    f"{ROUTE};create_job (printcloud/server/jobs/service.py:50);"
    "dumps (json/__init__.py:231);JSONEncoder.encode (json/encoder.py:200) 2",
    "Thread._bootstrap (threading.py:1002);WorkerThread.run (anyio/_backends/_asyncio.py:1113);"
    "Queue.get (queue.py:171);Condition.wait (threading.py:327) 4",
    " 1",
]


def test_stdlib_frames_are_charged_to_the_library_that_called_them() -> None:
    profile = read(LINES)

    assert profile.samples == 15
    assert profile.by_layer == {
        "sqlalchemy": 5,
        "sqlite3 via printcloud.server.db": 3,
        "printcloud (the rest of ours)": 2,
        IDLE: 4,
        "(no Python frame)": 1,
    }
    # The self view still names the code that ran.
    assert profile.self_by_package["weakref"] == 5
    assert profile.self_by_package["json"] == 2
    assert profile.self_by_function["WeakKeyDictionary.__init__ (weakref.py)"] == 5
    assert profile.inclusive_by_package["printcloud.server.jobs"] == 5
