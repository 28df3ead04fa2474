"""`feed serve`: a clear error when the port is taken or there is no schedule, and a real
server on a loopback port whose page links to where it was opened."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from feed import cli as cli_module
from feed.cli import cli

SMALL = Path(__file__).parent / "schedules" / "small.yaml"


def test_a_taken_port_is_a_clear_error_before_anything_claims_to_serve(tmp_path):
    schedule = tmp_path / "schedule.yaml"  # a copy: serving writes its stamps beside it
    schedule.write_text(SMALL.read_text())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        args = ["serve", "--schedule", str(schedule), "--port", str(port)]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "Serving" not in result.output
    assert f"cannot listen on 127.0.0.1 port {port}" in result.output
    assert "another program is using that port" in result.output
    assert f"feed serve --port {port + 1}" in result.output


def test_without_a_schedule_serve_says_where_to_put_one(tmp_path, monkeypatch):
    """After `pip install .` there is no bundled schedule beside the package."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEED_SCHEDULE", raising=False)
    monkeypatch.setattr(cli_module, "BUNDLED_SCHEDULE", tmp_path / "site-packages" / "x.yaml")
    assert cli_module.default_schedule() == "schedule.yaml"
    result = CliRunner().invoke(cli, ["serve", "--schedule", cli_module.default_schedule()])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no schedule file at schedule.yaml. Put your")
    assert "FEED_SCHEDULE=/path/to/schedule.yaml" in result.output
    assert "site-packages" not in result.output


def test_serve_on_a_free_port_links_to_where_it_is_opened(tmp_path):
    log = (tmp_path / "serve.log").open("w+")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(SMALL.read_text())
    command = [sys.executable, "-m", "feed", "serve", "--schedule", str(schedule), "--port", "0"]
    process = subprocess.Popen(command, stdout=log, stderr=log, text=True)
    try:
        deadline = time.monotonic() + 30
        address = None
        while address is None:
            assert process.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, Path(log.name).read_text()
            for line in Path(log.name).read_text().splitlines():
                if line.startswith("Serving ") and " at http://127.0.0.1:" in line:
                    address = line.rsplit(" at ", 1)[1].rstrip("/")
            time.sleep(0.05)
        text = Path(log.name).read_text()
        # Said once (it was said twice: by the app as it started, then by the command).
        assert text.count("the public address is not set") == 1, text
        with urllib.request.urlopen(address + "/", timeout=10) as response:
            page = response.read().decode()
        assert f'value="{address}/calendar.ics"' in page
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
