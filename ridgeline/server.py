"""The HTTP API and the live dashboard, as an ASGI app over one ledger.

`create_app(location)` builds the app without starting a server, so it can be driven
in-process (Starlette's TestClient, property tests); `serve` runs it under uvicorn.

Every endpoint is a GET and answers JSON; errors are `{"error": ..., "status": ...}`
with 400 for a bad query, 401 for a missing or wrong token, 404 for an unknown path,
run, version or objective. The dashboard polls `/api/changes`, a cheap fingerprint of
the ledger, once a second and fetches the charts again only when it moves.

Binding: loopback by default. Any other address exposes the ledger to the network, so
`check_bind` refuses it unless a token is set, and with a token every request must
carry `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from ridgeline.analysis import chartdata
from ridgeline.errors import InputError, NotFoundError, RidgelineError
from ridgeline.ledger import Ledger
from ridgeline.models import INTENTS, OUTCOMES, Run

try:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.responses import JSONResponse as _StarletteJSON
    from starlette.routing import Route
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise RidgelineError(
        "the server needs starlette and uvicorn: pip install 'ridgeline[server]'"
    ) from error

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Gray dots (and as many orange ones) sent to the dashboard; records, crashes and
# labelled dots are always sent.
DASHBOARD_DOTS = 4000
STATIC_FILES = {
    "chart.umd.min.js": "text/javascript",
    "charts.js": "text/javascript",
    "dashboard.js": "text/javascript",
    "ridgeline.css": "text/css",
}


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token.

    Raises:
        InputError: `host` is not a loopback address and no token is set.
    """
    if not is_loopback(host) and not token:
        raise InputError(
            f"refusing to bind {host}: it is reachable from other machines. Set a token "
            "with --token or RIDGELINE_TOKEN, or bind 127.0.0.1",
            field="--host",
        )


# -- the ledger's fingerprint and a cache keyed by it --------------------------------


def change_stamp(ledger: Ledger) -> str:
    """A short fingerprint that moves whenever runs, versions, objectives or memory do."""
    newest = ledger.runs(limit=1)
    parts = [
        ledger.count_runs(),
        newest[0].id if newest else 0,
        [v.to_dict() for v in ledger.versions()],
        [o.to_dict() for o in ledger.objectives()],
        [(m.id, m.updated_at.isoformat()) for m in ledger.lessons() + ledger.notes()],
    ]
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


class _ChartCache:
    """Chart JSON computed once per ledger state, so polling clients share the work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, Any] = {}

    def get(self, stamp: str, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if (stamp, key) in self._entries:
                return self._entries[(stamp, key)]
        value = compute()
        with self._lock:
            # Keep the current state's entries only; older stamps will not be asked again.
            self._entries = {k: v for k, v in self._entries.items() if k[0] == stamp}
            self._entries[(stamp, key)] = value
        return value


class _RunCache:
    """Every run, read once and then topped up.

    Runs are never changed or deleted, so when the count grows by k, the k newest runs
    are the new ones, provided each has an id above every cached one. Anything else (a
    run recorded with an older time, ids committed out of order) reads everything again.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()
        self._runs: list[Run] = []
        self._highest = 0

    def runs(self) -> list[Run]:
        with self._lock:
            added = self.ledger.count_runs() - len(self._runs)
            if added == 0:
                return self._runs
            fresh = self.ledger.runs(limit=added) if 0 < added < len(self._runs) else []
            if fresh and all(run.id > self._highest for run in fresh):
                self._runs = sorted(self._runs + fresh, key=lambda run: (run.at, run.id))
            else:
                self._runs = self.ledger.runs()
            self._highest = max((run.id for run in self._runs), default=0)
            return self._runs


# -- request helpers ------------------------------------------------------------------


def _finite(value: Any) -> Any:
    # JSON has no NaN or infinity, and a metric may hold either; send them as null.
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class JSONResponse(_StarletteJSON):
    """JSON with every non-finite number turned into null."""

    def render(self, content: Any) -> bytes:
        return super().render(_finite(content))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise HTTPException(400, f"query parameter {name!r} must be a whole number") from None
    if not low <= value <= high:
        raise HTTPException(400, f"query parameter {name!r} must be between {low} and {high}")
    return value


def _page(items: list[Any], request: Request) -> dict[str, Any]:
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, 2**62)
    chosen = items[offset:offset + limit]
    return {
        "items": [item.to_dict() for item in chosen],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }


