@clients
Feature: The ATLAS extension travels through every client, and its atlas block comes back
  Applications switch the ATLAS memory on per request. Each client carries the extension its own
  way (Python and LangChain: extra_body; Node.js: an extra key in the request parameters; Go:
  option.WithJSONSet) and exposes the response's atlas block its own way (Python: the
  response's extra fields; Node.js: the plain response object; Go: JSON.ExtraFields; LangChain:
  the message's response metadata). A plain request stays plain: no atlas block comes back.

  Background:
    Given the server under test is running

  @req.API-PLAIN-SHAPE
  Scenario Outline: A plain <kind> answer through the <client> client carries no atlas block
    When the <client> client asks for a <kind> completion
    Then the client receives an answer with text
    And the client exposes no atlas block

    @req.INT-PYTHON
    Examples: The official Python client
      | client | kind |
      | python | chat |

    @req.INT-NODE
    Examples: The official Node.js client
      | client | kind |
      | node   | text |

    @req.INT-GO
    Examples: The official Go client
      | client | kind |
      | go     | chat |

    @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM
      | client        | kind |
      | langchain     | chat |
      | langchain-llm | text |

  @req.INT-CLIENTS-ATLAS
  Scenario Outline: A <kind> completion through the <client> client carries the ATLAS extension and reads the atlas block back
    When the <client> client asks for a <kind> completion with the ATLAS extension {"enabled": true, "window_size": 32}
    Then the client receives an answer with text
    And the client exposes the atlas block, matching the "atlas_block" schema
    And the client's atlas block reports a window size of 32

    @atlas @req.INT-PYTHON
    Examples: The official Python client, sync and async, with ATLAS
      | client       | kind |
      | python       | chat |
      | python       | text |
      | python-async | chat |

    @atlas @req.INT-NODE
    Examples: The official Node.js client, with ATLAS
      | client | kind |
      | node   | chat |
      | node   | text |

    @atlas @req.INT-GO
    Examples: The official Go client, with ATLAS
      | client | kind |
      | go     | chat |
      | go     | text |

    @atlas @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM, with ATLAS
      | client        | kind |
      | langchain     | chat |
      | langchain-llm | text |

  @req.INT-CLIENTS-ATLAS
  Scenario Outline: A <kind> answer streamed to the <client> client brings the atlas block on its last chunk
    When the <client> client streams a <kind> completion with the ATLAS extension {"enabled": true, "window_size": 48}
    Then the client receives an answer with text
    And the client exposes the atlas block, matching the "atlas_block" schema
    And the client's atlas block reports a window size of 48

    @atlas @req.INT-PYTHON
    Examples: The official Python client, sync and async, with ATLAS
      | client       | kind |
      | python       | chat |
      | python-async | text |

    @atlas @req.INT-NODE
    Examples: The official Node.js client, with ATLAS
      | client | kind |
      | node   | chat |

    @atlas @req.INT-GO
    Examples: The official Go client, with ATLAS
      | client | kind |
      | go     | chat |
      | go     | text |

    @atlas @req.INT-LANGCHAIN
    Examples: LangChain, its chat model and its LLM, with ATLAS
      | client        | kind |
      | langchain     | chat |
      | langchain-llm | text |
