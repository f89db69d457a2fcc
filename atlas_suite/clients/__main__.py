"""``python -m atlas_suite.clients``: the client versions on this machine."""

from atlas_suite.clients import unavailable, versions

for name, version in versions().items():
    reason = unavailable(name)
    print(f"{name:14s} {version}" + (f"  (skips: {reason})" if reason else ""))
