#!/usr/bin/env python3
"""Run benchmark clients on the host for a guest (bench-xps, BENCH_CLIENT=host).

    host-client-agent.py ADDR PORT [CPUS]

Listens on ADDR:PORT, the host end of the VM's tap (ADDR need not exist yet:
the socket is bound with IP_FREEBIND, and vm-run.sh adds the address when it
creates the tap). The guest connects with scripts/host-run.sh and sends one
line: base64 of the command's argv, NUL-separated. Only the clients the
benchmark uses may run (ALLOWED, looked up by name), never through a shell.
Their stdout and stderr stream back as they come; a last line
"@@host-agent rc=N" carries the exit status. When the guest closes the
connection first, the client's whole process group is killed, so a client
the guest stopped does not go on loading the server.

CPUS, if given, is a taskset CPU list for the clients.

It trusts the guest, which is the project's own test VM: the list keeps
mistakes out, not an attacker (wrk's -s runs a Lua script, and the guest
can write build/results). Bind it only to the tap's address.
"""
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading

ALLOWED = {"redis-benchmark", "redis-mixload", "wrk"}  # also behind stdbuf
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the project's own clients, by name, from the build (REDIS_MIXLOAD: another)
OWN = {"redis-mixload": os.environ.get("REDIS_MIXLOAD")
       or os.path.join(ROOT, "build/userspace/bin/redis-mixload")}
IP_FREEBIND = 15


def resolve(argv):
    """The argv to run, or an error message."""
    if not argv:
        return None, "empty command"
    i = 0
    if os.path.basename(argv[0]) == "stdbuf":  # stdbuf -oL CLIENT ...
        i = 1
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
        if i == len(argv):
            return None, "stdbuf without a command"
    name = os.path.basename(argv[i])
    if name not in ALLOWED:
        return None, f"'{name}' is not a benchmark client this agent runs"
    path = OWN.get(name) or shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        return None, f"'{name}' not found on the host"
    out = list(argv)
    out[i] = path
    if i:
        out[0] = shutil.which("stdbuf") or "stdbuf"
    return out, None


def serve(conn, cpus):
    with conn:
        f = conn.makefile("rb")
        line = f.readline()
        try:
            argv = [a.decode() for a in base64.b64decode(line.strip()).split(b"\0")[:-1]]
        except ValueError:
            argv = []
        cmd, err = resolve(argv)
        if err:
            conn.sendall(f"host-agent: {err}\n@@host-agent rc=127\n".encode())
            return
        if cpus:
            cmd = ["taskset", "-c", cpus] + cmd
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)

        def watch():  # the guest hung up: stop the client
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)

        threading.Thread(target=watch, daemon=True).start()
        try:
            for chunk in iter(lambda: os.read(p.stdout.fileno(), 65536), b""):
                conn.sendall(chunk)
            rc = p.wait()
            conn.sendall(f"@@host-agent rc={rc}\n".encode())
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: host-client-agent.py ADDR PORT [CPUS]")
    addr, port = sys.argv[1], int(sys.argv[2])
    cpus = sys.argv[3] if len(sys.argv) == 4 else ""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, cpus), daemon=True).start()


if __name__ == "__main__":
    main()
