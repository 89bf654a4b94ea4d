"""A WinFactor webhook receiver in Python, verifying with the `standardwebhooks` package.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... PORT=9001 python3 examples/webhook-receiver/receiver.py

Standard Webhooks verification checks the signature and a 5-minute timestamp tolerance;
deliveries are deduplicated on `webhook-id` (the same value as `X-WinFactor-Delivery`).
Each accepted event is printed as one JSON line.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])
SEEN = set()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = WEBHOOK.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except WebhookVerificationError as error:
            print(json.dumps({"rejected": str(error)}), flush=True)
            self.send_response(401)
            self.end_headers()
            return
        delivery = self.headers["webhook-id"]
        if delivery not in SEEN:
            SEEN.add(delivery)
            print(json.dumps({"delivery": delivery, "event": event["eventType"], "data": event["data"]}), flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "9001"))), Handler)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
