"""The reader of the trust's transparency log: ``notices verify`` and ``notices witness``.

A parent, a school office or a regulator checks, with nothing but the public URL, that what the
trust publishes is what its append-only log says it published (docs: /work/notes/log-spec.md,
"What verify checks"). Only stdlib HTTP: it works against any S3 website, CDN or static server.
"""
