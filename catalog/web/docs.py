"""The API's documentation page, `/docs`: Swagger UI served from the installed package, nothing from elsewhere."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from storage.exceptions import NotFound

router = APIRouter(include_in_schema=False)

ASSETS = files("fastapi_swagger") / "resources"
_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# The page's one inline script starts Swagger UI; everything else comes from this origin. `data:` images are the
# UI's own icons.
_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)
# Without this Swagger UI asks validator.swagger.io to check the document and shows its badge.
_PARAMETERS: dict[str, object] = {"validatorUrl": None, "persistAuthorization": False}


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over this service's OpenAPI document."""
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{request.app.title}: API",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=_PARAMETERS,
    )
    page.headers["content-security-policy"] = _POLICY
    return page


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> FileResponse:
    """One of Swagger UI's files; only those named here exist, so no name can reach another file."""
    media_type = _MEDIA_TYPES.get(name)
    if media_type is None:
        raise NotFound("no such documentation asset")
    return FileResponse(str(ASSETS / name), media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
