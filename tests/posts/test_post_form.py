"""The post form, kept rendered when fresh (posts/forms.py post_form): every page still gets its
own one-time submission token and its session's CSRF token, in the reader's language; a form
sent back with an error is shown as it was sent."""
from conftest import make_user
from helpers import page_of, post, post_ids, session_with_token, textarea_value
from htmltree import parse
from microblog.posts import Post
from sqlalchemy import func, select


def post_form(page: str):
    return parse(page).find("form", id="post-form")


def tokens(form) -> tuple[str, str]:
    return (form.find("input", name="csrf_token")["value"], form.find("input", name="submission")["value"])


async def test_each_fresh_form_has_its_own_submission_and_the_sessions_token(app, db):
    await make_user(db, "alice")
    await make_user(db, "bob")
    alice = await session_with_token(app, "token-of-alice", "alice")
    bob = await session_with_token(app, "token-of-bob", "bob")
    seen = set()
    for _ in range(3):
        for client, token in ((alice, "token-of-alice"), (bob, "token-of-bob")):
            csrf, submission = tokens(post_form(await page_of(client, "/index")))
            assert csrf == token and len(submission) >= 16 and submission not in seen
            seen.add(submission)


async def test_a_kept_forms_submission_makes_one_post_however_often_it_is_sent(app, db):
    await make_user(db, "alice")
    alice = await session_with_token(app, "token-of-alice", "alice")
    await page_of(alice, "/index")  # the form is kept
    _, submission = tokens(post_form(await page_of(alice, "/index")))
    for _ in range(2):
        response = await post(alice, "/post", {"post": "only once", "submission": submission}, htmx=True)
        assert response.status_code == 200
        fresh = post_form(await response.get_data(as_text=True))
        assert tokens(fresh)[1] != submission  # the answer brings a new form
    assert await db.scalar(select(func.count()).select_from(Post).where(Post.body == "only once")) == 1


async def test_a_form_sent_again_with_another_text_publishes_that_text(app, db):
    """A restored old form (the back button) or a reused one, its token already spent, with a new
    text: what is answered as posted is saved, once however often it is sent (an outside probe
    found the new text dropped while the answer said it was live)."""
    await make_user(db, "alice")
    alice = await session_with_token(app, "token-of-alice", "alice")
    _, submission = tokens(post_form(await page_of(alice, "/index")))
    for text in ("the first text", "a second text", "a second text", "the first text"):
        for htmx in (True, False):
            response = await post(alice, "/post", {"post": text, "submission": submission}, htmx=htmx)
            assert response.status_code in (200, 303)
    posts = (await db.execute(select(Post.id, Post.body).order_by(Post.id))).all()
    assert [body for _, body in posts] == ["the first text", "a second text"]
    assert post_ids(await page_of(alice, "/index")) == [post_id for post_id, _ in reversed(posts)]


async def test_the_form_is_in_the_readers_language_and_a_refused_one_comes_back_as_sent(app, db):
    await make_user(db, "alice")
    alice = await session_with_token(app, "token", "alice")
    english = post_form(await page_of(alice, "/index"))
    response = await alice.get("/index", headers={"Accept-Language": "es"})
    spanish = post_form(await response.get_data(as_text=True))
    assert english.find("button").text.strip() == "Submit" and spanish.find("button").text.strip() != "Submit"
    refused = await post(alice, "/index", {"post": "x" * 141, "submission": "s" * 16})
    page = await refused.get_data(as_text=True)
    assert refused.status_code == 422 and textarea_value(page, "post") == "x" * 141
    assert post_form(page).find("textarea").get("aria-invalid") == "true"
    assert textarea_value(await page_of(alice, "/index"), "post") == ""  # the next fresh form is empty
