"""The FastAPI router serving /graphql (GraphiQL only when settings.graphiql / `serve --dev`)."""

from __future__ import annotations

from strawberry.fastapi import GraphQLRouter

from tracegraph.graphql.context import Context, get_context
from tracegraph.graphql.schema import build_schema
from tracegraph.settings import Settings


def graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    schema = build_schema(
        max_depth=settings.api_max_query_depth,
        max_aliases=settings.api_max_aliases,
        max_tokens=settings.api_max_tokens,
    )
    return GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=True,
    )
