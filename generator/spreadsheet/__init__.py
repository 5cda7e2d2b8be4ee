"""Spreadsheets in and out: ``starmark export`` writes the registry to a workbook or CSV, and
``starmark import`` turns a body's own workbook into records, checked like ``validate``.

``columns`` is the one table between spreadsheet columns and record fields; ``values`` reads
cells as staff type them; ``reading`` finds the table in a sheet; ``importer`` builds, checks
and writes records; ``export`` writes workbooks; ``yamltext`` writes record text fast.
"""
