"""The procedure files are data; a broken one is refused with a message naming file, entry and fault."""
from __future__ import annotations

from pathlib import Path

import pytest

from consultation import create_app
from consultation.workflow.conditions import KNOWN_CONDITIONS
from consultation.workflow.definition import WorkflowFileError, load_directory, load_procedure

SOURCE = Path(__file__).resolve().parent.parent / "workflows" / "normative_document.toml"


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "normative_document.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, entry, fault", [
    ('to = "head_review"', 'to = "nowhere"', "request_predisclosure", "unknown stage 'nowhere'"),
    ('from = ["drafting"]', 'from = ["limbo"]', "request_predisclosure", "unknown stage 'limbo'"),
    ('roles = ["drafter"]', 'roles = ["mayor"]', "[actions.edit_draft]", "unknown role 'mayor'"),
    ('conditions = ["has_articles", "has_explanation"]', 'conditions = ["moon_is_full"]',
     "request_predisclosure", "unknown condition 'moon_is_full'"),
    ('name = "head_approve_predisclosure"', 'name = "request_predisclosure"', "request_predisclosure",
     "duplicate transition"),
    ("[periods.consultation_min]\nworking_days = 7", "[periods.consultation_min]\nworking_days = 7\ncalendar_days = 30",
     "[periods.consultation_min]", "exactly one of"),
    ('[stages.not_adopted]\ntitle = "审议未通过"\ntitle_en = "Not adopted"\nfinal = true',
     '[stages.not_adopted]\ntitle = "审议未通过"\ntitle_en = "Not adopted"\nfinal = true\n\n'
     '[stages.orphan]\ntitle = "孤立"\nfinal = true', "[stages.orphan]", "unreachable"),
    ('[stages.published]\ntitle = "已公布"\ntitle_en = "Published"\nfinal = true',
     '[stages.published]\ntitle = "已公布"\ntitle_en = "Published"', "[stages.published]", "dead end"),
    ('initial = "drafting"', 'initial = "nowhere"', "initial", "unknown stage 'nowhere'"),
])
def test_a_broken_file_is_refused_with_file_entry_and_fault(tmp_path, old, new, entry, fault):
    with pytest.raises(WorkflowFileError) as caught:
        load_procedure(broken(tmp_path, old, new), KNOWN_CONDITIONS)
    message = str(caught.value)
    assert message.startswith("normative_document.toml: ")
    assert entry in message and fault in message


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[procedure\nid = ", encoding="utf-8")
    with pytest.raises(WorkflowFileError, match="bad.toml: file: not valid TOML"):
        load_procedure(path, KNOWN_CONDITIONS)


def test_the_shipped_files_load(app):
    procedures = load_directory(SOURCE.parent, KNOWN_CONDITIONS)
    assert "normative_document" in procedures
    assert procedures["normative_document"].periods["consultation_min"].working_days == 7


def test_the_service_refuses_to_start_with_a_broken_file(tmp_path):
    broken(tmp_path, 'roles = ["drafter"]', 'roles = ["mayor"]')
    with pytest.raises(WorkflowFileError, match="unknown role 'mayor'"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "WORKFLOWS_DIR": str(tmp_path)})
