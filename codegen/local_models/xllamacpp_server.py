"""One llama.cpp server (xllamacpp's, OpenAI-compatible) for one model on one loopback port.

Run by the engine's own interpreter, not codegen's, as a script:

    <cache>/engine/xllamacpp-<version>/bin/python xllamacpp_server.py --model M.gguf --port P …

so it imports nothing but the standard library and `xllamacpp`. `xllamacpp.Server` loads the
model, then serves llama.cpp's C++ HTTP server on threads of this process; the process then only
waits for SIGTERM, SIGINT or SIGHUP, and exits without unwinding the native server (nothing it
holds needs it). A failure to start ends in one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", required=True, help="the model name /v1/models reports")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--parallel", type=int, default=1, help="requests decoded at once")
    return parser.parse_args(argv)


def server_params(args: argparse.Namespace):  # -> xllamacpp.CommonParams
    """llama-server's options, as xllamacpp's CommonParams."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.ui = False  # no web page: an API for codegen only
    return params


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if not os.path.isfile(args.model):
        print(f"xllamacpp_server: no model file {args.model}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        import xllamacpp

        server = xllamacpp.Server(server_params(args))
    except Exception as error:  # the one line the runtime shows: no traceback
        print(f"xllamacpp_server: cannot serve {args.model}: {error}", file=sys.stderr, flush=True)
        return 1
    print(f"xllamacpp_server: listening on {server.listening_address}", flush=True)
    while not stop.wait(1.0):
        pass
    sys.stdout.flush()
    os._exit(0)  # the native server's threads are not joined: the process simply ends


if __name__ == "__main__":
    sys.exit(main())
