"""The synthetic county: ``taizhang generate`` (see ``README.md`` in this folder)."""
