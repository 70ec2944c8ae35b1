"""Load and validate the declarative procedure files in ``workflows/``."""
from __future__ import annotations

import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models import Role


class WorkflowFileError(Exception):
    """A procedure file is broken; the message names the file, the entry and the fault."""

    def __init__(self, path: Path, entry: str, problem: str) -> None:
        super().__init__(f"{path.name}: {entry}: {problem}")
        self.path, self.entry, self.problem = path, entry, problem


@dataclass(frozen=True)
class Period:
    working_days: int | None = None
    calendar_days: int | None = None


@dataclass(frozen=True)
class Deadline:
    """A maximum time for the work of one stage (a review, the publication), counted from an anchor."""

    name: str
    title: str
    title_en: str
    stage: str
    working_days: int | None = None
    calendar_days: int | None = None
    warn_working_days: int = 3
    roles: tuple[str, ...] = ()  # whose dashboards show and flag it
    starts: str = "stage_entered"  # or "decision_date"
    stops_when: str | None = None  # a condition that ends the clock before the stage is left


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    title_en: str
    actors: tuple[str, ...] = ()
    internal: bool = False
    final: bool = False
    produces: tuple[str, ...] = ()  # artefacts this stage must produce (a checklist for its actors)


@dataclass(frozen=True)
class Action:
    name: str
    stages: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    name: str
    title: str
    title_en: str
    from_stages: tuple[str, ...]
    to: str
    roles: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # artefacts that must exist before the step
    automatic: bool = False
    note_required: bool = False
    waits: bool = True  # false: a step one may take (撤回), not one the document waits for on a dashboard


@dataclass(frozen=True)
class PriorAssessmentRule:
    """[prior_assessment]: when submission needs answered invited assessments (事前评估), and of which kinds."""

    required_when: str  # "always", "never", or a yes/no property of the document (PRIOR_ASSESSMENT_WHEN)
    kinds: tuple[str, ...]  # at least one answered assessment of each kind


@dataclass(frozen=True)
class Procedure:
    id: str
    title: str
    title_en: str
    initial: str
    source: Path
    stages: dict[str, Stage]
    transitions: dict[str, Transition]
    actions: dict[str, Action]
    periods: dict[str, Period] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    department_roles: frozenset[str] = frozenset()
    prior_assessment: PriorAssessmentRule | None = None  # [prior_assessment]
    feedback_public_from: str | None = None  # [feedback] public_from: the stage that makes the feedback public

    # [review] signers: who signs each joint-review round (workflow/signers.py); "co_units" stands for the
    # document's co-responsible units (会签单位).
    review_signers: tuple[str, ...] = ("gov_office", "justice")

    def transitions_from(self, stage: str) -> list[Transition]:
        return [t for t in self.transitions.values() if stage in t.from_stages]


# The keys each kind of entry may have: a misspelt key (note_requried) must not silently drop a rule.
ALLOWED_KEYS = {
    "[procedure]": {"id", "title", "title_en", "initial", "department_roles"},
    "stage": {"title", "title_en", "actors", "internal", "final", "produces"},
    "action": {"stages", "roles"},
    "transition": {
        "name", "title", "title_en", "from", "to", "roles", "conditions", "requires", "automatic", "note_required",
        "waits",
    },
    "period": {"working_days", "calendar_days"},
    "[prior_assessment]": {"required_when", "kinds"},
    "[review]": {"signers"},
    "[feedback]": {"public_from"},
    "deadline": {
        "title", "title_en", "stage", "working_days", "calendar_days", "warn_working_days", "roles", "starts",
        "stops_when",
    },
}
SECTIONS = {"procedure", "stages", "transitions", "actions", "periods", "deadlines", "feedback", "prior_assessment"}
# [prior_assessment] required_when: always, never, or the document's yes/no property of that name.
PRIOR_ASSESSMENT_WHEN = {"always", "never", "concerns_market_entities", "affects_public_rights"}
INVITEE_KINDS = {"enterprise", "association", "expert"}
SECTIONS.add("review")  # [review] signers (co-responsible units, issue 14)
# The organs that may sign a joint-review round, and the role that signs for each (co_units: the unit's head).
REVIEW_SIGNERS = {"gov_office": "gov_office_reviewer", "justice": "justice_reviewer",
                  "openness_office": "openness_officer", "co_units": "department_head"}
