"""Code that runs inside the sandbox container. Standard library plus pytest only: it is copied
into the image, so it must not import pydantic, docker or anything from the host side."""
