"""Inputs: configuration files → one typed, complete inputs object, every problem reported at once."""
