"""CRM sync: the CRM integration guide's four patterns as one script (standard library only).

    WINFACTOR_URL=http://127.0.0.1:8080 WINFACTOR_KEY=wf_... python3 examples/crm-sync/sync.py

1. Submission intake: page through submissions (createdAfter), read each with its
   resolvedConfiguration, and stamp the CRM deal id back as externalRef.
2. Contacts, both ways: look each customer up by email; give contacts without a CRM id one.
3. Quotes out: for each submission without a quote, create one with the CRM's breakdown and
   send it to the customer.
4. Leads: route new leads to the CRM inbox and mark them contacted.

A real integration keeps `createdAfter` between runs and maps ids to its own CRM; this
script invents CRM ids (`examplecrm:deal:<n>`) so it runs against any WinFactor server.
It prints one JSON summary line.
"""

import json
import os
import urllib.parse
import urllib.request

BASE = os.environ.get("WINFACTOR_URL", "http://127.0.0.1:8080").rstrip("/")
KEY = os.environ["WINFACTOR_KEY"]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method, headers={
        "Authorization": f"Bearer {KEY}", "Content-Type": "application/json",
        # POSTs are safe to retry: the same key replays the first answer.
        **({"Idempotency-Key": f"crm-sync:{method}:{path}"} if method == "POST" else {}),
    })
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def pages(path):
    cursor = None
    while True:
        separator = "&" if "?" in path else "?"
        page = call("GET", path + (f"{separator}cursor={cursor}" if cursor else ""))
        yield from page["data"]
        cursor = page.get("nextCursor")
        if not cursor:
            return


def main():
    org = call("GET", "/api/v1/organization")
    summary = {"organization": org["slug"], "currency": org["currency"], "unitSystem": org["unitSystem"],
               "deals": 0, "contacts": 0, "quotes": 0, "leads": 0}
    since = int(os.environ.get("CREATED_AFTER", "0"))
    for n, listed in enumerate(pages(f"/api/v1/submissions?createdAfter={since}&limit=50"), start=1):
        submission = call("GET", f"/api/v1/submissions/{listed['id']}")
        parts = ", ".join(c["componentName"] for c in submission["resolvedConfiguration"]["componentSelections"])
        if not submission["externalRef"]:
            call("PATCH", f"/api/v1/submissions/{submission['id']}", {"externalRef": f"examplecrm:deal:{n}"})
            summary["deals"] += 1
        email = submission["customer"]["email"]
        found = call("GET", "/api/v1/contacts?email=" + urllib.parse.quote(email))["data"]
        if found and not found[0]["externalRef"]:
            call("PATCH", f"/api/v1/contacts/{found[0]['id']}", {"externalRef": f"examplecrm:contact:{n}"})
            summary["contacts"] += 1
        if not submission["latestQuoteId"]:
            quote = call("POST", f"/api/v1/submissions/{submission['id']}/quotes", {
                "lineItems": [{"description": f"{parts} (CRM price)", "quantity": 1,
                               "unitPrice": submission["pricing"]["subtotal"], "itemType": "product"},
                              {"description": "Mounting", "quantity": 1, "unitPrice": 250.0, "itemType": "labor"}],
                "reference": f"examplecrm:deal:{n}",
            })
            call("POST", f"/api/v1/quotes/{quote['id']}/send", {"recipients": [email]})
            summary["quotes"] += 1
    for lead in pages("/api/v1/leads?status=new"):
        call("PATCH", f"/api/v1/leads/{lead['id']}", {"status": "contacted"})
        summary["leads"] += 1
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
