"""``questlab check`` runs every runnable block in the sandbox and compares its output."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from questlab.cli import app
from questlab.content.execute import output_matches
from tests.helpers import CHAPTER_TOML, QUEST_TOML, lesson_md, write_tree

runner = CliRunner()

BLOCKS = """\
```python title="sum" run
print(sum(range(5)))
```

```output
10
```

```python title="address" run
class A: pass
print(A())
```

```output
<__main__.A object at 0x...>
```
"""


def quest(tmp_path: Path, body: str) -> Path:
    return write_tree(
        tmp_path / "q",
        {
            "quest.toml": QUEST_TOML,
            "01-basics/chapter.toml": CHAPTER_TOML,
            "01-basics/01-first/lesson.ko.md": lesson_md("첫 레슨", body=body),
        },
    )


def test_documented_outputs_match(tmp_path: Path):
    result = runner.invoke(app, ["check", str(quest(tmp_path, BLOCKS))])
    assert result.exit_code == 0, result.output
    assert "ran 2 code block(s)" in result.output and "2 as documented" in result.output


def test_wrong_output_fails_with_file_line_and_diff(tmp_path: Path):
    result = runner.invoke(app, ["check", str(quest(tmp_path, BLOCKS.replace("10\n", "11\n")))])
    assert result.exit_code == 1
    output = result.output.replace("\n", " ")
    assert "01-first/lesson.ko.md:8" in output and "-11" in result.output and "+10" in result.output


def test_crashing_block_fails(tmp_path: Path):
    body = '```python title="boom" run\nraise ValueError("nope")\n```\n'
    result = runner.invoke(app, ["check", str(quest(tmp_path, body))])
    assert result.exit_code == 1 and "ValueError" in result.output and "did not run cleanly" in result.output


def test_output_matching_rules():
    assert output_matches("a\nb\n", "a  \nb")
    assert output_matches("<obj at 0x...>", "<obj at 0x7f00>")
    assert not output_matches("1\n", "2\n")
