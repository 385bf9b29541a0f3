"""What the network doors (REST in `api`, GraphQL in `graphql`) share: bearer-token authentication
(`auth`) and the permission names and gates they ask for (`names`).

Layer: below `api` and `graphql`, above `loaders` and `engine`; it never imports a door.
"""
