"""One operation, whatever the transport: runtime, preparation, execution, audit, shaping."""

from __future__ import annotations

from gateway.pipeline.execution import Executor, Prepared, error_dict, shape_errors
from gateway.pipeline.runtime import Runtime
from gateway.pipeline.watch import PolicyWatcher

__all__ = ["Executor", "PolicyWatcher", "Prepared", "Runtime", "error_dict", "shape_errors"]
