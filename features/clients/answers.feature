@clients
Feature: Applications get answers through the OpenAI client libraries they already use
  Applications reach the server through the official OpenAI clients for Python (sync and
  async), Node.js and Go, and through LangChain, not through raw HTTP. Each must work unchanged:
  the same request gets an answer whichever client sends it, and a streamed answer arrives
  whole and in order.

  The client column names the library: python (openai.OpenAI), python-async (openai.AsyncOpenAI),
  node (the npm "openai" package), go (openai-go), langchain (ChatOpenAI, a chat model) and
  langchain-llm (OpenAI, a text-completion LLM). A client that cannot run on this machine skips
  with the reason.

  Background:
    Given the server under test is running

  Scenario Outline: The <client> client gets an answer to a <kind> completion
    When the <client> client asks for a <kind> completion
    Then the client receives an answer with text

    @smoke @req.INT-PYTHON
    Examples: The official Python client, in the smoke run
      | client | kind |
      | python | chat |

    @req.INT-PYTHON
    Examples: The official Python client, sync and async
      | client       | kind |
      | python       | text |
      | python-async | chat |
      | python-async | text |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind |
      | node   | chat |
      | node   | text |

    @req.INT-GO
    Examples: The official Go client
      | client | kind |
      | go     | chat |
      | go     | text |

    @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM
      | client        | kind |
      | langchain     | chat |
      | langchain-llm | text |

  Scenario Outline: A <kind> answer streamed to the <client> client arrives whole and in order
    When the <client> client streams a <kind> completion
    Then the answer arrived in more than one chunk
    And the chunks, joined in the order they arrived, are the answer the client gets without streaming

    @req.INT-PYTHON
    Examples: The official Python client, sync and async
      | client       | kind |
      | python       | chat |
      | python       | text |
      | python-async | chat |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind |
      | node   | chat |
      | node   | text |

    @req.INT-GO
    Examples: The official Go client
      | client | kind |
      | go     | chat |
      | go     | text |

    @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM
      | client        | kind |
      | langchain     | chat |
      | langchain-llm | text |

  Scenario Outline: The <client> client's <kind> answer ends at the stop sequence it sent
    When the <client> client asks for a <kind> completion that stops at a word of its own answer
    Then the client's answer ends just before that word, with finish reason "stop"

    @req.INT-PYTHON
    Examples: The official Python client
      | client | kind |
      | python | chat |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind |
      | node   | chat |
      | node   | text |

    @req.INT-GO
    Examples: The official Go client
      | client | kind |
      | go     | chat |
      | go     | text |

  Scenario Outline: A <kind> answer streamed to the <client> client reports the token usage when asked
    When the <client> client streams a <kind> completion asking for the token usage
    Then the client reads the token usage of the whole answer from the stream

    @req.INT-PYTHON
    Examples: The official Python client
      | client | kind |
      | python | chat |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind |
      | node   | chat |
      | node   | text |

    @req.INT-GO
    Examples: The official Go client
      | client | kind |
      | go     | chat |
      | go     | text |

  Scenario Outline: The <client> client gets a call of a required tool, with arguments that parse
    When the <client> client asks for a chat answer that must call the weather tool
    Then the client reads a call of the weather tool with JSON arguments that name a city

    @req.INT-PYTHON
    Examples: The official Python client
      | client |
      | python |

    @req.INT-NODE
    Examples: The official Node.js client
      | client |
      | node   |

    @req.INT-GO
    Examples: The official Go client
      | client |
      | go     |

  @req.INT-PYTHON
  Scenario: The async Python client holds several conversations at once
    When the async OpenAI client sends 3 chat completions at once
    Then all 3 answers have text
