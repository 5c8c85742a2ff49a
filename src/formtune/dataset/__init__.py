"""Datasets of validated examples: the builder (:mod:`.builder`), the files of a dataset folder
(:mod:`.store`), the fingerprint that ties a folder to one version of its task
(:mod:`.fingerprint`) and the bounded log of rejections (:mod:`.rejections`)."""

from formtune.conversation import chat_messages
from formtune.dataset.builder import BuildSummary, DatasetBuilder, build_dataset
from formtune.dataset.store import numbered_rows, read_rows

__all__ = ["BuildSummary", "DatasetBuilder", "build_dataset", "chat_messages", "numbered_rows", "read_rows"]
