"""The builtin rules plugin: logic rules and style rules that a task's answers must follow.

A task declares its rules in a ``rules:`` section (:mod:`.spec`): typed input facts, prioritized
rules written in a rule engine's condition language (:mod:`.expr`, or one a plugin contributes
through ``register_rule_engines``), an explicit default, and style rules for text fields. The
plugin contributes:

- the ``rules`` validator (:mod:`.judge`): which rule an answer breaks, on which field, and the
  input facts that made the rule decide; which style rule its text breaks;
- the ``rules`` generator (:mod:`.generate`): facts sampled branch by branch, boundaries
  included, answers computed by the rules, inputs written from the facts by templates;
- per-task metrics (:mod:`.metrics`): adherence overall, per rule, per branch, on held-out
  branches and conflicts, style per rule;
- ``formtune data stats DATASET --task T`` (:mod:`.stats`): branch and boundary coverage of any
  dataset, generated or imported.
"""

from __future__ import annotations

from formtune import hookimpl
from formtune.contrib import TaskOptions
from formtune_rules.expr import ExprEngine
from formtune_rules.generate import RulesGenerator
from formtune_rules.judge import RulesValidator
from formtune_rules.spec import RulesOptions


@hookimpl
def register_task_options(register):
    register(TaskOptions("rules", RulesOptions, "logic rules (typed facts, prioritized rules, a default) and "
                         "style rules that answers must follow"))


@hookimpl
def register_rule_engines(register):
    register(ExprEngine())


@hookimpl
def register_validators(register):
    register(RulesValidator())


@hookimpl
def register_generators(register):
    register(RulesGenerator())


@hookimpl
def register_task_metrics(task, register):
    from formtune_rules.metrics import rule_metrics
    from formtune_rules.ruleset import rule_set

    ruleset = rule_set(task)
    if ruleset is not None:
        for metric in rule_metrics(task, ruleset):
            register(metric)


@hookimpl
def register_commands(cli):
    from formtune_rules.stats import add_commands

    add_commands(cli)
