"""Bootstrap's dark colours for "automatic": every rule of the vendored Bootstrap that applies
under `[data-bs-theme=dark]`, for `[data-bs-theme=auto]` inside
`@media (prefers-color-scheme: dark)`. Loaded after Bootstrap, so with equal specificity its
rules win over the light ones of `:root`. Run again after updating the vendored Bootstrap:

    venv/bin/python -m microblog.themes.auto_css
"""
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent.parent / "static"
BOOTSTRAP = "bootstrap-5.3.8.min.css"
TARGET = STATIC / "bootstrap-auto-dark.css"
DARK = "[data-bs-theme=dark]"


def top_level_rules(css: str):
    """(prelude, body) of each rule outside any at-rule block (minified CSS, no comments inside)."""
    depth, start = 0, 0
    for match in re.finditer(r"[{}]", css):
        if match.group() == "{":
            if depth == 0:
                prelude, body_start = css[start:match.start()], match.end()
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                yield prelude.strip(), css[body_start:match.start()]
                start = match.end()


def auto_dark(css: str) -> str:
    rules = []
    for prelude, body in top_level_rules(re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        if prelude.startswith("@"):
            continue  # media queries and the like: Bootstrap puts none of its dark rules in one
        # Only selectors that start at the theme's element (not `.navbar[data-bs-theme=dark]`,
        # a component told to be dark whatever the page).
        selectors = [s.replace(DARK, "[data-bs-theme=auto]", 1) for s in prelude.split(",") if s.startswith(DARK)]
        if selectors:
            rules.append(f"  {','.join(selectors)}{{{body}}}")
    return (f"/* Made by microblog/themes/auto_css.py from {BOOTSTRAP}: do not edit. */\n"
            "@media (prefers-color-scheme: dark) {\n" + "\n".join(rules) + "\n}\n")


def main() -> None:
    TARGET.write_text(auto_dark((STATIC / BOOTSTRAP).read_text()))


if __name__ == "__main__":
    main()
