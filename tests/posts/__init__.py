"""Tests of microblog.posts: timelines, writing and deleting posts, the Post model."""
