"""Run the assistant CLI (or Python code using the package) with every non-loopback connection
and DNS lookup refused and logged.

Usage: python tests/guard_network.py LOGFILE assistant-args...
       python tests/guard_network.py LOGFILE -c PYTHON-CODE
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

LOG = sys.argv.pop(1)


def _loopback(host: object) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(event: str, args: tuple[Any, ...]) -> None:
    target = None
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            target = address
    elif event == "socket.getaddrinfo" and not _loopback(args[0]):
        target = args[0]
    if target is not None:
        with open(LOG, "a") as log:
            log.write(f"{event} {target}\n")
        raise OSError(f"outside network refused by test guard: {target}")


sys.addaudithook(_guard)

if sys.argv[1:2] == ["-c"]:
    exec(sys.argv[2])  # the library as a Python program uses it: no CLI to set anything up
else:
    from assistant.cli import main

    main(prog_name="assistant")
