"""Progressive delivery: Rollouts that shift a route's traffic step by step, judge the canary sequentially and
roll back at once.

``spec`` reads a Rollout (pinned by digest), ``machine`` is its state machine, ``analysis`` the sequential
test (mSPRT), ``store`` and ``lease`` its tables in the state store, ``controller`` the loop that drives the
live weights, ``simulate`` the same statistics and machine on synthetic traffic. Errors are in ``errors``.
Nothing is imported here, so a command loads only what it uses.
"""
