"""Lists a person may open in a spreadsheet (the run history, the experiments): JSON by default,
`?format=csv` as a download, `?download=1` for the JSON as a file, named after the notebook."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from collabd.api.errors import ApiError


def table_response(
    request: Request,
    notebook_path: str,
    name: str,
    *,
    csv: Callable[[], str],
    json: Callable[[], str],
    headers: dict[str, str] | None = None,
) -> Response:
    fmt = request.query_params.get("format", "json")
    stem = notebook_path.rsplit("/", 1)[-1].removesuffix(".ipynb").replace('"', "")
    if fmt == "csv":
        return Response(
            csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}-{name}.csv"'},
        )
    if fmt != "json":
        raise ApiError(400, "bad_request", "format must be json or csv")
    extra = dict(headers or {})
    if request.query_params.get("download"):
        extra["Content-Disposition"] = f'attachment; filename="{stem}-{name}.json"'
    return Response(json(), media_type="application/json", headers=extra)
