"""Placeholder until the pages are written."""
from taizhang.web.views.dashboard import home as search

detail = record_event = search
