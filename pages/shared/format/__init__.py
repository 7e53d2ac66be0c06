"""Formatting for the pages: plain functions from kb objects to text and rows (no streamlit)."""
