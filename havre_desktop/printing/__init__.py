"""Printing, without Qt: large-print handouts, programmes, batch letters, reports.

Every function returns PDF bytes (or writes a PDF file, for batches), so the
UI previews them with QtPdf, prints them with QPrinter, or saves them as they
are. Layout rules come from shared/design/handouts.md; layout.py says how they
are guaranteed. One logger, ``havre.printing``; ids and counts only in it.

Entry points:

* handouts.personal_handout_for / reception_handout_for / territory_programme_for
  (and the ``*_pdf`` functions for data the caller already holds);
* record.give_personal_handout / give_reception_handout (build and record as
  given), or prepare_* then record_given after a preview;
* letters.write_letters (batch, progress, cancel; the register only for alerts);
* report.activity_report_for (coordinators).

Nothing is imported here: the interface imports `variant` and `data` (light) when its pages
are built, and the modules that load reportlab only when a document is built.
"""
