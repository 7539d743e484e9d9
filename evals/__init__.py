"""Eval suites, runners, metrics and reports (issue #8): measuring the real pipeline before a change ships."""
