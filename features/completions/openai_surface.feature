@completions
Feature: The OpenAI features applications rely on work, with ATLAS off and on
  Applications use more of the OpenAI API than a prompt and its answer: stop sequences and the
  reason an answer finished, reproducible answers, several choices, log probabilities, the token
  usage at the end of a stream, answers that follow a JSON schema, tool calls, a clear refusal
  of a prompt longer than the context (embeddings: embeddings.feature). Each works as OpenAI's own clients expect
  (every answer is also checked with the official Python SDK's types), and where the ATLAS
  extension applies it works the same with ATLAS on. A capability the server does not offer
  skips with the reason.

  Background:
    Given the server under test is running

  @req.API-COMPLETIONS @req.API-CHAT
  Scenario Outline: A <kind> answer <atlas> ends at a stop sequence, with finish reason "stop"
    When I ask for a <kind> completion that must stop at a word of its own answer, <atlas>
    Then the answer ends just before that word, with finish reason "stop"

    @req.API-PLAIN-SHAPE
    Examples: Without ATLAS
      | kind | atlas         |
      | text | without ATLAS |
      | chat | without ATLAS |

    @atlas @req.API-EXT-RESPONSE
    Examples: With ATLAS on
      | kind | atlas         |
      | text | with ATLAS on |
      | chat | with ATLAS on |

  @req.API-COMPLETIONS @req.API-CHAT
  Scenario Outline: A <kind> answer <atlas> cut by its token limit ends with finish reason "length"
    When I ask for a <kind> completion of at most 3 tokens, <atlas>
    Then the answer has 3 tokens, with finish reason "length"

    Examples: Without ATLAS
      | kind | atlas         |
      | text | without ATLAS |
      | chat | without ATLAS |

    @atlas @req.API-EXT-RESPONSE
    Examples: With ATLAS on
      | kind | atlas         |
      | chat | with ATLAS on |

  # Plain only: with ATLAS on, the memory learns from the first answer, so the second may differ.
  @req.API-COMPLETIONS @req.API-CHAT
  Scenario Outline: The same seed at temperature 0 gives the same <kind> answer twice
    When I ask twice for the same <kind> completion with seed 42 at temperature 0
    Then both answers are the same text

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-COMPLETIONS @req.API-CHAT
  Scenario Outline: A <kind> completion asked for 2 choices answers 2 choices
    When I ask for a <kind> completion with 2 choices
    Then the answer has 2 choices, numbered from 0, each with text

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-CHAT
  Scenario Outline: A chat answer <atlas> comes with the log probability of each token
    When I ask for a chat completion with log probabilities and 2 alternatives per token, <atlas>
    Then every token of the answer comes with its log probability and 2 alternatives

    Examples: Without ATLAS
      | atlas         |
      | without ATLAS |

    @atlas @req.API-EXT-RESPONSE
    Examples: With ATLAS on
      | atlas         |
      | with ATLAS on |

  @req.API-COMPLETIONS @req.API-CHAT
  Scenario Outline: A streamed <kind> answer <atlas> asked for the usage reports it in its last chunk
    When I stream a <kind> completion asking for the token usage, <atlas>
    Then the last chunk before [DONE] reports the token usage of the whole answer

    Examples: Without ATLAS
      | kind | atlas         |
      | text | without ATLAS |
      | chat | without ATLAS |

    @atlas @req.API-EXT-STREAM
    Examples: With ATLAS on
      | kind | atlas         |
      | text | with ATLAS on |
      | chat | with ATLAS on |

  @req.API-CHAT
  Scenario Outline: A chat answer <atlas> asked to follow a JSON schema is JSON that satisfies it
    When I ask for a chat answer that follows a JSON schema, <atlas>
    Then the answer parses as JSON and satisfies the schema

    Examples: Without ATLAS
      | atlas         |
      | without ATLAS |

    @atlas @req.API-EXT-RESPONSE
    Examples: With ATLAS on
      | atlas         |
      | with ATLAS on |

  @req.API-CHAT
  Scenario Outline: A chat request <atlas> that requires a tool gets a call of it with arguments that parse
    When I ask for a chat answer that must call the weather tool, <atlas>
    Then the answer calls the weather tool with JSON arguments that name a city

    Examples: Without ATLAS
      | atlas         |
      | without ATLAS |

    @atlas @req.API-EXT-RESPONSE
    Examples: With ATLAS on
      | atlas         |
      | with ATLAS on |

  @req.API-COMPLETIONS
  Scenario Outline: A prompt longer than the context <atlas> is refused with a clear 400
    When I send a text completion whose prompt is longer than the server's context, <atlas>
    Then the request is refused as too long for the context

    Examples: Without ATLAS
      | atlas         |
      | without ATLAS |

    @atlas @req.API-EXT-REQUEST
    Examples: With ATLAS on
      | atlas         |
      | with ATLAS on |
