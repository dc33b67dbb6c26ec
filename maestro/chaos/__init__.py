"""Chaos drills: fault-injecting upstreams on 127.0.0.1, a bounded load through the gateway, a report."""