DEADLINE_ANCHORS = {"stage_entered", "decision_date"}
# Periods the services read; a file must declare the required ones and may declare only known ones.
KNOWN_PERIODS = {"consultation_min", "consultation_min_market"}
REQUIRED_PERIODS = {"consultation_min"}
_TYPE_NAMES = {dict: "table", list: "list", str: "text", bool: "true or false", int: "number"}


def _table(value: Any, path: Path, entry: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WorkflowFileError(path, entry, "must be a table")
    return value


def _only_known_keys(data: dict[str, Any], kind: str, path: Path, entry: str) -> None:
    unknown = sorted(set(data) - ALLOWED_KEYS[kind])
    if unknown:
        raise WorkflowFileError(
            path, entry, f"unknown key '{unknown[0]}' (allowed: {', '.join(sorted(ALLOWED_KEYS[kind]))})"
        )


def _require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path, entry: str) -> Any:
    if key not in data:
        raise WorkflowFileError(path, entry, f"missing '{key}'")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    value = data[key]
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise WorkflowFileError(path, entry, f"'{key}' must be {wanted}")
    return value


def _names(value: Any, path: Path, entry: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkflowFileError(path, entry, f"'{key}' must be a list of names")
    return tuple(value)


def _days(raw: dict[str, Any], path: Path, entry: str) -> tuple[int | None, int | None]:
    """Read exactly one of working_days / calendar_days as a positive whole number."""
    wd, cd = raw.get("working_days"), raw.get("calendar_days")
    given = wd if cd is None else cd
    if (wd is None) == (cd is None) or type(given) is not int or given <= 0:  # bool is not a number of days
        raise WorkflowFileError(path, entry, "give exactly one of 'working_days' or 'calendar_days' as a positive number")
    return wd, cd


def load_procedure(
    path: Path, known_conditions: frozenset[str], known_artefacts: frozenset[str] = frozenset()
) -> Procedure:
    """Parse one procedure file and check that it is complete and consistent."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowFileError(path, "file", f"not valid TOML: {exc}") from None
    known_roles = {r.value for r in Role}
    for key in sorted(set(data) - SECTIONS):
        raise WorkflowFileError(path, f"[{key}]", "unknown section")
    head = _require(data, "procedure", dict, path, "[procedure]")
    _only_known_keys(head, "[procedure]", path, "[procedure]")
    stages_raw = _require(data, "stages", dict, path, "[stages]")

    def check_artefacts(names: tuple[str, ...], entry: str) -> tuple[str, ...]:
        for name in names:
            if name not in known_artefacts:
                raise WorkflowFileError(path, entry, f"unknown artefact '{name}' (known: {', '.join(sorted(known_artefacts))})")
        return names

    def check_condition(name: str, entry: str) -> str:
        if name not in known_conditions:
            raise WorkflowFileError(path, entry, f"unknown condition '{name}'")
        return name

    stages = {}
    for sid, raw in stages_raw.items():
        entry = f"[stages.{sid}]"
        raw = _table(raw, path, entry)
        _only_known_keys(raw, "stage", path, entry)
        actors = _names(raw.get("actors", []), path, entry, "actors")
        for role in actors:
            if role not in known_roles:
                raise WorkflowFileError(path, entry, f"unknown role '{role}'")
        stages[sid] = Stage(
            id=sid,
            title=_require(raw, "title", str, path, entry),
            title_en=raw.get("title_en", sid),
            actors=actors,
            internal=bool(raw.get("internal", False)),
            final=bool(raw.get("final", False)),
            produces=check_artefacts(_names(raw.get("produces", []), path, entry, "produces"), entry),
        )

    def check_stage(name: str, entry: str) -> str:
        if name not in stages:
            raise WorkflowFileError(path, entry, f"unknown stage '{name}'")
        return name

    def check_roles(roles: tuple[str, ...], entry: str) -> tuple[str, ...]:
        for role in roles:
            if role not in known_roles:
                raise WorkflowFileError(path, entry, f"unknown role '{role}'")
        return roles

    transitions: dict[str, Transition] = {}
    transitions_raw = data.get("transitions", [])
    if not isinstance(transitions_raw, list):
        raise WorkflowFileError(path, "[[transitions]]", "must be a list of tables ([[transitions]])")
    for i, raw in enumerate(transitions_raw):
        raw = _table(raw, path, f"[[transitions]] #{i + 1}")
        entry = f"[[transitions]] #{i + 1} ({raw.get('name', '?')})"
        _only_known_keys(raw, "transition", path, entry)
        name = _require(raw, "name", str, path, entry)
        if name in transitions:
            raise WorkflowFileError(path, entry, f"duplicate transition '{name}'")
        automatic = bool(raw.get("automatic", False))
        roles = check_roles(_names(raw.get("roles", []), path, entry, "roles"), entry)
        if not automatic and not roles:
            raise WorkflowFileError(path, entry, "a manual transition needs 'roles'")
        conditions = tuple(
            check_condition(c, entry) for c in _names(raw.get("conditions", []), path, entry, "conditions")
        )
        requires = check_artefacts(_names(raw.get("requires", []), path, entry, "requires"), entry)
        if automatic and not conditions:
            raise WorkflowFileError(path, entry, "an automatic transition needs 'conditions'")
        from_stages = tuple(
            check_stage(s, entry) for s in _names(_require(raw, "from", (list, str), path, entry), path, entry, "from")
        )
        transitions[name] = Transition(
            name=name,
            title=_require(raw, "title", str, path, entry),
            title_en=raw.get("title_en", name),
            from_stages=from_stages,
            to=check_stage(_require(raw, "to", str, path, entry), entry),
            roles=roles,
            conditions=conditions,
            requires=requires,
            automatic=automatic,
            note_required=bool(raw.get("note_required", False)),
            waits=bool(raw.get("waits", True)),
        )

    actions = {}
    for name, raw in _table(data.get("actions", {}), path, "[actions]").items():
        entry = f"[actions.{name}]"
        raw = _table(raw, path, entry)
        _only_known_keys(raw, "action", path, entry)
        actions[name] = Action(
            name=name,
            stages=tuple(check_stage(s, entry) for s in _names(raw.get("stages", []), path, entry, "stages")),
            roles=check_roles(_names(raw.get("roles", []), path, entry, "roles"), entry),
        )

    periods = {}
    for name, raw in _table(data.get("periods", {}), path, "[periods]").items():
        entry = f"[periods.{name}]"
        raw = _table(raw, path, entry)
        _only_known_keys(raw, "period", path, entry)
        if name not in KNOWN_PERIODS:
            raise WorkflowFileError(path, entry, f"unknown period (known: {', '.join(sorted(KNOWN_PERIODS))})")
        wd, cd = _days(raw, path, entry)
        periods[name] = Period(working_days=wd, calendar_days=cd)

    deadlines = {}
    for name, raw in _table(data.get("deadlines", {}), path, "[deadlines]").items():
        entry = f"[deadlines.{name}]"
        raw = _table(raw, path, entry)
        _only_known_keys(raw, "deadline", path, entry)
        wd, cd = _days(raw, path, entry)
        warn = raw.get("warn_working_days", 3)
        if type(warn) is not int or warn < 0:
            raise WorkflowFileError(path, entry, "'warn_working_days' must be a number of days (0 or more)")
        starts = raw.get("starts", "stage_entered")
        if starts not in DEADLINE_ANCHORS:
            raise WorkflowFileError(path, entry, f"'starts' must be one of: {', '.join(sorted(DEADLINE_ANCHORS))}")
        stops_when = raw.get("stops_when")
        if stops_when is not None:
            check_condition(_require(raw, "stops_when", str, path, entry), entry)
        deadlines[name] = Deadline(
            name=name,
            title=_require(raw, "title", str, path, entry),
            title_en=raw.get("title_en", name),
            stage=check_stage(_require(raw, "stage", str, path, entry), entry),
            working_days=wd,
            calendar_days=cd,
            warn_working_days=warn,
            roles=check_roles(_names(raw.get("roles", []), path, entry, "roles"), entry),
            starts=starts,
            stops_when=stops_when,
        )

    feedback_raw = _table(data.get("feedback", {}), path, "[feedback]")
    _only_known_keys(feedback_raw, "[feedback]", path, "[feedback]")
    public_from = feedback_raw.get("public_from")
    if public_from is not None:
        entry = "[feedback] public_from"
        if not isinstance(public_from, str):
            raise WorkflowFileError(path, entry, "must be the name of a stage")
        if check_stage(public_from, entry) and stages[public_from].internal:
            raise WorkflowFileError(path, entry, f"the stage '{public_from}' is internal: nothing of it is public")

    review_signers = _review_signers(data, path)

    for name in sorted(REQUIRED_PERIODS - set(periods)):
        raise WorkflowFileError(path, f"[periods.{name}]", "missing: the services need this period")

    initial = check_stage(_require(head, "initial", str, path, "[procedure]"), "[procedure] initial")
    for sid, stage in stages.items():
        outgoing = [t for t in transitions.values() if sid in t.from_stages]
        if stage.final and outgoing:
            raise WorkflowFileError(path, f"[stages.{sid}]", "a final stage cannot have transitions out")
        if not stage.final and not outgoing:
            raise WorkflowFileError(path, f"[stages.{sid}]", "dead end: no transition leaves this stage and it is not final")
    reached, todo = {initial}, deque([initial])
    while todo:
        here = todo.popleft()
        for t in transitions.values():
            if here in t.from_stages and t.to not in reached:
                reached.add(t.to)
                todo.append(t.to)
    for sid in stages:
        if sid not in reached:
            raise WorkflowFileError(path, f"[stages.{sid}]", f"unreachable from the initial stage '{initial}'")

    prior_assessment = _prior_assessment(data.get("prior_assessment"), path)

    return Procedure(
        id=_require(head, "id", str, path, "[procedure]"),
        title=_require(head, "title", str, path, "[procedure]"),
        title_en=head.get("title_en", head["id"]),
        initial=initial,
        source=path,
        stages=stages,
        transitions=transitions,
        actions=actions,
        periods=periods,
        deadlines=deadlines,
        review_signers=review_signers,
        feedback_public_from=public_from,
        department_roles=frozenset(
            check_roles(_names(head.get("department_roles", []), path, "[procedure]", "department_roles"), "[procedure]")
        ),
        prior_assessment=prior_assessment,
    )


def _prior_assessment(raw: Any, path: Path) -> PriorAssessmentRule | None:
    """Read [prior_assessment]: required_when (one of PRIOR_ASSESSMENT_WHEN) and kinds (of INVITEE_KINDS)."""
    if raw is None:
        return None
    entry = "[prior_assessment]"
    raw = _table(raw, path, entry)
    _only_known_keys(raw, entry, path, entry)
    when = _require(raw, "required_when", str, path, entry)
    if when not in PRIOR_ASSESSMENT_WHEN:
        raise WorkflowFileError(path, entry, f"'required_when' must be one of: {', '.join(sorted(PRIOR_ASSESSMENT_WHEN))}")
    kinds = _names(_require(raw, "kinds", list, path, entry), path, entry, "kinds")
    if not kinds:
        raise WorkflowFileError(path, entry, "'kinds' must name at least one kind")
    for kind in kinds:
        if kind not in INVITEE_KINDS:
            raise WorkflowFileError(path, entry, f"unknown kind '{kind}' (known: {', '.join(sorted(INVITEE_KINDS))})")
    return PriorAssessmentRule(required_when=when, kinds=tuple(dict.fromkeys(kinds)))


def _review_signers(data: dict[str, Any], path: Path) -> tuple[str, ...]:
    """[review] signers: known names, each once, at least one; without the table the two organs sign."""
    if "review" not in data:
        return Procedure.review_signers
    raw = _table(data["review"], path, "[review]")
    _only_known_keys(raw, "[review]", path, "[review]")
    signers = _names(_require(raw, "signers", list, path, "[review]"), path, "[review]", "signers")
    for name in signers:
        if name not in REVIEW_SIGNERS:
            raise WorkflowFileError(path, "[review] signers",
                                    f"unknown signer '{name}' (known: {', '.join(sorted(REVIEW_SIGNERS))})")
    if not signers or len(set(signers)) != len(signers):
        raise WorkflowFileError(path, "[review] signers", "name at least one signer, each once")
    return signers


def load_directory(
    directory: Path, known_conditions: frozenset[str], known_artefacts: frozenset[str] = frozenset()
) -> dict[str, Procedure]:
    """Load every ``*.toml`` procedure in the directory; refuse duplicates and an empty folder."""
    procedures: dict[str, Procedure] = {}
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise WorkflowFileError(directory, "directory", "no procedure files (*.toml) found")
    for path in files:
        procedure = load_procedure(path, known_conditions, known_artefacts)
        if procedure.id in procedures:
            raise WorkflowFileError(path, "[procedure] id", f"duplicate procedure id '{procedure.id}'")
        procedures[procedure.id] = procedure
    return procedures
