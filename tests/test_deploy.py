"""The deployment recipes in deploy/, run for real: Debian's nginx (1.22 must work) in front of
the app server tests/servers.py starts, nginx serving a static export, the systemd unit checked
by systemd-analyze, the PORT convention of platforms, and the README showing the same files.

nginx runs from a configuration written here around the repository's file (its own prefix,
pid, logs and temporary paths under tmp_path, loopback ports), never as a system service.
Nothing is skipped: a missing tool fails with the command that installs it.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import NOW

from feed.cli import cli
from servers import app_server, free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text()
SCHEDULE = ROOT / "tests" / "schedules" / "small.yaml"
PUBLIC = "https://cloud2030.org"
# Headers a proxy must pass on unchanged (README: "A reverse proxy or CDN must keep ...").
END_TO_END = (
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "content-type",
    "content-disposition",
    "access-control-allow-origin",
    "content-encoding",
    "content-security-policy",
    "x-frame-options",
    "location",
)
PATHS = (
    "/",
    "/embed",
    "/embed?limit=3",
    "/calendar.ics",
    "/series/weekly.ics",
    "/series/conferences.ics",
    "/tags/platform-engineering.ics",
    "/with-cancelled/calendar.ics",
    "/expanded/calendar.ics",
    "/calendar.ics?tag=platform-engineering",
    "/calendar.ics?cancelled=show",
    "/calendar.ics?expand=utc",
    "/series/weekly.ics?cancelled=show",
    "/calendar.ics?alarm=15m",
    "/series/weekly.ics?alarm=1d&cancelled=show",
    "/alarm-1h/expanded/calendar.ics",
    "/schedule.schema.json",
    "/sessions/weekly/2026-03-10.ics",
    "/sessions/conferences/2026-06-01.ics",
    "/sessions.json",
    "/next",
    "/next.json",
    "/next.ics",
    "/join",
    "/qr.svg",
    "/robots.txt",
)


def tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail(f"{name} is missing. Install it: sudo apt-get install -y {package}")
    return found


# -- running nginx ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for cloud2030.org (the recipes' TLS lines need one)."""
    home = tmp_path_factory.mktemp("tls")
    cert, key = home / "cert.pem", home / "key.pem"
    subprocess.run(
        [tool("openssl", "openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=cloud2030.org",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def replace_once(text: str, old: str, new: str, count: int = 1) -> str:
    """Adapt the recipe for the test; fail if it no longer has the line the test changes."""
    assert text.count(old) == count, f"{old!r} appears {text.count(old)} times, not {count}"
    return text.replace(old, new)


def adapt(recipe: str, certificate, http_port: int, https_port: int) -> str:
    cert, key = certificate
    text = replace_once(recipe, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = replace_once(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = replace_once(text, "/etc/letsencrypt/live/cloud2030.org/fullchain.pem", str(cert))
    return replace_once(text, "/etc/letsencrypt/live/cloud2030.org/privkey.pem", str(key))


@contextlib.contextmanager
def nginx(home: Path, site: str) -> Iterator[None]:
    """nginx with site (a server-level file like the ones in sites-enabled) in an http block
    like Debian's, from a prefix of its own; stopped afterwards."""
    binary = tool("nginx", "nginx-light")
    home.mkdir(parents=True, exist_ok=True)
    (home / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read tmp_path
    (home / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {home}/access.log;
    client_body_temp_path {home}/client_body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    include {home}/site.conf;
}}
"""
    )
    command = [
        binary,
        "-p",
        str(home),
        "-c",
        str(home / "nginx.conf"),
        "-e",
        str(home / "error.log"),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr and "[warn]" not in checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        ports = [int(p) for p in re.findall(r"listen 127\.0\.0\.1:(\d+)", site)]
        deadline = time.monotonic() + 20
        for port in ports:
            while True:
                assert process.poll() is None, process.stderr.read().decode()
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                    break
                assert time.monotonic() < deadline, f"nginx did not listen on {port}"
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def request(port: int, path: str, headers=None, tls=True, method="GET", host="cloud2030.org"):
    """(status, headers, body) of one request to 127.0.0.1:port, as a client of host."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=20, context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}  # servers differ in case
        return response.status, headers, response.read()
    finally:
        connection.close()


def end_to_end(headers: dict) -> dict:
    return {k: v for k, v in headers.items() if k in END_TO_END}


# -- nginx in front of the app ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_port(tmp_path_factory):
    """The app under the server tests/servers.py starts, with the public address set."""
    schedule = tmp_path_factory.mktemp("app") / "schedule.yaml"
    shutil.copy(SCHEDULE, schedule)
    env = {"FEED_PUBLIC_URL": PUBLIC, "FEED_NOW": NOW}
    with app_server(schedule, workers=1, env=env) as base:
        yield int(base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def proxy(app_port, certificate, tmp_path_factory):
    """deploy/nginx-proxy.conf in front of the app: (http port, https port)."""
    http_port, https_port = free_port(), free_port()
    recipe = (DEPLOY / "nginx-proxy.conf").read_text()
    site = adapt(recipe, certificate, http_port, https_port)
    site = replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    with nginx(tmp_path_factory.mktemp("nginx-proxy"), site):
        yield http_port, https_port


def test_the_proxy_passes_every_path_through_unchanged(proxy, app_port):
    _, https_port = proxy
    for path in PATHS:
        for headers in ({}, {"Accept-Encoding": "gzip"}):
            direct = request(app_port, path, headers, tls=False)
            proxied = request(https_port, path, headers)
            assert proxied[0] == direct[0], path
            assert end_to_end(proxied[1]) == end_to_end(direct[1]), path
            assert proxied[2] == direct[2], path
            # Nothing redirects but /join, which leads to the meeting itself.
            assert proxied[0] == (302 if path == "/join" else 200), path


def test_the_page_through_the_proxy_links_to_the_public_address(proxy):
    _, https_port = proxy
    for host in ("cloud2030.org", "evil.example", "localhost"):
        status, _, body = request(https_port, "/", host=host)
        html = body.decode()
        assert status == 200
        assert 'href="webcal://cloud2030.org/calendar.ics"' in html, host
        assert 'value="https://cloud2030.org/calendar.ics"' in html, host
        assert "evil.example" not in html and "127.0.0.1" not in html and "localhost" not in html
        assert "http://" not in html.replace("http://www.w3.org", ""), host
    data = request(https_port, "/sessions.json", host="evil.example")[2].decode()
    assert '"ics": "https://cloud2030.org/sessions/' in data and "evil" not in data


def test_conditional_requests_through_the_proxy(proxy):
    _, https_port = proxy
    for path in ("/calendar.ics", "/series/weekly.ics", "/", "/sessions.json", "/qr.svg"):
        for encoding in ({}, {"Accept-Encoding": "gzip"}):
            status, headers, body = request(https_port, path, encoding)
            assert status == 200
            if encoding:
                assert headers["content-encoding"] == "gzip" and gzip.decompress(body)
            again = request(https_port, path, {**encoding, "If-None-Match": headers["etag"]})
            assert again[0] == 304 and again[2] == b"", path
            since = {**encoding, "If-Modified-Since": headers["last-modified"]}
            assert request(https_port, path, since)[0] == 304, path
    assert request(https_port, "/calendar.ics", method="HEAD")[0] == 200


def test_port_80_sends_the_same_path_to_https_permanently(proxy):
    http_port, _ = proxy
    for path in ("/calendar.ics", "/series/weekly.ics?cancelled=show", "/"):
        status, headers, _ = request(http_port, path, tls=False, host="evil.example")
        assert status == 301
        assert headers["location"] == PUBLIC + path


def test_the_proxy_under_a_path(certificate, tmp_path_factory):
    """The recipe's sub-path variant: FEED_PUBLIC_URL with a path, proxied with slashes."""
    schedule = tmp_path_factory.mktemp("sub") / "schedule.yaml"
    shutil.copy(SCHEDULE, schedule)
    env = {"FEED_PUBLIC_URL": PUBLIC + "/meetings", "FEED_NOW": NOW}
    with app_server(schedule, workers=1, env=env) as base:
        app_port = int(base.rsplit(":", 1)[1])
        http_port, https_port = free_port(), free_port()
        site = adapt((DEPLOY / "nginx-proxy.conf").read_text(), certificate, http_port, https_port)
        site = replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
        site = replace_once(site, "location / {", "location /meetings/ {")
        site = replace_once(site, "proxy_pass http://feed;", "proxy_pass http://feed/;")
        with nginx(tmp_path_factory.mktemp("nginx-sub"), site):
            status, _, body = request(https_port, "/meetings/")
            html = body.decode()
            assert status == 200
            assert 'href="/meetings/static/site.css"' in html
            assert 'href="https://cloud2030.org/meetings/join"' in html
            for link in re.findall(r'(?:href|src)="(/[^"]*)"', html):
                assert link.startswith("/meetings/"), link
                assert request(https_port, link)[0] == 200, link
            direct = request(app_port, "/calendar.ics", tls=False)[2]
            assert request(https_port, "/meetings/calendar.ics")[2] == direct


# -- nginx serving a static export -----------------------------------------------------------------


@pytest.fixture(scope="module")
def static_site(certificate, tmp_path_factory):
    """deploy/nginx-static.conf serving `feed build` of small.yaml: (http port, https port,
    the app at the same address and clock, for comparison)."""
    from feed import create_app

    home = tmp_path_factory.mktemp("static")
    schedule = home / "schedule.yaml"
    shutil.copy(SCHEDULE, schedule)
    app = create_app({"SCHEDULE": str(schedule), "NOW": NOW, "PUBLIC_URL": PUBLIC, "TESTING": True})
    app.test_client().get("/calendar.ics")  # stamps written, as for a committed schedule
    out = home / "public"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEED_NOW", NOW)
        result = CliRunner().invoke(
            cli, ["build", str(out), "--schedule", str(schedule), "--url", PUBLIC]
        )
    assert result.exit_code == 0, result.output
    http_port, https_port = free_port(), free_port()
    site = adapt((DEPLOY / "nginx-static.conf").read_text(), certificate, http_port, https_port)
    site = replace_once(site, "root /srv/feed/public;", f"root {out};")
    site = replace_once(site, "include /srv/feed/public/nginx.conf;", f"include {out}/nginx.conf;")
    with nginx(home / "nginx", site):
        yield http_port, https_port, app.test_client()


def test_the_static_site_answers_every_path_like_the_app(static_site):
    _, https_port, app = static_site
    for path in PATHS:
        status, headers, body = request(https_port, path)
        expected = app.get(path, base_url=PUBLIC)
        assert status == expected.status_code, path
        if path == "/join":  # a redirect, as of the build
            assert headers["location"] == expected.headers["location"]
            assert headers["cache-control"] == expected.headers["cache-control"] == "no-store"
            continue
        assert headers["content-type"] == expected.headers["content-type"], path
        for name in ("Cache-Control", "Access-Control-Allow-Origin", "Content-Disposition"):
            assert headers.get(name.lower()) == expected.headers.get(name), (path, name)
        if ".ics" in path or ".json" in path or path in ("/next", "/qr.svg", "/robots.txt"):
            assert body == expected.data, path  # same bytes
        else:  # the page and the widget: the static form, computing the date in the browser
            assert b"data-static" in body, path
            assert headers["content-security-policy"] == expected.headers["content-security-policy"]


def test_the_static_site_validators_and_hidden_files(static_site):
    http_port, https_port, app = static_site
    for path in ("/calendar.ics", "/series/weekly.ics", "/sessions/weekly/2026-03-10.ics"):
        status, headers, _ = request(https_port, path)
        assert status == 200
        assert headers["last-modified"] == app.get(path).headers["last-modified"], path
        assert request(https_port, path, {"If-None-Match": headers["etag"]})[0] == 304
        since = {"If-Modified-Since": headers["last-modified"]}
        assert request(https_port, path, since)[0] == 304
    for path in ("/.feed-export", "/nginx.conf", "/_headers", "/tags/nope.ics"):
        assert request(https_port, path)[0] == 404, path
    assert request(https_port, "/series/weekly.ics?tag=platform-engineering")[0] == 404
    status, headers, _ = request(http_port, "/calendar.ics?tag=x", tls=False)
    assert (status, headers["location"]) == (301, PUBLIC + "/calendar.ics?tag=x")


# -- systemd, PORT and the README ------------------------------------------------------------------


def test_the_systemd_unit_verifies(tmp_path):
    analyze = tool("systemd-analyze", "systemd")
    unit = (DEPLOY / "feed.service").read_text()
    assert "Environment=FEED_PUBLIC_URL=https://" in unit
    unit = replace_once(unit, "WorkingDirectory=/srv/feed/app", f"WorkingDirectory={ROOT}")
    venv = Path(sys.executable).parent
    unit = replace_once(unit, "ExecStart=/srv/feed/app/.venv/bin/", f"ExecStart={venv}/")
    assert re.search(r"^ExecStart=\S+ -m feed\.server$", unit, re.M), "not the production server"
    (tmp_path / "feed.service").write_text(unit)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "feed.service")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "feed.service" not in result.stderr, result.stderr
    command = re.search(r"^ExecStart=(\S+)", unit, re.M)[1]
    assert os.access(command, os.X_OK), command


def test_a_platform_port_with_the_public_address(tmp_path):
    """Platforms set PORT and route their https address to it: the production server listens
    there, and links use FEED_PUBLIC_URL, not the Host."""
    port = free_port()
    shutil.copy(SCHEDULE, tmp_path / "schedule.yaml")
    env = {
        **os.environ,
        "PORT": str(port),
        "FEED_PUBLIC_URL": "https://feed.example.net",
        "FEED_SCHEDULE": str(tmp_path / "schedule.yaml"),
        "WEB_CONCURRENCY": "1",
    }
    log = (tmp_path / "server.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "feed.server"], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log=log)
        status, _, body = request(port, "/", tls=False, host="my-app.platform.example")
        assert status == 200
        assert 'value="https://feed.example.net/calendar.ics"' in body.decode()
        assert b"platform.example" not in body
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


@pytest.mark.parametrize(
    ("name", "language"), [("nginx-proxy.conf", "nginx"), ("github-pages.yml", "yaml")]
)
def test_the_readme_shows_the_tested_files(name, language):
    assert (DEPLOY / name).read_text() in fenced(language), f"README lacks deploy/{name} as is"


def test_the_readme_names_every_deploy_file():
    for path in DEPLOY.iterdir():
        assert f"deploy/{path.name}" in README, path.name


def test_the_workflow_checks_pull_requests_and_publishes_the_site():
    workflow = yaml.safe_load((DEPLOY / "github-pages.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) >= {"pull_request", "push", "schedule"}
    assert workflow["env"]["FEED_PUBLIC_URL"].startswith("https://")
    steps = [s.get("run", "") for s in workflow["jobs"]["build"]["steps"]]
    assert "feed check schedule.yaml" in steps
    assert any(s.startswith("feed build public") for s in steps)
    assert workflow["jobs"]["deploy"]["if"] == "github.event_name != 'pull_request'"
