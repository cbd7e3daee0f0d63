"""Lines that repeat are logged once, then summed up (microblog/logs.py `Repeats`): the job
runner's failures of one kind, the 503s of passing trouble."""
import logging

from microblog.logs import HideSecrets, Repeats


def test_repeated_lines_make_at_most_one_summary_a_minute():
    """The summary's window, on a clock the test turns: a failure every second for three minutes
    is the first line and then a line a minute, counting the others."""
    logger, now = logging.getLogger("test.repeats"), [0.0]
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.addHandler(handler)
    try:
        repeats = Repeats(logger, interval=60, clock=lambda: now[0])
        for second in range(180):
            now[0] = second
            repeats.log(logging.WARNING, ("search.sync", "PermissionError"), "search.sync", "failed attempts",
                        f"attempt at {second} s failed: PermissionError")
        repeats.flush(everything=True)
    finally:
        logger.removeHandler(handler)
    assert lines == ["attempt at 0 s failed: PermissionError",
                     "search.sync: 60 more failed attempts in the last 60 s; the latest: attempt at 60 s failed: PermissionError",
                     "search.sync: 60 more failed attempts in the last 60 s; the latest: attempt at 120 s failed: PermissionError",
                     "search.sync: 59 more failed attempts in the last 59 s; the latest: attempt at 179 s failed: PermissionError"]


def test_a_summed_up_line_hides_reset_tokens(caplog):
    """Lines logged through Repeats are whole messages, so HideSecrets sees the path in them."""
    logger = logging.getLogger("microblog.test_repeats")
    caplog.set_level(logging.INFO, logger="microblog.test_repeats")
    logger.addFilter(HideSecrets())
    try:
        repeats = Repeats(logger, interval=60, clock=lambda: 0.0)
        for _ in range(2):
            repeats.log(logging.WARNING, "k", "503 busy", "requests", "503 busy: POST /reset_password/SeCrEt123: boom")
        repeats.flush(everything=True)
    finally:
        logger.filters.clear()
    assert len(caplog.records) == 2 and "SeCrEt123" not in caplog.text, caplog.text


def test_a_site_started_in_a_terminal_shows_its_log_lines_there(tmp_path):
    """The README's run command: the log file, and the same lines (shorter) in the terminal."""
    import io
    import logging

    from microblog import logs

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, name = Terminal(), "microblog.terminal-test"
    logs.configure({"LOG_TO_STDOUT": False}, str(tmp_path), (name,), terminal=terminal)
    logger = logging.getLogger(name)
    try:
        logger.warning("job 3 (mail.send) attempt 1 failed: connection refused at /reset_password/secret-token")
        assert "WARNING job 3 (mail.send) attempt 1 failed: connection refused" in terminal.getvalue()
        assert "secret-token" not in terminal.getvalue()
        assert "attempt 1 failed" in (tmp_path / "logs" / "microblog.log").read_text()
        not_a_terminal = io.StringIO()
        logs.configure({"LOG_TO_STDOUT": False}, str(tmp_path), ("microblog.no-terminal-test",), terminal=not_a_terminal)
        logging.getLogger("microblog.no-terminal-test").warning("only in the file")
        assert not_a_terminal.getvalue() == ""
    finally:
        for logger_name in (name, "microblog.no-terminal-test"):
            for handler in logging.getLogger(logger_name).handlers[:]:
                logging.getLogger(logger_name).removeHandler(handler)
                handler.close()
