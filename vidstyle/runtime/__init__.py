"""Inference backends behind one interface (:class:`Stylizer`)."""
from vidstyle.runtime.base import FunctionStylizer, Stylizer

__all__ = ["Stylizer", "FunctionStylizer"]
