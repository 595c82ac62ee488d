"""Models through the hub: PyTorchModelHubMixin push/pull and timm's ``hf-hub:`` loader, with the real clients."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
hf = pytest.importorskip("huggingface_hub")


class _Tiny(torch.nn.Module, hf.PyTorchModelHubMixin, library_name="zoo", tags=["zoo-test"], license="mit"):
    def __init__(self, width: int = 4, classes: int = 3) -> None:
        super().__init__()
        self.body = torch.nn.Linear(width, classes)

    def forward(self, x):
        return self.body(x)


def test_mixin_push_to_hub_then_from_pretrained(hub_endpoint, unique_repo):
    torch.manual_seed(0)
    model = _Tiny(width=5, classes=2)
    repo_id = unique_repo("mixin")
    model.push_to_hub(repo_id)  # no endpoint argument: goes through the patched module constants
    restored = _Tiny.from_pretrained(repo_id)
    assert restored.body.in_features == 5  # config.json round-tripped the __init__ kwargs
    x = torch.randn(3, 5)
    torch.testing.assert_close(restored(x), model(x), rtol=0, atol=0)
    api = hub_endpoint.api()
    assert set(api.list_repo_files(repo_id)) >= {"README.md", "config.json", "model.safetensors"}
    info = api.model_info(repo_id)
    assert "zoo-test" in info.tags and info.library_name == "zoo"


def test_timm_create_model_from_hf_hub(hub_endpoint, unique_repo, tmp_path):
    from zoo.compat import import_timm

    timm = import_timm()
    from timm.models._hub import save_for_hf

    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=7).eval()
    with torch.no_grad():  # make the weights unmistakable (not the init a fresh model would get)
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    folder = tmp_path / "export"
    save_for_hf(model, str(folder), safe_serialization=True)
    repo_id = unique_repo("timm")
    api = hub_endpoint.api()
    api.create_repo(repo_id)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id)
    loaded = timm.create_model(f"hf-hub:{repo_id}", pretrained=True).eval()
    assert loaded.num_classes == 7
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
