"""A WinFactor pricing receiver: the live pricing loop from the organisation's side.

It verifies each `pricing.calculated` delivery (Standard Webhooks signature), applies a
margin to every base line item, adds a mounting line, and PUTs the full breakdown to the
single-use `callback.url` for exactly that `configHash` — the customer's screen then shows
this price instead of the base price.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... PORT=9002 MARGIN=0.15 MOUNTING=250 \
        python3 examples/pricing-receiver/receiver.py

Only the standard library and `standardwebhooks`. Each answered event is printed as one
JSON line.
"""

import json
import os
import threading
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])
MARGIN = Decimal(os.environ.get("MARGIN", "0.15"))
MOUNTING = Decimal(os.environ.get("MOUNTING", "250"))
CENT = Decimal("0.01")


def reprice(base_items):
    """Margin on every base item (kept by itemKey), plus one mounting line."""
    items = []
    for item in base_items:
        price = (Decimal(str(item["unitPrice"])) * (1 + MARGIN)).quantize(CENT, ROUND_HALF_UP)
        items.append({**item, "unitPrice": float(price)})
    items.append({"description": "Mounting", "quantity": 1, "unitPrice": float(MOUNTING),
                  "itemType": "labor", "sortOffset": 1000, "externalRef": "erp:service:mounting"})
    return items


def answer(event):
    data = event["data"]
    callback = data["callback"]
    body = json.dumps({"configHash": callback["configHash"],
                       "lineItems": reprice(data["basePricing"]["lineItems"])}).encode()
    request = urllib.request.Request(callback["url"], data=body, method=callback["method"],
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        result = json.load(response)
    print(json.dumps({"context": data["context"], "configHash": callback["configHash"],
                      "applied": result["applied"], "subtotal": result["pricing"]["subtotal"]}), flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = WEBHOOK.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except WebhookVerificationError:
            self.send_response(401)
            self.end_headers()
            return
        # Acknowledge at once; price in the background, inside the callback budget.
        self.send_response(200)
        self.end_headers()
        if event["eventType"] == "pricing.calculated":
            threading.Thread(target=answer, args=(event,), daemon=True).start()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "9002"))), Handler)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    server.serve_forever()
