"""School files from the DfE's "Get Information about Schools" export."""
