#!/usr/bin/env python3
"""Send a signed Meta webhook to a running follow-up service, as Meta would.

Builds a customer text message for WhatsApp, Messenger or Instagram with the current time
(or sends a payload file as it is), signs the raw bytes with the app secret
(X-Hub-Signature-256: HMAC-SHA256) and POSTs it to /v1/webhooks/meta.

  python3 tests/send_webhook.py whatsapp --account 106540352242922 --customer 16315551181 --text "Hi"
  python3 tests/send_webhook.py file tests/fixtures/meta/messenger-text.json

The app secret comes from FOLLOWUP_META_APP_SECRET, else from the local engine's
.followup-data/local-meta-app-secret. Standard library only.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def app_secret(data_dir):
    secret = os.environ.get("FOLLOWUP_META_APP_SECRET")
    if secret:
        return secret
    path = os.path.join(data_dir, "local-meta-app-secret")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        sys.exit(f"no app secret: set FOLLOWUP_META_APP_SECRET or start the engine once ({path})")


def whatsapp(account, customer, text, now):
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": account},
            "contacts": [{"profile": {"name": "Test Customer"}, "wa_id": customer}],
            "messages": [{"from": customer, "id": f"wamid.{uuid.uuid4().hex}",
                          "timestamp": str(int(now)), "type": "text", "text": {"body": text}}],
        }}]}],
    }


def messaging(obj, account, customer, text, now):
    return {
        "object": obj,
        "entry": [{"id": account, "time": int(now * 1000), "messaging": [{
            "sender": {"id": customer}, "recipient": {"id": account},
            "timestamp": int(now * 1000),
            "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text},
        }]}],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("platform", choices=["whatsapp", "messenger", "instagram", "file"])
    parser.add_argument("path", nargs="?", help="payload file (with `file`)")
    parser.add_argument("--account", help="phone number id, page id or Instagram account id")
    parser.add_argument("--customer", help="customer id (wa_id, PSID or IGSID)")
    parser.add_argument("--text", default="Hello, is there a free slot on Tuesday?")
    parser.add_argument("--api", default=os.environ.get("API", "http://127.0.0.1:8080"))
    parser.add_argument("--data-dir", default=os.environ.get("FOLLOWUP_DATA_DIR", ".followup-data"))
    args = parser.parse_args()

    if args.platform == "file":
        if not args.path:
            parser.error("`file` needs a payload path")
        with open(args.path, "rb") as f:
            body = f.read()
    else:
        if not (args.account and args.customer):
            parser.error("--account and --customer are required")
        now = time.time()
        payload = (whatsapp(args.account, args.customer, args.text, now) if args.platform == "whatsapp"
                   else messaging("page" if args.platform == "messenger" else "instagram",
                                  args.account, args.customer, args.text, now))
        body = json.dumps(payload).encode()

    signature = "sha256=" + hmac.new(app_secret(args.data_dir).encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        args.api.rstrip("/") + "/v1/webhooks/meta", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode())
        sys.exit(1)


if __name__ == "__main__":
    main()
