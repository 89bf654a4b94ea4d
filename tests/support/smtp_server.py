"""A real SMTP server for the suites (aiosmtpd), scriptable from the command line.

    python3 smtp_server.py PORT [--delay SECONDS] [--fail-first N] [--refuse ADDRESS ...]

Prints `ready` once it listens, then one JSON line per message it accepts:
{"from", "to", "data"}. A message is printed as soon as its data is in, before the reply
(after --delay seconds): from then on the mail is the server's, as with a real MTA, even if
the client never reads the answer. --fail-first answers the first N messages
`451 try again later` (and prints nothing for them); --refuse answers `550` to those
recipients.
"""

import argparse
import asyncio
import json
import sys
import threading

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, delay, fail_first, refuse):
        self.delay = delay
        self.failures_left = fail_first
        self.refuse = set(refuse)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                return "451 4.3.0 try again later"
        data = envelope.content.decode("utf-8", errors="replace")
        line = json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": data})
        print(line, flush=True)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--refuse", nargs="*", default=[])
    args = parser.parse_args()
    handler = Recorder(args.delay, args.fail_first, args.refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
