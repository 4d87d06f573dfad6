"""What both example services share: loading the artifact once, and answering a request
body with features or with a 4xx and fastprep's message."""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

import fastprep as fp


def arguments(description: str, *, drift: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--artifact", required=True, help="the fitted pipeline's .fpa file")
    parser.add_argument("--port", type=int, required=True, help="the port on 127.0.0.1")
    parser.add_argument("--host", default="127.0.0.1", help="the address (default loopback)")
    parser.add_argument(
        "--fingerprint", help="refuse to start unless the artifact has this fingerprint"
    )
    if drift:
        parser.add_argument(
            "--drift", action="store_true", help="monitor drift; GET /drift reports it"
        )
    return parser.parse_args()


def load(args: argparse.Namespace):
    """The artifact, loaded once at start-up (from a mounted path: no download, no pickle)."""
    model = fp.load(args.artifact)
    if args.fingerprint and model.fingerprint != args.fingerprint:
        sys.exit(
            f"{args.artifact} has fingerprint {model.fingerprint}, not the expected "
            f"{args.fingerprint}: refusing to serve the wrong model"
        )
    return model


def _plain(values: list) -> list:
    """JSON has no NaN: a missing feature is null."""
    return [
        _plain(v)
        if isinstance(v, list)
        else (None if isinstance(v, float) and math.isnan(v) else v)
        for v in values
    ]


def answer(model, names: list[str], body: bytes) -> tuple[int, bytes]:
    """``(status, JSON body)`` for a request body: an object gives ``{"features": [...]}``, a
    list of objects ``{"features": [[...], ...]}``, both with ``feature_names``. A body that
    is not JSON, not an object or a list of objects, or a record fastprep refuses (a missing
    key, an unknown category under ``handle_unknown="error"``, a value of the wrong type) is a
    4xx with the message; nothing a client sends makes a 500."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        return 400, _error(f"the body is not JSON: {e}")
    try:
        if isinstance(payload, dict):
            features = model.transform_one(payload)
        elif isinstance(payload, list) and all(isinstance(r, dict) for r in payload):
            features = model.transform_records(payload)
        else:
            return 400, _error("the body must be a JSON object or a list of objects")
    except (fp.FastprepError, TypeError, ValueError) as e:
        return 422, _error(str(e))
    rows = features.tolist()
    if np.isnan(features).any():  # JSON has no NaN
        rows = _plain(rows)
    return 200, json.dumps({"features": rows, "feature_names": names}).encode()


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()
