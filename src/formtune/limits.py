"""Bounds on the work formtune does with what it is given, in one place.

Formats bound their own parsing (nesting depth, entity and alias expansion); these bound the rest:
how much of a file is read and how long one check may take. Each is a clear result or error when
it is hit, never a crash or a hang.
"""

#: Largest file ``formtune validate`` reads (a model output is far smaller); bigger files are
#: reported invalid without being parsed, so ``validate /dev/zero`` ends at once.
MAX_FILE_BYTES = 10_000_000
#: Seconds ``formtune validate`` spends on one file before reporting it invalid.
TIME_LIMIT_S = 5.0
#: Largest task file read: task files are small; data belongs in the dataset, not the task.
MAX_TASK_FILE_BYTES = 2_000_000
