"""Postprocessing: from raw model output to the answer a service returns.

Functions on scores (``softmax``, ``log_softmax``, ``sigmoid``, ``argmax``, ``top_k``, ``nms``:
``fastprep.post.functions``) and fitted postprocessors (``LabelDecoder``, ``Threshold``,
``Calibrator``, ``TargetInverse``, ``PostPipeline``: ``fastprep.post.fitted``), which save in
the same artifact as the preprocessing when both go in a ``fastprep.Bundle``.
"""

from fastprep.post.fitted import Calibrator, LabelDecoder, PostPipeline, TargetInverse, Threshold
from fastprep.post.functions import argmax, log_softmax, nms, sigmoid, softmax, top_k

__all__ = [
    "Calibrator",
    "LabelDecoder",
    "PostPipeline",
    "TargetInverse",
    "Threshold",
    "argmax",
    "log_softmax",
    "nms",
    "sigmoid",
    "softmax",
    "top_k",
]
