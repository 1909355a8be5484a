"""Optional compiled solvers and BLAS thread control (no heavy imports at module load).

Belongs here: deciding whether the numba solver is used (``accelerate`` option, the
``TARIFFSIM_NO_NUMBA`` environment variable, whether numba is importable), importing it on
first use, and limiting BLAS to one thread inside batched kernels. numba is the optional
extra ``tariffsim[fast]``; threadpoolctl is a core dependency, with a no-op fallback so a
missing one never breaks a solve.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import sys

__all__ = ["cp_io_solver", "cp_solver", "numba_available", "single_blas_thread", "use_numba"]

log = logging.getLogger(__name__)

#: Environment variable that switches the compiled solvers off (any value but "" or "0").
NO_NUMBA_ENV = "TARIFFSIM_NO_NUMBA"

_controller = None
_controller_key = None


@functools.lru_cache(maxsize=1)
def numba_available() -> bool:
    """True when numba can be imported (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


def use_numba(accelerate: bool | None) -> bool:
    """Resolve the ``accelerate`` option: True/False win; None means the env var, then availability.

    Raises
    ------
    ImportError
        ``accelerate=True`` without numba installed.
    """
    if accelerate is False:
        return False
    if accelerate is None and os.environ.get(NO_NUMBA_ENV, "") not in ("", "0"):
        return False
    if numba_available():
        return True
    if accelerate:
        raise ImportError(
            "accelerate=True needs numba, which is not installed; install the extra 'tariffsim[fast]' "
            "or pass accelerate=None to use the numpy solver."
        )
    return False


def cp_solver(accelerate: bool | None):
    """The compiled Caliendo–Parro solver (:func:`tariffsim.kernels._accel_cp.solve`), or None."""
    if not use_numba(accelerate):
        return None
    from . import _accel_cp  # imports numba: first use only

    return _accel_cp.solve


def cp_io_solver(accelerate: bool | None):
    """The compiled Caliendo–Parro solver with IO links (:func:`tariffsim.kernels._accel_cp_io.solve`), or None."""
    if not use_numba(accelerate):
        return None
    from . import _accel_cp_io  # imports numba: first use only

    return _accel_cp_io.solve


def single_blas_thread():
    """Context manager limiting BLAS/OpenMP pools to one thread (no-op without threadpoolctl).

    The batched kernels solve many small systems; BLAS threads only add contention there,
    and on a loaded machine oversubscription made one solve 10-80x slower.
    """
    global _controller, _controller_key
    # scipy.linalg (also numba's LAPACK) loads its own OpenBLAS: look again once it is imported
    key = ("scipy.linalg" in sys.modules, "numba" in sys.modules)
    if _controller is None or key != _controller_key:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a core dependency
            log.debug("threadpoolctl not installed: BLAS threads not limited")
            return contextlib.nullcontext()
        _controller, _controller_key = ThreadpoolController(), key
    return _controller.limit(limits=1, user_api="blas")
