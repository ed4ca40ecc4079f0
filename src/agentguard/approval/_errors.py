"""What can go wrong with an approval::

ApprovalError                 the queue cannot do it (unreachable, newer schema, ...)
├── UnknownIdError            no request or grant has that id (also a LookupError)
└── AlreadyAnsweredError      answered, expired or orphaned before this answer arrived
"""

from __future__ import annotations


class ApprovalError(Exception):
    """Something about an approval cannot be done (the store is newer than this agentguard, ...)."""


class UnknownIdError(ApprovalError, LookupError):
    """No request or grant has that id."""


class AlreadyAnsweredError(ApprovalError):
    """The request was answered, expired or orphaned (its waiter is gone) before this answer arrived."""
