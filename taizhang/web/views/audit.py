"""Placeholder until the pages are written."""
from taizhang.web.views.dashboard import home as entries
