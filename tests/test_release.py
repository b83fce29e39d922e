"""The student release: everything a learner needs, not a line of the solutions, and it works."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ganedu.errors import GaneduError
from ganedu.grading.leaks import find_leaks, normalise, solution_blocks
from ganedu.grading.release import LEFT_OUT, PUBLIC_IN_PACKAGE, ReleaseError, pinned_requirements, release
from ganedu.grading.stand_ins import STAND_INS
from ganedu.grading.stubs import expected_stubs

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = solution_blocks(ROOT)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "bundle"
    release(ROOT, out)
    return out


def in_bundle(bundle: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python ARGS`` run in the bundle, importing the bundle's own ganedu."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=bundle,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(bundle), **env},
        timeout=600,
    )


# ------------------------------------------------------------------ what is in it


def test_bundle_holds_the_course_exercises_and_package_but_no_solutions_tests_or_benchmarks(bundle):
    assert sorted(p.name for p in (bundle / "course").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "course").glob("*.ipynb")
    )
    for path, text in expected_stubs(ROOT).items():
        assert (bundle / "exercises" / path.name).read_text() == text  # the stubs as generated now
    for path in (ROOT / "exercises").glob("test_ex*.py"):
        assert (bundle / "exercises" / path.name).read_text() == path.read_text()
    assert (bundle / "exercises" / "conftest.py").is_file()
    assert (bundle / "ganedu" / "grading" / "release.py").is_file()
    assert not [p for p in LEFT_OUT if (bundle / p).exists()]
    assert not list(bundle.rglob("__pycache__")) and not list(bundle.rglob("*.pyc"))


def test_released_notebooks_have_no_outputs_or_execution_counts(bundle):
    for path in (bundle / "course").glob("*.ipynb"):
        notebook = json.loads(path.read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code), path.name
        assert "widgets" not in notebook["metadata"]


def test_stubs_keep_their_hints(bundle):
    from ganedu.grading.hints import read_hints

    for path in sorted((ROOT / "solutions").glob("ex*.py")):
        assert read_hints(bundle / "exercises" / path.name) == read_hints(path) != {}


def test_dependencies_are_pinned_to_the_installed_versions_and_the_install_uses_them(bundle):
    from importlib.metadata import version

    pins = dict(line.split("==") for line in (bundle / "constraints.txt").read_text().splitlines()[1:])
    for name in ("torch", "torchvision", "numpy", "scipy", "matplotlib", "pytest", "jupyterlab"):
        assert pins[name] == version(name).split("+")[0], name
    assert pinned_requirements() == [f"{k}=={v}" for k, v in pins.items()]
    makefile = (bundle / "Makefile").read_text()
    assert (
        '-e ".[course,dev]" -c constraints.txt' in makefile
        and "torch torchvision -c constraints.txt" in makefile
    )
    assert re.search(r"^test: data test-exercises test-notebooks$", makefile, re.M)
    assert "-c constraints.txt" in (bundle / "environment.yml").read_text()


def test_classroom_workflow_grades_each_chapter_with_its_points_and_reports(bundle):
    workflow = (bundle / ".github" / "workflows" / "classroom.yml").read_text()
    chapters = sorted(p.stem for p in (ROOT / "solutions").glob("ex*.py"))
    assert workflow.count("uses: classroom-resources/autograding-command-grader@v1") == len(chapters)
    for name in chapters:
        assert f"command: python -m ganedu grading grade {name}\n" in workflow
        assert f"{name.upper()}_RESULTS: ${{{{ steps.{name}.outputs.result }}}}" in workflow
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in workflow
    assert f"runners: {','.join(chapters)}\n" in workflow
    ex05 = re.search(r"id: ex05_wgan_gp\n(?:.*\n)*?\s+max-score: (\S+)", workflow).group(1)
    assert ex05 == "31"  # 25 cases: 6 of them (4 tests, 2 of them with 2 cases) worth 2 points
    yaml = pytest.importorskip("yaml")
    steps = yaml.safe_load(workflow)["jobs"]["run-autograding-tests"]["steps"]
    assert [s["id"] for s in steps if "id" in s] == chapters
    for script in ("setup.sh", "run_autograder"):
        assert os.access(bundle / "gradescope" / script, os.X_OK)


def test_release_refuses_a_folder_that_is_not_empty_and_leaves_it_alone(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    with pytest.raises(ReleaseError, match="already exists"):
        release(ROOT, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no half-made bundle beside it


# ------------------------------------------------------------------ no solution text


def test_no_solution_block_is_in_any_file_of_the_bundle(bundle):
    assert len(BLOCKS) >= 50 and all(b.code for b in BLOCKS)
    assert find_leaks(bundle, BLOCKS, PUBLIC_IN_PACKAGE) == []


def test_the_package_code_that_equals_a_solution_is_only_what_is_declared_public():
    """Two exercises rebuild a piece of the package (CycleGAN's image pool, the truncation
    trick): the package is the course's public reference, and its copies are named, file by file."""
    leaks = find_leaks(ROOT / "ganedu", BLOCKS)
    declared = {
        (f"ganedu/{line.split(' holds')[0]}", line.split("solution of ")[1].split(" (")[0]) for line in leaks
    }
    assert declared == set(PUBLIC_IN_PACKAGE)


