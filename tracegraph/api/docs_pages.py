"""The interactive API docs (Swagger UI at /docs, ReDoc at /redoc) served from the package.

Why: FastAPI's defaults load both bundles from a CDN, so on a plant network without internet the
docs pages are blank. The assets come from the `fastapi-offline` wheel (Swagger UI and ReDoc
bundles, kept current by its maintainers) and are served at /static-docs by this app, following
FastAPI's "self-hosting JavaScript and CSS for docs" recipe. Nothing on these pages leaves the
origin, so their Content-Security-Policy (middleware.CSP_DOCS) names no other host.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from tracegraph.api.deps import PUBLIC

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/static-docs"


def install(app: FastAPI, *, title: str) -> None:
    """Mount the docs assets and the /docs, /docs/oauth2-redirect and /redoc pages."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="static-docs")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False, dependencies=[PUBLIC])
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False, dependencies=[PUBLIC])
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False, dependencies=[PUBLIC])
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - API reference",
                              redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False)
