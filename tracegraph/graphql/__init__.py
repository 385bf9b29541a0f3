"""GraphQL, the dashboards' API: the strawberry schema (one type module per area), resolvers that
call engine functions, DataLoaders per request, and field-level permission classes.

May import: `doors` (authentication, permission names), `loaders`, `engine`. Never `api`: the API
mounts this schema (`app.graphql_router`), not the other way round.
"""
