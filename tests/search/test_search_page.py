"""/search through HTTP: found after the post's commit, newest first among equals, paging that
keeps `q`, the prompt, hostile queries, escaped highlights and the seed's old address."""
from helpers import older_link, sentinel, visible
from htmltree import parse

from .support import jobs_done, post_ids, publish, search


async def test_a_published_post_is_found(app, alice_client):
    await publish(alice_client, "Tea with lemon is my favourite drink")
    await publish(alice_client, "Coffee in the morning")
    await jobs_done(app)
    page = await search(alice_client, "lemon")
    assert post_ids(page) == [1]
    assert "1 post found" in visible(page)
    assert post_ids(await search(alice_client, "morning")) == [2]
    assert post_ids(await search(alice_client, "nothing-like-this")) == []