_KNOWN_PARAMS = {
    "/api/runs": {"limit", "offset", "version", "intent", "outcome", "order"},
    "/api/versions": {"limit", "offset"},
    "/api/lessons": {"limit", "offset"},
    "/api/notes": {"limit", "offset", "tag"},
    "/api/charts/evolution": {"objective", "max_dots"},
    "/api/charts/pareto": {"x", "y"},
}


def _check_params(request: Request) -> None:
    allowed = _KNOWN_PARAMS.get(request.url.path, set())
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise HTTPException(400, f"unknown query parameter {unknown[0]!r}; expected {expected}")


# -- the app --------------------------------------------------------------------------


def create_app(location: str | None = None, *, token: str | None = None,
               ledger: Ledger | None = None) -> Starlette:
    """The ASGI app serving one ledger's API and dashboard.

    Args:
        location: the ledger to open (path or URL); ignored when `ledger` is given.
        token: when set, every request must carry `Authorization: Bearer <token>`.
        ledger: an already open ledger; the caller keeps ownership of it.

    Returns:
        A Starlette app; the ledger it opened itself is closed when the app shuts down.
    """
    import ridgeline

    owned = ledger is None
    ledger = ledger if ledger is not None else ridgeline.open(location)
    api = _Api(ledger)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        if owned:
            ledger.close()

    app = Starlette(
        routes=api.routes(),
        exception_handlers={HTTPException: _http_error, RidgelineError: _ridgeline_error},
        lifespan=lifespan,
    )
    app.state.ledger = ledger
    if token:
        app.add_middleware(_BearerToken, token=token)
    return app


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    if error.status_code == 404 and error.detail == "Not Found":
        return _error(404, f"no such endpoint {request.url.path!r}; see /api")
    if error.status_code == 405:
        return _error(405, f"{request.method} is not allowed here; the API is read-only GET")
    return _error(error.status_code, str(error.detail))


async def _ridgeline_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, NotFoundError):
        return _error(404, str(error))
    if isinstance(error, InputError):
        return _error(400, str(error))
    logger.exception("request %s failed", request.url.path)
    return _error(500, str(error))