@pytest.mark.parametrize(
    "where", ["exercises/ex03_conditional.py", "ganedu/losses.py", "course/04_wgan.ipynb"]
)
def test_a_solution_body_put_into_the_bundle_is_found_however_it_is_indented(bundle, tmp_path, where):
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    block = next(b for b in BLOCKS if b.name == "ex05_wgan_gp.gradient_penalty")
    source = (ROOT / "solutions" / "ex05_wgan_gp.py").read_text().splitlines()
    end = next(i for i in range(block.line, len(source)) if source[i].strip() == "# END SOLUTION")
    body = "\n".join("  " + line + "  # reworded" for line in source[block.line : end])
    path = copy / where
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text())
        notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "source": body})
        path.write_text(json.dumps(notebook))
    else:
        path.write_text(path.read_text() + "\nif False:\n" + body + "\n")
    assert find_leaks(copy, BLOCKS, PUBLIC_IN_PACKAGE) == [
        f"{where} holds the solution of ex05_wgan_gp.gradient_penalty (solutions/ex05_wgan_gp.py:{block.line})"
    ]


def test_a_hint_may_show_a_key_line_but_the_same_line_in_code_is_a_leak(tmp_path):
    clip = next(b for b in BLOCKS if b.name == "ex04_wgan.clip_weights_")
    (tmp_path / "hinted.py").write_text(
        'HINTS = {"clip_weights_": ["with torch.no_grad(): for p in critic.parameters(): p.clamp_(-c, c)"]}\n'
    )
    assert find_leaks(tmp_path, [clip]) == []
    (tmp_path / "coded.py").write_text(
        "with torch.no_grad():\n    for p in critic.parameters():\n        p.clamp_(-c, c)\n"
    )
    assert find_leaks(tmp_path, [clip]) == [
        f"coded.py holds the solution of ex04_wgan.clip_weights_ (solutions/ex04_wgan.py:{clip.line})"
    ]


def test_normalising_drops_comments_and_whitespace_but_not_a_hash_in_a_string():
    assert normalise("x = f(a,  b)  # why\n\n  y = '#1'\n") == "x=f(a,b)y='#1'"


