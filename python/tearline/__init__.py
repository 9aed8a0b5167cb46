"""tearline: a pure-Python client of the tearline broker (docs/python.md).

The protobuf modules (tearline.v1.*_pb2) are generated from proto/ at build
time into build/python/tearline/v1/. This package looks for them in every
tearline/ folder on sys.path (PYTHONPATH=python:build/python) and, failing
that, in the build folder beside this source tree (build/, or the folder
named by the environment variable TEARLINE_BUILD).
"""
import os as _os
import pkgutil as _pkgutil

__path__ = _pkgutil.extend_path(__path__, __name__)


def _find_generated_modules():
    if any(_os.path.isdir(_os.path.join(p, "v1")) for p in __path__):
        return
    source_root = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    build = _os.environ.get("TEARLINE_BUILD") or _os.path.join(source_root, "build")
    candidate = _os.path.join(build, "python", "tearline")
    if _os.path.isdir(_os.path.join(candidate, "v1")):
        __path__.append(candidate)


_find_generated_modules()
