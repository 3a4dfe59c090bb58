"""The README's Python example runs as written, against the installed wheel."""

import re


def test_readme_python_example_runs(repo, tmp_path, monkeypatch, capsys):
    readme = (repo / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The Python library (wheel)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section has one Python example"
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md (Python example)", "exec"), {"__name__": "__readme__"})
    assert "n_estimators: expected a whole number from 1 to 10000" in capsys.readouterr().out
