"""The gateway engine: HTTP, authentication, schema assembly, pagination, loaders, CLI.

It knows no domain; the domains register themselves in ``resolvers``.
"""
