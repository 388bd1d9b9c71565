"""The labeling page: ``skbait label DATA`` serves a campaign's batch to label in a browser.

A local web server (Starlette on uvicorn, the ``skbait[label]`` extra) shows
the rows the strategy chose, one at a time, and writes each label to the same
campaign files as ``skbait query`` and ``skbait teach`` (:mod:`skbait.campaign`).
The page's HTML, script and style sheet ship in this package: no network is
needed. See the user guide's page on labeling in the browser.
"""
