#!/usr/bin/python3
# notify_listen.py SOCKET OUT SECONDS - stand in for systemd's notification
# socket: write every sd_notify datagram received on SOCKET to OUT, one
# message per line ('\n' inside a message becomes ' | '), for at most
# SECONDS.
import os
import socket
import sys
import time

path, out, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)
end = time.monotonic() + limit
with open(out, "w", buffering=1) as f:
    while time.monotonic() < end:
        try:
            msg = sock.recv(4096)
        except socket.timeout:
            continue
        f.write(msg.decode("utf-8", "replace").replace("\n", " | ") + "\n")
        if b"STOPPING=1" in msg:
            break
os.unlink(path)
