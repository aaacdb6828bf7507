"""The load harness of issue 7: real ``printcloud serve`` processes under simulated agents,
open-loop submitters and a verifying webhook receiver. Run ``python -m bench.load --help``.

Every timestamp is ``time.monotonic_ns()`` taken in the one generator process, so agents,
submitters and the webhook receiver share a clock. (CLOCK_MONOTONIC is system-wide on
Linux, so figures from several processes of one machine would also be comparable.)
"""
