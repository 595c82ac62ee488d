"""Package layout only: the built-in plugins live in ``plugins/`` and import as ``zoo_plugins.*``.

Everything else (metadata, dependencies, entry points) is in ``pyproject.toml``.
"""
from setuptools import find_namespace_packages, setup

# Namespace discovery also lists data folders (the plugins' networks/ and ontologies/, zoo/weights/shipped/), so
# setuptools ships their files as package data without warning that an importable folder is missing from `packages`.
_PLUGIN_PACKAGES = ["zoo_plugins"] + [
    f"zoo_plugins.{name}" for name in find_namespace_packages("plugins", exclude=["*__pycache__*"])
]

setup(
    packages=find_namespace_packages(include=["zoo", "zoo.*"], exclude=["*__pycache__*"]) + _PLUGIN_PACKAGES,
    package_dir={"zoo_plugins": "plugins"},
)
