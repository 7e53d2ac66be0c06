"""Measurements of retrieval quality (BEIR, golden questions)."""
