#!/usr/bin/python3
"""A real SMTP server on loopback for the tests (Debian's python3-aiosmtpd).

Usage: smtp_sink.py FOLDER PORT
Each message it accepts is written to FOLDER as NNNN.eml (its envelope's recipients first, as an
X-Envelope-To header); prints "ready" once it listens.
"""
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:04d}")
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-To: " + ",".join(envelope.rcpt_tos) + "\r\n").encode() + envelope.original_content)
        os.rename(path + ".tmp", path + ".eml")
        return "250 OK"


folder, port = sys.argv[1], int(sys.argv[2])
controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
