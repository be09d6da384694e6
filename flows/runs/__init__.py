"""One run over many schools: selection, approval policy and reports, shared by the CLI and the flow."""
