"""study.toml is checked at load: unknown keys, speakers, templates, margins and the names that
become file names. Each mistake is one StudyConfigError line naming the key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from fieldkit.config import config_to_toml, default_config, load_config
from fieldkit.errors import FieldkitError, StudyConfigError
from fieldkit.services.interviews import check_wave
from fieldkit.services.study import Study
from tests.conftest import CliRun

Edit = Callable[[dict[str, Any]], None]


def written(tmp_path: Path, edit: Edit) -> Path:
    """A study.toml made by `fieldkit init`, changed by `edit`."""
    data = tomllib.loads(config_to_toml(default_config("T")))
    edit(data)
    path = tmp_path / "study.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def refused(tmp_path: Path, edit: Edit) -> str:
    with pytest.raises(StudyConfigError) as caught:
        load_config(written(tmp_path, edit))
    line = caught.value.one_line()
    assert "\n" not in line
    return line


# -- unknown keys --------------------------------------------------------------------------------


def test_a_misspelt_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["approval"]["response-days"] = data["approval"].pop("response_days")

    line = refused(tmp_path, edit)
    assert "unknown key 'response-days' in [approval]" in line
    assert "did you mean 'response_days'?" in line


def test_withdrawn_data_with_a_dash_no_longer_silently_means_keep(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["approval"].pop("withdrawn_data")
        data["approval"]["withdrawn-data"] = "delete"

    assert "did you mean 'withdrawn_data'?" in refused(tmp_path, edit)


@pytest.mark.parametrize(
    ("table", "key", "meant"),
    [
        ("study", "titel", "title"),
        ("study", "participant-id-template", "participant_id_template"),
        ("recording", "channelmap", "channel_map"),
        ("recording", "disk_margin", "disk_margin_mb"),
        ("transcription", "live-guard", "live_guard"),
        ("guard", "term", "terms"),
    ],
)
def test_every_known_table_refuses_unknown_keys(
    tmp_path: Path, table: str, key: str, meant: str
) -> None:
    line = refused(tmp_path, lambda data: data[table].__setitem__(key, data[table].get(meant, 1)))
    assert f"unknown key '{key}' in [{table}]" in line and f"did you mean '{meant}'?" in line


def test_a_label_for_a_role_the_study_does_not_have_is_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, lambda data: data["roles"].__setitem__("PER", "Peer"))
    assert "[roles] names 'PER'" in line and "did you mean 'PEER'?" in line


def test_a_key_outside_its_table_is_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, lambda data: data.__setitem__("withdrawn_data", "delete"))
    assert "withdrawn_data belongs inside the [approval] table" in line


def test_a_misspelt_table_is_refused_but_a_new_table_rides_along(tmp_path: Path) -> None:
    line = refused(tmp_path, lambda data: data.__setitem__("aproval", {"response_days": 7}))
    assert "unknown table [aproval]" in line and "did you mean 'approval'?" in line
    # A table a later fieldkit (or another part of it) adds is kept as it is.
    config = load_config(
        written(tmp_path, lambda data: data.__setitem__("encryption", {"enabled": True}))
    )
    assert config.extra == {"encryption": {"enabled": True}}
    assert "[encryption]" in config_to_toml(config)


def test_the_keys_other_parts_add_are_known(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["study"]["interviewers"] = ["A. Researcher", "B. Fieldworker"]
        data["transcription"]["while_recording"] = False

    config = load_config(written(tmp_path, edit))
    assert config.interviewers == ("A. Researcher", "B. Fieldworker")
    assert config.transcription.while_recording is False
    again = tmp_path / "again.toml"
    again.write_text(config_to_toml(config), encoding="utf-8")
    assert load_config(again) == config
    defaults = default_config("T")
    assert defaults.interviewers == () and defaults.transcription.while_recording is True


# -- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "channel_map"),
    [
        (2, ["interviewer", "interviewer"]),
        (2, ["interviewer"]),
        (2, ["interviewer", "participant", "participant"]),
        (2, []),
        (1, ["interviewer", "participant"]),
        (1, []),
    ],
)
def test_channel_map_names_each_speaker_once(
    tmp_path: Path, channels: int, channel_map: list[str]
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["recording"].update(channels=channels, channel_map=channel_map)

    assert "recording.channel_map must name" in refused(tmp_path, edit)


def test_channel_map_names_only_known_speakers(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["recording"]["channel_map"] = ["interviwer", "participant"]

    assert "did you mean 'interviewer'?" in refused(tmp_path, edit)


@pytest.mark.parametrize(
    ("channels", "channel_map", "expected"),
    [
        (2, ["participant", "interviewer"], ("participant", "interviewer")),
        (1, ["participant"], ("participant",)),
        (1, None, ()),
    ],
)
def test_channel_maps_that_make_sense_load(
    tmp_path: Path, channels: int, channel_map: list[str] | None, expected: tuple[str, ...]
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["recording"]["channels"] = channels
        if channel_map is None:
            del data["recording"]["channel_map"]
        else:
            data["recording"]["channel_map"] = channel_map

    config = load_config(written(tmp_path, edit))
    assert config.recording.channel_map == expected
    again = tmp_path / "again.toml"
    again.write_text(config_to_toml(config), encoding="utf-8")
    assert load_config(again).recording == config.recording


def test_disk_margin_may_not_be_negative(tmp_path: Path) -> None:
    line = refused(tmp_path, lambda data: data["recording"].__setitem__("disk_margin_mb", -1))
    assert "recording.disk_margin_mb must be 0 or more" in line
    config = load_config(
        written(tmp_path, lambda data: data["recording"].__setitem__("disk_margin_mb", 0))
    )
    assert config.recording.disk_margin_mb == 0


@pytest.mark.parametrize(
    "template",
    [
        "INTSTA{number:03q}-{role}",  # a format spec int does not have
        "INTSTA{number:03d-{role}",  # unbalanced brace
        "INTSTA{number!z}",  # an unknown conversion
        "INTSTA{number}-{}",  # a positional field
        "INTSTA{number.real}",  # an attribute
    ],
)
def test_a_bad_participant_id_template_is_one_line_at_load(tmp_path: Path, template: str) -> None:
    line = refused(
        tmp_path, lambda data: data["study"].__setitem__("participant_id_template", template)
    )
    assert "study.participant_id_template" in line


def test_a_bad_template_is_one_line_on_the_command_line_not_a_traceback(
    tmp_path: Path, cli: CliRun
) -> None:
    root = tmp_path / "s"
    assert cli("init", root).exit_code == 0
    config = root / "study.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("{number:03d}", "{number:03q}"),
        encoding="utf-8",
    )
    result = cli("participant", "add", "--site", "Site 1", "--role", "PEER", "--study", root)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "participant_id_template" in result.stderr


def test_a_bad_cover_note_template_is_refused_at_load(tmp_path: Path) -> None:
    line = refused(
        tmp_path, lambda data: data["approval"].__setitem__("cover_note", "Dear {participant!z}")
    )
    assert "approval.cover_note is not a valid template" in line


# -- names that become file names ----------------------------------------------------------------


@pytest.mark.parametrize("wave", ["../../x", "follow up", "a/b", ".hidden", "wave;rm", "é"])
def test_a_wave_name_that_cannot_be_a_file_name_is_refused(tmp_path: Path, wave: str) -> None:
    line = refused(tmp_path, lambda data: data["study"].__setitem__("waves", ["baseline", wave]))
    assert "study.waves" in line and "only letters, digits, '-' and '_'" in line


def test_a_wave_listed_twice_is_refused(tmp_path: Path) -> None:
    line = refused(
        tmp_path, lambda data: data["study"].__setitem__("waves", ["baseline", "Baseline"])
    )
    assert "lists 'Baseline' twice" in line


def test_sites_that_enter_ids_must_be_file_name_safe(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["study"]["participant_id_template"] = "{site}-{number:03d}"

    line = refused(tmp_path, edit)  # the default sites are "Site 1" and "Site 2"
    assert "study.sites has 'Site 1', which enters participant IDs through {site}" in line

    def safe_sites(data: dict[str, Any]) -> None:
        edit(data)
        data["study"]["sites"] = ["north", "south"]

    config = load_config(written(tmp_path, safe_sites))
    assert config.participant_id(7, role="PEER", site="north") == "north-007"


@pytest.mark.parametrize(
    "template", ["INT/{number:03d}", "../{number}", "INT {number}", "INT{number:c}"]
)
def test_a_template_whose_ids_are_not_file_name_safe_is_refused(
    tmp_path: Path, template: str
) -> None:
    line = refused(
        tmp_path, lambda data: data["study"].__setitem__("participant_id_template", template)
    )
    assert "study.participant_id_template makes IDs like" in line


def test_roles_with_spaces_are_fine_when_they_do_not_enter_ids(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["study"]["participant_id_template"] = "P{number:03d}"
        data["study"]["roles"] = ["Peer worker", "Clinician"]
        data["roles"] = {}

    config = load_config(written(tmp_path, edit))
    assert config.participant_id(1, role="Peer worker", site="Site 1") == "P001"


def test_check_wave_refuses_a_wave_that_would_leave_the_folder(study: Study) -> None:
    # A study whose settings bypassed load_config (or an older fieldkit let through).
    study.config = dataclasses.replace(study.config, waves=("commencement", "../../x"))
    assert check_wave(study, "commencement") == "commencement"
    with pytest.raises(FieldkitError, match="only letters, digits"):
        check_wave(study, "../../x")
    with pytest.raises(FieldkitError, match="unknown wave"):
        check_wave(study, "baseline")


def test_participant_ids_are_checked_when_made(study: Study) -> None:
    config = dataclasses.replace(study.config, id_template="../{number}")
    with pytest.raises(FieldkitError, match=r"participant ID '\.\./1'"):
        config.participant_id(1, role="PEER", site="Site 1")


def test_record_with_a_wave_outside_the_study_is_refused_and_writes_nothing(
    tmp_path: Path, cli: CliRun
) -> None:
    root = tmp_path / "s"
    assert cli("init", root).exit_code == 0
    added = cli("participant", "add", "--site", "Site 1", "--role", "PEER", "--study", root)
    assert added.exit_code == 0
    today = dt.date.today().isoformat()
    assert cli("consent", "INTSTA001-PEER", "--date", today, "--study", root).exit_code == 0
    before = sorted(p for p in tmp_path.rglob("*"))
    result = cli("record", "INTSTA001-PEER", "--wave", "../../x", "--seconds", "1", "--study", root)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_study_paths_refuse_a_file_outside_the_study(study: Study) -> None:
    inside = study.paths.audio / "INTSTA001-PEER_commencement.wav"
    assert study.paths.inside(inside) == inside
    with pytest.raises(FieldkitError, match="outside the study folder"):
        study.paths.inside(study.paths.audio / ".." / ".." / "x.wav")
