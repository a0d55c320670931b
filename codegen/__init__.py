"""codegen: several models write candidates in parallel; a Docker sandbox judges and times them."""

__version__ = "0.4.0"
