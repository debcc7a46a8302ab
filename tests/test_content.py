"""The content loader: valid trees, and each kind of broken file with its exact error."""

from __future__ import annotations

from pathlib import Path

from questlab.content.loader import load_catalog
from questlab.content.markdown import parse_info, render_markdown
from tests.helpers import QUEST_TOML, lesson_md, valid_files, write_tree


def load(tmp_path: Path, files: dict[str, str], preview: bool = False):
    write_tree(tmp_path / "q", files)
    return load_catalog(tmp_path, preview=preview)


def only_error(catalog):
    errors = catalog.errors
    assert len(errors) == 1, [str(e) for e in catalog.problems]
    return errors[0]


def test_valid_tree_builds_chapters_lessons_and_links(tmp_path):
    catalog = load(tmp_path, valid_files())
    assert catalog.errors == []
    quest = catalog.quests["q"]
    assert [c.slug for c in quest.chapters] == ["basics"]
    lessons = quest.lessons()
    assert [lesson.slug for lesson in lessons] == ["first", "second"]  # the draft is not served
    first, second = lessons
    assert first.next is second and second.previous is first and first.previous is None
    assert first.url() == "/quests/q/basics/first/"
    block = first.texts["ko"].code_blocks[0]
    assert (block.title, block.runnable, block.expected_output, block.line) == ("hello", True, "2\n", 12)
    assert first.exercise is not None and first.exercise.hints["en"] == ["Hint one", "Hint two"]
    assert quest.config.levels[1].xp == 120


def test_drafts_are_served_in_preview(tmp_path):
    catalog = load(tmp_path, valid_files(), preview=True)
    assert [lesson.slug for lesson in catalog.quests["q"].lessons()] == ["first", "second", "draft"]


