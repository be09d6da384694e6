"""HTML → PDF/UA-1 with bundled fonts, byte-identical for unchanged input."""
