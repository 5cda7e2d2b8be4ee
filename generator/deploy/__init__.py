"""Publish a built site: to S3-compatible object storage or over rsync, and check host limits.

:mod:`.plan` decides what is sent, with which headers and in which order; :mod:`.s3` and
:mod:`.rsync` send it; :mod:`.limits` knows what the free static hosts accept; :mod:`.command`
is the ``starmark deploy`` and ``starmark hostcheck`` commands.
"""
