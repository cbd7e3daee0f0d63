"""Tests of microblog.follows: following, the follower lists, the follows table."""
