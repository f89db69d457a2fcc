from atlas_suite.steplib.json_steps import *  # noqa
DOMAIN = "generic HTTP/JSON"
