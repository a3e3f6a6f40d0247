"""The wcsync-admin plugin's translation template (languages/wcsync-admin.pot), made from its PHP
sources: every __(), _e(), esc_html__(), esc_attr__(), esc_html_e(), esc_attr_e() and _n() of the
text domain, with the translators' comments. `python -m tests.web.pot` writes it;
tests/web/test_wordpress_plugin.py checks that the file in the repository is up to date."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "deploy" / "wordpress" / "wcsync-admin"
POT = PLUGIN / "languages" / "wcsync-admin.pot"
DOMAIN = "wcsync-admin"

_STRING = r"'((?:[^'\\]|\\.)*)'"
_SINGLE = re.compile(
    rf"\b(?:__|_e|esc_html__|esc_attr__|esc_html_e|esc_attr_e)\(\s*{_STRING}\s*,\s*'{DOMAIN}'\s*\)"
)
_PLURAL = re.compile(rf"\b_n\(\s*{_STRING}\s*,\s*{_STRING}\s*,\s*[^,]+?,\s*'{DOMAIN}'\s*\)")
_TRANSLATORS = re.compile(r"/\*\s*translators:(.*?)\*/")

HEADER = f"""# Translation template of the wcsync Admin plugin.
# This file is distributed under the same licence as the plugin (GPL-2.0-or-later).
msgid ""
msgstr ""
"Project-Id-Version: wcsync Admin\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\\n"
"X-Domain: {DOMAIN}\\n"
"""


def _php(text: str) -> str:
    """A single-quoted PHP string's value."""
    return text.replace("\\'", "'").replace("\\\\", "\\")


def _po(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def entries() -> dict[tuple[str, str | None], dict[str, list[str]]]:
    """(msgid, msgid_plural) -> references and translators' comments, in source order."""
    found: dict[tuple[str, str | None], dict[str, list[str]]] = {}
    for path in sorted(PLUGIN.rglob("*.php")):
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(PLUGIN))
        hits: list[tuple[int, tuple[str, str | None]]] = [
            (m.start(), (_php(m.group(1)), None)) for m in _SINGLE.finditer(source)
        ] + [(m.start(), (_php(m.group(1)), _php(m.group(2)))) for m in _PLURAL.finditer(source)]
        for start, key in sorted(hits):
            line = source.count("\n", 0, start) + 1
            before = source[max(0, start - 400) : start]
            notes = _TRANSLATORS.findall(before.split(";")[-1]) if "translators:" in before else []
            entry = found.setdefault(key, {"refs": [], "notes": []})
            entry["refs"].append(f"{name}:{line}")
            for note in notes:
                note = "translators:" + note.rstrip()
                if note not in entry["notes"]:
                    entry["notes"].append(note)
    return found


def render() -> str:
    parts = [HEADER]
    for (msgid, plural), entry in entries().items():
        lines = [f"#. {note.strip()}" for note in entry["notes"]]
        lines.append("#: " + " ".join(entry["refs"]))
        if "%" in msgid:
            lines.append("#, php-format")
        lines.append(f"msgid {_po(msgid)}")
        if plural is None:
            lines.append('msgstr ""')
        else:
            lines += [f"msgid_plural {_po(plural)}", 'msgstr[0] ""', 'msgstr[1] ""']
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def main() -> int:
    POT.parent.mkdir(parents=True, exist_ok=True)
    POT.write_text(render(), encoding="utf-8")
    print(f"{POT.relative_to(ROOT)}: {len(entries())} strings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
