"""The HTTP service: the FastAPI app (REST routes by area, health, metrics, exports, the web
application's static files) with GraphQL mounted at /graphql.

May import: `graphql`, `doors`, `loaders`, `engine`. Every route declares one permission
dependency (`deps.requires`); the role x route matrix test walks them.
"""
