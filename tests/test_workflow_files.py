"""The procedure files are checked when they are loaded: a broken one is refused, with a message
that names the file, the entry and the fault, and the service does not start with it.

Each broken file is a copy of workflows/normative_document.toml with one edit.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from consultation import create_app
from consultation.workflow.artefacts import KNOWN_ARTEFACTS
from consultation.workflow.conditions import KNOWN_CONDITIONS
from consultation.workflow.definition import WorkflowFileError, load_directory, load_procedure

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
SOURCE = WORKFLOWS / "normative_document.toml"
FILENAME = SOURCE.name


def original() -> str:
    return SOURCE.read_text(encoding="utf-8")


def transition_entry(name: str, shown_as: str | None = None) -> str:
    """How the loader names a transition: its position in the file and its (possibly edited) name."""
    names = [t["name"] for t in tomllib.loads(original())["transitions"]]
    return f"[[transitions]] #{names.index(name) + 1} ({shown_as or name})"


def _block(text: str, start_marker: str) -> tuple[int, int]:
    """The span of the table that contains ``start_marker``, up to the next table header."""
    start = text.index(start_marker)
    header = re.compile(r"^\[", re.M)
    following = header.search(text, start + len(start_marker))
    return start, following.start() if following else len(text)


def edit(text: str, old: str, new: str, *, within: str | None = None) -> str:
    """Replace ``old`` once, inside the table that holds ``within`` when given."""
    start, end = _block(text, within) if within else (0, len(text))
    part = text[start:end]
    assert old in part, f"{old!r} not found in {within or 'the file'}: the procedure file changed, update the edit"
    return text[:start] + part.replace(old, new, 1) + text[end:]


def in_transition(name: str) -> str:
    return f'name = "{name}"\n'


def write(tmp_path: Path, text: str, filename: str = FILENAME) -> Path:
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> WorkflowFileError:
    with pytest.raises(WorkflowFileError) as caught:
        load_procedure(path, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
    return caught.value


def assert_names_file_entry_fault(error: WorkflowFileError, entry: str, fault: str) -> None:
    message = str(error)
    assert message.startswith(f"{FILENAME}: "), message
    assert f": {entry}: " in message, message
    assert fault in message, message
    assert (error.path.name, error.entry) == (FILENAME, entry)


# Each case: (id, function of the original text -> broken text, entry, fault)
BROKEN = [
    # unknown stage in from / to / initial / an action
    ("unknown stage in 'to'",
     lambda t: edit(t, 'to = "head_review"', 'to = "head_reveiw"', within=in_transition("request_predisclosure")),
     transition_entry("request_predisclosure"), "unknown stage 'head_reveiw'"),
    ("unknown stage in 'from'",
     lambda t: edit(t, 'from = ["head_review"]', 'from = ["head_reveiw"]', within=in_transition("head_return_draft")),
     transition_entry("head_return_draft"), "unknown stage 'head_reveiw'"),
    ("unknown stage among several in 'from'",
     lambda t: edit(t, 'from = ["publication"]', 'from = ["publication", "archived"]', within=in_transition("publish")),
     transition_entry("publish"), "unknown stage 'archived'"),
    ("unknown initial stage",
     lambda t: edit(t, 'initial = "drafting"', 'initial = "draft"'),
     "[procedure] initial", "unknown stage 'draft'"),
    ("unknown stage of an action",
     lambda t: edit(t, 'stages = ["handling"]', 'stages = ["handeling"]', within="[actions.answer_comment]"),
     "[actions.answer_comment]", "unknown stage 'handeling'"),
    # unknown role, wherever roles are named
    ("unknown role of a transition",
     lambda t: edit(t, 'roles = ["gov_office_reviewer", "openness_officer"]',
                    'roles = ["gov_office_reviewer", "press_officer"]', within=in_transition("publish")),
     transition_entry("publish"), "unknown role 'press_officer'"),
    ("unknown role among a stage's actors",
     lambda t: edit(t, 'actors = ["gov_office_reviewer"]', 'actors = ["mayor"]', within="[stages.deliberation]"),
     "[stages.deliberation]", "unknown role 'mayor'"),
    ("unknown role of an action",
     lambda t: edit(t, 'roles = ["gov_office_reviewer", "justice_reviewer"]',
                    'roles = ["gov_office_reviewer", "auditor"]', within="[actions.sign_off]"),
     "[actions.sign_off]", "unknown role 'auditor'"),
    ("unknown department role",
     lambda t: edit(t, 'department_roles = ["drafter", "department_head"]',
                    'department_roles = ["drafter", "section_chief"]'),
     "[procedure]", "unknown role 'section_chief'"),
    # unknown condition
    ("unknown condition",
     lambda t: edit(t, 'conditions = ["document_number_assigned", "all_comments_answered", "all_comments_moderated"]',
                    'conditions = ["document_number_assigned", "signed_by_mayor"]', within=in_transition("publish")),
     transition_entry("publish"), "unknown condition 'signed_by_mayor'"),
    # unreachable stage
    ("unreachable stage added to the file",
     lambda t: t + '\n[stages.archived]\ntitle = "已归档"\nfinal = true\n',
     "[stages.archived]", "unreachable from the initial stage 'drafting'"),
    ("unreachable stage that has a way out but no way in",
     lambda t: t + ('\n[stages.shelved]\ntitle = "搁置"\n\n[[transitions]]\nname = "resume"\ntitle = "恢复起草"\n'
                    'from = ["shelved"]\nto = "drafting"\nroles = ["drafter"]\n'),
     "[stages.shelved]", "unreachable from the initial stage 'drafting'"),
    ("stage left unreachable when the only step into it is redirected",
     lambda t: edit(t, 'to = "not_adopted"', 'to = "handling"', within=in_transition("record_rejection")),
     "[stages.not_adopted]", "unreachable from the initial stage 'drafting'"),
    # dead end
    ("non-final stage without a way out (final removed)",
     lambda t: edit(t, "final = true\n", "", within="[stages.published]"),
     "[stages.published]", "dead end"),
    ("non-final stage without a way out (its only step moved elsewhere)",
     lambda t: edit(t, 'from = ["publication"]', 'from = ["deliberation"]', within=in_transition("publish")),
     "[stages.publication]", "dead end"),
    ("final stage with a way out",
     lambda t: edit(t, 'from = ["deliberation"]', 'from = ["deliberation", "not_adopted"]',
                    within=in_transition("record_adoption")),
     "[stages.not_adopted]", "a final stage cannot have transitions out"),
    # duplicate transition name
    ("duplicate transition name",
     lambda t: edit(t, 'name = "head_return_draft"', 'name = "head_approve_predisclosure"'),
     transition_entry("head_return_draft", shown_as="head_approve_predisclosure"), "duplicate transition 'head_approve_predisclosure'"),
    # periods
    ("period with both working_days and calendar_days",
     lambda t: edit(t, "working_days = 7", "working_days = 7\ncalendar_days = 15", within="[periods.consultation_min]"),
     "[periods.consultation_min]", "give exactly one of 'working_days' or 'calendar_days'"),
    ("period with neither working_days nor calendar_days",
     lambda t: edit(t, "calendar_days = 30", "", within="[periods.consultation_min_market]"),
     "[periods.consultation_min_market]", "give exactly one of 'working_days' or 'calendar_days'"),
    ("period of zero days",
     lambda t: edit(t, "working_days = 7", "working_days = 0", within="[periods.consultation_min]"),
     "[periods.consultation_min]", "as a positive number"),
    ("period of a negative number of days",
     lambda t: edit(t, "calendar_days = 30", "calendar_days = -30", within="[periods.consultation_min_market]"),
     "[periods.consultation_min_market]", "as a positive number"),
    ("period given as text",
     lambda t: edit(t, "working_days = 7", 'working_days = "7"', within="[periods.consultation_min]"),
     "[periods.consultation_min]", "as a positive number"),
    # other incomplete entries
    ("manual transition without roles",
     lambda t: edit(t, 'roles = ["drafter"]\n', "", within=in_transition("submit_for_review")),
     transition_entry("submit_for_review"), "a manual transition needs 'roles'"),
    ("automatic transition without conditions",
     lambda t: edit(t, 'conditions = ["consultation_closed"]\n', "", within=in_transition("close_consultation")),
     transition_entry("close_consultation"), "an automatic transition needs 'conditions'"),
    ("transition without 'to'",
     lambda t: edit(t, 'to = "published"\n', "", within=in_transition("publish")),
     transition_entry("publish"), "missing 'to'"),
    ("stage without a title",
     lambda t: edit(t, 'title = "意见处理"\n', "", within="[stages.handling]"),
     "[stages.handling]", "missing 'title'"),
    # artefacts
    ("unknown artefact a stage produces",
     lambda t: edit(t, 'produces = ["review_opinions"]', 'produces = ["review_opinion"]', within="[stages.joint_review]"),
     "[stages.joint_review]", "unknown artefact 'review_opinion'"),
    ("unknown artefact a step requires",
     lambda t: edit(t, 'roles = ["drafter"]\n', 'roles = ["drafter"]\nrequires = ["mayors_blessing"]\n',
                    within=in_transition("submit_for_review")),
     transition_entry("submit_for_review"), "unknown artefact 'mayors_blessing'"),
    # deadlines (maximum times)
    ("deadline of an unknown stage",
     lambda t: edit(t, 'stage = "joint_review"', 'stage = "legality_review"', within="[deadlines.legality_review]"),
     "[deadlines.legality_review]", "unknown stage 'legality_review'"),
    ("deadline that stops on an unknown condition",
     lambda t: edit(t, 'stops_when = "justice_signed"', 'stops_when = "justice_happy"',
                    within="[deadlines.legality_review]"),
     "[deadlines.legality_review]", "unknown condition 'justice_happy'"),
    ("deadline counted from an unknown anchor",
     lambda t: edit(t, 'starts = "decision_date"', 'starts = "meeting"', within="[deadlines.publication]"),
     "[deadlines.publication]", "'starts' must be one of"),
    ("deadline without a number of days",
     lambda t: edit(t, "working_days = 15\n", "", within="[deadlines.legality_review]"),
     "[deadlines.legality_review]", "give exactly one of 'working_days' or 'calendar_days'"),
    ("deadline flagged by an unknown role",
     lambda t: edit(t, 'roles = ["justice_reviewer"]', 'roles = ["judge"]', within="[deadlines.legality_review]"),
     "[deadlines.legality_review]", "unknown role 'judge'"),
    ("deadline with a negative warning window",
     lambda t: edit(t, "warn_working_days = 3", "warn_working_days = -1", within="[deadlines.legality_review]"),
     "[deadlines.legality_review]", "'warn_working_days' must be a number of days"),
    ("deadline with a misspelt key",
     lambda t: edit(t, "warn_working_days = 3", "warn_workingdays = 3", within="[deadlines.legality_review]"),
     "[deadlines.legality_review]", "unknown key 'warn_workingdays'"),
]


@pytest.mark.parametrize("make, entry, fault", [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_broken_file_is_refused_naming_the_file_the_entry_and_the_fault(tmp_path, make, entry, fault):
    error = refusal(write(tmp_path, make(original())))
    assert_names_file_entry_fault(error, entry, fault)


INVALID_TOML = [
    ("unclosed table header", "[stages.consultation]", "[stages.consultation"),
    ("unclosed string", 'title_en = "Handling comments"', 'title_en = "Handling comments'),
    ("key given twice", 'title = "联合审查"', 'title = "联合审查"\ntitle = "联合审查（重复）"'),
    ("table given twice", "[stages.published]", '[stages.drafting]\ntitle = "又一个"\n\n[stages.published]'),
    ("bare word as a value", "internal = true\nactors = [\"drafter\"]", "internal = yes\nactors = [\"drafter\"]"),
]


@pytest.mark.parametrize("old, new", [c[1:] for c in INVALID_TOML], ids=[c[0] for c in INVALID_TOML])
def test_a_file_that_is_not_valid_toml_is_refused_naming_the_file_and_the_line(tmp_path, old, new):
    text = edit(original(), old, new)
    # The first line that differs from the original is where the parser must stop (or just below).
    pairs = zip(text.splitlines(), original().splitlines(), strict=False)
    line = next(i for i, (a, b) in enumerate(pairs, 1) if a != b)
    error = refusal(write(tmp_path, text))
    message = str(error)
    assert message.startswith(f"{FILENAME}: file: not valid TOML: "), message
    reported = int(re.search(r"at line (\d+)", message).group(1))
    assert line <= reported <= line + 2, message


def test_a_file_that_is_not_toml_at_all_is_refused(tmp_path):
    error = refusal(write(tmp_path, "<procedure id='normative_document'/>\n", "legacy.toml"))
    assert str(error).startswith("legacy.toml: file: not valid TOML: ")


def test_a_from_that_is_not_a_list_of_stages_is_refused(tmp_path):
    text = edit(original(), 'from = ["drafting"]', "from = 3", within=in_transition("request_predisclosure"))
    error = refusal(write(tmp_path, text))
    assert_names_file_entry_fault(error, transition_entry("request_predisclosure"), "from")


def test_a_period_given_as_true_is_refused(tmp_path):
    text = edit(original(), "working_days = 7", "working_days = true", within="[periods.consultation_min]")
    error = refusal(write(tmp_path, text))
    assert_names_file_entry_fault(error, "[periods.consultation_min]", "as a positive number")


def test_a_misspelt_key_is_refused_rather_than_silently_dropping_a_rule(tmp_path):
    text = edit(original(), "note_required = true", "note_requried = true", within=in_transition("head_return_draft"))
    error = refusal(write(tmp_path, text))
    assert_names_file_entry_fault(error, transition_entry("head_return_draft"), "unknown key 'note_requried'")


def test_an_unknown_section_is_refused(tmp_path):
    error = refusal(write(tmp_path, original() + "\n[timers.review]\nworking_days = 15\n"))
    assert_names_file_entry_fault(error, "[timers]", "unknown section")


def test_the_minimum_consultation_period_must_be_declared(tmp_path):
    text = edit(original(), "[periods.consultation_min]\nworking_days = 7\n", "",
                within="[periods.consultation_min]")
    error = refusal(write(tmp_path, text))
    assert_names_file_entry_fault(error, "[periods.consultation_min]", "missing")


def test_a_period_the_services_do_not_know_is_refused(tmp_path):
    error = refusal(write(tmp_path, original() + "\n[periods.legality_review]\nworking_days = 15\n"))
    assert_names_file_entry_fault(error, "[periods.legality_review]", "unknown period")


# --- the real files ---------------------------------------------------------------------------

REAL_FILES = sorted(WORKFLOWS.glob("*.toml"))


def test_the_workflows_folder_holds_both_procedures():
    assert {p.name for p in REAL_FILES} == {"normative_document.toml", "major_decision.toml"}


@pytest.mark.parametrize("path", REAL_FILES, ids=[p.name for p in REAL_FILES])
def test_each_real_procedure_file_loads_with_everything_it_declares(path):
    procedure = load_procedure(path, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert procedure.id == raw["procedure"]["id"]
    assert list(procedure.stages) == list(raw["stages"])
    assert list(procedure.transitions) == [t["name"] for t in raw["transitions"]]
    assert set(procedure.actions) == set(raw.get("actions", {}))
    assert set(procedure.periods) == set(raw.get("periods", {}))
    assert set(procedure.deadlines) == set(raw.get("deadlines", {}))
    for sid, stage in procedure.stages.items():
        assert list(stage.produces) == raw["stages"][sid].get("produces", [])
    for t in raw["transitions"]:
        assert list(procedure.transitions[t["name"]].requires) == t.get("requires", [])


def test_the_legal_periods_and_time_limits_are_those_of_the_law():
    procedures = load_directory(WORKFLOWS, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
    normative, major = procedures["normative_document"], procedures["major_decision"]
    assert normative.periods["consultation_min"].working_days == 7             # 国办发〔2018〕37号
    assert normative.periods["consultation_min_market"].calendar_days == 30    # 优化营商环境条例 Art. 62
    assert major.periods["consultation_min"].calendar_days == 30               # 国务院令第713号 Art. 15
    for procedure in (normative, major):
        legality = procedure.deadlines["legality_review"]
        assert (legality.stage, legality.working_days, legality.warn_working_days) == ("joint_review", 15, 3)
        publication = procedure.deadlines["publication"]
        assert (publication.stage, publication.working_days, publication.starts) == ("publication", 20, "decision_date")
    # Expert argument and risk assessment come before the legality review of a major decision only.
    assert set(major.transitions["submit_for_review"].requires) == {"expert_argument", "risk_assessment"}
    assert not normative.transitions["submit_for_review"].requires
    # Skipping pre-disclosure exists for normative documents only, and never for one affecting public rights.
    assert "does_not_affect_public_rights" in normative.transitions["request_skip_predisclosure"].conditions
    assert "does_not_affect_public_rights" in normative.transitions["approve_skip_predisclosure"].conditions
    assert "request_skip_predisclosure" not in major.transitions


def test_the_real_folder_loads_as_a_whole():
    procedures = load_directory(WORKFLOWS, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
    assert {p.source for p in procedures.values()} == set(REAL_FILES)
    assert procedures["normative_document"].initial == "drafting"


# --- start-up and the command ---------------------------------------------------------------------

def start(folder: Path):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "WORKFLOWS_DIR": str(folder)})


def test_the_service_starts_with_an_unchanged_copy_of_the_file(tmp_path):
    write(tmp_path, original())
    assert "normative_document" in start(tmp_path).extensions["procedures"]


AT_START_UP = ["unknown stage in 'to'", "unknown role of a transition", "unknown condition",
               "unknown artefact a step requires", "deadline of an unknown stage",
               "unreachable stage added to the file", "non-final stage without a way out (final removed)",
               "duplicate transition name", "period with both working_days and calendar_days"]


@pytest.mark.parametrize("case", [c for c in BROKEN if c[0] in AT_START_UP],
                         ids=[c[0] for c in BROKEN if c[0] in AT_START_UP])
def test_the_service_refuses_to_start_with_a_broken_file(tmp_path, case):
    _id, make, entry, fault = case
    write(tmp_path, make(original()))
    with pytest.raises(WorkflowFileError) as caught:
        start(tmp_path)
    assert_names_file_entry_fault(caught.value, entry, fault)


def test_the_service_refuses_to_start_with_a_file_that_is_not_toml(tmp_path):
    write(tmp_path, edit(original(), "[stages.consultation]", "[stages.consultation"))
    with pytest.raises(WorkflowFileError, match=rf"^{re.escape(FILENAME)}: file: not valid TOML"):
        start(tmp_path)


def test_the_service_checks_every_file_in_the_folder_not_only_the_first(tmp_path):
    write(tmp_path, original())
    other = edit(original(), 'id = "normative_document"', 'id = "departmental_rule"')
    other = edit(other, 'actors = ["drafter"]', 'actors = ["clerk"]', within="[stages.drafting]")
    write(tmp_path, other, "zz_departmental_rule.toml")
    with pytest.raises(WorkflowFileError) as caught:
        start(tmp_path)
    assert str(caught.value) == "zz_departmental_rule.toml: [stages.drafting]: unknown role 'clerk'"


def test_the_service_refuses_two_files_with_the_same_procedure_id(tmp_path):
    write(tmp_path, original())
    write(tmp_path, original(), "copy_of_normative_document.toml")
    with pytest.raises(WorkflowFileError, match=r"^normative_document.toml: \[procedure\] id: duplicate procedure id"):
        start(tmp_path)


def test_the_service_refuses_a_folder_without_procedure_files(tmp_path):
    (tmp_path / "README.md").write_text("nothing here", encoding="utf-8")
    with pytest.raises(WorkflowFileError, match="no procedure files"):
        start(tmp_path)


def test_workflows_check_reports_the_file_ok(app):
    result = app.test_cli_runner().invoke(args=["workflows", "check"])
    assert result.exit_code == 0, result.output
    raw = tomllib.loads(original())
    expected = (f"{FILENAME}: normative_document: {len(raw['stages'])} stages, "
                f"{len(raw['transitions'])} transitions: OK")
    assert expected in result.output.splitlines()
    assert len(result.output.splitlines()) == len(REAL_FILES)
