"""How ``printcloud agent run`` ends, for the service manager that watches it.

A service manager restarts the agent after a failure; after a fatal one (a refused or
revoked key, a configuration that cannot work) restarting only repeats the error, so
those exit with their own code, which the systemd unit names in
``RestartPreventExitStatus=``.
"""

from __future__ import annotations

from typing import Final

OK: Final = 0
FAILED: Final = 1  # worth a restart: the next run may do better
FATAL: Final = 78  # EX_CONFIG (sysexits.h): someone must act (log in again, fix the file)
INTERRUPTED: Final = 130  # stopped by a second Ctrl-C/SIGTERM, as shells report SIGINT
