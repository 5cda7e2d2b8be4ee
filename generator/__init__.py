"""starmark: a static, signed registry of GB/T 27922 after-sales service certificates.

The pipeline reads in the order of its modules:
``source`` (YAML to text-typed trees with line numbers) → ``schema`` (JSON Schema, typing) →
``rules`` and ``lifecycle`` (the scheme's rules) → ``model`` (frozen Certificate, Registry) →
renderers (``pages``, ``listings``, ``search``, ``data``, ``feeds``, ``marks``, ``qr``) →
``output`` (content-addressed writes) → ``plugin`` (mkdocs) and ``cli`` (click).
"""

from __future__ import annotations

__version__ = "0.1.0"
