"""Tests of microblog.profiles: the profile page and editing it."""
