"""A real ``sqlml serve`` process for the server tests: started on a free loopback port (it
listens on port 0 and prints the port it got), with this checkout's ``src`` on its PYTHONPATH,
stopped at the end. Its log goes to a file beside the database, shown when a test fails."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PASSWORD = "s3cret-Password"
# Starting a Python process with DuckDB on a busy machine can take a while; nothing is timed.
START_TIMEOUT = 180


def environment(password: str | None = PASSWORD) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.pop("SQLML_SUPERUSER_PASSWORD", None)
    if password is not None:
        env["SQLML_SUPERUSER_PASSWORD"] = password
    return env


class Served:
    """``sqlml serve DATABASE ARGS...`` running until :meth:`stop`."""

    def __init__(self, database: Path, *args: str, password: str | None = PASSWORD):
        self.database = database
        self.log = database.with_suffix(".log")
        self._log_file = open(self.log, "w")  # noqa: SIM115 -- open as long as the server runs
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sqlml", "serve", str(database), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env=environment(password),
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            line = ""
        found = re.search(r"listening on ([\d.]+):(\d+)", line)
        if found is None:
            self.stop()
            raise RuntimeError(f"sqlml serve did not start: {line!r}\n{self.log.read_text()}")
        self.host, self.port = found.group(1), int(found.group(2))
        self.dbname = database.stem

    def _read(self, lines: queue.Queue) -> None:
        for line in self.proc.stdout:
            lines.put(line)
        lines.put("")

    def dsn(self, user: str = "sqlml", password: str = PASSWORD, **extra: str) -> str:
        parts = {
            "host": self.host,
            "port": str(self.port),
            "dbname": self.dbname,
            "user": user,
            "password": password,
            "sslmode": "disable",
            "connect_timeout": "60",
            **extra,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


def psql(served: Served, *args: str, user: str = "sqlml", password: str = PASSWORD, stdin=None):
    """Run psql 15 against the server (no ~/.psqlrc); returns the completed process."""
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="60")
    conninfo = (
        f"host={served.host} port={served.port} dbname={served.dbname} user={user} sslmode=disable"
    )
    return subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", conninfo, *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=300,
    )


def have(program: str) -> bool:
    return shutil.which(program) is not None
