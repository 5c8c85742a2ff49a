"""The builtin augment plugin: changes to training inputs that never change their answers.

A template writes one tidy message; real messages come with greetings and signatures, quoted
reply chains and forwarded headers, broken lines, sloppy casing, typos, fields in any order, and
look-alike values that are not the answer. A task asks for these with a rate each::

    data:
      augment: {greeting: 0.3, signature: 0.3, reply-chain: 0.15, typos: 0.15, distractors: 0.4}

Each augmenter keeps every answer value that appears verbatim in the input (it edits only the
text between them, :func:`formtune.keep.outside`); the dataset builder checks that and validates
the answer again, and records the augmenters of each row in its provenance.

- :mod:`.wrappers`: ``greeting``, ``signature``, ``reply-chain``, ``forward``;
- :mod:`.noise`: ``whitespace``, ``casing``, ``typos``, ``shuffle-fields``;
- :mod:`.distractors`: ``distractors`` (phone numbers, second dates, reference numbers, and
  absent optional fields mentioned by name).
"""

from __future__ import annotations

from formtune import hookimpl
from formtune_augment.distractors import Distractors
from formtune_augment.noise import Casing, ShuffleFields, Typos, Whitespace
from formtune_augment.wrappers import Forward, Greeting, ReplyChain, Signature

AUGMENTERS = (Greeting(), Signature(), ReplyChain(), Forward(), Whitespace(), Casing(), Typos(), ShuffleFields(),
              Distractors())


@hookimpl
def register_augmenters(register):
    for augmenter in AUGMENTERS:
        register(augmenter)
