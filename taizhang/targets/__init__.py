"""Targets per indicator, org unit and year; attainment and the league table of townships."""
