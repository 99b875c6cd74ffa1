"""A hardened Celery configuration: JSON only, TLS that verifies, secrets kept out of displays
(P13 example).

Usage:
    cd course/examples
    celery -A p13_hardened worker --loglevel=INFO             # terminal 1
    python -m p13_hardened                                     # terminal 2

Prints the broker URL with its password redacted, sends a pickled message (the worker refuses
it) and a JSON one (it runs), and shows which notes were recorded. With a `rediss://` broker
URL and P13_CA_FILE set, the app verifies the broker's certificate.
"""

import os
import ssl
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from celery import Celery

app = Celery("p13_hardened")
app.conf.update(
    accept_content=["json"],
    result_accept_content=["json"],
    task_serializer="json",
    result_serializer="json",
)
if os.environ.get("P13_CA_FILE"):
    app.conf.broker_use_ssl = {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_ca_certs": os.environ["P13_CA_FILE"],
    }


def redact(url):
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{hostinfo}"))


@app.task
def record(note):
    return app.backend.client.rpush("p13_hardened:notes", note)


def main(argv=None):
    print("broker:", redact(os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")))
    app.backend.client.delete("p13_hardened:notes")
    app.send_task("p13_hardened.record", ("pickled",), serializer="pickle")
    record.delay("json").get(timeout=15)
    time.sleep(0.5)
    notes = [n.decode() for n in app.backend.client.lrange("p13_hardened:notes", 0, -1)]
    print("recorded:", notes)
    return 0 if notes == ["json"] else 1


if __name__ == "__main__":
    sys.exit(main())
