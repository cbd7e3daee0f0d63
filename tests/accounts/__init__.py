"""Tests of microblog.accounts: registering, logging in and out, access, the slow-down, password reset."""
