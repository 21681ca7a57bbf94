"""A SAML 2.0 identity provider for ARX's tests, on pysaml2 (it signs through xmlsec1).

Usage: python saml-idp.py PORT SP_METADATA_FILE KEY_DIR [AS_URL]
  KEY_DIR holds idp.key/idp.crt (made with openssl when missing) and other.key/other.crt
  (a key the metadata does not publish). Two instances sharing KEY_DIR are the same IdP,
  so one run under libfaketime signs assertions from another time; AS_URL is the address
  the first one serves, which this one then answers requests for.

GET  /metadata                     the IdP's metadata (its signing certificate inside)
GET  /sso/redirect?SAMLRequest=..  HTTP-Redirect binding: a login form
POST /sso/login  key=..&user=..    a signed Response, in a page that auto-POSTs it to the ACS
GET  /sso/initiate?user=..&sp=..   an IdP-initiated Response (no InResponseTo) for the SP
POST /__test/mode  mode=..         how the next responses are made:
     normal | assertion_only (only the Assertion signed) | response_only (only the Response
     signed) | unsigned | sha1 | wrong_audience | wrong_recipient | wrong_key | no_email |
     status_denied
"""
import base64, html, os, subprocess, sys, uuid
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server, WSGIRequestHandler
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAME_FORMAT_BASIC, NameID
from saml2.server import Server
from saml2.xmldsig import SIG_RSA_SHA1, DIGEST_SHA1, SIG_RSA_SHA256, DIGEST_SHA256

port, sp_md, keys = int(sys.argv[1]), sys.argv[2], sys.argv[3]
BASE = sys.argv[4] if len(sys.argv) > 4 else f"http://127.0.0.1:{port}"
ENTITY_ID = "https://idp.arx.test/saml"
OTHER_SP = "https://other-sp.example/metadata"
OTHER_MD = (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{OTHER_SP}">'
            '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            'Location="https://other-sp.example/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>')
USERS = {
    "alice": {"mail": ["alice@example.com"], "displayName": ["Alice Admin"], "groups": ["arx-admins"]},
    "bob": {"mail": ["bob@example.com"], "displayName": ["Bob Reviewer"], "groups": ["arx-reviewers", "staff"]},
    "mallory": {"mail": ["mallory@example.com"], "displayName": ["Mallory"], "groups": []},
    # An address that begins with another user's: the comment-injection test's attacker.
    "eve": {"mail": ["alice@example.com.evil.test"], "displayName": ["Eve"], "groups": []},
}
AUTHN = {"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}


def keypair(name):
    key, crt = os.path.join(keys, f"{name}.key"), os.path.join(keys, f"{name}.crt")
    if not os.path.exists(crt):
        os.makedirs(keys, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key + ".tmp",
                        "-out", crt + ".tmp", "-days", "3", "-subj", f"/CN=arx-test-{name}"],
                       check=True, capture_output=True)
        os.replace(key + ".tmp", key)
        os.replace(crt + ".tmp", crt)
    return key, crt


def config(key, crt):
    return IdPConfig().load({
        "entityid": ENTITY_ID,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(f"{BASE}/sso/redirect", BINDING_HTTP_REDIRECT)]},
            "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_BASIC}},
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            "want_authn_requests_signed": False}},
        "key_file": key, "cert_file": crt,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [sp_md], "inline": [OTHER_MD]},
    })


cfg = config(*keypair("idp"))
idp = Server(config=cfg)
idp_other = Server(config=config(*keypair("other")))
PENDING, STATE = {}, {"mode": "normal"}


def form(action, fields):
    inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}"/>' for k, v in fields.items())
    return (f'<html><body onload="document.forms[0].submit()"><form method="post" action="{html.escape(action)}">'
            f'{inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>')


def respond(user, in_response_to, acs, sp):
    mode = STATE["mode"]
    signer = idp_other if mode == "wrong_key" else idp
    identity = dict(USERS[user])
    if mode == "no_email":
        identity.pop("mail")
    name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=USERS[user]["mail"][0])
    if mode == "status_denied":
        resp = signer.create_error_response(in_response_to, acs, Exception("denied"), sign=True,
                                            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        return base64.b64encode(str(resp).encode()).decode()
    resp = signer.create_authn_response(
        identity=identity, in_response_to=in_response_to,
        destination="http://127.0.0.1:1/elsewhere" if mode == "wrong_recipient" else acs,
        sp_entity_id=OTHER_SP if mode == "wrong_audience" else sp,
        userid=user, name_id=name_id, authn=AUTHN,
        sign_response=mode not in ("unsigned", "assertion_only"),
        sign_assertion=mode not in ("unsigned", "response_only"),
        sign_alg=SIG_RSA_SHA1 if mode == "sha1" else SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA1 if mode == "sha1" else DIGEST_SHA256)
    return base64.b64encode(str(resp).encode()).decode()


def app(env, start):
    path, method = env["PATH_INFO"], env["REQUEST_METHOD"]
    q = parse_qs(env.get("QUERY_STRING", ""))
    if method == "POST":
        q = parse_qs(env["wsgi.input"].read(int(env.get("CONTENT_LENGTH") or 0)).decode())
    p = {k: v[0] for k, v in q.items()}

    def reply(body, status="200 OK", ctype="text/html"):
        start(status, [("Content-Type", ctype)])
        return [body.encode()]
    try:
        if path == "/metadata":
            return reply(create_metadata_string(None, config=cfg, valid=1).decode(),
                         ctype="application/samlmetadata+xml")
        if path == "/sso/redirect":
            req = idp.parse_authn_request(p["SAMLRequest"], BINDING_HTTP_REDIRECT)
            k = uuid.uuid4().hex
            PENDING[k] = (req.message, p.get("RelayState", ""))
            opts = "".join(f'<option value="{u}">{u}</option>' for u in USERS)
            return reply(f'<html><body><form method="post" action="/sso/login">'
                         f'<input type="hidden" name="key" value="{k}"/><select name="user">{opts}</select>'
                         f'<button id="login" type="submit">Sign in</button></form></body></html>')
        if path == "/sso/login":
            msg, relay = PENDING.pop(p["key"])
            acs, sp = msg.assertion_consumer_service_url, msg.issuer.text
            return reply(form(acs, {"SAMLResponse": respond(p["user"], msg.id, acs, sp), "RelayState": relay}))
        if path == "/sso/initiate":
            sp = p["sp"]
            acs = idp.metadata.assertion_consumer_service(sp, BINDING_HTTP_POST)[0]["location"]
            return reply(form(acs, {"SAMLResponse": respond(p["user"], None, acs, sp), "RelayState": ""}))
        if path == "/__test/mode" and method == "POST":
            STATE["mode"] = p["mode"]
            return reply("ok", ctype="text/plain")
        return reply("not found", "404 Not Found", "text/plain")
    except Exception as e:  # a test peer: say what broke
        return reply(f"{type(e).__name__}: {e}", "500 Internal Server Error", "text/plain")


class Quiet(WSGIRequestHandler):
    def log_message(self, *a):
        pass


make_server("127.0.0.1", port, app, handler_class=Quiet).serve_forever()