class _BearerToken:
    """ASGI middleware: refuse any HTTP request without the right bearer token."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        # Compare in constant time so the token cannot be guessed byte by byte.
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "missing or wrong token: send 'Authorization: Bearer <token>'",
             "status": 401},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


class _Api:
    """The endpoints; each is a plain (threadpooled) function over the shared ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.cache = _ChartCache()
        self.all_runs = _RunCache(ledger)

    def routes(self) -> list[Route]:
        get = ["GET"]
        return [
            Route("/", self.dashboard, methods=get),
            Route("/static/{name}", self.static, methods=get),
            Route("/api", self.index, methods=get),
            Route("/api/changes", self.changes, methods=get),
            Route("/api/objectives", self.objectives, methods=get),
            Route("/api/runs", self.runs, methods=get),
            Route("/api/runs/{run_id}", self.run, methods=get),
            Route("/api/versions", self.versions, methods=get),
            Route("/api/versions/{name}", self.version, methods=get),
            Route("/api/frontier", self.frontier, methods=get),
            Route("/api/lessons", self.lessons, methods=get),
            Route("/api/notes", self.notes, methods=get),
            Route("/api/regimes", self.regimes, methods=get),
            Route("/api/charts/evolution", self.evolution, methods=get),
            Route("/api/charts/pareto", self.pareto, methods=get),
        ]

    def dashboard(self, request: Request) -> HTMLResponse:
        from ridgeline.report import static_text

        return HTMLResponse(static_text("dashboard.html"))

    def static(self, request: Request) -> Response:
        from ridgeline.report import static_text

        name = request.path_params["name"]
        if name not in STATIC_FILES:
            raise HTTPException(404, f"no static file {name!r}")
        return Response(static_text(name), media_type=STATIC_FILES[name])

    def index(self, request: Request) -> JSONResponse:
        paths = [route.path for route in self.routes() if route.path.startswith("/api/")]
        return JSONResponse({"endpoints": paths, "max_limit": MAX_LIMIT})

    def changes(self, request: Request) -> JSONResponse:
        _check_params(request)
        return JSONResponse({
            "stamp": change_stamp(self.ledger), "runs": self.ledger.count_runs()
        })

    def objectives(self, request: Request) -> JSONResponse:
        _check_params(request)
        return JSONResponse([o.to_dict() for o in self.ledger.objectives()])

    def runs(self, request: Request) -> JSONResponse:
        _check_params(request)
        filters = {
            name: request.query_params.get(name) for name in ("version", "intent", "outcome")
        }
        for name, allowed in (("intent", INTENTS), ("outcome", OUTCOMES)):
            if filters[name] is not None and filters[name] not in allowed:
                raise HTTPException(
                    400, f"query parameter {name!r} must be one of {', '.join(allowed)}"
                )
        order = request.query_params.get("order", "oldest")
        if order not in ("oldest", "newest"):
            raise HTTPException(400, "query parameter 'order' must be oldest or newest")
        runs = self.ledger.runs(**filters)
        return JSONResponse(_page(runs[::-1] if order == "newest" else runs, request))

    def run(self, request: Request) -> JSONResponse:
        _check_params(request)
        text = request.path_params["run_id"]
        if not text.isdigit():
            raise HTTPException(400, f"a run id is a whole number, got {text!r}")
        return JSONResponse(self.ledger.run(int(text)).to_dict())

    def versions(self, request: Request) -> JSONResponse:
        _check_params(request)
        return JSONResponse(_page(self.ledger.versions(), request))

    def version(self, request: Request) -> JSONResponse:
        _check_params(request)
        return JSONResponse(self.ledger.version(request.path_params["name"]).to_dict())

    def frontier(self, request: Request) -> JSONResponse:
        _check_params(request)
        stamp = change_stamp(self.ledger)
        return JSONResponse(self.cache.get(stamp, ("frontier",), self.ledger.frontier))

    def lessons(self, request: Request) -> JSONResponse:
        _check_params(request)
        return JSONResponse(_page(self.ledger.lessons(), request))

    def notes(self, request: Request) -> JSONResponse:
        _check_params(request)
        return JSONResponse(_page(self.ledger.notes(tag=request.query_params.get("tag")),
                                  request))

    def regimes(self, request: Request) -> JSONResponse:
        from ridgeline.analysis.regimes import summarize_regimes

        _check_params(request)
        ledger = self.ledger
        summaries = summarize_regimes(
            ledger.objectives(), ledger.versions(), ledger.runs(), ledger.run_points()
        )
        return JSONResponse([summary.to_dict() for summary in summaries])

    def evolution(self, request: Request) -> Response:
        _check_params(request)
        name = request.query_params.get("objective")
        limit = _int_param(request, "max_dots", DASHBOARD_DOTS, 2, 10**7)

        def compute() -> bytes:
            (objective,) = chartdata.choose_objectives(self.ledger, [name], 1)
            data = chartdata.evolution(self.all_runs.runs(), self.ledger.versions(), objective)
            return _encode(chartdata.evolution_json(chartdata.thinned(data, limit)))

        stamp = change_stamp(self.ledger)
        return _json_bytes(self.cache.get(stamp, ("evolution", name, limit), compute))

    def pareto(self, request: Request) -> Response:
        _check_params(request)
        x, y = request.query_params.get("x"), request.query_params.get("y")

        def compute() -> bytes:
            x_objective, y_objective = chartdata.choose_objectives(self.ledger, [x, y], 2)
            if x_objective == y_objective:
                raise HTTPException(400, "x and y must be two different objectives")
            data = chartdata.pareto(
                self.all_runs.runs(), self.ledger.versions(), x_objective, y_objective
            )
            return _encode(chartdata.pareto_json(data))

        stamp = change_stamp(self.ledger)
        return _json_bytes(self.cache.get(stamp, ("pareto", x, y), compute))


def _encode(content: Any) -> bytes:
    # Cached as bytes: encoding ten thousand dots costs more than looking them up.
    return JSONResponse(content).body


def _json_bytes(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def serve(location: str | None, *, host: str = "127.0.0.1", port: int = 8765,
          token: str | None = None) -> None:
    """Run the API and dashboard under uvicorn until interrupted.

    Raises:
        InputError: a non-loopback `host` without a token (see `check_bind`).
    """
    check_bind(host, token)
    import uvicorn

    app = create_app(location, token=token)
    logger.info("serving %s on http://%s:%d/", app.state.ledger.location, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")
