"""Transparency log core: RFC 9162 Merkle trees, C2SP tiles, signed notes, checkpoints and cosignatures."""
