#!/usr/bin/env python3
"""A real SMTP server for relaysum's delivery tests (aiosmtpd): STARTTLS with the given certificate, AUTH PLAIN and
LOGIN for one user, every accepted message written to OUT as NNN.eml. After --accept N messages it answers 451 to
DATA (a server failing mid-run). Listens on 127.0.0.1 on a free port, prints "PORT <n>" once ready, and stops by
itself after --lifetime seconds or when standard input closes."""
import argparse
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--user", required=True)
ap.add_argument("--password", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--accept", type=int, default=-1)
ap.add_argument("--lifetime", type=float, default=120)
a = ap.parse_args()


class Handler:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self.lock:
            if a.accept >= 0 and self.count >= a.accept:
                return "451 4.3.0 Try again later"
            self.count += 1
            n = self.count
        with open(os.path.join(a.out, "%03d.eml" % n), "wb") as fh:
            fh.write(("X-Envelope-From: %s\nX-Envelope-To: %s\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos))).encode())
            fh.write(envelope.original_content)
        return "250 2.0.0 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == a.user.encode() and auth_data.password == a.password.encode()
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(a.cert, a.key)
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
controller = Controller(
    Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
    authenticator=authenticate, auth_require_tls=True, auth_required=True, ready_timeout=10,
)
controller.start()
print("PORT %d" % port, flush=True)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
stop.wait(a.lifetime)
controller.stop()
