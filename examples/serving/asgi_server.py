"""A feature service on Starlette and uvicorn (``pip install "fastprep[serving]"``).

    python examples/serving/asgi_server.py --artifact model.fpa --port 8080 [--drift]

The same routes as ``stdlib_server.py``; ``transform_one`` runs inline on the event loop (a
record takes about a microsecond: handing it to a thread pool would cost more than the
work). With ``--drift``, a ``DriftMonitor`` attached to the pipeline counts every record it
transforms, and ``GET /drift`` answers its report.
"""

from __future__ import annotations

import json
import math

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import fastprep as fp
from common import answer, arguments, load


def app(model, *, drift: bool = False) -> Starlette:
    names = [str(n) for n in model.get_feature_names_out()]
    monitor = fp.DriftMonitor(model).attach() if drift else None

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "fingerprint": model.fingerprint})

    async def transform(request: Request) -> Response:
        status, body = answer(model, names, await request.body())
        return Response(body, status_code=status, media_type="application/json")

    async def drift_report(request: Request) -> Response:
        if monitor is None:
            return JSONResponse({"error": "started without --drift"}, status_code=404)
        report = {
            column: {
                k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in stats.items()
            }
            for column, stats in monitor.report().items()
        }
        return Response(json.dumps(report, default=str), media_type="application/json")

    async def no_route(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return JSONResponse({"error": f"no route {request.method} {request.url.path}"}, status)

    return Starlette(
        exception_handlers={404: no_route, 405: no_route},
        routes=[
            Route("/healthz", healthz),
            Route("/transform", transform, methods=["POST"]),
            Route("/drift", drift_report),
        ],
    )


def main() -> None:
    args = arguments("Serve a fitted fastprep pipeline over ASGI.", drift=True)
    model = load(args)
    print(f"serving {args.artifact} on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app(model, drift=args.drift), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
