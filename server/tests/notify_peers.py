"""Real peers for server/tests/notify.rs, each on 127.0.0.1, each printing `PORT <n>` on stdout once
it listens and appending one JSON line per request to LOG.

  webhook LOG SECRET          a webhook receiver that verifies the Standard Webhooks signature with
                              the reference `standardwebhooks` package (an implementation independent
                              of mcp-train's); answers 204 when it verifies, 401 when not
  slack LOG SCRIPT            a fake Slack incoming webhook answering statuses from SCRIPT, e.g.
                              `429:2,500,200` (429 with Retry-After 2, then 500, then 200; the last
                              one repeats)
  smtp LOG [CERT KEY USER PASSWORD]
                              aiosmtpd; with a certificate it requires STARTTLS and AUTH
"""

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def record(log, entry):
    with LOCK, open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()


def listening(port):
    print(f"PORT {port}", flush=True)


def webhook(log, secret):
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                hook.verify(body, headers)
                verified, error = True, None
            except Exception as e:  # the reference library's verdict, whatever it is
                verified, error = False, f"{type(e).__name__}: {e}"
            record(log, {"at": time.time(), "path": self.path, "verified": verified,
                         "error": error, "headers": headers, "body": body})
            self.send_response(204 if verified else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    listening(server.server_address[1])
    server.serve_forever()


def slack(log, script):
    steps = script.split(",")
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            with LOCK:
                step = steps[min(count[0], len(steps) - 1)]
                count[0] += 1
            status, _, retry_after = step.partition(":")
            record(log, {"at": time.monotonic(), "path": self.path, "status": int(status),
                         "body": body})
            self.send_response(int(status))
            if retry_after:
                self.send_header("Retry-After", retry_after)
            text = {"200": b"ok", "429": b"rate_limited", "500": b"internal_error"}.get(
                status, b"invalid_payload")
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    listening(server.server_address[1])
    server.serve_forever()


def smtp(log, cert=None, key=None, user=None, password=None):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            record(log, {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": session.ssl is not None,
                "authenticated": bool(session.authenticated),
            })
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
        return AuthResult(success=ok)

    # The controller cannot take port 0: find a free one first.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kwargs = {}
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs = dict(tls_context=context, require_starttls=True, auth_required=True,
                      auth_require_tls=True, authenticator=authenticator)
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    listening(port)
    threading.Event().wait()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"webhook": webhook, "slack": slack, "smtp": smtp}[mode](*args)
