"""Plans and reports as documents, in two directions.

- ``reading``: what comes in — a plan's text (.txt, Markdown, .docx, PDF, web-page copies) read
  into the plan's structure (``reading.importer``), a filled Excel report form read back into a
  submission (``reading.excel_form``).
- ``writing``: what goes out — plans and compiled reports rendered in the Decree 30/2020 layout
  (.docx, .html, .md; ``writing.render``), Excel report forms to fill in (``writing.excel_form``).

Shared by both: Vietnamese text helpers (``vntext``) and the report form's cell layout (``form``).
"""
