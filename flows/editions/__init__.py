"""Editions (pure): canonical content and hashes, numbering, change classes, diffs and who must approve."""
