"""Live chat between buyers and stores: conversations, lossless delivery, waits, assignment.

See ``docs/chat.md`` (operators) and ``docs/chat-protocol.md`` (the contract with the pages).
"""
