from atlas_suite.steplib.http_steps import *  # noqa
DOMAIN = "generic HTTP/JSON"