def test_front_matter_type_error_names_file_and_line(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = "---\ntitle: x\nminutes: lots\n---\nbody\n"
    catalog = load(tmp_path, files)
    error = only_error(catalog)
    assert error.path.name == "lesson.ko.md" and error.line == 3
    assert "'minutes'" in error.message and "integer" in error.message
    # one broken lesson never takes the rest down
    assert [lesson.slug for lesson in catalog.quests["q"].lessons()] == ["first"]


def test_missing_front_matter(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = "# no front matter\n"
    error = only_error(load(tmp_path, files))
    assert error.line == 1 and "front matter" in error.message


def test_invalid_yaml_reports_its_line(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = "---\ntitle: x\nminutes: 3\ntags: [a, b\n---\nbody\n"
    error = only_error(load(tmp_path, files))
    assert "invalid YAML" in error.message and error.line is not None and error.line >= 4


def test_missing_required_key(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = "---\ntitle: x\n---\nbody\n"
    error = only_error(load(tmp_path, files))
    assert error.message == "'minutes' is required but missing"


def test_bad_status_value(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = lesson_md("x", status="finished")
    error = only_error(load(tmp_path, files))
    assert "'status'" in error.message and "'draft' or 'published'" in error.message and error.line == 5


def test_unknown_key_is_a_warning_with_line(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = (
        "---\ntitle: x\nminutes: 3\nstatus: published\nauthr: me\n---\nb\n"
    )
    catalog = load(tmp_path, files)
    assert catalog.errors == []
    warning = [w for w in catalog.warnings if "authr" in w.message][0]
    assert warning.line == 5 and warning.message == "unknown key 'authr' is ignored"
    assert [lesson.slug for lesson in catalog.quests["q"].lessons()] == ["first", "second"]


def test_invalid_toml_reports_line_and_only_that_quest_fails(tmp_path):
    write_tree(tmp_path / "good", valid_files())
    bad = valid_files()
    bad["quest.toml"] = QUEST_TOML.replace('chapters = ["basics"]', 'chapters = ["basics"')
    write_tree(tmp_path / "bad", bad)
    catalog = load_catalog(tmp_path)
    assert list(catalog.quests) == ["good"]
    error = only_error(catalog)
    assert error.path.name == "quest.toml" and error.line == 6 and "invalid TOML" in error.message


def test_level_curve_must_start_at_zero(tmp_path):
    files = valid_files()
    files["quest.toml"] = QUEST_TOML.replace("xp = 0\n", "xp = 10\n", 1)
    error = only_error(load(tmp_path, files))
    assert "levels[0].xp must be 0" in error.message


def test_unknown_rule_type_names_achievement_line(tmp_path):
    files = valid_files()
    files["quest.toml"] = QUEST_TOML.replace('type = "lessons_completed"', 'type = "lesons"')
    error = only_error(load(tmp_path, files))
    assert "unknown rule type 'lesons'" in error.message and error.line == 19


def test_rule_naming_missing_chapter(tmp_path):
    files = valid_files()
    files["quest.toml"] = QUEST_TOML.replace(
        'rule = { type = "lessons_completed", count = 1 }',
        'rule = { type = "chapter_completed", chapter = "nope" }',
    )
    error = only_error(load(tmp_path, files))
    assert "names chapter 'nope'" in error.message


def test_chapter_listed_without_folder(tmp_path):
    files = valid_files()
    files["quest.toml"] = QUEST_TOML.replace('chapters = ["basics"]', 'chapters = ["basics", "later"]')
    error = only_error(load(tmp_path, files))
    assert error.line == 4 and "no folder NN-later" in error.message


def test_missing_chapter_toml(tmp_path):
    files = valid_files()
    del files["01-basics/chapter.toml"]
    error = only_error(load(tmp_path, files))
    assert "lacks chapter.toml" in error.message


def test_exercise_syntax_error_has_line(tmp_path):
    files = valid_files()
    files["01-basics/01-first/exercise/solution.py"] = "x = 1\ndef broken(:\n"
    catalog = load(tmp_path, files)
    error = only_error(catalog)
    assert error.path.name == "solution.py" and error.line == 2 and "syntax error" in error.message
    assert [lesson.slug for lesson in catalog.quests["q"].lessons()] == ["second"]


def test_exercise_missing_file(tmp_path):
    files = valid_files()
    del files["01-basics/01-first/exercise/starter.py"]
    assert "lacks starter.py" in only_error(load(tmp_path, files)).message


def test_not_utf8(tmp_path):
    files: dict = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = b"---\ntitle: x\n\xff\xfe\n---\n"
    error = only_error(load(tmp_path, files))
    assert error.line == 3 and "UTF-8" in error.message


def test_orphan_output_block_is_an_error(tmp_path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = lesson_md("x", body="text\n\n```output\n1\n```\n")
    error = only_error(load(tmp_path, files))
    assert error.line == 10 and "must directly follow" in error.message


def test_missing_english_falls_back_to_korean_with_warning(tmp_path):
    files = valid_files()
    del files["01-basics/02-second/lesson.en.md"]
    catalog = load(tmp_path, files)
    lesson = catalog.quests["q"].find("basics", "second")
    assert lesson.text("en").meta.title == "두 번째 레슨"
    assert any("no lesson.en.md" in w.message for w in catalog.warnings)


def test_info_string_parsing():
    info = parse_info('python title="a b c" run')
    assert (info.language, info.attrs, info.flags, info.problems) == (
        "python",
        {"title": "a b c"},
        {"run"},
        (),
    )
    assert parse_info("python colour=red").problems == (
        "unknown code block attribute 'colour' (known: ['title'])",
    )


def test_rendering_escapes_raw_html_and_builds_figures():
    html = render_markdown(
        '<script>alert(1)</script>\n\n```python title="t<x>" run\nprint(1)\n```\n\n```output\n1\n```\n'
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'class="code-title">t&lt;x&gt;</span>' in html and "data-runnable" in html
    assert 'class="code-output documented"' in html and html.count("<figure") == 1


def test_unreachable_achievement_is_a_warning(tmp_path):
    files = valid_files()
    files["quest.toml"] = QUEST_TOML.replace("count = 1 }", "count = 9 }")
    catalog = load(tmp_path, files)
    assert catalog.errors == []
    (warning,) = [w for w in catalog.warnings if "nobody can earn it" in w.message]
    assert (
        warning.line == 19 and "needs 9 for 'lessons_completed' but the quest has only 2" in warning.message
    )
