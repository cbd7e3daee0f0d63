"""Which colours this request's reader chose: their account's setting, else the visitor's cookie,
else "auto" (the browser's preference)."""
from quart import g, request

THEMES = ("auto", "light", "dark")
THEME_COOKIE = "theme"


def known(name: str | None) -> str | None:
    return name if name in THEMES else None


def chosen_theme() -> str:
    user = g.get("user")
    if user is not None:
        return known(user.theme) or "auto"
    return known(request.cookies.get(THEME_COOKIE)) or "auto"
