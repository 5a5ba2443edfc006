"""Signs one request with python3-oauthlib (a third OAuth 1.0a implementation) and prints the header.

Input (stdin, JSON): method, url, client_key, client_secret, and optionally resource_owner_key,
resource_owner_secret, verifier, body, content_type.
"""
import json
import sys

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

req = json.load(sys.stdin)
client = Client(
    req["client_key"],
    client_secret=req["client_secret"],
    resource_owner_key=req.get("resource_owner_key"),
    resource_owner_secret=req.get("resource_owner_secret"),
    verifier=req.get("verifier"),
    signature_method=SIGNATURE_HMAC_SHA256,
)
headers = {"Content-Type": req["content_type"]} if req.get("content_type") else {}
uri, signed_headers, body = client.sign(req["url"], http_method=req["method"], body=req.get("body"), headers=headers)
print(json.dumps({"url": uri, "authorization": signed_headers["Authorization"]}))
