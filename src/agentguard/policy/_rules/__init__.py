"""The built-in rules, one module per family; :mod:`agentguard.rules` is their public face."""
