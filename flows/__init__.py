"""trust-notices: pupil privacy notices for a multi-academy trust, rendered from one DfE dataset."""

__version__ = "0.1.0"
