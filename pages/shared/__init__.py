"""Streamlit glue the pages share (a sub-folder, so Streamlit never lists it as a page)."""