def test_release_that_would_hold_solution_text_writes_nothing(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(
        ROOT,
        course,
        ignore=shutil.ignore_patterns(".*", "tests", "benchmarks", "book", "scripts", "__pycache__"),
    )
    source = (course / "solutions" / "ex04_wgan.py").read_text()
    (course / "course" / "README.md").write_text(source)  # the whole solution file, by mistake
    with pytest.raises(ReleaseError, match="course/README.md holds the solution of ex04_wgan"):
        release(course, tmp_path / "out")
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["course"]


# ------------------------------------------------------------------ it works


def test_untouched_stubs_in_the_bundle_fail_with_not_implemented_and_grade_prints_the_table(bundle, tmp_path):
    out = tmp_path / "results.json"
    run = in_bundle(bundle, "-m", "ganedu.grading", "pytest", str(out), "--", "-q", "-p", "no:cacheprovider",
                    "exercises/test_ex01_gan_basics.py")  # fmt: skip
    assert run.returncode == 1, run.stdout[-2000:]
    results = json.loads(out.read_text())
    assert len(results) == 24 and {(r["outcome"], r["exception"]) for r in results} == {
        ("failed", "NotImplementedError")
    }, run.stdout[-2000:]
    grade = in_bundle(bundle, "-m", "ganedu", "grading", "grade", "ex01_gan_basics")
    assert grade.returncode == 1 and grade.stderr == "", grade.stderr
    assert grade.stdout.startswith("ex01_gan_basics: 0/24 tests passed\n")
    assert grade.stdout.count("not yet implemented") == 24


def test_use_in_the_bundle_hands_back_the_packages_stand_in_and_says_so(bundle):
    code = (
        "import ganedu.grading as g; m = g.use('ex05_wgan_gp');"
        "print(m.is_learners, m.train_step.__module__, m.implementation)"
    )
    run = in_bundle(bundle, "-c", code)
    assert run.returncode == 0, run.stderr
    assert (
        "False ganedu.grading.stand_ins training with ganedu's own code (ganedu.grading.stand_ins): "
        in run.stdout
    )
    assert "your exercises/ex05_wgan_gp.py still fails 25 of 25 tests" in run.stdout


def stand_in_course(tmp_path: Path, names: list[str]) -> Path:
    """A course whose exercise files are the stubs with the package's stand-ins filled in."""
    (tmp_path / "exercises").mkdir()
    shutil.copy(ROOT / "exercises" / "conftest.py", tmp_path / "exercises")
    for name in names:
        shutil.copy(ROOT / "exercises" / f"test_{name}.py", tmp_path / "exercises")
        stub = (ROOT / "exercises" / f"{name}.py").read_text()
        fill = f"\nfrom ganedu.grading.stand_ins import STAND_INS\n\nglobals().update(STAND_INS[{name!r}])\n"
        (tmp_path / "exercises" / f"{name}.py").write_text(stub + fill)
    return tmp_path


# tests that check the learner's train_step calls the learner's own helper (patched in the test)
USES_OWN_HELPER = {
    "test_train_step_uses_your_gradient_penalty_on_each_critic_step",
    "test_train_step_runs_r1_lazily_on_multiples_of_k",
}


# the tests of the functions the stand-ins stand in for, by name
KEYWORDS = [
    "train_step", "test_generator_layer_shapes", "discriminator_returns", "test_init_", "test_pool",
    "test_full_pool", "learning_rate", "cycle_loss", "generator_objective", "discriminator_step", "test_ls_",
]  # fmt: skip


def stand_in_tests_pass(tmp_path, names):
    course = stand_in_course(tmp_path, names)
    keywords = " or ".join(KEYWORDS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "exercises", "-k", keywords],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = {m.split("::")[-1].split("[")[0] for m in re.findall(r"^FAILED (\S+)", run.stdout, re.M)}
    passed = re.findall(r"^PASSED (\S+)", run.stdout, re.M)
    assert failed <= USES_OWN_HELPER, run.stdout[-3000:]
    assert len(passed) >= 10 * len(names), run.stdout[-3000:]


def test_every_stand_in_passes_its_chapters_tests_of_the_functions_it_stands_in_for(tmp_path):
    stand_in_tests_pass(tmp_path, sorted(STAND_INS))


@pytest.mark.slow
def test_a_released_notebook_runs_in_smoke_mode_with_untouched_stubs(bundle):
    run = in_bundle(
        bundle,
        "-m",
        "pytest",
        "-p",
        "nbval",
        "--nbval-lax",
        "-p",
        "no:cacheprovider",
        "course/01_gan_basics.ipynb",
        CI="true",
    )
    assert run.returncode == 0, run.stdout[-3000:]


def test_release_command_line_reports_one_line_for_an_existing_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    run = subprocess.run(
        [sys.executable, "-m", "ganedu", "grading", "release", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "already exists" in run.stderr
    assert issubclass(ReleaseError, GaneduError)


def test_gradescope_entry_point_writes_results_saying_what_to_upload_when_nothing_fits(bundle, tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("my answers are in my head")
    out = tmp_path / "results" / "results.json"
    run = in_bundle(bundle, "-m", "ganedu", "grading", "gradescope", str(tmp_path / "submission"), str(out))
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())
    assert results["score"] == 0 and "no exercise file in the submission" in results["output"]
    assert len({t["name"].split(":")[0] for t in results["tests"]}) == 10  # every chapter, at 0
    assert (
        "ganedu grading gradescope /autograder/submission"
        in (bundle / "gradescope" / "run_autograder").read_text()
    )


@pytest.mark.slow
def test_gradescope_entry_point_grades_the_uploaded_file_with_points_per_test(bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    (tmp_path / "submission").mkdir()
    stub = (copy / "exercises" / "ex04_wgan.py").read_text()
    done = "from ganedu.losses import wasserstein_g as generator_loss  # noqa\n"
    (tmp_path / "submission" / "ex04_wgan.py").write_text(stub + "\n" + done)
    out = tmp_path / "results.json"
    run = in_bundle(copy, "-m", "ganedu", "grading", "gradescope", str(tmp_path / "submission"), str(out))
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())
    passed = [t["name"] for t in results["tests"] if t["status"] == "passed"]
    assert passed == ["ex04_wgan: test_generator_loss_is_minus_fake_mean_and_has_gradient"]
    assert results["score"] == 1
