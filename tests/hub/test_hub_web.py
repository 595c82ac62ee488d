"""The web pages, in a real headless browser (Chromium): a repo `zoo push` created shows its card, metrics and
files; hostile cards and file names render as text; pages carry a restrictive Content-Security-Policy."""

from __future__ import annotations

import shutil
import subprocess

import pytest

hf = pytest.importorskip("huggingface_hub")
httpx2 = pytest.importorskip("httpx2")

from zoo.hub.server.web import CSP, metrics_table, render_markdown

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = "<script>document.title='pwned'</script>\n<img src=x onerror=\"document.body.innerHTML='pwned'\">\n"


def _dump_dom(url: str, tmp_path) -> str:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_markdown_escapes_raw_html():
    rendered = render_markdown("# Title\n\n" + HOSTILE + "\n[x](javascript:alert(1))\n")
    assert "<script" not in rendered and "<img" not in rendered and "href=\"javascript" not in rendered
    assert "&lt;script&gt;" in rendered and "onerror=" in rendered  # shown as text
    table = metrics_table({"model-index": [{"results": [{"dataset": {"name": "<b>d</b>"},
                                                          "metrics": [{"type": "acc", "value": 1}]}]}]})
    assert "&lt;b&gt;d&lt;/b&gt;" in table


def test_repo_page_of_a_zoo_push_in_a_browser(hub_endpoint, unique_repo, tmp_path, monkeypatch):
    import torch

    import zoo

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    torch.manual_seed(0)
    repo_id = unique_repo("web")
    zoo.push(zoo.build("protonet-tiny"), repo_id, metrics={"digits": {"accuracy": 0.875}})
    api = hub_endpoint.api()
    card = (tmp_path / "card.md")
    card.write_bytes(open(hf.hf_hub_download(repo_id, "README.md"), "rb").read())
    api.upload_file(path_or_fileobj=card.read_bytes() + b"\n" + HOSTILE.encode(), path_in_repo="README.md",
                    repo_id=repo_id)
    api.upload_file(path_or_fileobj=b"x", path_in_repo="<img src=x onerror=alert(1)>.txt", repo_id=repo_id)
    page = httpx2.get(f"{hub_endpoint.endpoint}/{repo_id}")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP and "default-src 'none'" in CSP
    dom = _dump_dom(f"{hub_endpoint.endpoint}/{repo_id}", tmp_path)
    assert "pwned" not in dom.split("<title>")[1].split("</title>")[0]  # the script did not run
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom  # it is shown as text
    assert "<img src=\"x\"" not in dom and "&lt;img src=x onerror=alert(1)&gt;.txt" in dom
    assert "model.safetensors" in dom and "config.json" in dom and "0.875" in dom
    history = httpx2.get(f"{hub_endpoint.endpoint}/{repo_id}/commits/main").text
    assert "initial commit" in history
    home = httpx2.get(f"{hub_endpoint.endpoint}/", params={"q": repo_id.split("/")[1]}).text
    assert repo_id in home and "1 repo(s)" in home
    tree = httpx2.get(f"{hub_endpoint.endpoint}/{repo_id}/tree/main")
    assert tree.status_code == 200 and f"/{repo_id}/resolve/main/model.safetensors" in tree.text
