"""Publishing: the target protocol, the S3 implementation and the public URL layout."""
