"""Cost per job in server CPU-µs, stage by stage, against the floor of each.

    .venv/bin/python -m bench.stage_cost [--jobs N] [--rounds R] [--database-url URL] [--json [OUT]]
    .venv/bin/python -m bench.stage_cost --smoke

One ``printcloud serve`` on a fresh SQLite file (or the empty database of
``--database-url``), one account, one printer; then, one after the other, with the
server's CPU time (all its threads, from ``clock_gettime``) read before and after each:

- intake: N ``POST /api/printjobs`` (a 2-byte raw job) from a few keep-alive
  connections, the printer's computer offline;
- dispatch: the computer comes online (a protocol-speaking agent) and its N queued jobs
  are sent to it (the connection's handshake is in it: one in N);
- state reports: the agent reports ``printing`` and ``completed`` for each;
- webhook delivery: one webhook for ``job.state`` to a receiver in the bench's process;
  N more jobs live their lives while each delivery waits at the receiver, then the
  receiver lets them through and the 3N deliveries (sent, printing, completed) are
  measured;
- the floors, in the same run: one commit, one WebSocket echo, one HTTP request.

The stages then the floors run ``--rounds`` times (3; N is 500 a round) and each
figure is the median of its rounds: the cores are shared, and a burst of other work
moves one round, not the median. A short round (every stage but webhooks) runs first
and is not counted: the first requests of a process pay for its lazy set-up.
"""
