"""What happens on the site, by name: the one door through which features react to each other.

A model function that makes a change sends its event inside the request's transaction, with the
session and the ids involved; each listener stages its own rows (a job, later a notification) in
that same transaction, so they commit or roll back with the change. Listeners are plain or async
functions of `(db, **ids)`, connected once by their feature's `init_app` (`event.connect(fn)`);
connecting the same function again (tests build many apps in one process) changes nothing.

Every event, who sends it and who listens ("what happens when"):

  account_registered(db, user_id)
      sent by   accounts.models.User.register (a new account here)
      heard by  federation.keys.queue_key_pair: a "federation.key_pair" job makes their keys
  post_published(db, post_id, author_id)
      sent by   posts.models.Post.publish (a new post, not a form sent twice)
                posts.models.Post.receive (a post from elsewhere, stored the first time it came:
                federation/notes.py): a post is new here wherever it was written, so what
                reacts to any new post (search, later notifications of mentions) hears both;
                what concerns only posts written here checks `post.from_elsewhere`
      heard by  search.indexing.queue_sync: a "search.sync" job (Whoosh and other indexes by job);
                the job indexes public posts only (a followers-only post from elsewhere is never
                searchable: to the index it is not there)
                federation.delivery.send_post: a Create for each follower's server elsewhere (a
                fan-out job); nothing for a post from elsewhere (it is not ours to send)
  post_updated(db, post_id, author_id)
      sent by   posts.models.Post.revise (a post from elsewhere edited by its author: an Update)
      heard by  search.indexing.queue_sync: the index reads the new words
  post_deleted(db, post_id, author_id)
      sent by   posts.models.Post.delete_by (by its author: someone here, or, for a post from
                elsewhere, its author's Delete)
      heard by  search.indexing.queue_sync: the post leaves the index
                federation.delivery.send_deletion: a Delete for each follower's server elsewhere
                (nothing for a post from elsewhere)
  followed(db, follower_id, followed_id)
      sent by   follows.models.follow (a new follow, not a second click)
      heard by  follows.mail.queue_new_follower_mail: the "you have a new follower" mail job
  unfollowed(db, follower_id, followed_id)
      sent by   follows.models.unfollow (a follow that existed; also when a request is rejected)
      heard by  federation.following.send_undo: an Undo of the Follow, to someone followed elsewhere
  follow_requested(db, follower_id, followed_id)
      sent by   follows.models.follow_or_request (someone who must agree first: elsewhere)
      heard by  federation.following.send_follow: a Follow to their server (Accept or Reject comes back)
  follow_request_withdrawn(db, follower_id, followed_id)
      sent by   follows.models.withdraw (a request taken back before it was answered)
      heard by  federation.following.send_undo: an Undo of the Follow
  profile_updated(db, user_id)
      sent by   accounts.models.User.update_profile
      heard by  federation.delivery.send_profile: an Update of the Person to followers elsewhere
  blocked(db, blocker_id, blocked_id)
      sent by   blocks.models.block (a new block, not a second click), after the follows between
                the two have ended (each an `unfollowed` or `follow_request_withdrawn` of its own)
      heard by  federation.blocking.send_block: a Block to their server, for someone elsewhere
  unblocked(db, blocker_id, blocked_id)
      sent by   blocks.models.unblock (a block that stood)
      heard by  federation.blocking.send_undo_block: an Undo of that Block

And questions, asked by the feature that decides, answered by those with a say:

  follow_refused(db, follower_id, followed_id)  `await event.answers(db, …)`: each listener
      answers why the follow may not be (a sentence), or None
      asked by  follows.models.follow and follow_or_request (so: the Follow button, an Accept of a
                request, a Follow from elsewhere, which federation answers with a Reject)
      heard by  blocks.models.why_no_follow: a block either way, a server either hides
                federation.domain_blocks.why_no_follow: a server the operator blocked

And what is shown under each post card, and which posts a reader chose not to see, are asked of
the features that register them:

  post_card_keys()  a question, not a happening: each listener answers a function of a post
      giving something hashable that its part of the card depends on for this reader (a kept card
      is keyed by it); asked once per page by posts.cards.post_cards
      heard by  translate.offers_to_reader: whether "Translate" is offered
  hidden_posts()  each listener answers a function of a reader's id giving a condition on Post
      that leaves out what the reader chose not to see (or None); asked by posts.models when it
      builds a list for a reader whose `has_blocks` is set (everyone else's lists carry nothing)
      heard by  blocks.models.hidden_posts_filter: not_hidden, the accounts they block and the
                servers they hide
  people_kept()  each listener answers a function of a user id column giving a condition that
      holds while something of the listener's feature still points at that person
      asked by  federation.pruning.prune_people (people from elsewhere nothing here needs are
                forgotten: a block of theirs, or of them, is something)
      heard by  blocks.models.kept_by_blocks: a block either way
"""
import inspect
from typing import Any, Callable

from blinker import Namespace
from sqlalchemy.ext.asyncio import AsyncSession

_signals = Namespace()


class Event:
    """A named happening: `await event.send(db, **ids)` calls every listener in the order they
    connected. A listener that raises fails the request (its transaction rolls back)."""

    def __init__(self, name: str):
        self.name = name
        self._signal = _signals.signal(name)

    def connect(self, listener: Callable[..., Any]) -> None:
        # Strong references: a listener is a module's function, never collected; blinker keys
        # receivers by identity, so a second connect of the same function is no second call.
        self._signal.connect(listener, weak=False)

    def disconnect(self, listener: Callable[..., Any]) -> None:
        self._signal.disconnect(listener)

    @property
    def listeners(self) -> list[Callable[..., Any]]:
        # In the order they connected (blinker's receivers_for() yields them from a set).
        return list(self._signal.receivers.values())

    async def send(self, db: AsyncSession, **ids: int) -> None:
        for listener in self.listeners:
            result = listener(db, **ids)
            if inspect.isawaitable(result):
                await result

    def ask(self) -> list[Any]:
        """Each listener's answer, called with nothing (a question, e.g. `post_card_keys`)."""
        return [listener() for listener in self.listeners]

    async def answers(self, db: AsyncSession, **values: Any) -> list[Any]:
        """The answers that are not None of each listener asked about `values` (a question with
        something to look up, e.g. `follow_refused`)."""
        found = []
        for listener in self.listeners:
            answer = listener(db, **values)
            answer = await answer if inspect.isawaitable(answer) else answer
            if answer is not None:
                found.append(answer)
        return found

    def __repr__(self) -> str:
        return f"<Event {self.name}>"


account_registered = Event("account-registered")
post_published = Event("post-published")
post_updated = Event("post-updated")
post_deleted = Event("post-deleted")
followed = Event("followed")
unfollowed = Event("unfollowed")
follow_requested = Event("follow-requested")
follow_request_withdrawn = Event("follow-request-withdrawn")
profile_updated = Event("profile-updated")
post_card_keys = Event("post-card-keys")
blocked = Event("blocked")
unblocked = Event("unblocked")
follow_refused = Event("follow-refused")
hidden_posts = Event("hidden-posts")
people_kept = Event("people-kept")

ALL = (account_registered, post_published, post_updated, post_deleted, followed, unfollowed, follow_requested,
       follow_request_withdrawn, profile_updated, post_card_keys, blocked, unblocked, follow_refused, hidden_posts,
       people_kept)
