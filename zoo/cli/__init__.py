"""The ``zoo`` command line.

Sub-commands live in the modules of this package: each module defines ``register(subparsers)`` that adds its
commands, and each command's handler is a function ``(args) -> int``. Modules are found with ``pkgutil`` so a new
command needs no edit here. Handlers import heavy dependencies (torch, plugins) inside the function, so
``zoo list`` stays fast.

Exit codes: 0 success; 1 generic failure; 2 bad input or configuration (and ``zoo`` with no command); 3 unknown or
unavailable model; 4 plugin failure; 5 weights error; 6 hub error (also a hub that cannot be reached); 7 kernel
error; 130 interrupted.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from zoo import __version__, constants
from zoo.errors import ZooError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command module registered."""
    parser = argparse.ArgumentParser(prog="zoo", description="A plugin-based model zoo for PyTorch.")
    parser.add_argument("--version", action="version", version=f"zoo {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="print the full traceback of an error (also ZOO_DEBUG=1)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zoo`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:  # `zoo` alone: a usage error, like any missing argument
        parser.print_help(sys.stderr)
        return 2
    try:
        # ZOO_NUM_THREADS (default 1, see zoo.constants.num_threads), put back after the command so that an
        # in-process call (tests, tools) leaves the caller's threads as they were; doctor reports a bad value instead
        with constants.num_threads_applied() if args.command != "doctor" else contextlib.nullcontext():
            code = int(handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at interpreter exit
        return code
    except BrokenPipeError:  # `zoo list --json | head`: the reader left; not an error of ours
        _silence_stdout()
        return 0
    except ZooError as exc:
        if getattr(args, "debug", False) or constants.debug():
            traceback.print_exc()  # with the plugin's own exception chained below a PluginError
        print(f"zoo: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
