@clients
Feature: Server errors and API keys reach applications the way their client library handles them
  An application catches the errors of its own client library, so a server error must surface
  as that library's own error type, carrying the server's message (and, for a bad ATLAS
  parameter, the parameter's name). The error type is each library's own: the official Python
  and Node.js clients raise BadRequestError or AuthenticationError, the Go client a single
  openai.Error with the status in it, and LangChain's chat model its own subclasses
  (OpenAIInvalidRequestError, OpenAIAuthenticationError). An API key is given to the client, and
  the client sends it its own way.

  Background:
    Given the server under test is running

  Scenario Outline: A prompt longer than the server's context comes back to the <client> client as its own <error type>
    When the <client> client asks for a <kind> completion of a prompt longer than the server's context
    Then the client's error is its own <error type> with status 400
    And the client's error carries the server's message containing "context"

    @req.INT-PYTHON
    Examples: The official Python client, sync and async
      | client       | kind | error type      |
      | python       | chat | BadRequestError |
      | python-async | text | BadRequestError |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind | error type      |
      | node   | chat | BadRequestError |

    @req.INT-GO
    Examples: The official Go client
      | client | kind | error type   |
      | go     | text | openai.Error |

    @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM
      | client        | kind | error type                |
      | langchain     | chat | OpenAIInvalidRequestError |
      | langchain-llm | text | BadRequestError           |

  @req.INT-CLIENTS-ATLAS
  Scenario Outline: An ATLAS parameter out of range comes back to the <client> client as its own <error type>, naming the parameter
    When the <client> client asks for a <kind> completion with the ATLAS extension {"enabled": true, "window_size": 0}
    Then the client's error is its own <error type> with status 400
    And the client's error carries the server's message naming "atlas.window_size"

    @atlas @req.INT-PYTHON
    Examples: The official Python client, sync and async, with ATLAS
      | client       | kind | error type      |
      | python       | chat | BadRequestError |
      | python-async | chat | BadRequestError |

    @atlas @req.INT-NODE
    Examples: The official Node.js client, with ATLAS
      | client | kind | error type      |
      | node   | chat | BadRequestError |

    @atlas @req.INT-GO
    Examples: The official Go client, with ATLAS
      | client | kind | error type   |
      | go     | chat | openai.Error |

    @atlas @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM, with ATLAS
      | client        | kind | error type                |
      | langchain     | chat | OpenAIInvalidRequestError |
      | langchain-llm | text | BadRequestError           |

  @security @req.SEC-AUTH
  Scenario Outline: The <client> client sends the API key its own way
    Given a server that requires the API key "suite-key-7f3a9c"
    And the <client> client with the key "suite-key-7f3a9c" gets an answer to a <kind> completion
    When the <client> client with the key "suite-wrong-key-1b2c" asks for a <kind> completion
    Then the client's error is its own <error type> with status 401

    @req.INT-PYTHON
    Examples: The official Python client, sync and async
      | client       | kind | error type          |
      | python       | chat | AuthenticationError |
      | python-async | chat | AuthenticationError |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind | error type          |
      | node   | chat | AuthenticationError |

    @req.INT-GO
    Examples: The official Go client
      | client | kind | error type   |
      | go     | chat | openai.Error |

    @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM
      | client        | kind | error type                |
      | langchain     | chat | OpenAIAuthenticationError |
      | langchain-llm | text | AuthenticationError       |
