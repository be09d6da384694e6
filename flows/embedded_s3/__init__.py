"""The embedded S3: a SeaweedFS ``weed mini`` on 127.0.0.1, started and stopped by us.

It is the default publishing target, so ``make run`` publishes to a real S3 server with
no cloud account. ``process.py`` knows its state folder, ports, status and how to stop it;
``ready.py`` starts it and waits until stored objects read back; ``tls.py`` makes its secrets.
"""

from flows.embedded_s3.process import (
    DEFAULT_BUCKET,
    DEFAULT_PORT,
    LocalS3,
    LocalS3Error,
    PortsBusy,
    default_state_dir,
    listening_ports,
    pid_alive,
    port_free,
    running_elsewhere,
    s3_client,
    status,
    stop,
    weed_binary,
)
from flows.embedded_s3.ready import start

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_PORT",
    "LocalS3",
    "LocalS3Error",
    "PortsBusy",
    "default_state_dir",
    "listening_ports",
    "pid_alive",
    "port_free",
    "running_elsewhere",
    "s3_client",
    "start",
    "status",
    "stop",
    "weed_binary",
]
