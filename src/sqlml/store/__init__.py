"""Model packages on disk: a folder per model with a versioned ``model.json`` manifest.

Artifacts use each library's native, code-free format (LightGBM text models, JSON). Nothing is
ever pickled, so loading a package never runs code from it.
"""

from sqlml.store.manifest import FORMAT_VERSION, MANIFEST_FILE, new_manifest
from sqlml.store.package import ModelStore, package_key

__all__ = ["FORMAT_VERSION", "MANIFEST_FILE", "ModelStore", "new_manifest", "package_key"]
