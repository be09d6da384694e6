"""Hostile trust and dataset files, skipped files and publishing overrides: exact messages.

School fixtures (``tests/fixtures/invalid/<name>.yaml``) are checked by test_loading.py;
here are the trust file's (``invalid/trust/``) and the DfE dataset's (``invalid/dataset/``),
each ``<name>.yaml`` with its ``<name>.expected``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from flows.config.discovery import Skipped
from flows.config.loading import load_inputs
from flows.config.models import PublishingTarget
from flows.publish.connect import TargetError, resolve_target
from flows.notice.prepare import load_and_compose

from .conftest import FIXTURES, REPO, SAMPLE_SLUGS

INVALID = FIXTURES / "invalid"
TRUST_CASES = sorted(p.stem for p in (INVALID / "trust").glob("*.yaml") if p.name != "_trust.yaml")
DATASET_CASES = sorted(p.stem for p in (INVALID / "dataset").glob("*.yaml"))


def _expected(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_there_are_at_least_forty_hostile_fixtures() -> None:
    schools = list(INVALID.glob("*.yaml"))
    assert len(schools) + len(TRUST_CASES) + len(DATASET_CASES) >= 40
    for path in [*schools, *INVALID.glob("trust/*.yaml"), *INVALID.glob("dataset/*.yaml")]:
        assert path.with_suffix(".expected").is_file(), path


@pytest.mark.parametrize("name", TRUST_CASES)
def test_hostile_trust_file_gives_its_exact_messages(tree: Path, name: str) -> None:
    shutil.copy(INVALID / "trust" / f"{name}.yaml", tree / "schools" / "_trust.yaml")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == _expected(INVALID / "trust" / f"{name}.expected")
    assert prepared.notices == () and prepared.valid is None  # a broken trust file blocks every school


@pytest.mark.parametrize("name", DATASET_CASES)
def test_hostile_dataset_edition_gives_its_exact_messages(tree: Path, name: str) -> None:
    shutil.copy(INVALID / "dataset" / f"{name}.yaml", tree / "shared_data" / "dfe-recipients" / f"{name}.yaml")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == _expected(INVALID / "dataset" / f"{name}.expected")
    assert prepared.notices == ()  # a broken edition could be the latest: nothing renders


def test_full_width_urn_cannot_duplicate_a_school(tree: Path) -> None:
    text = (tree / "schools" / "oakfield-primary.yaml").read_text(encoding="utf-8")
    (tree / "schools" / "oakfield-copy.yaml").write_text(text.replace("urn: 990002", 'urn: "９９０００２"'), encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == [
        "schools/oakfield-copy.yaml:2: urn: expected a 6-digit URN in the digits 0-9, got '９９０００２' "
        "(other digits, e.g. full-width); type it again"
    ]
    assert prepared.broken == ("oakfield-copy",) and len(prepared.notices) == 6


def _litter(schools: Path) -> None:
    shutil.copy(schools / "hillcrest-middle.yaml", schools / "new-school.YAML")
    shutil.copy(schools / "hillcrest-middle.yaml", schools / "hillcrest-middle.yaml~")
    (schools / ".DS_Store").write_bytes(b"\0")
    (schools / "README.md").write_text("notes\n", encoding="utf-8")
    (schools / "archive").mkdir()
    (schools / "gone.yaml").symlink_to(schools / "no-such-file.yaml")
    outside = schools.parent / "elsewhere.yaml"
    shutil.copy(schools / "hillcrest-middle.yaml", outside)
    (schools / "outside.yaml").symlink_to(outside)


def test_every_file_in_the_schools_folder_is_loaded_or_named_as_skipped(tree: Path) -> None:
    schools = tree / "schools"
    _litter(schools)
    inputs = load_inputs(schools, tree / "shared_data")
    assert inputs.errors == ()
    assert len(inputs.schools) == 6
    assert list(inputs.skipped) == [
        Skipped("schools/.DS_Store", "a hidden file"),
        Skipped("schools/README.md", "not a .yaml file"),
        Skipped("schools/archive", "a folder; files in sub-folders are not read"),
        Skipped("schools/gone.yaml", f"a symbolic link to {schools.resolve() / 'no-such-file.yaml'}, which does not exist"),
        Skipped("schools/hillcrest-middle.yaml~", "an editor backup or temporary file"),
        Skipped("schools/new-school.YAML", "the extension must be lower-case; rename it to new-school.yaml"),
        Skipped(
            "schools/outside.yaml",
            f"a symbolic link to {(tree / 'elsewhere.yaml').resolve()}, outside this folder; copy the file here instead",
        ),
    ]


def test_symbolic_link_within_the_folder_is_loaded(tree: Path) -> None:
    schools = tree / "schools"
    (schools / "hillcrest-middle.yaml").rename(schools / "hillcrest-middle.txt")
    (schools / "hillcrest-middle.yaml").symlink_to("hillcrest-middle.txt")
    inputs = load_inputs(schools, tree / "shared_data")
    assert len(inputs.schools) == 6 and inputs.errors == ()
    assert [str(s) for s in inputs.skipped] == ["schools/hillcrest-middle.txt: skipped: not a .yaml file"]


def test_dataset_folder_names_skipped_files_too(tree: Path) -> None:
    folder = tree / "shared_data" / "dfe-recipients"
    (folder / "2026-1.yaml").rename(folder / "2026-2.YML")
    (folder / "2026-2.yaml").rename(folder / "2026-3.Yaml")
    inputs = load_inputs(tree / "schools", tree / "shared_data")
    assert [str(s) for s in inputs.skipped] == [
        "shared_data/dfe-recipients/2026-2.YML: skipped: the extension must be lower-case; rename it to 2026-2.yml",
        "shared_data/dfe-recipients/2026-3.Yaml: skipped: the extension must be lower-case; rename it to 2026-3.yaml",
    ]
    assert [str(e) for e in inputs.errors] == [
        "shared_data/dfe-recipients: no dataset edition found: expected one or more <edition>.yaml files here"
    ]


def test_validate_names_skipped_files_in_its_summary(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "schools" / "new-school.YAML").write_text("name: x\n", encoding="utf-8")
    (tree / "schools" / "gone.yaml").symlink_to(tree / "schools" / "missing.yaml")
    assert main(["validate", "--schools", "schools", "--shared-data", "shared_data"]) == 0
    out, err = capsys.readouterr()
    assert out == "6 school(s) valid, 0 broken, 2 skipped: schools/gone.yaml, schools/new-school.YAML; dataset edition 2026-2\n"
    assert [line for line in err.splitlines() if " asks you to check: " not in line] == [
        f"schools/gone.yaml: skipped: a symbolic link to {(tree / 'schools' / 'missing.yaml').resolve()}, which does not exist",
        "schools/new-school.YAML: skipped: the extension must be lower-case; rename it to new-school.yaml",
    ]
    assert main(["validate", "--schools", "schools", "--shared-data", "shared_data", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["path"] for s in data["skipped"]] == ["schools/gone.yaml", "schools/new-school.YAML"]


BAD_ENVIRONMENT = {
    "NOTICES_S3_BUCKET": "Bad_Bucket!",
    "NOTICES_S3_REGION": "eu west 2/../",
    "NOTICES_S3_PREFIX": "../other-trust",
    "NOTICES_S3_ENDPOINT": "https://key:secret@s3.example.org/?x=1",
    "NOTICES_PUBLIC_BASE_URL": "javascript:alert(1)",
}
BAD_ENVIRONMENT_MESSAGES = [
    "$NOTICES_PUBLIC_BASE_URL: expected a web address starting with https:// or http://, got 'javascript:alert(1)'",
    "$NOTICES_S3_BUCKET: S3 bucket names are 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit; got 'Bad_Bucket!'",
    "$NOTICES_S3_ENDPOINT: must not contain a user name or password (credentials come from the AWS chain: environment, profile, role), got 'https://…@s3.example.org/?x=1'",
    "$NOTICES_S3_PREFIX: must not contain '.', '..' or empty ('//') parts, got '../other-trust'",
    "$NOTICES_S3_REGION: expected a region like 'eu-west-2' (lower-case letters, digits and hyphens), got 'eu west 2/../'",
]


def test_environment_overrides_are_checked_like_the_trust_file(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BAD_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == BAD_ENVIRONMENT_MESSAGES
    assert prepared.valid is None and prepared.notices == ()


def test_publish_with_a_bad_bucket_variable_is_one_line_not_a_traceback(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTICES_S3_BUCKET", "Bad_Bucket!")
    assert main(["publish", "--schools", "schools", "--shared-data", "shared_data", "--dry-run"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("$NOTICES_S3_BUCKET: S3 bucket names are 3-63")
    assert err[-1] == "nothing can be published until the errors above are fixed"


def test_flags_and_variables_are_refused_before_reaching_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BAD_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOTICES_S3_REGION", "eu west 2/../")
    with pytest.raises(TargetError) as caught:
        resolve_target(PublishingTarget(), {"bucket": "Bad_Bucket!", "prefix": "/notices"}, embedded_endpoint=None)
    assert str(caught.value) == (
        "$NOTICES_S3_REGION: expected a region like 'eu-west-2' (lower-case letters, digits and hyphens), got 'eu west 2/../'; "
        "--bucket: S3 bucket names are 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit; got 'Bad_Bucket!'; "
        "--prefix: must not start with '/'; write the folder as e.g. 'notices', got '/notices'"
    )
    monkeypatch.delenv("NOTICES_S3_REGION")
    good = resolve_target(PublishingTarget(), {"bucket": "my-trust.notices", "prefix": "t/x-1/"}, embedded_endpoint=None)
    assert (good.bucket, good.prefix) == ("my-trust.notices", "t/x-1")


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",
        "a" * 64,
        "-abc",
        "abc-",
        "ab..cd",
        "10.0.0.1",
        "sthree-x",
        "amzn-s3-demo-x",
        "x-s3alias",
        "x--ol-s3",
        "x.mrap",
        "x--x-s3",
        "x--table-s3",
        "ABC",
    ],
)
def test_every_s3_bucket_naming_rule_is_enforced(bucket: str) -> None:
    with pytest.raises(ValueError):
        PublishingTarget(bucket=bucket)


def test_sample_trust_settings_still_pass() -> None:
    target = PublishingTarget(bucket="trust-notices", prefix="notices", region="eu-west-2", endpoint_url="http://127.0.0.1:8333")
    assert (target.bucket, target.prefix, target.region) == ("trust-notices", "notices", "eu-west-2")


def test_setup_bucket_with_a_bad_flag_is_one_line_not_a_traceback(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "setup-bucket",
            "--schools",
            "schools",
            "--shared-data",
            "shared_data",
            "--endpoint-url",
            "https://s3.example.org",
            "--bucket",
            "Bad_Bucket!",
        ]
    )
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        "notices setup-bucket: --bucket: S3 bucket names are 3-63 lower-case letters, digits, dots and hyphens, "
        "starting and ending with a letter or digit; got 'Bad_Bucket!'"
    ]


# Values PyYAML could not build used to raise from inside the loader: a traceback, and nothing
# rendered for any school. These schools' values are each of that kind.
UNBUILDABLE = ("invalid-date-age", "huge-integer-urn", "special-floats", "unknown-tag")


def _notices(args: list[str], tree: Path) -> subprocess.CompletedProcess[str]:
    """`notices ARGS` in a process of its own (a traceback would show on its stderr), on this checkout's code."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = "import sys; from flows.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_unbuildable_values_are_errors_of_their_school_through_the_cli(tree: Path) -> None:
    for name in UNBUILDABLE:
        shutil.copy(INVALID / f"{name}.yaml", tree / "schools")
    expected = [line for name in UNBUILDABLE for line in _expected(INVALID / f"{name}.expected")]
    folders = ["--schools", "schools", "--shared-data", "shared_data"]
    checked = _notices(["validate", *folders], tree)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert sorted(line for line in checked.stderr.splitlines() if " asks you to check: " not in line) == sorted(expected)
    assert "6 school(s) valid, 4 broken" in checked.stdout
    rendered = _notices(["render", *folders, "--out", "out", "--no-pdf"], tree)
    assert rendered.returncode == 1 and "Traceback" not in rendered.stderr
    assert sorted(p.name for p in (tree / "out").iterdir()) == sorted(SAMPLE_SLUGS)
    assert all((tree / "out" / slug / "index.html").is_file() for slug in SAMPLE_SLUGS)
    for name in UNBUILDABLE:
        assert f"not rendered {name}: see the errors above" in rendered.stderr
    assert "6 rendered, 4 broken" in rendered.stdout


def test_unbuildable_dataset_value_is_reported_with_its_file_and_line_through_the_cli(tree: Path) -> None:
    edition = tree / "shared_data" / "dfe-recipients" / "2026-2.yaml"
    text = edition.read_text(encoding="utf-8")
    edition.write_text(text.replace("effective_date: 2026-12-01", "effective_date: 2026-02-30"), encoding="utf-8")
    line = text[: text.index("effective_date:")].count("\n") + 1
    checked = _notices(["validate", "--schools", "schools", "--shared-data", "shared_data"], tree)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert (
        f"shared_data/dfe-recipients/2026-2.yaml:{line}: effective_date: expected a date like 2026-09-01, got '2026-02-30' "
        "(not a real date: day is out of range for month)"
    ) in checked.stderr.splitlines()
