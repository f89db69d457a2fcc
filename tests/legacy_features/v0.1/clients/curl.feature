@clients @req.INT-CURL
Feature: Every route answers the curl command line
  Operators and scripts reach the server with curl. Every route of the contract answers curl
  with the documented status and shape: the health check, the OpenAI routes, and every ATLAS
  route (status, configuration, metrics in JSON and in Prometheus text, the memory files, and
  completions carrying the ATLAS extension). Each row stands alone: the memory file the load
  and delete rows need is saved first in the same scenario, and a changed configuration is put
  back afterwards. Without a curl binary the rows skip with the reason.

  Background:
    Given the server under test is running

  Scenario Outline: curl <method> <path> answers <status>
    When curl sends <method> "<path>" with <body>
    Then curl's answer has status <status> and matches <shape>

    Examples: The health check and the OpenAI routes
      | method | path                 | body                                                                       | status | shape                            |
      | GET    | /health              | no body                                                                    | 200    | {"status": "ok"}                 |
      | GET    | /v1/models           | no body                                                                    | 200    | the "models_list" schema         |
      | POST   | /v1/completions      | {"prompt": "Hello", "max_tokens": 4}                                       | 200    | the "completion" schema          |
      | POST   | /v1/chat/completions | {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4}      | 200    | the "chat_completion" schema     |

  Scenario Outline: curl <method> <path> answers <status> (ATLAS)
    Given the ATLAS configuration is restored after this scenario
    And the memory is saved as "curl-fixture.atlas"
    When curl sends <method> "<path>" with <body>
    Then curl's answer has status <status> and matches <shape>

    @atlas
    Examples: The ATLAS routes
      | method | path                    | body                                                                                               | status | shape                                          |
      | GET    | /v1/atlas/status        | no body                                                                                            | 200    | the "atlas_status" schema                      |
      | GET    | /v1/atlas/config        | no body                                                                                            | 200    | the "atlas_config" schema                      |
      | POST   | /v1/atlas/config        | {"window_size": 200, "blend_ratio": 0.4}                                                           | 200    | the "atlas_config" schema                      |
      | GET    | /v1/atlas/metrics       | no body                                                                                            | 200    | the "atlas_metrics" schema                     |
      | GET    | /metrics                | no body                                                                                            | 200    | Prometheus text                                |
      | POST   | /v1/atlas/memory/save   | {"filename": "curl-saved.atlas"}                                                                   | 200    | the "memory_save" schema                       |
      | POST   | /v1/atlas/memory/load   | {"filename": "curl-fixture.atlas"}                                                                 | 200    | the "memory_load" schema                       |
      | GET    | /v1/atlas/memory/list   | no body                                                                                            | 200    | the "memory_list" schema                       |
      | POST   | /v1/atlas/memory/delete | {"filename": "curl-fixture.atlas"}                                                                 | 200    | the "memory_delete" schema                     |
      | POST   | /v1/atlas/memory/reset  | {}                                                                                                 | 200    | the "memory_reset" schema                      |
      | POST   | /v1/completions         | {"prompt": "Hello", "max_tokens": 4, "atlas": {"enabled": true}}                                   | 200    | the "completion" schema, with an atlas block   |
      | POST   | /v1/chat/completions    | {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4, "atlas": {"enabled": true}}  | 200    | the "chat_completion" schema, with an atlas block |

    @atlas
    Examples: The ATLAS routes' refusals
      | method | path                    | body                                  | status | shape                 |
      | POST   | /v1/atlas/memory/load   | {"filename": "never-saved.atlas"}     | 404    | the "error" schema    |
      | POST   | /v1/atlas/memory/save   | {"filename": "../escape.atlas"}       | 400    | the "error" schema    |
      | POST   | /v1/atlas/config        | {"window_size": 0}                    | 400    | the "error" schema    |
