"""Petitions and complaints (信访): intake, a journaled workflow of named actions, deadlines."""
