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
"""

import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP


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
            self.store(envelope, delivered)
        if not self.lmtp:
            return "250 2.0.0 stored"
        replies = [
            "452 4.2.2 mailbox full" if self.refused_after_data(rcpt) else "250 2.1.5 delivered"
            for rcpt in envelope.rcpt_tos
        ]
        return "\r\n".join(replies)

    def refused_after_data(self, rcpt):
        return self.lmtp and rcpt.split("@", 1)[0].lower().startswith("quota")

    def store(self, envelope, recipients):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": recipients,
            "mail_options": envelope.mail_options,
        }
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        # The .json file appears last: a test that sees it can read both.
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".json.tmp", base + ".json")


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

    handler = Handler(args.outdir, args.lmtp)
    protocol = LMTP if args.lmtp else SMTP

    def factory():
        return protocol(
            handler,
            data_size_limit=args.size or None,
            enable_SMTPUTF8=args.smtputf8,
            decode_data=False,
            hostname="aiosmtpd.test",
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
