"""moto's server in a process of its own, for a stack whose functions run in worker processes.

With every function in containers of its own, most of the work left to the `local start` process is
AWS itself: every container's DynamoDB, SQS and Secrets Manager calls. Served by a thread of that
process, it would share one interpreter lock with the HTTP API and the queue pollers; in its own
process it gets a core of its own. With `faults` (make chaos only) it also serves aws_faults' control
path, to make chosen AWS calls fail or hang.

The socket is bound here, by the caller (a taken port raises AwsPortUnavailable at once, as with
`MotoServer`), and served there: `python -m catalog_sync_local.runtime.moto_process <socket fd>`. The server
process stops when its stdin closes, so it never outlives the process that started it, even a killed one.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading

from catalog_sync_local.runtime.aws_backend import REGION, AwsBackend, listening_socket, moto_server

READY = "ready"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0


class MotoServerProcess:
    """Same use as MotoServer: `start()` returns the backend, `stop()` ends the server process."""

    def __init__(self, port: int = 0, *, region: str = REGION, faults: bool = False) -> None:
        self.port = port
        self.region = region
        self.faults = faults  # serve aws_faults' control path (make chaos), never for local start
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> AwsBackend:
        with listening_socket(self.port) as listening:
            host, port = listening.getsockname()[:2]
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this package's module
                [
                    sys.executable,
                    "-m",
                    "catalog_sync_local.runtime.moto_process",
                    str(listening.fileno()),
                    *(["--faults"] if self.faults else []),
                ],
                pass_fds=(listening.fileno(),),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        if not self._ready():
            self.stop()
            raise RuntimeError(f"the moto server process did not start within {START_TIMEOUT_S:.0f} s")
        return AwsBackend(endpoint_url=f"http://{host}:{port}", region=self.region)

    def _ready(self) -> bool:
        """Its first line says it serves (read in a thread, so the wait is bounded)."""
        assert self._process is not None and self._process.stdout is not None
        lines: list[str] = []
        stdout = self._process.stdout
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        return bool(lines) and lines[0].strip() == READY

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # it shuts down
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        if process.stdout is not None:
            process.stdout.close()


def serve(fd: int, *, faults: bool = False) -> None:
    listening = socket.socket(fileno=fd)
    host, port = listening.getsockname()[:2]
    wrap = None
    if faults:  # make chaos only: local start's server neither imports nor wraps anything more
        from catalog_sync_local.runtime.aws_faults import FaultInjection

        wrap = FaultInjection
    server = moto_server(host, port, fd, wrap)
    listening.close()  # werkzeug serves a duplicate of it

    def stop_when_the_parent_goes() -> None:
        sys.stdin.read()  # returns at end of file: the parent closed the pipe, or died
        server.shutdown()

    threading.Thread(target=stop_when_the_parent_goes, daemon=True).start()
    print(READY, flush=True)
    server.serve_forever()
    server.server_close()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the terminal's group: the parent decides
    serve(int(argv[1]), faults="--faults" in argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
