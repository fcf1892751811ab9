"""Distributed tensorflux: clusters, cluster resolvers, a local launcher, servers over gRPC."""
