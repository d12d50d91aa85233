"""SMTP or LMTP server for the integration tests, built on aiosmtpd.

Listens on 127.0.0.1 with an ephemeral port, prints "PORT <n>" on stdout,
and stores every accepted message in --outdir as <n>.eml (the data as
received, dot-stuffing removed) and <n>.json (envelope). It stops when its
stdin closes, so it never outlives the test that started it.

With --starttls CERT KEY the server offers STARTTLS; with --implicit-tls
CERT KEY it speaks TLS from the first byte. Both accept TLS 1.3 only,
unless --tls12-only limits them to TLS 1.2 (for clients that must fall
back to it).

Recipients whose local part starts with "refuse" get 550 5.1.1 at RCPT,
"later" gets 451 4.3.0. Under --lmtp, a local part starting with "quota"
is accepted at RCPT and refused with 452 4.2.2 after the data.

With --auth the server requires AUTH before MAIL, without TLS, and
offers PLAIN and LOGIN (aiosmtpd's own) plus CRAM-MD5 and XOAUTH2
(defined here, because aiosmtpd 1.4.6 lacks them). It accepts the user
"pump" with the password "s3cret", or with the XOAUTH2 access token
"ya29.valid-token". A wrong token gets the provider failure flow: a 334
challenge with a base64 JSON error, then 535 after the client's empty
line. The user "later" gets 454 4.7.0, a temporary failure, from PLAIN
and LOGIN. The stored envelope records the user who logged in.
"""

import argparse
import asyncio
import binascii
import hashlib
import hmac
import json
import logging
import os
import ssl
import sys
import time
import warnings
from base64 import b64decode
from types import SimpleNamespace

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, auth_mechanism

AUTH_USER = b"pump"
AUTH_PASSWORD = b"s3cret"
AUTH_TOKEN = b"ya29.valid-token"


class Handler:
    def __init__(self, outdir, lmtp):
        self.outdir = outdir
        self.lmtp = lmtp
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("refuse"):
            return "550 5.1.1 no such user"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        delivered = [
            rcpt for rcpt in envelope.rcpt_tos if not self.refused_after_data(rcpt)
        ]
        if delivered:
            login = getattr(session.auth_data, "login", None)
            self.store(envelope, delivered, login)
        if not self.lmtp:
            return "250 2.0.0 stored"
        replies = [
            "452 4.2.2 mailbox full" if self.refused_after_data(rcpt) else "250 2.1.5 delivered"
            for rcpt in envelope.rcpt_tos
        ]
        return "\r\n".join(replies)

    def refused_after_data(self, rcpt):
        return self.lmtp and rcpt.split("@", 1)[0].lower().startswith("quota")

    def store(self, envelope, recipients, login):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": recipients,
            "mail_options": envelope.mail_options,
            "auth_login": login.decode() if login else None,
        }
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        # The .json file appears last: a test that sees it can read both.
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".json.tmp", base + ".json")


def check_password(server, session, envelope, mechanism, auth_data):
    """Authenticator for aiosmtpd's PLAIN and LOGIN."""
    if auth_data.login == b"later":
        return AuthResult(
            success=False,
            handled=False,
            message="454 4.7.0 Temporary authentication failure",
        )
    ok = auth_data.login == AUTH_USER and hmac.compare_digest(
        auth_data.password, AUTH_PASSWORD
    )
    # handled=False lets aiosmtpd send 535 for a failure.
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class AuthHandler(Handler):
    """Adds the SASL mechanisms that aiosmtpd 1.4.6 does not implement.

    aiosmtpd calls handler methods named auth_<MECHANISM> with the server
    and the AUTH arguments, and advertises each of them in EHLO.
    """

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, server, args):
        if len(args) != 1:
            await server.push("501 5.7.0 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{os.getpid()}.{time.time_ns()}@aiosmtpd.test>".encode()
        response = await server.challenge_auth(challenge)
        if response is MISSING:
            return AuthResult(success=False, handled=True)
        user, _, digest = response.partition(b" ")
        expected = hmac.new(AUTH_PASSWORD, challenge, hashlib.md5).hexdigest().encode()
        ok = user == AUTH_USER and hmac.compare_digest(digest, expected)
        login = SimpleNamespace(login=user) if ok else None
        return AuthResult(success=ok, handled=False, auth_data=login)

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 1:
            payload = await server.challenge_auth("")
            if payload is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                payload = b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)

        fields = payload.split(b"\x01")
        user = fields[0].removeprefix(b"user=") if fields else b""
        token = fields[1].removeprefix(b"auth=Bearer ") if len(fields) > 1 else b""
        if user == AUTH_USER and hmac.compare_digest(token, AUTH_TOKEN):
            return AuthResult(success=True, auth_data=SimpleNamespace(login=user))

        # The provider failure flow: an error challenge, an empty line from
        # the client, then 535.
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
        await server.challenge_auth(error)
        return AuthResult(
            success=False,
            handled=False,
            message="535 5.7.8 Username and Password not accepted",
        )


def tls_context(cert, key, tls12_only):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if tls12_only:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--lmtp", action="store_true")
    parser.add_argument("--size", type=int, default=0, help="SIZE limit; 0 for none")
    parser.add_argument("--smtputf8", action="store_true")
    parser.add_argument("--auth", action="store_true", help="offer AUTH (also without TLS)")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--tls12-only", action="store_true")
    args = parser.parse_args()

    starttls_context = None
    if args.starttls:
        starttls_context = tls_context(*args.starttls, args.tls12_only)
    implicit_context = None
    if args.implicit_tls:
        implicit_context = tls_context(*args.implicit_tls, args.tls12_only)

    handler = (AuthHandler if args.auth else Handler)(args.outdir, args.lmtp)
    protocol = LMTP if args.lmtp else SMTP
    auth_options = {}
    if args.auth:
        # Plaintext AUTH is what these tests need; keep stderr quiet about it.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        auth_options = {
            "authenticator": check_password,
            "auth_required": True,
            # With STARTTLS, AUTH is offered only after the upgrade, so a
            # client must read the new EHLO reply to find it. aiosmtpd
            # does not see implicit TLS and plaintext tests need AUTH at
            # once, so both offer it from the start.
            "auth_require_tls": bool(args.starttls),
        }

    def factory():
        return protocol(
            handler,
            data_size_limit=args.size or None,
            enable_SMTPUTF8=args.smtputf8,
            decode_data=False,
            hostname="aiosmtpd.test",
            **auth_options,
            tls_context=starttls_context,
            require_starttls=False,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=implicit_context)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    # Serve until the parent closes stdin.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
